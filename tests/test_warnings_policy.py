"""The test run's warning policy (pyproject.toml, ``[tool.pytest.ini_options] filterwarnings``)."""
from __future__ import annotations

import warnings

import pytest


def _warn_from(module: str, category: type[Warning]) -> None:
    """Raise a warning whose location is ``module`` (what the warnings filters match a module against)."""
    exec(compile("import warnings\nwarnings.warn('planted', category)", "<planted>", "exec"),
         {"__name__": module, "category": category})


@pytest.mark.parametrize("category", [UserWarning, RuntimeWarning, DeprecationWarning])
def test_a_warning_raised_in_course_utils_fails_the_test(category):
    with pytest.raises(category, match="planted"):
        _warn_from("course_utils.audio", category)


def test_a_third_party_warning_is_shown_not_raised():
    with warnings.catch_warnings(record=True) as caught:  # the run's filters, recorded instead of printed
        _warn_from("some_library.module", UserWarning)
    assert [str(w.message) for w in caught] == ["planted"]
