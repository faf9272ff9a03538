"""The leave-one-speaker-out protocol holds out each speaker once and never trains on the held-out clips."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import evaluation


def test_each_speaker_is_held_out_once_and_never_trained_on():
    speakers = np.array(["ann", "bob", "cy", "ann", "bob", "cy", "ann"])
    labels = np.array([0, 1, 2, 0, 1, 2, 1])
    calls = []

    def fit_predict(held_out, test_index):
        train = np.where(~np.isin(speakers, held_out))[0]
        assert not set(test_index) & set(train)
        calls.append((list(held_out), sorted(test_index.tolist())))
        majority = np.bincount(labels[train]).argmax()  # a "model": the training set's commonest label
        return np.full(len(test_index), majority), 1.5

    result = evaluation.leave_one_speaker_out(labels, speakers, fit_predict, verbose=False)
    assert calls == [(["ann"], [0, 3, 6]), (["bob"], [1, 4]), (["cy"], [2, 5])]
    # without ann the commonest label is 1 (bob: 1, 1 and cy: 2, 2 -> tie broken to 1), so ann scores 1/3
    assert result["accuracy"] == pytest.approx({"ann": 1 / 3, "bob": 0.0, "cy": 0.0})
    assert result["mean"] == pytest.approx(1 / 9) and result["worst"] == 0.0
    assert result["seconds"] == pytest.approx(4.5) and result["pred"].dtype == np.int64
    assert result["pred"][[0, 3, 6]].tolist() == [1, 1, 1]
    assert result["scores"] is None  # fit_predict returned classes, not scores


def test_class_scores_are_kept_and_their_best_class_predicted():
    labels, speakers = np.array([0, 1, 2, 1]), np.array(["a", "a", "b", "b"])

    def fit_predict(held_out, test_index):  # scores: one-hot of (label + 1) mod 3 for a, the label for b
        shift = 1 if held_out == ["a"] else 0
        return np.eye(3, dtype=np.float32)[(labels[test_index] + shift) % 3] * 0.9, 0.0

    result = evaluation.leave_one_speaker_out(labels, speakers, fit_predict, verbose=False)
    assert result["scores"].shape == (4, 3) and result["scores"].dtype == np.float32
    assert result["pred"].tolist() == [1, 2, 2, 1]
    assert result["accuracy"] == pytest.approx({"a": 0.0, "b": 1.0})
    np.testing.assert_allclose(result["scores"].sum(axis=1), 0.9)


def test_groups_and_halves():
    speakers = np.array(["a", "b", "c", "d"])
    halves = evaluation.speaker_halves(speakers)
    assert halves == [["a", "b"], ["c", "d"]]
    result = evaluation.leave_one_speaker_out(np.zeros(4, int), speakers, lambda g, t: (np.zeros(len(t)), 0.0),
                                              groups=halves, verbose=False)
    assert set(result["accuracy"]) == {"a+b", "c+d"} and result["mean"] == 1.0
    with pytest.raises(ValueError, match="two speakers"):
        evaluation.speaker_halves(["a"])
    with pytest.raises(ValueError, match="without clips"):
        evaluation.leave_one_speaker_out(np.zeros(4), speakers, lambda g, t: (np.zeros(len(t)), 0.0),
                                         groups=[["zed"]], verbose=False)
    with pytest.raises(ValueError, match="same shape"):
        evaluation.leave_one_speaker_out(np.zeros(3), speakers, lambda g, t: (np.zeros(len(t)), 0.0))
