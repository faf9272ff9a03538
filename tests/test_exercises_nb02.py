"""Notebook 02's exercise checker (course_utils.exercises.nb02)."""
from __future__ import annotations

import numpy as np

from course_utils import exercises


def test_exercise_checker_accepts_a_solution_and_rejects_a_wrong_one(capsys):
    right = lambda cdf, y: -np.sum(np.log2(cdf(y + 0.5) - cdf(y - 0.5)))  # noqa: E731
    wrong = lambda cdf, y: -np.sum(np.log(cdf(y + 0.5) - cdf(y - 0.5)))  # noqa: E731  (nats, not bits)
    assert exercises.check("02_discrete_likelihood", right)
    assert not exercises.check("02_discrete_likelihood", wrong)
    assert not exercises.check("02_discrete_likelihood", None)
