"""A teacher's reference run: every notebook executed in order, headless, with HTML pages and a results summary.

`python -m d2lft.course` (or `make course`) runs `notebooks/*.ipynb` and then `notebooks/solutions/*.ipynb`
in fresh kernels, in the active data world, and writes into `build/`: the executed notebooks,
an HTML page for each, and `results.md`, `results.csv` and `results.png` with every training run's
numbers (the book's summary lines) and each notebook's time.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from pathlib import Path

from .paths import REPO_ROOT
from .worlds import get_world

SUMMARY = re.compile(r"^loss (?P<loss>[\d.]+), train acc (?P<train_acc>[\d.]+), test acc (?P<test_acc>[\d.]+)$")
SPEED = re.compile(r"^(?P<speed>[\d.]+) examples/sec")
ASSIGNED = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*=\s*d2lft\.train_(?:fine_tuning|ch13)\(", re.MULTILINE)


def course_notebooks(root: Path = REPO_ROOT / "notebooks") -> list[Path]:
    """The course's notebooks in order: chapters first, then their solutions."""
    return sorted(root.glob("[0-9]*.ipynb")) + sorted((root / "solutions").glob("*.ipynb"))


def training_runs(nb, notebook: str) -> list[dict]:
    """The training runs a notebook printed (the book's two summary lines), each with a unique name.

    A run is named by its section heading and the variable its history is assigned to, if any
    (`ft_history = d2lft.train_fine_tuning(...)` in "Fine-tuning" -> "Fine-tuning: ft_history");
    repeated names are numbered.
    """
    runs, section, seen = [], notebook, {}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            headings = [line.lstrip("#").strip() for line in cell.source.splitlines() if line.startswith("##")]
            section = headings[-1] if headings else section
            continue
        text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
        found = [m.groupdict() for m in map(SUMMARY.match, text.splitlines()) if m]
        speeds = [m["speed"] for m in map(SPEED.match, text.splitlines()) if m]
        target = ASSIGNED.search(cell.source)
        base = f"{section}: {target['name']}" if target else section
        for k, run in enumerate(found):
            seen[base] = seen.get(base, 0) + 1
            runs.append(
                {"notebook": notebook, "run": base, **run, "examples_per_sec": speeds[k] if k < len(speeds) else ""}
            )
    counts = {}
    for run in runs:  # number the names that occur more than once
        if seen[run["run"]] > 1:
            counts[run["run"]] = counts.get(run["run"], 0) + 1
            run["run"] = f"{run['run']} ({counts[run['run']]})"
    return runs


def run_course(out: Path = REPO_ROOT / "build", timeout: int = 1800) -> int:
    """Execute every notebook into `out`; write HTML pages and the results summary; return the number of failures."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter

    world = get_world()
    print(world)
    (out / "html").mkdir(parents=True, exist_ok=True)
    runs, timings, failures = [], [], 0
    for path in course_notebooks():
        name = str(path.relative_to(REPO_ROOT / "notebooks"))
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        status = "ok"
        try:
            NotebookClient(nb, timeout=timeout, resources={"metadata": {"path": str(path.parent)}}).execute()
        except CellExecutionError as e:
            status, failures = f"failed: {str(e).strip().splitlines()[-1][:200]}", failures + 1
        seconds = time.perf_counter() - start
        timings.append({"notebook": name, "seconds": round(seconds, 1), "status": status})
        print(f"{name:55} {seconds:7.1f} s  {status}", flush=True)
        target = out / "notebooks" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        html, _ = HTMLExporter().from_notebook_node(nb)
        (out / "html" / name.replace("/", "__")).with_suffix(".html").write_text(html, encoding="utf-8")
        runs += training_runs(nb, name)
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
