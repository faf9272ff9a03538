"""Results files have the benchmark format the README table is generated from."""
from __future__ import annotations

import json

from course_utils.results import Results


def test_results_file_format(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    r = Results("99_test")
    with r.timer("step"):
        sum(range(1000))
    r.metric("a.accuracy", 0.5)
    r.metric("a.per_speaker", {"x": 1, "y": 0.5})
    saved = json.loads(r.save().read_text())
    assert saved["metrics"] == {"a.accuracy": 0.5, "a.per_speaker": {"x": 1.0, "y": 0.5}}
    assert saved["mode"] == "fast" and saved["wall_seconds"]["step"] >= 0
    assert saved["peak_rss_mb"] > 10 and "keras" in saved["versions"]
