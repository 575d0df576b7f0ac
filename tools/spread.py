"""`make spread`: every `assert` in every notebook, measured over seeds and numeric paths.

A lesson's claim is true only if it holds on every machine and seed a student could meet. This
tool runs each notebook in a fresh kernel once per (numeric path, seed), with `D2LFT_SEED` set,
and with an IPython AST transformer that turns every `assert` into a recording: whether it held,
and for a comparison (`a > b`, `a <= b`, ...) both sides and the margin by which it held (negative:
it failed). Nothing in the notebooks changes. The table it writes (`docs/spread.md`, raw records in
`docs/spread.jsonl`) gives, for each claim, the smallest, median and largest margin and where the
smallest came from, so the next change can be checked against it: `make spread` again.

Numeric paths are environment settings that change the floating-point results:
`default` (this machine as it is), `avx2` (ATen and oneDNN capped to AVX2, the fast path in fp32:
a CPU without AVX-512, like most students' laptops), `no-fma` (ATen without its vector kernels,
oneDNN's convolutions capped to AVX, which has no fused multiply-add: every product is rounded
before it is added, as on an older laptop), and `one-thread` (what `make test` runs: one thread per
worker, so sums are reduced in another order). On a CPU that has no AVX-512, `default` and `avx2` are
the same path, which the table's header shows (the capability torch reports under each).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from d2lft.devices import describe_cpu
from d2lft.support.files import atomic_write
from d2lft.support.paths import REPO_ROOT

from .course import course_notebooks

PATHS: dict[str, dict[str, str]] = {
    "default": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "D2LFT_PRECISION": "fp32"},
    "no-fma": {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "AVX", "D2LFT_PRECISION": "fp32"},
    "one-thread": {"OMP_NUM_THREADS": "1"},
}

# Runs first in every kernel: records the numeric path, then replaces each `assert` by a recording.
_RECORDER = r"""
import ast as _ast, json as _json
import torch as _torch

_D2LFT_CONTEXT = {context}
_D2LFT_CONTEXT["capability"] = _torch.backends.cpu.get_cpu_capability()
_D2LFT_CONTEXT["threads"] = _torch.get_num_threads()


def __d2lft_claim__(text, test, left, right, op):
    record = dict(_D2LFT_CONTEXT, claim=text, op=op)
    try:
        record["held"] = bool(test())
    except Exception as err:  # e.g. a comparison with None: the claim did not hold
        record["held"], record["error"] = False, f"{{type(err).__name__}}: {{err}}"
    if op in ("Gt", "GtE", "Lt", "LtE"):
        try:
            a, b = float(left()), float(right())
            record.update(left=a, right=b, margin=a - b if op in ("Gt", "GtE") else b - a)
        except Exception:
            pass
    with open({claims_file!r}, "a") as f:
        f.write(_json.dumps(record) + "\n")


class _AssertsToClaims(_ast.NodeTransformer):
    def visit_Assert(self, node):
        test, op, left, right = node.test, None, _ast.Constant(None), _ast.Constant(None)
        if isinstance(test, _ast.Compare) and len(test.ops) == 1:
            op, left, right = type(test.ops[0]).__name__, test.left, test.comparators[0]
        no_args = _ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[])
        thunks = [_ast.Lambda(args=no_args, body=e) for e in (test, left, right)]
        call = _ast.Call(_ast.Name("__d2lft_claim__", _ast.Load()), [_ast.Constant(_ast.unparse(test)), *thunks,
                         _ast.Constant(op)], [])
        return _ast.fix_missing_locations(_ast.copy_location(_ast.Expr(call), node))


