"""Keep a fine-tuned model and use it: one file holding its weights, class names and preprocessing.

`save_model` writes the file atomically. `load_model` reads it with `weights_only=True` (a model file
cannot run code when loaded) and rebuilds the network, in any fresh process. `predict_files` gives each
image file's most likely class and its probability (`python -m d2lft predict MODEL IMAGES...` from a terminal).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import torch
import torchvision
from torch import nn
from torchvision import transforms
from tqdm.auto import tqdm

from .data import resize_crop_normalize
from .devices import try_gpu
from .imagenet import IMAGENET_MEAN, IMAGENET_STD
from .recipe import replace_fc
from .support.files import atomic_write
from .support.images import BadImageError, load_image

MODEL_FORMAT, MODEL_VERSION = "d2lft-model", 1
ARCHS = ("resnet18", "resnet34", "resnet50")  # torchvision ResNets: the head is `fc`


class ModelFileError(ValueError):
    """A model file that cannot be used here: missing, not a d2lft model, or for other classes."""


class Prediction(NamedTuple):
    path: str
    label: str | None  # None when the file could not be read (see `error`)
    probability: float | None
    error: str | None = None


def save_model(
    net: nn.Module, path: str | os.PathLike, classes: Sequence[str], arch: str = "resnet18",
    crop_size: int = 224, resize_size: int = 256,
) -> Path:  # fmt: skip
    """Write `net` with its class names and test-time preprocessing to `path`, atomically; return the path."""
    if arch not in ARCHS:
        raise ValueError(f"arch must be one of {ARCHS}, not {arch!r}")
    if net.fc.out_features != len(classes):
        raise ValueError(f"the network has {net.fc.out_features} outputs but {len(classes)} class names were given")
    record = {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "arch": arch,
        "classes": list(classes),
        "preprocess": {
            "resize": resize_size,
            "crop": crop_size,
            "mean": list(IMAGENET_MEAN),
            "std": list(IMAGENET_STD),
        },
        "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()},
    }
    with atomic_write(path, "wb") as f:
        torch.save(record, f)
    return Path(path)


def load_model(path: str | os.PathLike, classes: Sequence[str] | None = None) -> tuple[nn.Module, dict]:
    """Rebuild the network saved by `save_model`, in eval mode; return it and the file's other fields.

    With `classes`, the file must have been trained for exactly those (same names, same order).
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path} does not exist. Train and save a model first, e.g. "
                             f"python -m d2lft finetune --data PHOTOS --save {path}")  # fmt: skip
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as e:
        raise ModelFileError(f"{path} cannot be read as a model file ({str(e).splitlines()[0]}). "
                             f"It is damaged or not a d2lft model: save the model again.") from e  # fmt: skip
    if not isinstance(record, dict) or record.get("format") != MODEL_FORMAT:
        what = "a plain state dict" if isinstance(record, dict) else f"a {type(record).__name__}"
        raise ModelFileError(f"{path} holds {what}, not a d2lft model file: it lacks the class names and the "
                             f"preprocessing. Save it with d2lft.save_model(net, path, classes).")  # fmt: skip
    if record.get("version") != MODEL_VERSION or record.get("arch") not in ARCHS:
        raise ModelFileError(f"{path} is a d2lft model file of version {record.get('version')} for "
                             f"{record.get('arch')!r}; this d2lft reads version {MODEL_VERSION} "
                             f"for {ARCHS}.")  # fmt: skip
    saved = record["classes"]
    if classes is not None and list(classes) != saved:
        raise ModelFileError(f"{path} was trained for {len(saved)} classes {saved}, not these {len(classes)}: "
                             f"{list(classes)}. Use the model trained on this data, or train one for it.")  # fmt: skip
    net = replace_fc(getattr(torchvision.models, record["arch"])(weights=None), len(saved))
    state = record["state_dict"]
    if (shape := tuple(state.get("fc.weight", torch.empty(0)).shape)) != (len(saved), net.fc.in_features):
        raise ModelFileError(f"{path} is inconsistent: its head has shape {shape} for {len(saved)} classes.")
    net.load_state_dict(state)
    return net.eval(), {k: v for k, v in record.items() if k != "state_dict"}


def preprocessing(meta: dict) -> transforms.Compose:
    """The test-time transform a model file was saved with: resize, centre crop, normalise."""
    p = meta["preprocess"]
    return resize_crop_normalize(p["crop"], p["resize"], p["mean"], p["std"])


@torch.no_grad()
def predict_files(
    model_file: str | os.PathLike, paths: Sequence[str | os.PathLike], device: torch.device | None = None,
    batch_size: int = 32, progress: bool = False,
) -> list[Prediction]:  # fmt: skip
    """Each file's most likely class and its probability under the saved model, in the order given.

    A file that cannot be read as an image gets `label=None` and the reason in `error`; the others are
    still predicted. `progress`: a progress bar over the files.
    """
    net, meta = load_model(model_file)
    device = device or try_gpu()
    net.to(device)
    transform = preprocessing(meta)
    results: list[Prediction | None] = [None] * len(paths)
    batch: list[tuple[int, torch.Tensor]] = []

    def flush() -> None:
        if not batch:
            return
        probs = net(torch.stack([x for _, x in batch]).to(device)).softmax(dim=1).cpu()
        for (i, _), p in zip(batch, probs):
            k = int(p.argmax())
            results[i] = Prediction(str(paths[i]), meta["classes"][k], float(p[k]))
        batch.clear()

    for i, path in enumerate(tqdm(paths, desc="predicting", unit="image", leave=False, disable=not progress)):
        try:
            batch.append((i, transform(load_image(path))))
        except (BadImageError, FileNotFoundError, IsADirectoryError) as e:
            results[i] = Prediction(str(path), None, None, str(e))
        if len(batch) == batch_size:
            flush()
    flush()
    return results  # type: ignore[return-value]
