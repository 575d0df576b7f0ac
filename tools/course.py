"""A teacher's reference run: every notebook executed in order, headless, with HTML pages and a results summary.

`python -m tools.course` (or `make course`) runs `notebooks/*.ipynb` and then `notebooks/solutions/*.ipynb`
in fresh kernels, in the active data world, and writes into `build/`: the executed notebooks,
an HTML page for each, and `results.md`, `results.csv` and `results.png` with every training run's
numbers and each notebook's time. The runs are not read back from printed text: every training
loop reports through `d2lft.metrics.History.report`, which appends each run to the file named by
`$D2LFT_RUNS` (set here for each notebook's kernel); the runs logged while a cell ran are its runs.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from pathlib import Path

from d2lft.support.paths import REPO_ROOT
from d2lft.worlds import get_world

ASSIGNED = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*=\s*d2lft\.train_(?:fine_tuning|ch13|fast)\(", re.MULTILINE)


def course_notebooks(root: Path = REPO_ROOT / "notebooks") -> list[Path]:
    """The course's notebooks in order: chapters first, then their solutions."""
    return sorted(root.glob("[0-9]*.ipynb")) + sorted((root / "solutions").glob("*.ipynb"))


def read_runs(log: Path) -> list[dict]:
    """The runs `History.report` logged to `log` (one JSON object a line), oldest first."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.exists() else []


def execute_logging_runs(nb, log: Path, timeout: int, folder: Path) -> tuple[list[dict], str]:
    """Execute `nb` in `folder` with `$D2LFT_RUNS` set to `log`; return its runs and "ok" or "failed: why".

    Each run carries the index of the cell that logged it (`cell`).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    log.parent.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)
    cells: list[int] = []

    def attribute(cell, cell_index: int, **_) -> None:  # the runs logged since the last cell are this cell's
        cells.extend([cell_index] * (len(read_runs(log)) - len(cells)))

    client = NotebookClient(nb, timeout=timeout, resources={"metadata": {"path": str(folder)}},
                            on_cell_executed=attribute)  # fmt: skip
    previous, status = os.environ.get("D2LFT_RUNS"), "ok"
    os.environ["D2LFT_RUNS"] = str(log)  # the notebook's kernel inherits it
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
        status = f"failed: {str(e).strip().splitlines()[-1][:200]}"
    finally:
        os.environ.pop("D2LFT_RUNS") if previous is None else os.environ.update(D2LFT_RUNS=previous)
    return [{**record, "cell": cell} for record, cell in zip(read_runs(log), cells)], status


def training_runs(nb, notebook: str, records: list[dict]) -> list[dict]:
    """Name each logged training run of a notebook by the cell that ran it; return table rows.

    A run is named by its cell's section heading and the variable its history is assigned to, if any
    (`ft_history = d2lft.train_fine_tuning(...)` in "Fine-tuning" -> "Fine-tuning: ft_history");
    repeated names are numbered.
    """
    names, section = {}, notebook
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            headings = [line.lstrip("#").strip() for line in cell.source.splitlines() if line.startswith("##")]
            section = headings[-1] if headings else section
        else:
            target = ASSIGNED.search(cell.source)
            names[index] = f"{section}: {target['name']}" if target else section
    runs = [
        {
            "notebook": notebook,
            "run": names.get(record["cell"], notebook),
            "loss": f"{record['train_loss'][-1]:.3f}",
            "train_acc": f"{record['train_acc'][-1]:.3f}",
            "test_acc": f"{record['test_acc'][-1]:.3f}",
            "examples_per_sec": "" if record["examples_per_sec"] is None else f"{record['examples_per_sec']:.1f}",
        }
        for record in records
    ]
    totals = {}
    for run in runs:
        totals[run["run"]] = totals.get(run["run"], 0) + 1
    counts = {}
    for run in runs:  # number the names that occur more than once
        if totals[run["run"]] > 1:
            counts[run["run"]] = counts.get(run["run"], 0) + 1
            run["run"] = f"{run['run']} ({counts[run['run']]})"
    return runs


def run_course(out: Path = REPO_ROOT / "build", timeout: int = 1800, notebooks: list[Path] | None = None) -> int:
    """Execute every notebook (or those given) into `out`; write HTML pages and the results summary;
    return the number of failures."""
    import nbformat
    from nbconvert import HTMLExporter

    world = get_world()
    print(world)
    (out / "html").mkdir(parents=True, exist_ok=True)
    runs, timings, failures = [], [], 0
    for path in course_notebooks() if notebooks is None else notebooks:
        name = str(path.relative_to(REPO_ROOT / "notebooks"))
        nb = nbformat.read(path, as_version=4)
        log = out / "runs" / f"{name.replace('/', '__')}.jsonl"
        start = time.perf_counter()
        logged, status = execute_logging_runs(nb, log, timeout, path.parent)
        failures += status != "ok"
        seconds = time.perf_counter() - start
        timings.append({"notebook": name, "seconds": round(seconds, 1), "status": status})
        print(f"{name:55} {seconds:7.1f} s  {status}", flush=True)
        target = out / "notebooks" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        html, _ = HTMLExporter().from_notebook_node(nb)
        (out / "html" / name.replace("/", "__")).with_suffix(".html").write_text(html, encoding="utf-8")
        runs += training_runs(nb, name, logged)
    write_summary(out, world.name, runs, timings)
    return failures


def write_summary(out: Path, world: str, runs: list[dict], timings: list[dict]) -> None:
    """Write results.csv, results.md and results.png (test accuracy of every run, time of every notebook)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fields = ["world", "notebook", "run", "loss", "train_acc", "test_acc", "examples_per_sec"]
    with open(out / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        writer.writerows({"world": world, **run} for run in runs)
    header = "| notebook | run | train loss | train acc | test acc | examples/s |"
    lines = [f"# Course run in the `{world}` world", "", header, "|---|---|---|---|---|---|"]
    lines += [
        f"| {r['notebook']} | {r['run']} | {r['loss']} | {r['train_acc']} | {r['test_acc']} | {r['examples_per_sec']} |"
        for r in runs
    ]
    lines += ["", "| notebook | seconds | status |", "|---|---|---|"]
    lines += [f"| {t['notebook']} | {t['seconds']} | {t['status']} |" for t in timings]
    lines += ["", f"Total: {sum(t['seconds'] for t in timings) / 60:.1f} minutes.", ""]
    (out / "results.md").write_text("\n".join(lines))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, max(3, 0.28 * len(runs))), width_ratios=[3, 2])
    labels = [f"{r['notebook'].split('_')[0].replace('solutions/', 's')} {r['run']}"[:48] for r in runs]
    ax1.barh(labels, [float(r["test_acc"]) for r in runs])
    ax1.set(xlabel="test accuracy", xlim=(0, 1), title=f"every training run ({world} world)")
    ax1.invert_yaxis()
    ax2.barh([t["notebook"][:40] for t in timings], [t["seconds"] for t in timings],
             color=["tab:blue" if t["status"] == "ok" else "tab:red" for t in timings])  # fmt: skip
    ax2.set(xlabel="seconds", title="time per notebook")
    ax2.invert_yaxis()
    fig.tight_layout()
    fig.savefig(out / "results.png", dpi=90)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build", help="output folder (default: build/)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    failures = run_course(args.out, args.timeout)
    print(f"wrote {args.out}/results.md, results.csv, results.png, html/ and notebooks/; {failures} notebook(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