get_ipython().ast_transformers.append(_AssertsToClaims())
"""


def run_notebook(
    path: Path, seed: int, numeric_path: str, claims_file: Path, timeout: int = 1800, keep: Path | None = None
) -> dict:
    """Execute one notebook with its asserts recorded (and saved executed into `keep`, if given)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if not (c.cell_type == "code" and "# NBVAL_SKIP" in c.source)]
    folder = REPO_ROOT / "notebooks"
    name = str(path.relative_to(folder)) if path.is_relative_to(folder) else path.name
    context = {"notebook": name, "seed": seed, "path": numeric_path}
    nb.cells.insert(0, nbformat.v4.new_code_cell(_RECORDER.format(context=repr(context), claims_file=str(claims_file))))
    env = {"D2LFT_WORLD": "mini", "D2LFT_SEED": str(seed), **PATHS[numeric_path]}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    start = time.perf_counter()
    try:
        client = NotebookClient(
            nb, timeout=timeout, allow_errors=True, resources={"metadata": {"path": str(path.parent)}}
        )
        client.execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    if keep is not None:
        out = keep / numeric_path / f"seed{seed}" / name
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out)
    errors = [
        f"{o.get('ename')}: {o.get('evalue', '')[:200]}"
        for c in nb.cells
        if c.cell_type == "code" and "NBVAL_RAISES_EXCEPTION" not in c.source
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    return {**context, "seconds": round(time.perf_counter() - start, 1), "errors": errors}


def current_claims(path: Path) -> set[str]:
    """The asserts a notebook holds now, written as the recorder writes them (`ast.unparse`)."""
    import ast

    import nbformat

    nb = nbformat.read(path, as_version=4)
    found = set()
    for cell in nb.cells:
        if cell.cell_type == "code":
            found |= {ast.unparse(n.test) for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Assert)}
    return found


