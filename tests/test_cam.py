"""Grad-CAM through captum: the map lights up where the evidence for the class is, and nowhere for a class
the evidence speaks against."""

from __future__ import annotations

import matplotlib
import torch
import torchvision
from torch import nn

import d2lft
from d2lft.cam import grad_cam, show_cams

matplotlib.use("Agg")


class Brightness(nn.Module):
    """Class 0's score is the image's mean brightness, class 1's its negative."""

    def __init__(self):
        super().__init__()
        self.layer4 = nn.Conv2d(3, 1, 1)
        nn.init.constant_(self.layer4.weight, 1.0)
        nn.init.zeros_(self.layer4.bias)
        self.fc = nn.Linear(1, 2)
        with torch.no_grad():
            self.fc.weight.copy_(torch.tensor([[1.0], [-1.0]]))
            self.fc.bias.zero_()

    def forward(self, x):
        return self.fc(torch.relu(self.layer4(x)).mean(dim=(2, 3)))


def test_the_map_lights_the_half_that_holds_the_evidence():
    x = torch.zeros(1, 3, 16, 16)
    x[..., :8] = 1.0  # the left half is bright
    heat = grad_cam(Brightness(), x, [0])
    assert heat.shape == (1, 16, 16) and heat.max() == 1.0
    assert heat[0, :, :6].min() > 0.9 and heat[0, :, 10:].max() < 0.1
    assert grad_cam(Brightness(), x, [1]).abs().max() == 0  # evidence against class 1 only: no positive map
    assert grad_cam(Brightness(), x).equal(heat)  # the predicted class by default


def test_a_resnet_gets_maps_at_its_last_stage_and_keeps_its_mode():
    torch.manual_seed(0)
    net = d2lft.replace_fc(torchvision.models.resnet18(weights=None), 3).train()
    x = torch.randn(2, 3, 64, 64)
    heat = grad_cam(net, x, [0, 2])
    assert heat.shape == (2, 64, 64) and 0 <= heat.min() and heat.max() <= 1
    assert net.training
    fig = show_cams(x, heat, ["a", "b"], ncols=2)
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
