"""`python -m d2lft COMMAND`: the course's command lines behind one entry point."""

from __future__ import annotations

import pytest

from d2lft.__main__ import COMMANDS, main


def test_without_a_command_it_lists_the_commands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m d2lft COMMAND") and all(f"  {name} " in out for name in COMMANDS)


def test_an_unknown_command_is_named_with_the_ones_there_are(capsys):
    assert main(["fine-tune"]) == 2
    assert "error: 'fine-tune' is not a command: use one of finetune, predict" in capsys.readouterr().err


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_explains_its_options(command, capsys):
    # a fresh process runs `python -m d2lft predict` in tests/test_predict.py
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith(f"usage: python -m d2lft {command} ")
