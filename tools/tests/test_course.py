"""The course runner's parsing and summary (the full run is `make course`)."""

from __future__ import annotations

import dataclasses
import os

import nbformat
import pytest

import d2lft
from tools import course


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    run = nbformat.v4.new_code_cell("h = d2lft.train_fine_tuning(net, 5e-5)")
    sweep = nbformat.v4.new_code_cell("sweep()")
    nb.cells = [
        nbformat.v4.new_markdown_cell("## Fine-tuning"),
        run,
        nbformat.v4.new_markdown_cell("# Title\n## A sweep"),
        sweep,
    ]
    return nb


def _record(cell: int, test_acc: float, speed: float | None) -> dict:
    history = d2lft.History([0.9, 0.4731], [0.5, 0.7729], [0.6, test_acc], [1.0, 1.0], devices="[cpu]")
    return {"cell": cell, **dataclasses.asdict(history), "examples_per_sec": speed}


RECORDS = [_record(1, 0.825, 196.54), _record(3, 0.5, 9.0), _record(3, 0.7, None)]  # cells 1 and 3


def test_training_runs_are_named_by_the_cell_that_ran_them():
    runs = course.training_runs(_notebook(), "03_x.ipynb", RECORDS)
    assert [(r["run"], r["test_acc"], r["examples_per_sec"]) for r in runs] == [
        ("Fine-tuning: h", "0.825", "196.5"), ("A sweep (1)", "0.500", "9.0"), ("A sweep (2)", "0.700", "")
    ]  # fmt: skip


def test_the_summary_is_written_as_table_csv_and_plot(tmp_path):
    runs = course.training_runs(_notebook(), "03_x.ipynb", RECORDS)
    course.write_summary(tmp_path, "mini", runs, [{"notebook": "03_x.ipynb", "seconds": 70.0, "status": "ok"}])
    table = (tmp_path / "results.md").read_text()
    assert "| 03_x.ipynb | Fine-tuning: h | 0.473 | 0.773 | 0.825 | 196.5 |" in table and "Total: 1.2 minutes." in table
    assert (tmp_path / "results.csv").read_text().count("\n") == 4
    assert (tmp_path / "results.png").stat().st_size > 5000


@pytest.mark.slow
def test_a_notebook_kernel_logs_its_runs_and_each_is_named_by_its_cell(tmp_path):
    """The real path: the kernel inherits $D2LFT_RUNS, History.report writes there, each run gets its cell."""
    nb = nbformat.v4.new_notebook()
    report = "h.add_epoch(0.5, 0.75, 0.8, 2.0); h.report(12.0)"
    nb.cells = [
        nbformat.v4.new_markdown_cell("## Toy"),
        nbformat.v4.new_code_cell("import d2lft\nh = d2lft.History()"),
        nbformat.v4.new_code_cell(f"{report}\n{report}"),
        nbformat.v4.new_markdown_cell("## Broken"),
        nbformat.v4.new_code_cell(f"{report}\nraise RuntimeError('on purpose')"),
    ]
    runs, status = course.execute_logging_runs(nb, tmp_path / "runs.jsonl", 120, tmp_path)
    assert status.startswith("failed:") and "on purpose" in status and "D2LFT_RUNS" not in os.environ
    assert [run["cell"] for run in runs] == [2, 2, 4]
    named = course.training_runs(nb, "toy.ipynb", runs)
    assert [(r["run"], r["test_acc"], r["examples_per_sec"]) for r in named] == [
        ("Toy (1)", "0.800", "12.0"), ("Toy (2)", "0.800", "12.0"), ("Broken", "0.800", "12.0")
    ]  # fmt: skip


def test_the_course_order_is_chapters_then_solutions():
    names = [p.name for p in course.course_notebooks()]
    assert names[0].startswith("01_") and names[-1].endswith("_solutions.ipynb")
    chapters = [n for n in names if not n.endswith("_solutions.ipynb")]
    assert len(chapters) >= 6 and names == sorted(chapters) + sorted(n for n in names if n not in chapters)
