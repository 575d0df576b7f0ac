"""Where a model looks: Grad-CAM heat maps (Selvaraju et al., 2017), computed by captum.

captum (the PyTorch project's interpretability library) is used rather than hand-written hooks: it is
maintained beside torch, installs as a pure-Python wheel with nothing beyond what the course already has,
and its `LayerGradCam` is the textbook method. (`grad-cam`, the other well-known package, also pulls in
OpenCV, scikit-learn and ttach.)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .imagenet import denormalize


def grad_cam(
    net: nn.Module, images: torch.Tensor, targets: Sequence[int] | torch.Tensor | None = None,
    layer: nn.Module | None = None,
) -> torch.Tensor:  # fmt: skip
    """Grad-CAM maps of `images` (a normalised (N, 3, H, W) batch) for `targets` (default: the predicted
    classes) at `layer` (default: a ResNet's last stage, `net.layer4`), upsampled to (N, H, W) and scaled
    to [0, 1] per image (a map with no positive evidence stays 0)."""
    from captum.attr import LayerAttribution, LayerGradCam

    was_training = net.training
    net.eval()
    try:
        if targets is None:
            with torch.no_grad():
                targets = net(images).argmax(dim=1)
        targets = torch.as_tensor(targets, device=images.device)
        layer = layer if layer is not None else net.layer4
        maps = LayerGradCam(net, layer).attribute(images, target=targets, relu_attributions=True)
        maps = LayerAttribution.interpolate(maps, tuple(images.shape[-2:]), interpolate_mode="bilinear")
    finally:
        net.train(was_training)
    maps = maps.detach()[:, 0].clamp(min=0)
    top = maps.flatten(1).max(dim=1).values.clamp(min=1e-12)
    return maps / top[:, None, None]


_STRIDES = {"layer4": 32, "layer3": 16, "layer2": 8, "layer1": 4}  # a ResNet stage's output: 1 cell per stride px


def cam_layer(net: nn.Module, crop_size: int, cells: int = 4) -> tuple[str, nn.Module]:
    """The last ResNet stage whose feature map still has `cells` x `cells` cells at `crop_size` px: (name, module).
    At 224 px that is `layer4` (7 x 7); the mini world's 32-px crops leave `layer4` one cell, so `layer2`."""
    for name, stride in _STRIDES.items():
        if crop_size // stride >= cells:
            return name, getattr(net, name)
    return "layer1", net.layer1


def show_cams(images: torch.Tensor, maps: torch.Tensor, titles: Sequence[str], ncols: int = 4, scale: float = 2.2):
    """A grid of the images, each with its heat map laid over it (jet colours, half transparent) and a title."""
    import matplotlib.pyplot as plt

    n = len(images)
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * scale, nrows * scale), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, heat, title in zip(axes.flat, denormalize(images.cpu()), maps.cpu(), titles):
        ax.imshow(image.permute(1, 2, 0).numpy())
        ax.imshow(heat.numpy(), cmap="jet", alpha=0.45, vmin=0, vmax=1)
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return fig
