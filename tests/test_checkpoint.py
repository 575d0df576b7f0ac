"""Checkpoints: atomic writes, tensor-only loads, and mismatches that say what differs."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

import d2lft


def test_round_trip_into_a_fresh_model(tmp_path):
    torch.manual_seed(0)
    net = d2lft.replace_fc(torchvision.models.resnet18(), 2)
    path = d2lft.save_checkpoint(net, tmp_path / "ckpt" / "model.pt")
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]  # no temporary file left
    fresh = d2lft.replace_fc(torchvision.models.resnet18(), 2)
    d2lft.load_checkpoint(fresh, path)
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), fresh.state_dict().values()))


def test_a_failed_save_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    net = nn.Linear(2, 2)
    path = d2lft.save_checkpoint(net, tmp_path / "model.pt")
    good = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        d2lft.save_checkpoint(nn.Linear(2, 2), path)
    assert path.read_bytes() == good and [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_loading_into_a_different_head_names_keys_and_shapes(tmp_path):
    path = d2lft.save_checkpoint(d2lft.replace_fc(torchvision.models.resnet18(), 2), tmp_path / "m.pt")
    with pytest.raises(ValueError) as err:
        d2lft.load_checkpoint(torchvision.models.resnet18(), path)
    message = str(err.value)
    assert "fc.weight: checkpoint (2, 512) vs model (1000, 512)" in message and str(path) in message


def test_checkpoints_are_loaded_with_weights_only(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"weight": torch.zeros(1), "payload": object()}, path)  # not plain tensors
    with pytest.raises(Exception, match="[Ww]eights only"):
        d2lft.load_checkpoint(nn.Linear(1, 1), path)
