"""The one training loop of the course's hand-written training steps (a fixed number of steps or a time budget),
and the batching of variable-length sequences.

The image codec, the VAE and the WaveNet are trained by a custom ``tf.function`` step (their losses
are not a plain ``model.fit``); :func:`train_steps` runs such a step, keeps the history, prints
progress, drops the learning rate once for a last, quieter phase, and stops when the wall-clock
budget is spent — so a learner's laptop and the CI machine train for the same time, whatever
their speed.

Sequences of different lengths (spoken digits, digit strings) are trained in batches of similar length
(:class:`LengthSortedBatches`), each zero-padded only to its own longest member (:func:`pad_batch`): a
recurrent layer runs over every padded frame too, so padding a batch of half-second words to the longest
clip of the whole set (1.5 s) makes it three times slower for nothing.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np


def train_steps(step: Callable, batch: Callable, steps: int, *, max_seconds: float | None = None,
                record_every: int | None = None, log_every: int = 0, describe: Callable | None = None,
                optimizer=None, learning_rate: float | None = None, decay_at: float | None = None,
                decay_by: float | None = None) -> dict:
    """Run ``step(*batch(i))`` for i = 1 … ``steps``, or until ``max_seconds`` of wall time have passed.

    Parameters
    ----------
    step : callable
        One optimisation step; returns a dict of scalar metrics (tensors or floats), e.g.
        ``{"loss": loss, "bpp": bpp}``.
    batch : callable
        ``batch(i) -> tuple``: the arguments of step ``i`` (1-based). It is called once per step,
        in order, so a generator's random draws happen in the same order as in a hand-written loop.
    steps : int
        Most steps to run.
    max_seconds : float, optional
        Stop after the step during which this much wall time (seconds) has passed.
    record_every : int, optional
        Append the means of each metric over every this many steps (and at step ``steps``) to the
        history (default: ``max(1, steps // 50)``). A run stopped by ``max_seconds`` keeps the records
        made so far.
    log_every : int
        Print a line every this many steps and at the last one (0: silent).
    describe : callable, optional
        ``describe(means) -> str``, the metrics part of a printed line (default ``"loss 0.123"``
        style for every metric).
    optimizer : keras.optimizers.Optimizer, optional
        With ``learning_rate``, ``decay_at`` and ``decay_by``: its learning rate is set to
        ``learning_rate * decay_by`` once, at step ``int(decay_at * steps)`` or as soon as
        ``decay_at * max_seconds`` have passed, whichever comes first.
    learning_rate, decay_at, decay_by : float, optional

    Returns
    -------
    dict
        ``step`` (the step at each record), one list per metric (means per record), ``seconds``
        (wall time) and, if the learning rate was dropped, ``decayed`` (the step where it was).

    Raises
    ------
    ValueError
        ``steps`` < 1, or a decay set without its optimizer, learning rate and factor.

    Examples
    --------
    >>> history = train_steps(lambda x: {"loss": x * x}, lambda i: (1.0 / i,), steps=4, record_every=2)
    >>> history["step"], [round(v, 3) for v in history["loss"]]
    ([2, 4], [0.625, 0.087])
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    decaying = decay_at is not None
    if decaying and (optimizer is None or learning_rate is None or decay_by is None):
        raise ValueError("decay_at needs optimizer, learning_rate and decay_by")
    record_every = record_every or max(1, steps // 50)
    describe = describe or (lambda means: ", ".join(f"{k} {v:.3f}" for k, v in means.items()))
    history: dict = {"step": []}
    acc: dict = {}
    start = time.perf_counter()
    for i in range(1, steps + 1):
        if decaying and "decayed" not in history:
            late = i == int(decay_at * steps) or (max_seconds and time.perf_counter() - start > decay_at * max_seconds)
            if late:
                optimizer.learning_rate.assign(learning_rate * decay_by)
                history["decayed"] = i
        out = step(*batch(i))
        for name, value in out.items():
            acc.setdefault(name, []).append(float(value))
        if i % record_every == 0 or i == steps:
            means = {name: float(np.mean(values)) for name, values in acc.items()}
            acc = {}
            history["step"].append(i)
            for name, value in means.items():
                history.setdefault(name, []).append(value)
            if log_every and (i % log_every == 0 or i == steps):
                print(f"  step {i:>5}/{steps}: {describe(means)} ({time.perf_counter() - start:.0f} s)", flush=True)
        if max_seconds is not None and time.perf_counter() - start > max_seconds:
            break
    history["seconds"] = time.perf_counter() - start
    return history


def fit_epochs(fit_one: Callable, epochs: int, *, minutes: float | None = None, checkpoint: Callable | None = None,
               verbose: bool = False) -> tuple[dict, float]:
    """Train epoch by epoch (``model.fit`` or ``train_on_batch`` one epoch at a time), checkpointing, within a time budget.

    Used by the models trained with Keras' own ``fit`` or ``train_on_batch`` and a custom ``train_step``
    (the CycleGAN, the Tacotron), where an epoch is the unit: the data of each epoch are drawn by ``fit_one``.

    Parameters
    ----------
    fit_one : callable
        ``fit_one(epoch) -> dict``: train one epoch (0-based) and return Keras' ``History.history``
        of it (name → list of values; the last value of each is kept).
    epochs : int
        Most epochs to run.
    minutes : float, optional
        Stop after the epoch during which this much wall time has passed.
    checkpoint : callable, optional
        ``checkpoint(epoch)``, called after every epoch (e.g. to save the weights, so a stopped run
        can be resumed).
    verbose : bool
        Print one line per epoch: its losses and the time so far.

    Returns
    -------
    history : dict of list of float
        Per-epoch value of every metric.
    seconds : float
        Wall time.

    Raises
    ------
    ValueError
        ``epochs`` < 1.

    Examples
    --------
    >>> history, _ = fit_epochs(lambda e: {"loss": [1.0 / (e + 1)]}, epochs=3)
    >>> history["loss"]
    [1.0, 0.5, 0.3333333333333333]
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    history: dict = {}
    start = time.perf_counter()
    for epoch in range(epochs):
        for key, values in fit_one(epoch).items():
            history.setdefault(key, []).append(float(values[-1]))
        if verbose:
            losses = " ".join(f"{k} {v[-1]:.4f}" for k, v in history.items())
            print(f"epoch {epoch + 1}/{epochs} ({time.perf_counter() - start:.0f} s): {losses}", flush=True)
        if checkpoint is not None:
            checkpoint(epoch)
        if minutes is not None and time.perf_counter() - start > 60 * minutes:
            break
    return history, time.perf_counter() - start


def pad_batch(sequences) -> np.ndarray:
    """Zero-pad variable-length ``(n_frames, n_features)`` sequences to one array.

    Parameters
    ----------
    sequences : sequence of np.ndarray, float, shape (n_frames, n_features)

    Returns
    -------
    np.ndarray, float32, shape (batch, longest n_frames, n_features)
        Padding is zeros after each sequence's end (a ``Masking`` layer or the CTC blank ignores them).

    Raises
    ------
    ValueError
        No sequences, or sequences with different numbers of features.

    Examples
    --------
    >>> pad_batch([np.ones((3, 2)), np.ones((5, 2))]).shape
    (2, 5, 2)
    """
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_batch: no sequences")
    x = np.zeros((len(sequences), max(map(len, sequences))) + np.shape(sequences[0])[1:], np.float32)
    for row, sequence in enumerate(sequences):
        x[row, :len(sequence)] = sequence
    return x


class LengthSortedBatches:
    """Batches of sequences of similar length, their order reshuffled every epoch, as a ``tf.data`` pipeline.

    The sequences are sorted by length (stably) and cut into consecutive groups of ``batch_size``, so each
    batch needs little padding (:func:`pad_batch`); iterating gives one epoch, with the *order of the
    batches* shuffled afresh. A batch of 64 words of about 40 frames then costs 40 recurrent steps, not
    the 150 of the longest clip in the set. Pass :meth:`dataset` to ``model.fit``: its element spec
    leaves the batch and time axes open (a ``keras.utils.PyDataset`` would infer the spec from its first
    two batches and fail on the first batch of another length whenever those two happen to match).

    Parameters
    ----------
    features : list of np.ndarray, float32, (n_frames, n_features)
    targets : np.ndarray, shape (n, ...)
        One row per sequence (class labels, or padded label sequences for CTC).
    batch_size : int
    rng : np.random.Generator
        Shuffles the order of the batches, once per epoch.

    Raises
    ------
    ValueError
        ``features`` and ``targets`` differ in length, ``features`` is empty, or ``batch_size`` < 1.

    Examples
    --------
    >>> data = LengthSortedBatches([np.ones((n, 2), np.float32) for n in (5, 9, 6)], np.arange(3), 2,
    ...                            np.random.default_rng(0))
    >>> sorted(x.shape[1] for x, y in data)
    [6, 9]
    """

    def __init__(self, features, targets, batch_size: int, rng: np.random.Generator):
        if len(features) != len(targets):
            raise ValueError(f"features ({len(features)} sequences) and targets ({len(targets)} rows) "
                             "differ in length")
        if len(features) == 0:
            raise ValueError("features: no sequences")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.features, self.targets, self.rng = list(features), np.asarray(targets), rng
        order = np.argsort([len(f) for f in self.features], kind="stable")
        self.sorted_groups = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]

    def __len__(self):
        """Batches per epoch."""
        return len(self.sorted_groups)

    def __iter__(self):
        """One epoch of ``(x, y)``: ``x`` float32 ``(batch, longest n_frames, n_features)``; batch order shuffled."""
        groups = list(self.sorted_groups)
        self.rng.shuffle(groups)
        for g in groups:
            yield pad_batch([self.features[k] for k in g]), self.targets[g]

    def dataset(self):
        """The batches as a ``tf.data.Dataset`` for ``model.fit``; each pass over it is a new epoch (reshuffled).

        Returns
        -------
        tf.data.Dataset
            Elements ``(x, y)``: ``x`` float32 ``(None, None, n_features)``, ``y`` of the targets' dtype
            ``(None, ...)``.
        """
        import tensorflow as tf

        spec = (tf.TensorSpec((None, None) + self.features[0].shape[1:], tf.float32),
                tf.TensorSpec((None,) + self.targets.shape[1:], tf.as_dtype(self.targets.dtype)))
        batches = tf.data.Dataset.from_generator(self.__iter__, output_signature=spec)
        return batches.apply(tf.data.experimental.assert_cardinality(len(self)))  # Keras then knows the epoch's steps