def summarise(claims: list[dict], runs: list[dict], header: str, retired: list[dict] | None = None) -> str:
    """The markdown table of every claim's spread over the recorded runs (and the claims since removed)."""
    lines = [header, ""]
    caps = sorted({(r["path"], r.get("capability", "?"), r.get("threads", "?")) for r in claims})
    lines.append("| numeric path | settings | torch's CPU capability | threads |")
    lines.append("|---|---|---|---|")
    for path, cap, threads in caps:
        settings = " ".join(f"`{k}={v}`" for k, v in PATHS[path].items()) or "(none)"
        lines.append(f"| {path} | {settings} | {cap} | {threads} |")
    lines.append("")
    seconds: dict[tuple, list[float]] = {}
    for r in runs:
        seconds.setdefault((r["notebook"], r["path"]), []).append(r["seconds"])
    failed_runs = [r for r in runs if r["errors"]]
    lines.append(f"{len(runs)} notebook runs, {len(failed_runs)} with an unexpected error.")
    for r in failed_runs:
        lines.append(f"- {r['notebook']} seed {r['seed']} path {r['path']}: {'; '.join(r['errors'])}")
    lines += ["", "Median seconds per notebook run:", ""]
    paths = [p for p in PATHS if any(k[1] == p for k in seconds)]
    lines.append("| notebook | " + " | ".join(paths) + " |")
    lines.append("|---|" + "---|" * len(paths))
    for nb in sorted({r["notebook"] for r in runs}):  # a path that did not run it: an empty cell
        cells = [f"{statistics.median(seconds[nb, p]):.0f}" if (nb, p) in seconds else "" for p in paths]
        lines.append(f"| {nb} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Each claim: how often it was checked and held; for comparisons, the margin by which it held",
        "(left minus right for `>`, right minus left for `<`; negative means it failed) and the left side's range.",
        "",
        "| notebook | claim | held | margin min | median | max | left side min-max | smallest margin at |",
        "|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[tuple, list[dict]] = {}
    for c in claims:
        groups.setdefault((c["notebook"], c["claim"]), []).append(c)
    for (nb, claim), records in groups.items():
        held = sum(r["held"] for r in records)
        escaped = claim.replace("|", "\\|")
        row = [nb, f"`{escaped}`", f"{held}/{len(records)}"]
        margins = [r for r in records if "margin" in r]
        if margins:
            values = sorted(r["margin"] for r in margins)
            worst = min(margins, key=lambda r: r["margin"])
            lefts = [r["left"] for r in margins]
            row += [f"{values[0]:.4g}", f"{statistics.median(values):.4g}", f"{values[-1]:.4g}",
                    f"{min(lefts):.4g} - {max(lefts):.4g}", f"seed {worst['seed']}, {worst['path']}"]  # fmt: skip
        else:
            failed = [r for r in records if not r["held"]]
            row += ["", "", "", "", f"failed: seed {failed[0]['seed']}, {failed[0]['path']}" if failed else ""]
        lines.append("| " + " | ".join(row) + " |")
    if retired:
        lines += ["", "Recorded, but no longer in the notebooks (changed or removed after these runs):", ""]
        gone: dict[tuple, list[dict]] = {}
        for r in retired:
            gone.setdefault((r["notebook"], r["claim"]), []).append(r)
        for (nb, claim), records in gone.items():
            lines.append(f"- {nb}: `{claim}` held {sum(r['held'] for r in records)}/{len(records)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--paths", nargs="+", choices=list(PATHS), default=["default", "no-fma", "one-thread"])
    parser.add_argument("--notebooks", nargs="*", default=None, help="names or parts of names (default: all)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "spread")
    parser.add_argument("--keep", type=Path, default=None, help="save every executed notebook under this folder")
    parser.add_argument("--summarise-only", action="store_true", help="rewrite the table from the raw records")
    args = parser.parse_args(argv)
    claims_file, runs_file = args.out.with_suffix(".jsonl"), args.out.with_suffix(".runs.jsonl")
    notebooks = [p for p in course_notebooks() if not args.notebooks or any(n in p.name for n in args.notebooks)]
    if not args.summarise_only:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        names = {str(p.relative_to(REPO_ROOT / "notebooks")) for p in notebooks}

        def kept(file: Path) -> str:  # earlier records of runs not repeated now
            lines = file.read_text().splitlines() if file.exists() else []
            return "".join(
                line + "\n"
                for line in lines
                if line
                and not (
                    (r := json.loads(line))["notebook"] in names and r["seed"] in args.seeds and r["path"] in args.paths
                )
            )

        for file, text in [(claims_file, kept(claims_file)), (runs_file, kept(runs_file))]:
            with atomic_write(file, "w") as f:  # the records of earlier runs survive a crash here
                f.write(text)
        for numeric_path in args.paths:
            for seed in args.seeds:
                for path in notebooks:
                    run = run_notebook(path, seed, numeric_path, claims_file, keep=args.keep)
                    print(f"{run['notebook']:55} seed {seed} {numeric_path:8} {run['seconds']:7.1f} s"
                          + (f"  ERRORS: {run['errors']}" if run["errors"] else ""), flush=True)  # fmt: skip
                    with runs_file.open("a") as f:
                        f.write(json.dumps(run) + "\n")
    claims = [json.loads(line) for line in claims_file.read_text().splitlines() if line]
    now = {str(p.relative_to(REPO_ROOT / "notebooks")): current_claims(p) for p in course_notebooks()}
    retired = [c for c in claims if c["claim"] not in now.get(c["notebook"], set())]
    claims = [c for c in claims if c["claim"] in now.get(c["notebook"], set())]
    runs = [json.loads(line) for line in runs_file.read_text().splitlines() if line]
    import torch

    header = (
        "# Every notebook claim, over seeds and numeric paths\n\n"
        f"Made by `make spread` (`python -m tools.spread`) on {describe_cpu()}; torch {torch.__version__}; "
        "mini world; seeds "
        + ", ".join(
            f"{path} {sorted({r['seed'] for r in runs if r['path'] == path})}"
            for path in PATHS
            if any(r["path"] == path for r in runs)
        )  # fmt: skip
        + "."
    )
    table = summarise(claims, runs, header, retired)
    args.out.with_suffix(".md").write_text(table)
    failed = [c for c in claims if not c["held"]]
    print(f"{len(claims)} claim checks, {len(failed)} failed; table in {args.out.with_suffix('.md')}")
    return 1 if failed or any(r["errors"] for r in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
