"""`python -m d2lft COMMAND [OPTIONS]`: the course's command lines (`d2lft.commands`).

    python -m d2lft finetune --data PHOTOS --budget 10 --save my-model.pt
    python -m d2lft predict my-model.pt photo.jpg

`python -m d2lft COMMAND --help` explains each option.
"""

from __future__ import annotations

import sys

from .commands import finetune, predict

COMMANDS = {
    "finetune": (finetune.main, "fine-tune: the book's hotdog recipe, or your own photo folder within a time budget"),
    "predict": (predict.main, "each image's most likely class and its probability, under a kept model"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        command, _ = COMMANDS[argv[0]]
        return command(argv[1:])
    listed = "\n".join(f"  {name:9} {what}" for name, (_, what) in COMMANDS.items())
    usage = f"usage: python -m d2lft COMMAND [OPTIONS]  (COMMAND --help explains its options)\n\ncommands:\n{listed}"
    if not argv or argv[0] in ("-h", "--help"):
        print(usage)
        return 0
    print(f"{usage}\n\nerror: {argv[0]!r} is not a command: use one of {', '.join(COMMANDS)}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
