"""How `d2lft` is put together: imports run only downwards, and the package exports what notebooks call."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import d2lft
from d2lft.support.paths import REPO_ROOT

PACKAGE = REPO_ROOT / "d2lft"
# From the bottom up, as the package docstring draws it: a module may import only modules listed before it.
LAYERS = """
support support.settings support.paths support.files support.images
devices imagenet
worlds.downloads worlds.weights worlds.mini.drawing worlds
worlds.mini worlds.mini.source worlds.mini.dataset
data folders
metrics plot cam
train fast speed speed.decoded
worlds.mini.pretrain models checkpoint freeze
speed.distributed recipe lr_finder
predict strategies
commands commands.finetune commands.predict
worlds.mini.__main__ __main__
""".split()
WORLDS = "worlds."  # the worlds' machinery, in its own subpackage: everything but its pretraining sits below `data`
TOOLS = REPO_ROOT / "tools"


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The d2lft modules that `path` imports, at the top or inside functions, by relative import."""
    package = _module(path).split(".")[:-1] if path.name != "__init__.py" else _module(path).split(".")
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names = [target] if node.module else [".".join([*base, a.name]) for a in node.names]
            found.update(n for n in names if n)
    return found


def test_every_module_is_in_a_layer_and_imports_only_the_layers_below():
    modules = {_module(p): p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "__init__.py"}
    assert sorted(modules) == sorted(LAYERS), "a new module: place it in LAYERS (and the package docstring)"
    upward = [
        f"{name} imports {target}"
        for name, path in modules.items()
        for target in _imports(path)
        if target in modules and LAYERS.index(target) >= LAYERS.index(name)
    ]
    assert upward == []
    machinery = [name for name in LAYERS if name == WORLDS[:-1] or name.startswith(WORLDS)]
    above_data = [name for name in machinery if LAYERS.index(name) > LAYERS.index("data")]
    assert above_data == ["worlds.mini.pretrain", "worlds.mini.__main__"]  # trains through `train.fit`; its command


def test_the_package_never_imports_the_tools_and_the_tools_import_it_by_name():
    package_imports = {
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not [name for name in package_imports if name == "tools" or name.startswith("tools.")]
    for path in TOOLS.glob("*.py"):
        relative = [
            n.module for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ImportFrom) and n.level
        ]
        tools = {p.stem for p in TOOLS.glob("*.py")}
        assert all(m in tools for m in relative), f"{path.name}: a relative import outside tools/ ({relative})"


def test_the_package_docstring_draws_the_same_layers():
    drawn = [line.strip().split("  ")[0] for line in d2lft.__doc__.splitlines() if line.startswith("    ")]
    assert [name for line in drawn for name in line.split(", ")] == LAYERS


def test_the_package_exports_every_name_a_notebook_calls_and_each_exists():
    used = set()
    for path in sorted((REPO_ROOT / "notebooks").rglob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                used |= set(re.findall(r"\bd2lft\.([A-Za-z_]\w*)", "".join(cell["source"])))
    submodules = {p.stem for p in PACKAGE.glob("*.py")} | {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert used - submodules <= set(d2lft.__all__)
    assert all(hasattr(d2lft, name) for name in d2lft.__all__)
    assert len(d2lft.__all__) <= len(used) + 10  # a small surface: what students call, and a few book names


def test_what_a_student_reads_stays_about_2000_lines_and_the_training_core_one_sitting():
    # The top-level modules are what a student may read; the subpackages what they need not (worlds, support,
    # speed, commands) and `__main__` only dispatches to the command lines.
    lines = {p.stem: len(p.read_text().splitlines()) for p in PACKAGE.glob("*.py") if p.name != "__main__.py"}
    assert sum(lines.values()) <= 2300, "move machinery into a subpackage, or make room, before adding here"
    assert sum(lines[m] for m in ("train", "fast", "recipe", "freeze", "metrics", "plot")) <= 800
