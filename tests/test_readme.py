"""The README's tables are generated from benchmarks/results, and its test command is the one CI runs."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

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
           "<!-- generated:results -->\n<!-- /generated:results -->\n"
    fake = {"01_processing": {"metrics": {"photo_domains.test_accuracy": 0.5}, "wall_seconds": {"notebook_total": 60},
                              "peak_rss_mb": 100, "mode": "full", "versions": {}, "command": "x"}}
    out = readme.render(text, fake)
    assert "photo test accuracy 0.500" in out and "old" not in out
    assert "| `photo_domains.test_accuracy` | 0.5 | ≥ 0.95 — **not met** |" in out


def test_targets_relative_to_another_measurement():
    metrics = {"tts.cer": 0.30, "tts.cer_real": 0.20}
    assert readme.target_text("tts.cer", 0.30, metrics).endswith("— met")  # 0.30 <= 2 x 0.20
    assert "not met" in readme.target_text("tts.cer", 0.45, metrics)
    assert readme.target_text("tts.cer", 0.30, {"tts.cer": 0.3}) == ""  # the reference was not measured
    assert "not met" in readme.target_text("voice_conversion.mcd_db", 7.0, {})
