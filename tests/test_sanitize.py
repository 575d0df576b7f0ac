"""The nbval sanitize rules: what differs between machines compares equal, what teaches stays compared.

Strict nbval compares each cell's text after these rules. A rule that masks a number's digits but not
the padding its width brings fails on a machine faster or slower than the one that stored the output.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from nbval.plugin import get_sanitize_patterns

RULES = get_sanitize_patterns((Path(__file__).parent / "nbval_sanitize.cfg").read_text())


def sanitize(text: str) -> str:
    """What nbval does to both the stored and the fresh output before comparing them."""
    for regex, replace in RULES:
        text = re.sub(regex, replace, text)
    return text


def row(name: str, *values: float) -> str:
    """A table row as the notebooks print them: a padded name, then right-aligned numbers of fixed width."""
    return f"{name:13}" + "".join(f" {v:10.3f}" for v in values)


@pytest.mark.parametrize(
    "stored, fresh",
    [
        ("full       about   0.3 s per run here", "full       about  12.3 s per run here"),
        ("about   0.3 min", "about 123.4 min"),
        (row("fine-tuned", 0.412, 0.9, 0.81), row("fine-tuned", 12.5, 0.9, 1)),  # aligned table rows
        (row("probe", 0.5, 0.4, 3.2), row("probe", 0.5, 0.4, 312.0)),
        (f"lr {1e-4:<6g} acc {0.5:.3f}", f"lr {0.002:<6g} acc {0.5:.3f}"),
        ("loss 0.242, train acc 0.909, test acc 0.940", "loss 12.001, train acc 0.5, test acc 1.000"),
        ("largest change 3.21e-05", "largest change 1.1e+02"),
        ("   9.8 s per epoch", " 10.2 s per epoch"),
        ("training time: 9.5x", "training time: 12.0x"),
        ("device: cpu; seed: 0", "device: cuda:0; seed: 11"),
        ("in epoch 1, batch 3 of 10", "in epoch 4, batch 10 of 10"),
    ],
)
def test_machine_dependent_numbers_and_their_widths_compare_equal(stored: str, fresh: str) -> None:
    assert sanitize(stored) == sanitize(fresh)


@pytest.mark.parametrize(
    "stored, fresh",
    [
        ("train: {'hotdog': 150, 'not-hotdog': 150}", "train: {'hotdog': 151, 'not-hotdog': 150}"),
        ("trainable 1,026 of 11,177,538 parameters", "trainable 1,026 of 11,177,539 parameters"),
        ("hotdog image -> hotdog 0.93", "hotdog image -> not-hotdog 0.93"),
        ("features: (300, 512) (200, 512)", "features: (300, 256) (200, 512)"),
        ("fc.weight, fc.bias", "fc.weight"),
        ("lr 1e-04: 26 tensors", "lr 5e-04: 26 tensors"),
    ],
)
def test_counts_shapes_names_and_constants_stay_compared(stored: str, fresh: str) -> None:
    assert sanitize(stored) != sanitize(fresh)
