"""Freezing and feature extraction: which parameters learn, at which rate, and BatchNorm done right.

Names follow the torchvision fine-tuning tutorial (`set_parameter_requires_grad`, "Params to learn").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from .metrics import collect_logits


def set_parameter_requires_grad(net: nn.Module, feature_extracting: bool) -> None:
    """Freeze every parameter of `net` when feature extracting (replace the head afterwards)."""
    if feature_extracting:
        for param in net.parameters():
            param.requires_grad = False


def params_to_learn(net: nn.Module, verbose: bool = True) -> list[nn.Parameter]:
    """Return the parameters that require grad (what the optimizer should get), printing their names."""
    named = [(name, param) for name, param in net.named_parameters() if param.requires_grad]
    if verbose:
        print("Params to learn:")
        for name, _ in named:
            print("\t", name)
    return [param for _, param in named]


def unfreeze_children(net: nn.Module, names: Iterable[str]) -> list[str]:
    """Make the parameters of the named top-level children (e.g. `layer4`, `fc`) trainable; return those found."""
    wanted, found = set(names), []
    for name, child in net.named_children():
        if name in wanted:
            found.append(name)
            for param in child.parameters():
                param.requires_grad = True
    if missing := wanted - set(found):
        raise KeyError(f"{sorted(missing)} are not children of the net; it has {[n for n, _ in net.named_children()]}")
    return found


def _keep_eval_when_frozen(module: nn.Module, args) -> None:
    if not any(param.requires_grad for param in module.parameters()):
        module.training = False  # use and keep the running statistics, whatever net.train() said


def _keep_eval(module: nn.Module, args) -> None:
    module.training = False


def _hook_batch_norms(net: nn.Module, hook) -> int:
    layers = [m for m in net.modules() if isinstance(m, _BatchNorm)]
    for layer in layers:
        layer.register_forward_pre_hook(hook)
    return len(layers)


def keep_bn_in_eval(net: nn.Module) -> int:
    """Keras's advice for fine-tuning: every BatchNorm layer in eval mode, even inside `net.train()` and even
    where its scale and shift train, so that the running statistics are used and kept. Returns the number hooked."""
    return _hook_batch_norms(net, _keep_eval)


def keep_frozen_bn_in_eval(net: nn.Module) -> int:
    """Make BatchNorm layers whose parameters are frozen run in eval mode, even inside `net.train()`.

    `requires_grad=False` stops gradient updates, but a BatchNorm layer in training mode still
    overwrites its running mean and variance on every forward pass, so a "frozen" backbone keeps
    changing. A forward pre-hook switches such layers to eval mode just before they run; layers that
    are unfrozen later train normally again. Returns the number of BatchNorm layers hooked.
    """
    return _hook_batch_norms(net, _keep_eval_when_frozen)


def param_groups_by_prefix(net: nn.Module, lrs: Mapping[str, float], freeze_unmatched: bool = True) -> list[dict]:
    """Optimizer groups from parameter-name prefixes (`{"features": 1e-4, "classifier.6": 1e-3}`).

    The longest matching prefix wins (a prefix matches whole dotted names: `classifier.6` does not
    match `classifier.60`). Parameters that match no prefix are reported and, by default, frozen.
    Each group carries its `prefix` and `lr`.
    """
    groups = {prefix: [] for prefix in lrs}
    unmatched = []
    for name, param in net.named_parameters():
        matches = [p for p in lrs if name == p or name.startswith(p + ".")]
        if matches:
            groups[max(matches, key=len)].append(param)
        else:
            unmatched.append(name)
            if freeze_unmatched:
                param.requires_grad = False
    if empty := [prefix for prefix, params in groups.items() if not params]:
        raise KeyError(
            f"No parameter name starts with {empty}; names look like {next(iter(dict(net.named_parameters())))!r}"
        )
    if unmatched:
        state = "frozen" if freeze_unmatched else "left as they are"
        print(f"{len(unmatched)} parameters matched no prefix ({state}): {unmatched}")
    return [{"params": params, "lr": lrs[prefix], "prefix": prefix} for prefix, params in groups.items()]


def extract_features(net: nn.Module, data_iter, device: torch.device | None = None) -> torch.utils.data.TensorDataset:
    """Run a (frozen) backbone `net` once over `data_iter` in eval mode; return its features and labels."""
    features, labels = collect_logits(net, data_iter, device)
    return torch.utils.data.TensorDataset(features.flatten(1), labels)
