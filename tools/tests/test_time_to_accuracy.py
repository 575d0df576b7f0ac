"""`make bench`'s time to accuracy: when a run reaches the target, the report's medians and ratio, end to end."""

from __future__ import annotations

import re

import pytest

import d2lft
import tools.time_to_accuracy as tta
from d2lft.metrics import History


def test_the_first_epoch_at_the_target_counts_and_its_time_is_the_sum_up_to_it():
    assert tta.reached([0.80, 0.91, 0.89, 0.95], [10.0, 11.0, 12.0, 13.0], 0.90) == (2, 21.0)
    assert tta.reached([0.80, 0.85], [1.0, 1.0], 0.90) is None
    assert tta.reached([0.90], [4.0], 0.90) == (1, 4.0)  # at the target is within 1 point


def _out(book: list[History], laptop: list[History]) -> dict:
    setup = {name: {"recipe": r, "images": 10, "epochs": 3} for name, r in tta.recipes().items()}
    return {"seeds": list(range(len(book))), "device": "cpu", "precision": "fp32", "validation": 4,
            "setup": setup, "decode_seconds": 1.0, "runs": {"book": book, "laptop": laptop}}  # fmt: skip


def test_the_report_compares_medians_against_each_seeds_own_target(capsys):
    # seed 0: target 0.94, the book there after 300 s, the laptop after 20 s; seed 1: 0.91, 100 s and 30 s
    book = [History(test_acc=[0.80, 0.90, 0.95], train_seconds=[100.0] * 3),
            History(test_acc=[0.91, 0.93, 0.92], train_seconds=[100.0] * 3)]  # fmt: skip
    laptop = [History(test_acc=[0.90, 0.94, 0.94], train_seconds=[10.0] * 3),
              History(test_acc=[0.70, 0.80, 0.91], train_seconds=[10.0] * 3)]  # fmt: skip
    assert tta.report(_out(book, laptop)) == pytest.approx((300 + 100) / 2 / ((20 + 30) / 2))
    out = capsys.readouterr().out
    assert "seed 0: target 0.940" in out and "book after 300 s (epoch 3)" in out
    assert "laptop after 20 s (epoch 2)" in out and "seed 1: target 0.910" in out
    assert out.endswith("ratio book/laptop time to accuracy: 8.0\n")


def test_a_laptop_recipe_that_misses_the_target_gets_no_ratio(capsys):
    book = [History(test_acc=[0.95], train_seconds=[100.0])]
    laptop = [History(test_acc=[0.90, 0.92], train_seconds=[10.0, 10.0])]
    assert tta.report(_out(book, laptop)) is None
    out = capsys.readouterr().out
    assert "laptop not within 2 epochs" in out and "not reached" in out


def test_one_recipe_alone_reports_its_accuracy_by_epoch_over_seeds(capsys):
    laptop = [History(test_acc=[0.80, 0.90], train_seconds=[1.0] * 2),
              History(test_acc=[0.70, 0.94], train_seconds=[1.0] * 2),
              History(test_acc=[0.75, 0.92], train_seconds=[1.0] * 2)]  # fmt: skip
    out = _out([], laptop)
    del out["runs"]["book"], out["setup"]["book"]
    assert tta.report(out) is None
    text = capsys.readouterr().out
    assert "laptop validation accuracy by epoch, median (min-max over 3 seeds):" in text
    assert "  epoch 1: 0.750 (0.700-0.800)\n  epoch 2: 0.920 (0.900-0.940)\n" in text and "ratio" not in text


def test_the_book_recipe_is_224_pixels_on_every_image_and_the_laptops_the_notebooks():
    plan = tta.recipes()
    book, laptop = plan["book"], plan["laptop"]
    assert (book.crop, book.resize, book.batch_size, book.per_class) == (224, 256, 128, None)
    assert (laptop.crop, laptop.resize, laptop.batch_size, laptop.per_class["train"]) == (128, 146, 32, 150)
    assert all(r.per_class["train"] == 8 for r in tta.recipes(limit=8).values())


@pytest.mark.slow
def test_both_recipes_train_on_the_same_validation_images_end_to_end(capsys, monkeypatch):
    monkeypatch.setenv("D2LFT_WORLD", "mini")
    args = ["--limit", "8", "--book-epochs", "1", "--laptop-epochs", "2", "--seeds", "0"]
    assert tta.main(args) == 0
    out = capsys.readouterr().out
    held_out = round(0.2 * 2 * d2lft.worlds.MINI_COUNTS["train"])  # a fifth of the mini world's training images
    assert f"validation: {held_out} training images held out" in out
    assert re.search(r"^book  : 224 px crops \(resize 256\), 16 training images, batch 128, up to 1 epochs$", out, re.M)
    assert re.search(r"^laptop: 128 px crops \(resize 146\), 16 training images, batch 32, up to 2 epochs$", out, re.M)
    assert re.search(r"^seed 0 laptop: \d+ s [\d.]+, \d+ s [\d.]+$", out, re.M), out
    assert re.search(r"ratio book/laptop time to accuracy: ([\d.]+|not reached.*)\n\Z", out), out
