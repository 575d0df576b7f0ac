"""Predictions and confusion matrices: what notebooks 03 and 05 count their mistakes with."""

from __future__ import annotations

import torch
from torch import nn

import d2lft


class _Pick(nn.Module):
    """A "classifier" whose logits are its input's first three columns: its predictions are known in advance."""

    def __init__(self):
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x[:, :3] + 0 * self.unused


def _data(predicted: list[int], labels: list[int]):
    X = torch.nn.functional.one_hot(torch.tensor(predicted), 3).float() * 5
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, torch.tensor(labels)), batch_size=2)


def test_predict_returns_the_predictions_then_the_labels_in_data_order():
    net = _Pick()
    net.train()
    preds, labels = d2lft.predict_labels(net, _data([0, 2, 1, 1, 0], [0, 2, 2, 1, 1]))
    assert preds.tolist() == [0, 2, 1, 1, 0] and labels.tolist() == [0, 2, 2, 1, 1]
    assert not net.training  # predictions are made in eval mode


def test_the_confusion_matrix_has_true_classes_as_rows_and_predictions_as_columns():
    preds, labels = d2lft.predict_labels(_Pick(), _data([0, 2, 1, 1, 0, 2], [0, 2, 2, 1, 1, 2]))
    matrix = d2lft.confusion_matrix(preds, labels, 3)
    assert matrix.tolist() == [[1, 0, 0], [1, 1, 0], [0, 1, 2]]  # e.g. one true 2 predicted as 1: row 2, column 1
    assert matrix.sum() == 6 and matrix.trace() == d2lft.accuracy(preds, labels)


def test_a_class_never_seen_still_gets_its_row_and_column():
    matrix = d2lft.confusion_matrix(torch.tensor([0, 0]), torch.tensor([0, 1]), 4)
    assert matrix.shape == (4, 4) and matrix[1, 0] == 1 and matrix[2:].sum() == matrix[:, 2:].sum() == 0


def test_a_history_measured_on_a_validation_split_says_so():
    history = d2lft.metrics.History(held_out="val")
    history.add_epoch(0.5, 0.75, 0.625, 1.0)
    assert history.summary() == "loss 0.500, train acc 0.750, val acc 0.625"
