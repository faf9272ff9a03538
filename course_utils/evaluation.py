"""Evaluation protocols: how a model is tested on data it never saw.

* :func:`leave_one_speaker_out` — train on every speaker but one, test on that one, for each
  speaker: the accuracy a *new* voice gets (notebooks 01 and 04). Any model fits in: the caller
  passes a ``fit_predict`` function that trains on the other speakers and predicts the held-out ones.
* :func:`speaker_halves` — a cheaper two-fold split for quick comparisons.
"""
from __future__ import annotations

from typing import Callable

import numpy as np


def leave_one_speaker_out(labels, speakers, fit_predict: Callable, *, groups=None, verbose: bool = True,
                          name: str = "") -> dict:
    """Leave-one-speaker-out evaluation: for each speaker (or group), train without it and test on it.

    Parameters
    ----------
    labels : array-like, int, shape (n,)
        The true class of every clip.
    speakers : array-like, str, shape (n,)
        The speaker of every clip.
    fit_predict : callable
        ``fit_predict(held_out, test_index) -> (predictions, seconds)``: train a fresh model on the
        clips of every speaker *not* in ``held_out`` (a list of str), then predict the clips
        ``test_index`` (int array); returns the predicted classes, shape ``(len(test_index),)``,
        or class scores (e.g. softmax probabilities), shape ``(len(test_index), n_classes)``,
        and the training time in seconds.
    groups : list of list of str, optional
        Speakers held out together in each fold (default: each speaker alone, sorted;
        :func:`speaker_halves` gives a two-fold split).
    verbose : bool
        Print one line per fold.
    name : str
        The model's name in those lines.

    Returns
    -------
    dict
        ``accuracy`` (held-out speaker(s) → accuracy on their clips; a group's key joins its
        speakers with "+"), ``mean`` and ``worst`` (over folds), ``pred`` (the held-out prediction
        of every clip, int64 ``(n,)``), ``scores`` (the held-out class scores of every clip, float32
        ``(n, n_classes)``, when ``fit_predict`` returns scores; else None) and ``seconds`` (total
        training time).

    Raises
    ------
    ValueError
        ``labels`` and ``speakers`` differ in length, fewer than two speakers, or a group holds a
        speaker with no clips.
    """
    labels, speakers = np.asarray(labels), np.asarray(speakers)
    if labels.shape != speakers.shape:
        raise ValueError(f"labels {labels.shape} and speakers {speakers.shape} must have the same shape")
    names = sorted(set(speakers.tolist()))
    if len(names) < 2:
        raise ValueError(f"leave-one-speaker-out needs at least two speakers, got {names}")
    groups = [[s] for s in names] if groups is None else [list(g) for g in groups]
    pred, scores = np.zeros(len(labels), np.int64), None
    accuracy, seconds = {}, 0.0
    for group in groups:
        key = "+".join(group)
        test = np.where(np.isin(speakers, group))[0]
        if not len(test) or any(s not in names for s in group):
            raise ValueError(f"held-out group {group}: speakers without clips (speakers are {names})")
        out, sec = fit_predict(group, test)
        out = np.asarray(out)
        if out.ndim == 2:  # class scores: keep them, predict the best class
            scores = np.zeros((len(labels), out.shape[1]), np.float32) if scores is None else scores
            scores[test], out = out, out.argmax(axis=1)
        pred[test] = out
        accuracy[key] = float(np.mean(pred[test] == labels[test]))
        seconds += sec
        if verbose:
            print(f"  {name:>11} held out {key:>10}: accuracy {accuracy[key]:.3f} ({len(test)} clips, "
                  f"{sec:.0f} s)", flush=True)
    values = list(accuracy.values())
    return {"accuracy": accuracy, "mean": float(np.mean(values)), "worst": float(np.min(values)), "pred": pred,
            "scores": scores, "seconds": seconds}


def speaker_halves(speakers) -> list[list[str]]:
    """Two folds for quick comparisons: the first half of the (sorted) speakers held out, then the second half.

    Parameters
    ----------
    speakers : iterable
        The speaker of every clip (repeats allowed), e.g. ``SpokenDigits.speakers``, a str array of
        shape ``(n,)``; each is converted with ``str`` and the distinct names are sorted. With an odd
        number of speakers the second half holds one more.

    Returns
    -------
    list of list of str
        ``[first_half, second_half]``; each model trains on one half and is tested on the other.

    Raises
    ------
    ValueError
        Fewer than two speakers.
    """
    names = sorted({str(s) for s in speakers})
    if len(names) < 2:
        raise ValueError(f"need at least two speakers, got {names}")
    half = len(names) // 2
    return [names[:half], names[half:]]
