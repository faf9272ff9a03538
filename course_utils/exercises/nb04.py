"""Notebook 04's exercises (speech recognition): greedy CTC decoding.

The checker builds probability matrices whose best path spells a known digit string — with repeated
frames, blanks, and a blank between doubled digits — and compares the learner's decoding with it. It
needs NumPy only (no Keras), so importing this file stays light.
"""
from __future__ import annotations

import time

import numpy as np

from . import exercise

#: The CTC blank's class (as :data:`course_utils.models.ctc.BLANK`; not imported, to keep Keras out).
_BLANK = 0


def _random_ctc_probs(rng: np.random.Generator, text: str, blank_runs=(0, 3), char_runs=(1, 4)) -> np.ndarray:
    """A probability matrix (steps, 11) whose best path spells ``text`` with repeats and blanks."""
    path = []
    for i, ch in enumerate(text):
        if i > 0 and ch == text[i - 1]:
            path += [_BLANK] * int(rng.integers(1, 3))  # a blank must separate a doubled digit
        else:
            path += [_BLANK] * int(rng.integers(*blank_runs))
        path += [int(ch) + 1] * int(rng.integers(*char_runs))
    path += [_BLANK] * int(rng.integers(0, 3))
    probs = rng.dirichlet(np.ones(11), size=len(path)) * 0.4
    probs[np.arange(len(path)), path] += 0.6
    return (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)


@exercise("04_ctc_greedy", "write ctc_greedy(probs) -> str: probs is a (steps, 11) array of per-frame "
          "probabilities, class 0 the CTC blank and class d + 1 the digit d; take the best class per frame, "
          "merge repeated classes, drop blanks, and return the digits as a string such as '4071'.")
def _check_ctc_greedy(fn):
    rng = np.random.default_rng(int(time.time()) % 10_000)
    cases = ["0", "7", "11", "100", "5555", ""]
    cases += ["".join(map(str, rng.integers(0, 10, rng.integers(1, 9)))) for _ in range(20)]
    for text in cases:
        probs = _random_ctc_probs(rng, text) if text else np.eye(11, dtype=np.float32)[[0, 0, 0]]
        got = fn(probs)
        assert isinstance(got, str), f"return a str of digits, got {type(got).__name__}"
        if got != text:
            hint = ("Hint: merge repeats *before* dropping blanks — a blank between two equal digits keeps both "
                    "(e.g. '11')." if len(set(text)) < len(text) else
                    "Hint: class c stands for digit c − 1, class 0 is the blank; merge repeated frames.")
            assert False, f"for a matrix spelling {text!r} you returned {got!r}. {hint}"
