"""The course runner's parsing and summary (the full run is `make course`)."""

from __future__ import annotations

import nbformat

from d2lft import course


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    run = nbformat.v4.new_code_cell("h = d2lft.train_fine_tuning(net, 5e-5)")
    run.outputs = [
        nbformat.v4.new_output(
            "stream",
            name="stdout",
            text="loss 0.473, train acc 0.773, test acc 0.825\n196.5 examples/sec on [device(type='cpu')]\n",
        )
    ]
    two = nbformat.v4.new_code_cell("sweep()")
    sweep = "loss 1.0, train acc 0.5, test acc 0.5\n9.0 examples/sec on [cpu]\n"
    sweep += "loss 0.9, train acc 0.6, test acc 0.7\n8.0 examples/sec on [cpu]\n"
    two.outputs = [nbformat.v4.new_output("stream", name="stdout", text=sweep)]
    nb.cells = [
        nbformat.v4.new_markdown_cell("## Fine-tuning"),
        run,
        nbformat.v4.new_markdown_cell("# Title\n## A sweep"),
        two,
    ]
    return nb


def test_training_runs_are_named_by_their_section():
    runs = course.training_runs(_notebook(), "03_x.ipynb")
    assert [(r["run"], r["test_acc"], r["examples_per_sec"]) for r in runs] == [
        ("Fine-tuning: h", "0.825", "196.5"), ("A sweep (1)", "0.5", "9.0"), ("A sweep (2)", "0.7", "8.0")
    ]  # fmt: skip


def test_the_summary_is_written_as_table_csv_and_plot(tmp_path):
    runs = course.training_runs(_notebook(), "03_x.ipynb")
    course.write_summary(tmp_path, "mini", runs, [{"notebook": "03_x.ipynb", "seconds": 70.0, "status": "ok"}])
    table = (tmp_path / "results.md").read_text()
    assert "| 03_x.ipynb | Fine-tuning: h | 0.473 | 0.773 | 0.825 | 196.5 |" in table and "Total: 1.2 minutes." in table
    assert (tmp_path / "results.csv").read_text().count("\n") == 4
    assert (tmp_path / "results.png").stat().st_size > 5000


def test_the_course_order_is_chapters_then_solutions():
    names = [p.name for p in course.course_notebooks()]
    assert names[0].startswith("01_") and names[-1].endswith("_solutions.ipynb")
    assert names == sorted(names[:5]) + sorted(names[5:])
