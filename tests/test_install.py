"""The environment `make` builds: a torch/torchvision pair whose compiled ops load, and d2l."""

import torch
import torchvision


def test_torchvision_compiled_ops_load():
    # With a mismatched pair, importing torchvision fails on "operator torchvision::nms does not exist".
    from torchvision.ops import nms

    keep = nms(torch.tensor([[0.0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]]), torch.tensor([0.9, 0.8, 0.7]), 0.5)
    assert keep.tolist() == [0, 2]
    assert torchvision.__version__.split("+")[0] == "0.29.2"


def test_d2l_imports_without_its_exact_pins():
    from d2l import torch as d2l

    assert callable(d2l.train_ch13)


def test_pyproject_lists_every_package_d2lft_imports():
    # `pip install .` must bring what the package imports, at the top of a module or inside a function.
    import ast
    import sys
    import tomllib

    from d2lft.support.paths import REPO_ROOT

    imported = set()
    for path in (REPO_ROOT / "d2lft").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level:
                imported.add(node.module.split(".")[0])
    optional = {"IPython"}  # d2lft.plot uses it only inside a notebook, whose kernel brings it
    third_party = imported - set(sys.stdlib_module_names) - {"d2lft"} - optional
    distribution = {"PIL": "pillow", "pillow_heif": "pillow-heif"}  # import name -> the name pip installs
    needed = {distribution.get(name, name).lower() for name in third_party}
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    listed = {dep.split(">")[0].split("=")[0].split("<")[0].strip().lower() for dep in project["dependencies"]}
    assert needed <= listed, f"missing from pyproject's dependencies: {sorted(needed - listed)}"
