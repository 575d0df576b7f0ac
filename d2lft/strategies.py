"""Fine-tuning on your own photos: three strategies, timed, compared on validation, chosen within a budget.

- `probe`: a linear head on features the frozen backbone computes once (no augmentation; seconds);
- `last-stage`: `layer4` and the head train, the rest frozen with its BatchNorm kept in eval mode;
- `full`: every layer trains, the head at 10x the rate (the book's recipe);
- `scratch`, to compare with: the same architecture with random weights, every layer at the head's rate (the
  book's scratch recipe); never chosen for your photos, as pretrained weights win on a few hundred images.

Each run returns its network, its `History` (validation accuracy per epoch) and its wall time, features
and decoding included. `estimate_seconds` times two real training steps per strategy before anything
trains, so that a plan can be fitted to a time budget; `choose` picks the most accurate strategy whose
time fits, and the cheapest of those that validation cannot tell apart from it.
"""

from __future__ import annotations

import copy
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from .fast import train_fast
from .folders import PhotoSplits
from .freeze import extract_features, keep_frozen_bn_in_eval, set_parameter_requires_grad, unfreeze_children
from .metrics import History
from .recipe import fine_tuning_trainer, replace_fc
from .speed.decoded import DecodedImageFolder, DecodedLoader, JoinedDecoded
from .support.paths import data_dir
from .train import sgd_step, timed, train_ch13

STRATEGIES = ("probe", "last-stage", "full")  # what `choose` picks from
TRAINABLE = (*STRATEGIES, "scratch")  # what `train` runs: scratch too, to compare with
# A head on cached features costs next to nothing an epoch. The others take 3, as the laptop and mini recipes:
# over 5 seeds of the rehearsed laptop recipe, validation accuracy after 3 epochs had the median of 5 (docs/worlds.md).
EPOCHS = {"probe": 30, "last-stage": 3, "full": 3, "scratch": 3}


@dataclass
class Run:
    strategy: str
    seed: int
    net: nn.Module
    history: History
    seconds: float  # wall time of the whole run: features or decoding, training and validation
    held_out_images: int = 0  # how many images `accuracy` was measured on (0: unknown)

    @property
    def accuracy(self) -> float:
        return self.history.test_acc[-1]


@dataclass
class Photos:
    """A photo folder's splits decoded once at a recipe's sizes, ready for the three strategies.

    The decoded images are kept in `cache_dir` (default `data/decoded/`; None: in memory only), so a second
    run on the same photos does not decode them again; `decode_seconds` is what reading them took this time.
    """

    splits: PhotoSplits
    crop_size: int
    resize_size: int
    batch_size: int
    device: torch.device
    cache_dir: Path | None = field(default_factory=lambda: data_dir() / "decoded")

    def __post_init__(self):
        start = time.perf_counter()
        self._decoded = {
            s: DecodedImageFolder(self.splits.dataset(s), self.resize_size, cache_dir=self.cache_dir)
            for s in ("train", "val", "test")
        }
        self.decode_seconds = time.perf_counter() - start
        self._decoded["train+val"] = JoinedDecoded(self._decoded["train"], self._decoded["val"])

    def loader(self, split: str, train: bool = False, batch_size: int | None = None) -> DecodedLoader:
        """Batches of `split` ("train", "val", "test", or "train+val" for the final model): augmented as the
        book's `train_augs` when `train`, else centre crops in order."""
        batch_size = batch_size or self.batch_size
        return DecodedLoader(self._decoded[split], batch_size, self.crop_size, train, self.device)

    @property
    def num_classes(self) -> int:
        return len(self.splits.classes)


def build(strategy: str, source: nn.Module, num_classes: int) -> nn.Module:
    """The source network with a new head, frozen as `strategy` says, or re-initialised for `scratch` (`probe` is
    built by `train`)."""
    if strategy not in TRAINABLE:
        raise ValueError(f"strategy must be one of {TRAINABLE}, not {strategy!r}")
    net = copy.deepcopy(source)
    if strategy == "last-stage":
        set_parameter_requires_grad(net, True)
    replace_fc(net, num_classes)
    if strategy == "last-stage":
        unfreeze_children(net, ["layer4", "fc"])
        keep_frozen_bn_in_eval(net)
    if strategy == "scratch":  # random weights, drawn as torchvision's ResNet draws them
        for module in net.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif hasattr(module, "reset_parameters"):
                module.reset_parameters()
    return net


