"""The repository's conftest gives nbval time for a kernel that is slow to say "idle" after a cell."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).resolve().parents[2] / "conftest.py"

# The kernel sends the cell's reply, then runs post_handler_hook, then says "idle". Slowing that hook
# delays "idle" past nbval's own 5 seconds, as a busy machine once did (conftest.py).
LATE_IDLE = """\
import time
get_ipython().kernel.post_handler_hook = lambda: time.sleep(6)
"""


@pytest.mark.slow
def test_a_cell_whose_kernel_says_idle_late_passes_with_the_conftest_and_fails_without(pytester):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(LATE_IDLE, execution_count=1)]
    nbformat.write(nb, pytester.path / "late_idle.ipynb")
    args = ["-p", "no:cacheprovider", "--nbval", "--nbval-current-env", "late_idle.ipynb"]
    bare = pytester.runpytest_inprocess(*args)
    assert "Timeout of 5 seconds exceeded waiting for output" in bare.stdout.str()
    bare.assert_outcomes(failed=1)
    pytester.makeconftest(CONFTEST.read_text())
    pytester.runpytest_inprocess(*args).assert_outcomes(passed=1)
