"""Freezing helpers: what trains, at which rate, and BatchNorm that really stays frozen."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

import d2lft


def _resnet() -> nn.Module:
    torch.manual_seed(0)
    return torchvision.models.resnet18(num_classes=3)


def test_feature_extraction_freezes_all_but_the_new_head(capsys):
    net = _resnet()
    d2lft.set_parameter_requires_grad(net, True)
    d2lft.replace_fc(net, 2)
    params = d2lft.params_to_learn(net)
    assert capsys.readouterr().out.split() == ["Params", "to", "learn:", "fc.weight", "fc.bias"]
    assert params == [net.fc.weight, net.fc.bias]
    d2lft.set_parameter_requires_grad(net, False)  # fine-tuning leaves everything as it is
    assert d2lft.count_parameters(net)[0] == 1026


def test_unfreeze_children_names_what_it_cannot_find():
    net = _resnet()
    d2lft.set_parameter_requires_grad(net, True)
    assert d2lft.unfreeze_children(net, ["layer4", "fc"]) == ["layer4", "fc"]
    assert {n.split(".")[0] for n, p in net.named_parameters() if p.requires_grad} == {"layer4", "fc"}
    with pytest.raises(KeyError, match="layer5"):
        d2lft.unfreeze_children(net, ["layer5"])


def test_frozen_batchnorm_keeps_its_statistics_and_unfrozen_batchnorm_trains():
    net = _resnet()
    d2lft.set_parameter_requires_grad(net, True)
    d2lft.unfreeze_children(net, ["layer4"])
    assert d2lft.keep_frozen_bn_in_eval(net) == 20
    frozen_before = net.bn1.running_mean.clone()
    live_before = net.layer4[1].bn2.running_mean.clone()
    net.train()
    net(torch.randn(4, 3, 32, 32))
    assert torch.equal(net.bn1.running_mean, frozen_before)
    assert not torch.equal(net.layer4[1].bn2.running_mean, live_before)


def test_keep_bn_in_eval_keeps_every_statistic_while_the_weights_train():
    """Keras's advice: BatchNorm in inference mode even where its scale and shift learn."""
    net = _resnet()
    assert d2lft.keep_bn_in_eval(net) == 20
    before = {k: v.clone() for k, v in net.state_dict().items() if "running_" in k}
    net.train()
    net(torch.randn(4, 3, 32, 32)).sum().backward()
    assert all(torch.equal(net.state_dict()[k], v) for k, v in before.items())
    assert net.layer4[1].bn2.weight.grad is not None and net.training


def test_without_the_fix_a_frozen_backbone_still_changes():
    net = _resnet()
    d2lft.set_parameter_requires_grad(net, True)
    before = net.bn1.running_mean.clone()
    net.train()
    net(torch.randn(4, 3, 32, 32))
    assert not torch.equal(net.bn1.running_mean, before)


def test_param_groups_by_prefix_longest_prefix_wins_and_reports_the_rest(capsys):
    vgg = torchvision.models.vgg11(num_classes=2)
    groups = d2lft.param_groups_by_prefix(vgg, {"features": 1e-4, "classifier": 5e-4, "classifier.6": 1e-3})
    by_prefix = {g["prefix"]: g for g in groups}
    assert by_prefix["classifier.6"]["params"] == [vgg.classifier[6].weight, vgg.classifier[6].bias]
    assert len(by_prefix["classifier"]["params"]) == 4 and by_prefix["features"]["lr"] == 1e-4
    assert capsys.readouterr().out == ""

    vgg = torchvision.models.vgg11(num_classes=2)
    d2lft.param_groups_by_prefix(vgg, {"features": 1e-4, "classifier.6": 1e-3})
    out = capsys.readouterr().out
    assert "4 parameters matched no prefix (frozen)" in out and "classifier.0.weight" in out
    assert not vgg.classifier[0].weight.requires_grad and vgg.classifier[6].weight.requires_grad


def test_param_groups_by_prefix_matches_whole_names_only():
    net = nn.Sequential(*[nn.Linear(2, 2) for _ in range(11)])
    groups = d2lft.param_groups_by_prefix(net, {"1": 0.1, "10": 0.2}, freeze_unmatched=False)
    assert [len(g["params"]) for g in groups] == [2, 2]
    with pytest.raises(KeyError, match="classifier"):
        d2lft.param_groups_by_prefix(net, {"classifier": 0.1})


def test_extract_features_runs_the_backbone_once_in_eval_mode():
    net = _resnet()
    net.fc = nn.Identity()
    net.train()
    data = torch.utils.data.TensorDataset(torch.randn(6, 3, 32, 32), torch.tensor([0, 1, 0, 1, 0, 1]))
    features = d2lft.extract_features(net, torch.utils.data.DataLoader(data, 4))
    assert features.tensors[0].shape == (6, 512) and features.tensors[1].tolist() == [0, 1, 0, 1, 0, 1]
    assert not net.training


def test_fine_tuning_groups_give_the_head_ten_times_the_rate_and_skip_frozen_parameters():
    net = _resnet()
    d2lft.set_parameter_requires_grad(net, True)
    d2lft.replace_fc(net, 2)
    assert [(len(g["params"]), g["lr"]) for g in d2lft.fine_tuning_groups(net, 0.01)] == [(2, 0.1)]
    net = _resnet()
    groups = d2lft.fine_tuning_groups(net, 0.01)
    assert [g["lr"] for g in groups] == [0.01, 0.1] and len(groups[0]["params"]) == 60
    assert len(d2lft.fine_tuning_groups(net, 0.01, param_group=False)[0]["params"]) == 62
