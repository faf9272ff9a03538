"""Notebook 04's exercise (exercises/nb04.py): greedy CTC decoding is checked on generated matrices."""
from __future__ import annotations

import numpy as np

from course_utils import exercises


def test_exercise_checker_accepts_a_right_answer_and_rejects_wrong_ones(capsys):
    def right(probs):
        best = np.argmax(probs, axis=1)
        keep = (best != 0) & np.r_[True, best[1:] != best[:-1]]
        return "".join(str(c - 1) for c in best[keep])

    def drops_blanks_first(probs):  # merges "1 blank 1" into one "1"
        best = [c for c in np.argmax(probs, axis=1) if c != 0]
        return "".join(str(c - 1) for i, c in enumerate(best) if i == 0 or c != best[i - 1])

    assert exercises.check("04_ctc_greedy", right)
    assert "✅" in capsys.readouterr().out
    assert not exercises.check("04_ctc_greedy", drops_blanks_first)
    out = capsys.readouterr().out
    assert "❌" in out and "Hint" in out
    assert not exercises.check("04_ctc_greedy", lambda probs: "".join(map(str, np.argmax(probs, axis=1))))
    assert not exercises.check("04_ctc_greedy", None)
    assert "not attempted" in capsys.readouterr().out


def test_the_models_greedy_decoder_passes_the_exercise():
    from course_utils.models import ctc

    assert exercises.check("04_ctc_greedy", ctc.greedy_decode)
