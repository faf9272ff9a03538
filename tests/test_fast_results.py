"""benchmarks/fast_results.py: the fast-mode regression check of the notebooks' metrics."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import fast_results  # noqa: E402


def test_identical_metrics_pass_and_timings_are_not_compared():
    recorded = {"a.accuracy": 0.8, "a.per_speaker": {"x": 0.5, "y": 0.7}, "tts.real_time_factor": 0.07,
                "digits.cnn_latency_ms": 3.0}
    new = {"a.accuracy": 0.8, "a.per_speaker": {"x": 0.5, "y": 0.7}, "tts.real_time_factor": 0.21,
           "digits.cnn_latency_ms": 9.0}
    assert fast_results.compare(recorded, new) == []


def test_drift_beyond_the_tolerance_is_reported_per_metric():
    recorded = {"a.accuracy": 0.80, "a.per_speaker": {"x": 0.5}, "b.mcd_db": 100.0}
    new = {"a.accuracy": 0.70, "a.per_speaker": {"x": 0.5004}, "b.mcd_db": 100.05}  # within 1e-3 + 1e-3·|old|
    problems = fast_results.compare(recorded, new)
    assert len(problems) == 1 and problems[0].startswith("a.accuracy: recorded 0.8, now 0.7")


def test_missing_and_unrecorded_metrics_are_reported():
    problems = fast_results.compare({"a": 1.0, "b": 2.0}, {"a": 1.0, "c": 3.0})
    assert any(p.startswith("b: recorded 2, missing") for p in problems)
    assert any(p.startswith("c: new metric 3") for p in problems)


def test_nan_equals_nan_but_not_a_number():
    assert fast_results.compare({"a": float("nan")}, {"a": float("nan")}) == []
    assert fast_results.compare({"a": float("nan")}, {"a": 0.0}) != []


def test_every_notebook_has_recorded_fast_metrics():
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for name in notebooks:
        recorded = json.loads((fast_results.RECORDED / f"{name}.json").read_text())
        assert recorded["mode"] == "fast" and recorded["metrics"], name


def _write_run(folder: Path, metrics: dict):
    (folder / "results").mkdir(parents=True)
    for name in sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        run = json.loads((fast_results.RECORDED / f"{name}.json").read_text())
        run["metrics"].update(metrics if name.startswith("01") else {})
        (folder / "results" / f"{name}.json").write_text(json.dumps(run))


def test_check_passes_on_the_recorded_run_and_fails_on_a_planted_regression(tmp_path, capsys):
    _write_run(tmp_path / "same", {})
    assert fast_results.main(["--check", "--build", str(tmp_path / "same")]) == 0
    recorded = json.loads((fast_results.RECORDED / "01_processing.json").read_text())["metrics"]
    key = next(k for k, v in recorded.items() if not isinstance(v, dict) and not fast_results.is_timing(k))
    _write_run(tmp_path / "broken", {key: recorded[key] + 0.1})
    assert fast_results.main(["--check", "--build", str(tmp_path / "broken")]) == 1
    assert f"{key}: recorded" in capsys.readouterr().out


def test_a_notebook_that_wrote_nothing_fails_the_check(tmp_path):
    (tmp_path / "results").mkdir()
    assert fast_results.main(["--check", "--build", str(tmp_path)]) == 1
