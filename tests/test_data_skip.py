"""``%%needs``: a missing data set with no stand-in stops the notebook with one message, or is skipped on request."""
from __future__ import annotations

import pytest

from course_utils.data import DataUnavailableError, skip


class FakeShell:
    """The two things ``needs`` uses of IPython's shell."""

    def __init__(self):
        self.user_ns = {}

    def transform_cell(self, cell):
        return cell


@pytest.fixture(autouse=True)
def forget_missing():
    skip._MISSING.clear()
    yield
    skip._MISSING.clear()


MISSING_CELL = ("ran = True\n"
                "raise DataUnavailableError(\"data set 'lfw' is not available: downloads are disabled.\")")


def test_a_present_data_set_runs_the_cell_and_shows_its_last_expression():
    shell = FakeShell()
    assert skip.needs("lfw", "x = 20\nx + 1", shell) == 21
    assert shell.user_ns["x"] == 20
    assert skip.needs("lfw", "x + 1;", shell) is None  # a trailing ';' hides the value, as in Jupyter


def test_without_the_flag_the_notebook_stops_with_one_message_naming_the_flag(monkeypatch):
    monkeypatch.delenv(skip.SKIP_VARIABLE, raising=False)
    shell = FakeShell()
    shell.user_ns["DataUnavailableError"] = DataUnavailableError
    with pytest.raises(DataUnavailableError, match="COURSE_SKIP_MISSING=1") as err:
        skip.needs("lfw", MISSING_CELL, shell)
    assert "'lfw' is not available" in str(err.value)
    assert err.value._render_traceback_()[0].startswith("DataUnavailableError: data set 'lfw'")
    assert "lfw" not in skip._MISSING


def test_with_the_flag_the_marked_cells_are_skipped(monkeypatch, capsys):
    monkeypatch.setenv(skip.SKIP_VARIABLE, "1")
    shell = FakeShell()
    shell.user_ns["DataUnavailableError"] = DataUnavailableError
    assert skip.needs("lfw", MISSING_CELL, shell) is None
    assert "skipped" in capsys.readouterr().out
    assert skip.needs("lfw", "later = True", shell) is None  # not run at all
    assert "later" not in shell.user_ns
    assert skip.needs("olivetti", "other = 1", shell) is None and shell.user_ns["other"] == 1  # other sets run


def test_other_errors_are_not_swallowed(monkeypatch):
    monkeypatch.setenv(skip.SKIP_VARIABLE, "1")
    with pytest.raises(ZeroDivisionError):
        skip.needs("lfw", "1 / 0", FakeShell())


def test_an_unknown_data_set_name_is_an_error():
    with pytest.raises(ValueError, match="'faces' is not a registered data set"):
        skip.needs("faces", "pass", FakeShell())


def test_the_notebooks_mark_every_cell_that_reads_faces():
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "notebooks"
    for notebook, name, variable in (("02_compression", "olivetti", "faces"), ("03_conversion", "lfw", "faces")):
        cells = json.loads((root / f"{notebook}.ipynb").read_text())["cells"]
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        assert any("%load_ext course_utils.data.skip" in src for src in code), notebook
        readers = [src for src in code if f"{variable}." in src or f"{variable} =" in src]
        assert readers and all(src.startswith(f"%%needs {name}\n") for src in readers), notebook
