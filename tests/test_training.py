"""The one training loop: records means, logs, decays the learning rate once, and keeps to its time budget."""
from __future__ import annotations

import time
import warnings

import numpy as np
import pytest

from course_utils import training


class _Rate:
    def __init__(self, value):
        self.value = value

    def assign(self, value):
        self.value = value


class _Optimizer:
    def __init__(self, lr):
        self.learning_rate = _Rate(lr)


def test_records_means_logs_and_decays_once(capsys):
    seen, lrs = [], []
    opt = _Optimizer(1.0)

    def step(x):
        lrs.append(opt.learning_rate.value)
        return {"loss": x}

    history = training.train_steps(step, lambda i: (seen.append(i) or float(i),), steps=10, record_every=4,
                                   log_every=4, optimizer=opt, learning_rate=1.0, decay_at=0.7, decay_by=0.25)
    assert seen == list(range(1, 11))
    assert history["step"] == [4, 8, 10] and history["loss"] == [2.5, 6.5, 9.5]
    assert history["decayed"] == 7 and lrs == [1.0] * 6 + [0.25] * 4
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and out[0].startswith("  step     4/10: loss 2.500")


def test_stops_at_the_time_budget_and_checks_arguments():
    history = training.train_steps(lambda: time.sleep(0.02) or {"loss": 1.0}, lambda i: (), steps=1000,
                                   record_every=2, max_seconds=0.1)
    assert 2 <= history["step"][-1] < 20 and 0.1 < history["seconds"] < 2.0  # stopped early
    with pytest.raises(ValueError, match="steps"):
        training.train_steps(lambda: {}, lambda i: (), steps=0)
    with pytest.raises(ValueError, match="decay_at"):
        training.train_steps(lambda: {}, lambda i: (), steps=3, decay_at=0.5)


def test_fit_epochs_keeps_the_last_value_of_each_epoch_checkpoints_and_stops_at_the_budget(capsys):
    saved = []
    history, seconds = training.fit_epochs(lambda e: {"loss": [9.0, float(e)]}, epochs=3, checkpoint=saved.append,
                                           verbose=True)
    assert history == {"loss": [0.0, 1.0, 2.0]} and saved == [0, 1, 2] and seconds >= 0
    assert capsys.readouterr().out.splitlines()[0].startswith("epoch 1/3 (")
    slow, _ = training.fit_epochs(lambda e: time.sleep(0.05) or {"loss": [1.0]}, epochs=100, minutes=0.1 / 60)
    assert 2 <= len(slow["loss"]) < 10  # stopped after the epoch that passed 0.1 s
    with pytest.raises(ValueError, match="epochs"):
        training.fit_epochs(lambda e: {}, epochs=0)


def test_pad_batch_pads_with_zeros_after_the_end():
    padded = training.pad_batch([np.ones((3, 39)), 2 * np.ones((5, 39))])
    assert padded.shape == (2, 5, 39) and padded.dtype == np.float32
    assert padded[0, :3].all() and not padded[0, 3:].any() and (padded[1] == 2).all()
    with pytest.raises(ValueError, match="no sequences"):
        training.pad_batch([])
    with pytest.raises(ValueError):
        training.pad_batch([np.ones((3, 39)), np.ones((5, 13))])


def test_length_sorted_batches_pad_similar_lengths_and_cover_every_sequence_once_per_epoch():
    lengths_in = (5, 9, 6, 20, 7)
    feats = [np.full((n, 4), n, np.float32) for n in lengths_in]
    targets = np.asarray(lengths_in) * 10  # a target that names its sequence
    data = training.LengthSortedBatches(feats, targets, 2, np.random.default_rng(0))
    assert len(data) == 3
    orders = set()
    for epoch in range(4):
        seen, batches, order = [], set(), []
        for x, y in data:  # one epoch
            lengths = (x != 0).any(axis=2).sum(axis=1)  # frames of each sequence in the batch
            assert x.shape[0] == y.shape[0] and x.shape[1] == lengths.max()  # padded to the batch's longest only
            assert (y == x[:, 0, 0] * 10).all()  # targets stay with their sequences
            seen += lengths.tolist()
            batches.add(tuple(sorted(lengths.tolist())))
            order.append(int(lengths.max()))
        assert sorted(seen) == [5, 6, 7, 9, 20] and batches == {(5, 6), (7, 9), (20,)}  # neighbours in length
        orders.add(tuple(order))
    assert len(orders) > 1  # the order of the batches is reshuffled between epochs


def test_length_sorted_batches_shuffle_as_the_ctc_training_always_did():
    # train_ctc's batches before LengthSortedBatches: stable sort, groups, one rng.shuffle of the group list per
    # epoch (at construction, then after each epoch) -- the same rng calls give the same batches
    lengths_in = [7, 3, 9, 3, 5, 11, 2, 8, 6, 4]
    feats = [np.ones((n, 2), np.float32) for n in lengths_in]
    targets = np.arange(20).reshape(10, 2)  # 2-D targets, like padded CTC label sequences
    data = training.LengthSortedBatches(feats, targets, 3, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    order = np.argsort(lengths_in, kind="stable")
    for epoch in range(3):
        groups = [order[i:i + 3] for i in range(0, 10, 3)]
        rng.shuffle(groups)
        got = list(data)
        assert [y.tolist() for _, y in got] == [targets[g].tolist() for g in groups]
        assert [x.shape for x, _ in got] == [(len(g), max(lengths_in[k] for k in g), 2) for g in groups]


def test_length_sorted_batches_train_a_model_when_the_first_two_batches_share_a_length():
    import keras

    # a keras.utils.PyDataset would take the time axis of the first two batches (both 5 frames here) as fixed
    # and fail on the 7-frame batch; the dataset's spec leaves it open
    feats = [np.ones((n, 3), np.float32) for n in [5] * 8 + [7] * 3]
    seed = next(s for s in range(50) if [x.shape[1] for x, _ in training.LengthSortedBatches(
        feats, np.zeros(11, np.int64), 4, np.random.default_rng(s))][:2] == [5, 5])
    data = training.LengthSortedBatches(feats, np.zeros(11, np.int64), 4, np.random.default_rng(seed))
    spec = data.dataset().element_spec
    assert spec[0].shape.as_list() == [None, None, 3] and spec[1].shape.as_list() == [None]
    model = keras.Sequential([keras.Input((None, 3)), keras.layers.GlobalAveragePooling1D(),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "input ran out of data": Keras knows the number of batches
        history = model.fit(data.dataset(), epochs=3, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 3
    # one shuffle of the batch order per epoch, no more: the rng is where three shuffles leave a copy of it
    reference = np.random.default_rng(seed)
    for _ in range(3):
        reference.shuffle(list(range(len(data))))
    assert data.rng.random() == reference.random()


def test_length_sorted_batches_reject_mismatched_inputs():
    feats = [np.ones((3, 2), np.float32)] * 3
    with pytest.raises(ValueError, match="differ in length"):
        training.LengthSortedBatches(feats, np.arange(2), 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="batch_size"):
        training.LengthSortedBatches(feats, np.arange(3), 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="no sequences"):
        training.LengthSortedBatches([], np.arange(0), 2, np.random.default_rng(0))
