"""Pytest settings for every test run in this repository (the notebooks under nbval included)."""

from __future__ import annotations

import pytest

# nbval waits at most 5 seconds (hard-coded, nbval issues #136 and #231) for each message that follows a
# cell's reply, up to the kernel's "idle". On a busy two-core machine, with a second notebook training
# beside it, that message once came later after a two-minute cell, and a passing cell failed with
# "Timeout of 5 seconds exceeded waiting for output". A cell that really hangs still fails: after this
# wait, or after --nbval-cell-timeout while it runs.
NBVAL_OUTPUT_WAIT_S = 120


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if hasattr(item, "output_timeout"):  # an nbval cell (nbval.plugin.IPyNbCell)
            item.output_timeout = NBVAL_OUTPUT_WAIT_S
