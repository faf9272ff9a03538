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


def test_check_target_holds_a_model_to_every_bound_of_its_key(monkeypatch):
    from course_utils import results

    monkeypatch.setattr(results, "TARGETS", {
        "a.cer": [("<=", (2.0, "a.cer_real")), ("<=", (1.0, "baseline.cer"))],
        "a.mcd_db": ("<=", (1.0, "gmm.mcd_db", -0.3)),
        "a.rate": (">=", 0.8),
    })
    # Each bound is checked; one missed is a miss, and the label names every bound.
    assert results.check_target("a.cer", 0.3, {"a.cer_real": 0.2, "baseline.cer": 0.25}) == (
        "≤ 2 × `a.cer_real` = 0.4; ≤ 1 × `baseline.cer` = 0.25", False)
    assert results.check_target("a.cer", 0.2, {"a.cer_real": 0.2, "baseline.cer": 0.25})[1] is True
    # A relative bound whose baseline was not measured is named and counts as missed (a renamed baseline key
    # must not make a target look met).
    assert results.check_target("a.cer", 0.3, {"a.cer_real": 0.2}) == (
        "≤ 2 × `a.cer_real` = 0.4; ≤ 1 × `baseline.cer` (not measured)", False)
    assert results.check_target("a.mcd_db", 5.0, None) == ("≤ 1 × `gmm.mcd_db` − 0.3 (not measured)", False)
    # An offset: at least 0.3 dB below the baseline.
    assert results.check_target("a.mcd_db", 5.2, {"gmm.mcd_db": 5.4}) == ("≤ 1 × `gmm.mcd_db` − 0.3 = 5.1", False)
    assert results.check_target("a.mcd_db", 5.0, {"gmm.mcd_db": 5.4})[1] is True
    # A number that could not be measured (NaN) meets nothing; a key without a target has none.
    assert results.check_target("a.rate", float("nan")) == ("≥ 0.8", False)
    assert results.check_target("other", 1.0) is None
