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
