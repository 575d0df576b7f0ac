"""`make bench` end to end, at a tiny size: both paths run on the same data and the ratio line is printed."""

from __future__ import annotations

import re

import pytest
from torch.utils.data import Subset

import tools.bench


@pytest.mark.slow
def test_bench_runs_both_paths_and_ends_with_the_ratio_line(capsys, monkeypatch):
    monkeypatch.setenv("D2LFT_WORLD", "mini")
    assert tools.bench.main(["--images", "10", "--test-images", "4", "--batch-size", "2", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    rows = {kind: re.search(rf"^{kind} +([\d.]+) +[\d.]+ +(\d+) +([\d.]+) ", out, re.M) for kind in ("d2l", "fast")}
    assert all(rows.values()), out
    assert all(float(row[1]) > 0 and int(row[2]) > 0 and 0 <= float(row[3]) <= 1 for row in rows.values())
    ratio = float(re.search(r"ratio fast/d2l images/s: ([\d.]+)\n\Z", out)[1])
    # The rows print images/s to 0.1 and the ratio to 0.01: the ratio must lie in the interval the rounded rows allow.
    fast, d2l = float(rows["fast"][1]), float(rows["d2l"][1])
    assert (fast - 0.05) / (d2l + 0.05) - 0.005 <= ratio <= (fast + 0.05) / (d2l - 0.05) + 0.005, out


def test_a_small_dataset_is_used_again_in_turn_to_reach_the_requested_size():
    subset = Subset(list("abcdefg"), [1, 4, 5])
    assert tools.bench._reused(subset, 2).indices == [1, 4]
    assert tools.bench._reused(subset, 7).indices == [1, 4, 5, 1, 4, 5, 1]
