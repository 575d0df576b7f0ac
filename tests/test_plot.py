"""Plots draw from PIL images and from normalised or plain tensors, and stay quiet outside Jupyter."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

import d2lft  # noqa: E402


def test_show_images_accepts_pil_and_normalised_tensors():
    pil = Image.new("RGB", (30, 20), (255, 0, 0))
    _, test_augs = d2lft.hotdog_augs(16, 18)
    normalised = test_augs(pil)
    axes = d2lft.show_images([pil, normalised, torch.rand(3, 8, 8)], 1, 4, titles=["a", "b", "c"])
    assert len(axes) == 4 and axes[0].get_title() == "a"
    shown = axes[1].get_images()[0].get_array()
    np.testing.assert_allclose(shown[0, 0], [1.0, 0.0, 0.0], atol=0.01)  # normalisation undone
    plt.close("all")


def test_plot_histories_draws_one_line_per_run():
    runs = {
        "a": d2lft.History([1.0, 0.5], [0.5, 0.7], [0.6, 0.8]),
        "b": d2lft.History([1.2, 0.9], [0.5, 0.6], [0.5, 0.6]),
    }
    axes = d2lft.plot_histories(runs)
    assert [len(ax.get_lines()) for ax in axes] == [2, 2, 2]
    plt.close("all")


def test_animator_outside_a_notebook_records_without_displaying():
    animator = d2lft.Animator("epoch", ["loss", "acc"], xlim=(1, 2))
    animator.add(1, (0.5, None))
    assert animator.handle is None and animator.ys == [[0.5], []]


def test_animator_fits_a_large_loss_names_its_plot_and_keeps_the_legend_off_the_curves():
    animator = d2lft.Animator("epoch", ["train loss", "train acc", "val acc"], xlim=(1, 2), title="a run")
    animator.add(1, (3.8, 0.5, 0.5))
    animator._draw()
    bottom, top = animator.ax.get_ylim()
    assert bottom == 0 and top >= 3.8  # a loss above 1 stays in view
    assert animator.ax.get_title() == "a run"
    legend = animator.ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["train loss", "train acc", "val acc"]
    assert legend.get_bbox_to_anchor().y0 < animator.ax.get_window_extent().y0  # below the axes
