"""The README's command line, `python -m d2lft finetune`: its options and their checks."""

from __future__ import annotations

import copy
import dataclasses
import re

import pytest
import torch
import torchvision
from torch import nn

import d2lft
from d2lft.commands import finetune
from d2lft.worlds.mini.dataset import MINI_PHOTOS, make_mini_photos


def test_a_precision_needs_the_fast_path(capsys):
    with pytest.raises(SystemExit) as stop:
        finetune.main(["--precision", "bf16"])
    assert stop.value.code == 2 and "--precision applies to the fast path" in capsys.readouterr().err


def test_an_unknown_precision_is_refused_with_the_choices(capsys):
    with pytest.raises(SystemExit) as stop:
        finetune.main(["--fast", "--precision", "fp16"])
    assert stop.value.code == 2 and "choose from 'fp32', 'bf16'" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("args", [["--fast"], ["--scratch"]], ids=["fine-tune-fast", "scratch-book-loop"])
def test_the_cli_trains_in_the_mini_world_and_saves_a_loadable_model(args, data_home, monkeypatch, capsys):
    monkeypatch.setenv("D2LFT_WORLD", "mini")
    monkeypatch.setattr(d2lft.worlds, "MINI_COUNTS", {"train": 4, "test": 2})  # read when the world is made
    saved = data_home / "model.pt"
    assert finetune.main([*args, "--epochs", "2", "--batch-size", "4", "--save", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "DATA WORLD: MINI" in out and f"saved {saved}" in out
    summary = [line for line in out.splitlines() if line.startswith("loss ")]
    assert len(summary) == 1 and ("fp32" in out) == ("--fast" in args)  # the fast path names its precision
    net, meta = d2lft.load_model(saved, d2lft.CLASSES)  # one model-file format for every --save
    assert meta["preprocess"]["crop"] == d2lft.get_world("mini").crop_size
    if "--scratch" not in args:  # fine-tuned from the mini source: its body, not random weights
        source, _ = d2lft.load_pretrained("resnet18", d2lft.get_world("mini"))
        moved = (net.conv1.weight - source.conv1.weight).abs().max()
        assert 0 < moved < 0.01  # trained, a little (lr 5e-5), from the source's weights


@pytest.mark.parametrize("batch_size", [128, 32, 7])
def test_the_book_trainer_takes_the_books_mean_loss_step_at_any_batch_size(batch_size):
    """One summed-loss step of `fine_tuning_trainer(net, 5e-5, batch)` equals a mean-loss step at the book's
    6.4e-3 (head 6.4e-2) with the book's mean-loss weight decay 1e-3 / 128, whatever the batch."""
    torch.manual_seed(0)
    net = d2lft.replace_fc(torchvision.models.resnet18(num_classes=2), 2)
    net.eval()  # BatchNorm as a fixed layer: the two steps see the same function
    X, y = torch.randn(batch_size, 3, 32, 32), torch.randint(0, 2, (batch_size,))
    summed, mean = copy.deepcopy(net), copy.deepcopy(net)
    trainer = d2lft.fine_tuning_trainer(summed, 5e-5, batch_size)
    nn.functional.cross_entropy(summed(X), y, reduction="sum").backward()
    trainer.step()
    head = [p for p in mean.fc.parameters()]
    body = [p for p in mean.parameters() if all(p is not h for h in head)]
    reference = torch.optim.SGD(
        [{"params": body, "lr": 6.4e-3}, {"params": head, "lr": 6.4e-2}], weight_decay=1e-3 / 128
    )
    nn.functional.cross_entropy(mean(X), y).backward()
    reference.step()
    moved = (summed.conv1.weight - net.conv1.weight).abs().max()
    assert moved > 0
    torch.testing.assert_close(summed.state_dict(), mean.state_dict(), rtol=1e-4, atol=1e-7)


@pytest.mark.slow
def test_a_photo_folder_is_split_trained_within_the_budget_tested_once_and_saved(data_home, monkeypatch, capsys):
    monkeypatch.setenv("D2LFT_WORLD", "mini")
    photos = make_mini_photos(data_home / "photos", per_class=12)
    saved = data_home / "models" / "photos.pt"
    assert finetune.main(["--data", str(photos), "--epochs", "1", "--save", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "5 classes, split 'classes'" in out and "ice cream" in out
    assert out.count("YOUR PHOTOS IN THE MINI WORLD: they are fine-tuned from the mini world's ResNet-18") == 1
    assert "plan: probe, last-stage, full" in out and re.search(r"^photos read in [\d.]+ s \(decoded once", out, re.M)
    assert re.search(r"^chosen: (probe|last-stage|full): the highest mean validation accuracy", out, re.M)
    assert re.search(r"^(probe|last-stage|full) trained again on the 50 training \+ validation images", out, re.M)
    assert re.search(r"^test accuracy, measured once: [\d.]+ on 10 images$", out, re.M)
    net, meta = d2lft.load_model(saved, classes=sorted(MINI_PHOTOS))
    assert meta["preprocess"]["crop"] == d2lft.get_world("mini").crop_size
    assert finetune.main(["--data", str(photos), "--strategy", "probe", "--epochs", "1"]) == 0
    assert "plan: probe, then the best again on training + validation images (about" in capsys.readouterr().out


def test_a_budget_too_small_and_a_missing_folder_stop_before_training(data_home, monkeypatch, capsys):
    monkeypatch.setenv("D2LFT_WORLD", "mini")
    with pytest.raises(SystemExit) as stop:
        finetune.main(["--data", str(data_home / "nowhere")])
    assert stop.value.code == 2 and "does not exist. Point to a folder laid out as" in capsys.readouterr().err
    photos = make_mini_photos(data_home / "photos", per_class=6)
    with pytest.raises(SystemExit) as stop:
        finetune.main(["--data", str(photos), "--strategy", "full", "--budget", "0.0001"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "of the 0.0001 min budget after reading the photos" in err
    assert "probe is the cheapest" in err
    with pytest.raises(SystemExit) as stop:
        finetune.main(["--budget", "5"])
    assert stop.value.code == 2 and "apply to your own photos: add --data PATH" in capsys.readouterr().err


def test_under_torchrun_ddp_trains_on_the_recipes_images_for_the_recipes_epochs(data_home, monkeypatch):
    # The laptop recipe's subset and epochs reach train_ddp as they reach the one-process path (without
    # starting processes: setup_distributed and train_ddp stand in for torchrun's, tests/test_distributed.py
    # runs the real thing).
    import torch.distributed as dist

    from d2lft.speed import distributed

    monkeypatch.setattr(d2lft.worlds, "MINI_COUNTS", {"train": 10, "test": 6})
    laptop = d2lft.worlds.LAPTOP._replace(crop=32, resize=37, per_class={"train": 4, "test": 2})
    world = dataclasses.replace(d2lft.get_world("mini"), recipe=laptop)
    monkeypatch.setattr(finetune, "get_world", lambda: world)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setattr(distributed, "setup_distributed", lambda: (0, 2, torch.device("cpu")))
    monkeypatch.setattr(dist, "barrier", lambda: None)
    monkeypatch.setattr(dist, "destroy_process_group", lambda: None)
    seen = {}

    def train_ddp(net, train_set, test_set, loss, trainer, num_epochs, global_batch, seed):
        seen.update(train=len(train_set), test=len(test_set), epochs=num_epochs)

    monkeypatch.setattr(distributed, "train_ddp", train_ddp)
    assert finetune.main([]) == 0
    assert seen == {"train": 8, "test": 4, "epochs": 3}
