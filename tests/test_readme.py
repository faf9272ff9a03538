"""The README's tables are generated from benchmarks/results, and its test command is the one CI runs."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import readme  # noqa: E402


def test_readme_tables_match_results_files():
    assert readme.main(["--check"]) == 0, "README.md is out of date with benchmarks/results: run `make readme`"


def test_results_files_have_the_benchmark_format():
    for path in sorted((ROOT / "benchmarks" / "results").glob("*.json")):
        result = json.loads(path.read_text())
        assert {"metrics", "wall_seconds", "peak_rss_mb", "mode", "versions", "command"} <= set(result), path
        assert result["mode"] == "full", f"{path}: only full-mode runs belong in benchmarks/results"


def test_ci_runs_the_readme_test_command():
    text = (ROOT / "README.md").read_text()
    commands = re.findall(r"^make (\w+)\s+#", text, re.M)
    assert commands == ["course", "test"]
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")


def test_render_fills_the_markers():
    text = "<!-- generated:course-map -->\nold\n<!-- /generated:course-map -->\n" \
           "<!-- generated:results -->\n<!-- /generated:results -->\n" \
           "<!-- generated:test-command -->\n<!-- /generated:test-command -->\n"
    fake = {"01_processing": {"metrics": {"photo_domains.horse_zebra_accuracy": 0.5},
                              "wall_seconds": {"notebook_total": 60}, "peak_rss_mb": 100, "mode": "full",
                              "versions": {}, "command": "x"}}
    out = readme.render(text, fake)
    assert "horse vs zebra (two CNNs + texture) 0.500" in out and "old" not in out
    assert "| `photo_domains.horse_zebra_accuracy` | 0.5 | ≥ 0.95 — **not met** |" in out


def test_targets_relative_to_another_measurement():
    metrics = {"tts.cer": 0.30, "tts.cer_real": 0.20}
    assert readme.target_text("tts.cer", 0.30, metrics).endswith("— met")  # 0.30 <= 2 x 0.20
    assert "not met" in readme.target_text("tts.cer", 0.45, metrics)
    # The reference was not measured: the target is named, and not shown as met.
    assert readme.target_text("tts.cer", 0.30, {"tts.cer": 0.3}) == "≤ 2 × `tts.cer_real` (not measured) — **not met**"
    assert "not met" in readme.target_text("voice_conversion.mcd_db", 7.0, {})


def test_test_command_timing_is_rendered_against_its_target():
    timing = {"wall_seconds": {"make_test": 600.0, "pytest": 480.0}, "target_minutes": 15.0, "exit_code": 0,
              "counts": {"tests": 10, "failures": 0, "errors": 0, "skipped": 0}, "fresh_venv": True,
              "data_mirror": True, "cpu_count": 2,
              "per_file_seconds": {"notebooks/01_processing.ipynb": 120.0, "tests/test_audio.py": 30.0}}
    text = readme.test_command_text(timing)
    assert "**10.0 min**" in text and "≤ 15 min — met" in text and "01 2.0 min" in text and "unit tests 0.5 min" in text
    slow = dict(timing, wall_seconds={"make_test": 1000.0, "pytest": 900.0})
    assert "— **not met**" in readme.test_command_text(slow)
    failed = dict(timing, exit_code=1)
    assert "— **not met**" in readme.test_command_text(failed)
    assert "time_tests.py" in readme.test_command_text(None)


def test_time_tests_sums_junit_times_per_file(tmp_path):
    import time_tests

    xml = tmp_path / "junit.xml"
    xml.write_text(
        '<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="4" failures="1" errors="0" skipped="0" '
        'time="12.5"><testcase classname="tests.test_audio" name="a" time="1.5"/>'
        '<testcase classname="tests.test_audio" name="b" time="2.0"/>'
        '<testcase classname="notebooks.04_speech_recognition.ipynb" name="Cell 0" time="3.0"/>'
        '<testcase classname="notebooks.04_speech_recognition.ipynb" name="Cell 1" time="4.0"><failure/></testcase>'
        "</testsuite></testsuites>")
    seconds, counts = time_tests.per_file_seconds(xml)
    assert seconds == {"notebooks/04_speech_recognition.ipynb": 7.0, "tests/test_audio.py": 3.5}
    assert counts == {"tests": 4, "failures": 1, "errors": 0, "skipped": 0}
    (tmp_path / "bad.xml").write_text("not xml")
    with pytest.raises(ValueError, match="bad.xml"):
        time_tests.per_file_seconds(tmp_path / "bad.xml")


def test_every_target_and_headline_key_is_measured_by_some_results_file():
    from course_utils.results import TARGETS, target_bounds

    measured = set()
    for path in (ROOT / "benchmarks" / "results").glob("*.json"):
        measured |= set(json.loads(path.read_text())["metrics"])
    headlines = {key for *_, shown in readme.COURSE_MAP for key, _ in shown}
    relative = {bound[1] for key in TARGETS for _, bound in target_bounds(key) if isinstance(bound, tuple)}
    assert (set(TARGETS) | headlines | relative) - measured == set()
