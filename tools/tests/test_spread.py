"""make spread: every notebook assert recorded (held or not, and by what margin) instead of stopping the run."""

from __future__ import annotations

import json

import nbformat
import pytest

from tools import spread


@pytest.mark.slow
def test_asserts_are_recorded_with_their_margins_and_the_run_goes_on(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import d2lft\nx = 0.8 + d2lft.course_seed()"),
        nbformat.v4.new_code_cell('assert x > 0.5, "clearly"\nassert x <= 0.75\nassert [] == []'),
        nbformat.v4.new_code_cell("for k in range(2):\n    assert None is None, k\nassert {}['missing'] > 1"),
        nbformat.v4.new_code_cell("# NBVAL_SKIP\nassert False"),
        nbformat.v4.new_code_cell("print('still running')"),
    ]
    path = tmp_path / "claims.ipynb"
    nbformat.write(nb, path)
    records = tmp_path / "claims.jsonl"
    run = spread.run_notebook(path, 1, "default", records)
    assert run["notebook"] == "claims.ipynb" and run["errors"] == []
    claims = [json.loads(line) for line in records.read_text().splitlines()]
    assert [(c["claim"], c["held"]) for c in claims] == [
        ("x > 0.5", True), ("x <= 0.75", False), ("[] == []", True),
        ("None is None", True), ("None is None", True), ("{}['missing'] > 1", False),
    ]  # fmt: skip
    assert abs(claims[0]["margin"] - 1.3) < 1e-9 and abs(claims[1]["margin"] + 1.05) < 1e-9  # seed 1: x = 1.8
    assert "KeyError" in claims[-1]["error"] and all(c["seed"] == 1 and c["path"] == "default" for c in claims)
    assert claims[0]["capability"] and claims[0]["threads"] >= 1

    table = spread.summarise(claims, [run], "# header")
    assert "| claims.ipynb | `x <= 0.75` | 0/1 | -1.05 |" in table
    assert "| claims.ipynb | `None is None` | 2/2 |" in table


def test_the_current_claims_are_read_from_the_notebook_as_the_recorder_writes_them(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1\nassert x>0 , 'm'\nfor k in []:\n    assert (k)  is None")]
    nbformat.write(nb, tmp_path / "n.ipynb")
    assert spread.current_claims(tmp_path / "n.ipynb") == {"x > 0", "k is None"}
    retired = [{"notebook": "n.ipynb", "claim": "x > 1", "held": False}]
    assert "- n.ipynb: `x > 1` held 0/1" in spread.summarise([], [], "# h", retired)


def test_the_seconds_table_leaves_a_cell_empty_where_a_path_did_not_run_a_notebook():
    runs = [
        {"notebook": "a.ipynb", "seed": 1, "path": "default", "seconds": 10.0, "errors": []},
        {"notebook": "a.ipynb", "seed": 1, "path": "one-thread", "seconds": 20.0, "errors": []},
        {"notebook": "b.ipynb", "seed": 1, "path": "one-thread", "seconds": 30.0, "errors": []},
    ]
    table = spread.summarise([], runs, "# header")
    assert "| notebook | default | one-thread |" in table
    assert "| a.ipynb | 10 | 20 |" in table and "| b.ipynb |  | 30 |" in table