def train(
    strategy: str, source: nn.Module, photos: Photos, seed: int, lr: float = 5e-5, epochs: int | None = None,
    held_out: str = "val", plot: bool = False, train_split: str = "train",
) -> Run:  # fmt: skip
    """Train `strategy` from `source` on `train_split` at `seed` with the book's base rate `lr`; measure on
    `held_out`: "val" after every epoch, or "test" once, after the last (the final model: `train_split`
    "train+val", once validation has chosen)."""
    epochs = epochs or EPOCHS[strategy]
    each_epoch = held_out != "test"
    device = photos.device
    loss = nn.CrossEntropyLoss(reduction="none")
    torch.manual_seed(seed)
    start = time.perf_counter()
    if strategy == "probe":
        net = replace_fc(copy.deepcopy(source), photos.num_classes)
        backbone = copy.deepcopy(source)
        backbone.fc = nn.Identity()
        train_features = extract_features(backbone, photos.loader(train_split), device)
        held_features = extract_features(backbone, photos.loader(held_out), device)
        batches = torch.utils.data.DataLoader(train_features, photos.batch_size, shuffle=True)
        trainer = fine_tuning_trainer(net.fc, 10 * lr, photos.batch_size, param_group=False)  # the head's rate
        history = train_ch13(net.fc, batches, torch.utils.data.DataLoader(held_features, 256), loss, trainer, epochs,
                             [torch.device("cpu")], plot, held_out, each_epoch)  # fmt: skip
        net.to(device)
    else:
        net = build(strategy, source, photos.num_classes)
        if strategy == "scratch":  # the book's: one rate for every layer, ten times the base rate
            trainer = fine_tuning_trainer(net, 10 * lr, photos.batch_size, param_group=False)
        else:
            trainer = fine_tuning_trainer(net, lr, photos.batch_size)
        history = train_fast(net, photos.loader(train_split, train=True), photos.loader(held_out), loss, trainer,
                             epochs, [device], plot, held_out=held_out, test_each_epoch=each_epoch)  # fmt: skip
    return Run(strategy, seed, net, history, time.perf_counter() - start, len(photos.splits.files[held_out]))


def estimate_seconds(source: nn.Module, photos: Photos, epochs: dict[str, int] | None = None) -> dict[str, float]:
    """Each strategy's expected wall time for one run, from two timed steps of it on real batches (the first
    step warms up and is not counted); the random state is left as it was."""
    epochs = {**EPOCHS, **(epochs or {})}
    images = {s: len(photos.splits.files[s]) for s in ("train", "val")}
    device = photos.device
    X, y = next(iter(photos.loader("train", train=False)))
    X, y = X.to(device), y.to(device)
    per_image = {}
    with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
        backbone = copy.deepcopy(source).to(device)
        forward = timed(lambda: _forward(backbone, X), device) / len(X)
        for strategy in ("last-stage", "full"):
            net = build(strategy, source, photos.num_classes).to(device).train()
            trainer = fine_tuning_trainer(net, 0.0, photos.batch_size)
            per_image[strategy] = timed(lambda n=net, t=trainer: sgd_step(n, t, X, y), device) / len(X)
    seconds = {"probe": forward * (images["train"] + images["val"])}  # the head's epochs cost next to nothing
    for strategy, cost in per_image.items():
        seconds[strategy] = epochs[strategy] * (cost * images["train"] + forward * images["val"])
    return seconds


def _forward(net: nn.Module, X: torch.Tensor) -> None:
    with torch.no_grad():
        net.eval()(X)


def tied_with_best(accuracy: dict[str, float], images: int) -> tuple[list[str], float]:
    """The names whose accuracy lies within one standard error of the highest, in their order, and that error
    (measured on `images` held-out images; 0: unknown, so only exact ties count)."""
    top = max(accuracy.values())
    error = (top * (1 - top) / images) ** 0.5 if images else 0.0
    return [name for name, a in accuracy.items() if a >= top - error], error


def choose(runs: list[Run], budget_seconds: float | None) -> tuple[str, str]:
    """Among the strategies whose median run time fits the budget (every one, without a budget), the cheapest
    of those within one standard error of the highest mean validation accuracy (the "one-standard-error
    rule": a gap smaller than that, a few validation images, is no evidence); and why, in words. Raises if
    none fits."""
    by_strategy: dict[str, list[Run]] = {}
    for run in runs:
        by_strategy.setdefault(run.strategy, []).append(run)
    seconds = {s: statistics.median(r.seconds for r in rs) for s, rs in by_strategy.items()}
    accuracy = {s: statistics.mean(r.accuracy for r in rs) for s, rs in by_strategy.items()}
    fits = [s for s in by_strategy if budget_seconds is None or seconds[s] <= budget_seconds]
    if not fits:
        cheapest = min(seconds, key=seconds.get)
        raise ValueError(f"no strategy fits a budget of {budget_seconds:.3g} s: the cheapest, {cheapest}, "
                         f"took {seconds[cheapest]:.3g} s. Raise the budget or use fewer images.")  # fmt: skip
    top = max(fits, key=accuracy.get)
    images = min(r.held_out_images for r in by_strategy[top])
    tied, error = tied_with_best({s: accuracy[s] for s in fits}, images)
    best = min(tied, key=seconds.get)
    left_out = [s for s in by_strategy if s not in fits]
    among = f" of the strategies within {budget_seconds:.3g} s" if budget_seconds is not None else ""
    why = f"{best}: the highest mean validation accuracy ({accuracy[best]:.3f}){among}"
    others = ", ".join(f"{s} {accuracy[s]:.3f}" for s in tied if s != best)
    within = f"within one standard error ({error:.3f} on {images} images) of" if error else "tied at"
    if best == top and len(tied) > 1:
        why += f", and the cheapest of the {len(tied)} strategies {within} it ({others})"
    elif best != top:
        why = (
            f"{best} ({accuracy[best]:.3f}): the cheapest of the {len(tied)} strategies {within} the highest "
            f"mean validation accuracy{among} ({others})"
        )
    if left_out:
        why += "; over the budget: " + ", ".join(f"{s} ({seconds[s]:.3g} s, {accuracy[s]:.3f})" for s in left_out)
    return best, why
