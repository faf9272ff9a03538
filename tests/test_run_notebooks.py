"""benchmarks/run_notebooks.py executes a notebook in a fresh kernel and completes its results file."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import run_notebooks  # noqa: E402


def tiny_notebook(path: Path, save: bool = True) -> Path:
    code = ["import os\nfrom course_utils.results import Results\nr = Results('98_tiny')\n"
            "r.metric('tiny.fast_flag', float(os.environ['COURSE_FAST']))"]
    if save:
        code.append("r.save()")
    nb = new_notebook(cells=[new_code_cell(c) for c in code])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_run_executes_and_adds_wall_time_and_command(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")  # run() sets it for the kernel; monkeypatch restores it
    nb = tiny_notebook(tmp_path / "98_tiny.ipynb")
    result = run_notebooks.run(nb, "fast", tmp_path / "build")
    assert result["metrics"] == {"tiny.fast_flag": 1.0} and result["mode"] == "fast"
    assert result["wall_seconds"]["notebook_total"] > 0 and "--mode fast 98" in result["command"]
    assert (tmp_path / "build" / "notebooks" / "98_tiny.ipynb").is_file()
    on_disk = json.loads((tmp_path / "build" / "results" / "98_tiny.json").read_text())
    assert on_disk == result


def test_a_notebook_that_saves_no_results_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    nb = tiny_notebook(tmp_path / "98_tiny.ipynb", save=False)
    with pytest.raises(RuntimeError, match="wrote no"):
        run_notebooks.run(nb, "fast", tmp_path / "build")


def test_make_test_keeps_each_notebook_in_one_worker_and_01_before_05():
    """The root conftest.py schedules files as units of work, with notebooks 01 and 05 as one unit, 01 first."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    root_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root_conftest)
    unit = root_conftest.work_unit
    assert unit("notebooks/02_compression.ipynb::Cell 0") == unit("notebooks/02_compression.ipynb::Cell 7")
    assert unit("notebooks/02_compression.ipynb::Cell 0") != unit("notebooks/04_speech_recognition.ipynb::Cell 0")
    chained = {unit("notebooks/01_processing.ipynb::Cell 3"), unit("notebooks/05_synthesis.ipynb::Cell 9"),
               unit("notebooks/05_synthesis::ipynb::Cell 9")}
    assert len(chained) == 1 and chained != {unit("notebooks/03_conversion.ipynb::Cell 1")}
    assert unit("tests/test_audio.py::test_a") == unit("tests/test_audio.py::test_b") == "tests/test_audio.py"
    assert root_conftest.CHAINED_NOTEBOOKS == ("01_processing", "05_synthesis")  # collection order: 01 before 05
    assert "-n 2 --dist loadfile" in (ROOT / "Makefile").read_text()
