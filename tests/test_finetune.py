"""The README's command line, `python -m d2lft.finetune`: its options and their checks."""

from __future__ import annotations

import pytest
import torchvision

import d2lft
from d2lft import finetune


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
    net = d2lft.replace_fc(torchvision.models.resnet18(), 2)
    d2lft.load_checkpoint(net, saved)
    if "--scratch" not in args:  # fine-tuned from the mini source: its body, not random weights
        source, _ = d2lft.load_pretrained("resnet18", d2lft.get_world("mini"))
        moved = (net.conv1.weight - source.conv1.weight).abs().max()
        assert 0 < moved < 0.01  # trained, a little (lr 5e-5), from the source's weights
