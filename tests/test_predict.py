"""A kept model: one file with weights, classes and preprocessing, used from a fresh process."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision
from conftest import make_image_folder

import d2lft
from d2lft.commands.predict import main
from d2lft.predict import ModelFileError, load_model, predict_files, save_model

CLASSES = ["crème brûlée", "hot dog", "sushi"]


@pytest.fixture
def model_file(tmp_path):
    torch.manual_seed(0)
    net = d2lft.replace_fc(torchvision.models.resnet18(weights=None), len(CLASSES))
    return save_model(net, tmp_path / "model.pt", CLASSES, crop_size=64, resize_size=72), net


def test_the_file_loads_with_weights_only_and_holds_classes_and_preprocessing(model_file):
    path, net = model_file
    record = torch.load(path, weights_only=True)  # tensors, strings and numbers only: nothing runs on load
    assert record["classes"] == CLASSES and record["arch"] == "resnet18"
    assert record["preprocess"] == {"resize": 72, "crop": 64, "mean": list(d2lft.IMAGENET_MEAN),
                                    "std": list(d2lft.IMAGENET_STD)}  # fmt: skip
    loaded, meta = load_model(path)
    assert not loaded.training and meta["classes"] == CLASSES
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), net.state_dict().values()))


def test_a_fresh_process_predicts_what_this_one_does(model_file, tmp_path):
    path, net = model_file
    images = make_image_folder(tmp_path / "new", {"x": 3}, size=(90, 70))
    files = sorted(str(p) for p in (images / "x").iterdir())
    here = predict_files(path, files, device=torch.device("cpu"))
    x = torch.stack([d2lft.predict.preprocessing({"preprocess": torch.load(path)["preprocess"]})(
        d2lft.load_image(f)) for f in files])  # fmt: skip
    probs = net.eval()(x).softmax(1)
    assert [p.label for p in here] == [CLASSES[k] for k in probs.argmax(1).tolist()]
    assert [p.probability for p in here] == pytest.approx(probs.max(1).values.tolist(), abs=1e-5)
    out = subprocess.run([sys.executable, "-m", "d2lft", "predict", str(path), *files], capture_output=True,
                         text=True, check=True).stdout.splitlines()  # fmt: skip
    assert [line.rsplit("  ", 2)[1:] for line in out] == [[p.label, f"{p.probability:.3f}"] for p in here]


def test_a_bad_image_is_named_and_the_others_are_still_predicted(model_file, tmp_path, capsys):
    path, _ = model_file
    good = make_image_folder(tmp_path / "new", {"x": 1}) / "x" / "0.jpg"
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo")
    assert main([str(path), str(good), str(bad), str(tmp_path / "missing.jpg")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[-1].replace(".", "").isdigit() and str(good) in lines[0]
    assert f"{bad}" in lines[1] and "error:" in lines[1] and "cannot be read as an image" in lines[1]
    assert "missing.jpg" in lines[2] and "error:" in lines[2]


def test_a_model_for_other_classes_a_state_dict_and_a_damaged_file_are_refused(model_file, tmp_path, capsys):
    path, net = model_file
    with pytest.raises(ModelFileError, match=r"trained for 3 classes .* not these 2: \['cat', 'dog'\]"):
        load_model(path, classes=["cat", "dog"])
    d2lft.save_checkpoint(net, tmp_path / "state.pt")
    with pytest.raises(ModelFileError, match="holds a plain state dict, not a d2lft model file"):
        load_model(tmp_path / "state.pt")
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ModelFileError, match="cannot be read as a model file"):
        load_model(damaged)
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "none.pt"), "x.jpg"])
    assert exit_info.value.code == 2 and "does not exist. Train and save a model first" in capsys.readouterr().err


def test_saving_checks_the_class_names_against_the_head(tmp_path):
    net = d2lft.replace_fc(torchvision.models.resnet18(weights=None), 2)
    with pytest.raises(ValueError, match="2 outputs but 3 class names"):
        save_model(net, tmp_path / "m.pt", CLASSES)
    assert not (tmp_path / "m.pt").exists()


def test_a_whole_folder_is_predicted_into_a_csv(model_file, tmp_path, capsys):
    path, _ = model_file
    folder = make_image_folder(tmp_path / "phone", {"day1": 3, "day2": 2})
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".ipynb_checkpoints" / "0.jpg").write_bytes((folder / "day1" / "0.jpg").read_bytes())
    (folder / "day2" / "notes.txt").write_text("not an image")
    (folder / "day2" / "broken.jpg").write_text("not a photo")
    out = tmp_path / "out.csv"
    assert main([str(path), str(folder), "--csv", str(out)]) == 1  # one unreadable image
    assert capsys.readouterr().out.strip() == f"6 predictions written to {out} (1 unreadable)"
    rows = list(csv.DictReader(out.open()))
    assert [Path(r["path"]).relative_to(folder).as_posix() for r in rows] == [
        "day1/0.jpg",
        "day1/1.jpg",
        "day1/2.jpg",
        "day2/0.jpg",
        "day2/1.jpg",
        "day2/broken.jpg",
    ]  # every image under the folder, hidden folders and non-images skipped
    assert all(r["label"] in CLASSES and 0 < float(r["probability"]) <= 1 for r in rows[:5])
    assert rows[5]["label"] == "" and "cannot be read as an image" in rows[5]["error"]


def test_a_folder_without_images_is_refused(model_file, tmp_path, capsys):
    path, _ = model_file
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit) as stop:
        main([str(path), str(tmp_path / "empty")])
    assert stop.value.code == 2 and "no image files in" in capsys.readouterr().err
