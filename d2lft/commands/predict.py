"""`python -m d2lft predict MODEL IMAGES...`: each image's most likely class and its probability, under a
model file that `d2lft.save_model` (or `python -m d2lft finetune --save`) wrote; a folder stands for the
images under it. An unreadable image is named and the others are still predicted."""

from __future__ import annotations

import argparse
import csv
import os
from collections.abc import Sequence
from pathlib import Path

from ..folders import IMAGE_SUFFIXES, images_under
from ..predict import ModelFileError, predict_files
from ..support.files import atomic_write


def image_files(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """The files named, with each folder replaced by the image files under it (sorted; hidden ones skipped)."""
    found = []
    for path in map(Path, paths):
        found += [path / f for f in images_under(path, path, [])] if path.is_dir() else [path]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m d2lft predict",
        description="Print the most likely class and its probability for each image file, under a saved model.",
    )
    parser.add_argument("model", help="a model file written by d2lft.save_model or python -m d2lft finetune --save")
    parser.add_argument("images", nargs="+", help="image files (JPEG, PNG, HEIC, ...), or folders of them")
    parser.add_argument("--csv", default=None, help="write the predictions to this CSV file (path, label, "
                        "probability, error) instead of printing them")  # fmt: skip
    args = parser.parse_args(argv)
    paths = image_files(args.images)
    if not paths:
        parser.exit(2, f"error: no image files in {', '.join(args.images)} (image files end in "
                       f"{', '.join(IMAGE_SUFFIXES)}).\n")  # fmt: skip
    try:
        predictions = predict_files(args.model, paths, progress=True)
    except ModelFileError as e:
        parser.exit(2, f"error: {e}\n")
    unreadable = sum(p.error is not None for p in predictions)
    if args.csv:
        with atomic_write(args.csv, "w") as f:
            writer = csv.writer(f)
            writer.writerow(["path", "label", "probability", "error"])
            writer.writerows(
                [p.path, p.label or "", "" if p.probability is None else f"{p.probability:.4f}", p.error or ""]
                for p in predictions
            )
        print(
            f"{len(predictions)} predictions written to {args.csv}"
            + (f" ({unreadable} unreadable)" if unreadable else "")
        )
        return 1 if unreadable else 0
    width = max(len(p.path) for p in predictions)
    for p in predictions:
        print(
            f"{p.path:{width}}  {p.label}  {p.probability:.3f}"
            if p.error is None
            else f"{p.path:{width}}  error: {p.error}"
        )
    return 1 if unreadable else 0
