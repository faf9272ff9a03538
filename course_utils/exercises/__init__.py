"""Exercises with automatic checks: the registry here, the checkers in one file per notebook.

A notebook's exercise cell asks the learner to write a function; ``check(name,
answer)`` runs the registered checker, prints what passed or what went wrong
with a hint, and returns True/False. Checkers test behaviour on inputs the
learner did not see (generated on the fly), never a hard-coded output.

The checkers of notebook NN live in ``course_utils/exercises/nbNN.py``; importing this
package registers all of them (each imports what it needs inside the checker, so this stays
light: no Keras at import time).
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Callable


@dataclass
class Exercise:
    """One exercise: a prompt, a checker (raises AssertionError with a hint on failure)."""

    prompt: str
    checker: Callable


EXERCISES: dict[str, Exercise] = {}


def exercise(name: str, prompt: str):
    """Decorator registering ``checker`` under ``name`` in :data:`EXERCISES`."""
    def wrap(checker):
        EXERCISES[name] = Exercise(prompt, checker)
        return checker
    return wrap


def check(name: str, answer) -> bool:
    """Check a learner's answer to exercise ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`EXERCISES`.
    answer : object
        Usually the learner's function; ``None`` means "not attempted yet".

    Returns
    -------
    bool
        True if every check passed. Prints a ✅ summary, or ❌ with the first
        failed check and a hint. Never raises for a wrong answer.

    Raises
    ------
    KeyError
        ``name`` is not a registered exercise (the message lists the known ones).
    """
    if name not in EXERCISES:
        raise KeyError(f"unknown exercise {name!r}; known: {sorted(EXERCISES)}")
    if answer is None:
        print(f"⏳ {name}: not attempted yet — {EXERCISES[name].prompt}")
        return False
    try:
        EXERCISES[name].checker(answer)
    except AssertionError as err:
        print(f"❌ {name}: {err}")
        return False
    except Exception:  # the learner's code crashed: show where
        print(f"❌ {name}: your code raised an exception:\n{traceback.format_exc(limit=-3)}")
        return False
    print(f"✅ {name}: all checks passed.")
    return True


# Register every notebook's checkers (they use `exercise` above).
from . import nb01, nb02, nb03, nb04, nb05  # noqa: E402,F401
