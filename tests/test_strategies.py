"""Three strategies on a photo folder: what each trains, what each costs, and the choice within a budget."""

from __future__ import annotations

import math

import pytest
import torch

import d2lft
from d2lft import strategies
from d2lft.folders import photo_splits
from d2lft.metrics import History
from d2lft.strategies import Photos, Run, choose
from d2lft.worlds.mini.dataset import make_mini_photos


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    home = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("D2LFT_DATA", str(home))
        splits = photo_splits(make_mini_photos(home / "photos", per_class=12))
        world = d2lft.get_world("mini")
        source, _ = d2lft.load_pretrained("resnet18", world)
        photos = Photos(splits, world.crop_size, world.resize_size, 16, torch.device("cpu"))
        yield source, photos


def _moved(net, source):
    before = source.state_dict()
    return {k.split(".")[0] for k, v in net.state_dict().items() if not k.startswith("fc.") and not v.equal(before[k])}


def test_each_strategy_trains_only_what_it_says(setup):
    source, photos = setup
    runs = {s: strategies.train(s, source, photos, seed=0, epochs=2) for s in strategies.STRATEGIES}
    assert _moved(runs["probe"].net, source) == set()  # the backbone is untouched: features computed once
    assert _moved(runs["last-stage"].net, source) == {"layer4"}  # weights and BatchNorm statistics of layer4 only
    assert {"conv1", "layer1", "layer4"} <= _moved(runs["full"].net, source)
    for run in runs.values():
        assert run.net.fc.out_features == 5 and len(run.history.test_acc) == 2 and run.history.held_out == "val"
        assert run.seconds > 0 and 0 <= run.accuracy <= 1


def test_scratch_starts_from_random_weights_and_trains_every_layer_at_the_heads_rate(setup):
    source, photos = setup
    net = strategies.build("scratch", source, 5)
    convs = [k for k in source.state_dict() if "conv" in k or "downsample.0" in k]
    assert convs and not any(net.state_dict()[k].equal(source.state_dict()[k]) for k in convs)  # all drawn anew
    assert net.bn1.running_mean.abs().sum() == 0 and net.fc.out_features == 5  # BatchNorm statistics reset too
    run = strategies.train("scratch", source, photos, seed=0, epochs=1)
    assert {"conv1", "layer1", "layer4"} <= _moved(run.net, net) and len(run.history.test_acc) == 1
    with pytest.raises(ValueError, match="strategy must be one of"):
        strategies.build("everything", source, 5)


def test_the_final_model_trains_on_training_and_validation_images_and_is_tested_once(setup):
    source, photos = setup
    both = photos.loader("train+val")
    files = photos.splits.files
    assert len(both.images) == len(files["train"]) + len(files["val"])
    assert both.targets.tolist() == [t for s in ("train", "val") for _, t in files[s]]
    for strategy in ("probe", "full"):
        run = strategies.train(strategy, source, photos, seed=0, epochs=2, held_out="test", train_split="train+val")
        assert run.history.held_out == "test" and math.isnan(run.history.test_acc[0]) and 0 <= run.accuracy <= 1
        assert run.held_out_images == len(files["test"])


def test_the_estimate_times_every_strategy_and_leaves_the_rng_alone(setup):
    source, photos = setup
    state = torch.get_rng_state()
    seconds = strategies.estimate_seconds(source, photos)
    assert torch.equal(torch.get_rng_state(), state)
    assert set(seconds) == set(strategies.STRATEGIES) and all(s > 0 for s in seconds.values())


def _run(strategy, seconds, accuracy, images=0):
    return Run(strategy, 0, None, History(test_acc=[accuracy]), seconds, images)


def test_the_choice_is_the_most_accurate_strategy_that_fits_the_budget():
    runs = [_run("probe", 10, 0.80), _run("probe", 12, 0.82), _run("last-stage", 50, 0.85),
            _run("full", 100, 0.90), _run("full", 300, 0.92)]  # fmt: skip
    assert choose(runs, None)[0] == "full"
    best, why = choose(runs, 150)  # full's median is 200 s
    assert best == "last-stage" and "over the budget: full (200 s, 0.910)" in why
    assert choose(runs, 20)[0] == "probe"
    with pytest.raises(ValueError, match="no strategy fits a budget of 5 s: the cheapest, probe, took 11 s"):
        choose(runs, 5)


def test_strategies_that_validation_cannot_tell_apart_go_to_the_cheapest():
    # 45 validation images at 0.90: one standard error is 0.045, so 0.88 ties with 0.90 and 0.80 does not.
    runs = [_run("probe", 1, 0.80, 45), _run("last-stage", 50, 0.88, 45), _run("full", 100, 0.90, 45)]
    best, why = choose(runs, None)
    assert best == "last-stage" and "the cheapest of the 2 strategies within one standard error" in why
    assert "(0.045 on 45 images)" in why and "full 0.900" in why
    everything_right = [_run("probe", 1, 1.0, 45), _run("full", 100, 1.0, 45)]
    assert choose(everything_right, None)[0] == "probe"  # a tie at the ceiling: the cheaper one
    cheapest_and_best = [_run("probe", 1, 0.70, 45), _run("full", 100, 0.667, 45)]
    best, why = choose(cheapest_and_best, None)
    assert best == "probe" and why.startswith("probe: the highest mean validation accuracy (0.700), and the cheapest")
    assert "within one standard error (0.068 on 45 images) of it (full 0.667)" in why
    assert choose([_run("probe", 1, 0.88, 450), _run("full", 100, 0.90, 450)], None)[0] == "full"  # 0.014: apart
