"""Time the README's test command and write ``benchmarks/results/ci/test_command.json``.

Runs ``make test`` (what ``.ci/run`` runs) with a JUnit report, and records the wall time of
the whole command (creating ``.venv`` included when it does not exist yet), pytest's own time,
the pass/fail counts, and the time of each test file and notebook. Run it in a fresh clone to
measure what CI measures::

    git clone . /tmp/ci/main && ln -s "$PWD/../shared" /tmp/ci/shared
    cd /tmp/ci/main && COURSE_DATA_DIR=../shared/datasets python3 benchmarks/time_tests.py --out results.json

``make test`` runs two pytest-xdist workers, so a file's seconds are measured while the other
worker shares the CPU; they add up to more than the wall time.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "ci" / "test_command.json"
TARGET_MINUTES = 30.0  # the developers' guide: "Keep CI under 30 minutes on this 2-core machine"


def per_file_seconds(junit: Path) -> tuple[dict, dict]:
    """Sum the JUnit ``testcase`` times per file, and count outcomes.

    Parameters
    ----------
    junit : pathlib.Path
        A pytest ``--junitxml`` report.

    Returns
    -------
    seconds : dict of str to float
        File (``tests/test_audio.py``, ``notebooks/01_processing.ipynb``) -> seconds.
    counts : dict of str to int
        ``tests``, ``failures``, ``errors``, ``skipped``.

    Raises
    ------
    ValueError
        The report is not JUnit XML from pytest.
    """
    try:
        root = ET.parse(junit).getroot()
    except ET.ParseError as err:
        raise ValueError(f"{junit}: not a JUnit XML report ({err})") from err
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    if not suites:
        raise ValueError(f"{junit}: no <testsuite> element")
    seconds: dict = defaultdict(float)
    for case in root.iter("testcase"):
        cls = case.get("classname", "")  # "tests.test_audio[.Class]" or "notebooks.04_x.ipynb"
        if cls.endswith(".ipynb"):
            name = cls.replace(".", "/", 1)
        else:
            name = "/".join(cls.split(".")[:2]) + ".py"
        seconds[name] += float(case.get("time", 0))
    counts = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
    return {k: round(v, 1) for k, v in sorted(seconds.items())}, counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT, help=f"results file (default {OUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    junit = ROOT / "build" / "fast" / "junit.xml"
    junit.parent.mkdir(parents=True, exist_ok=True)
    junit.unlink(missing_ok=True)
    junit_offline = junit.with_name("junit-offline.xml")
    junit_offline.unlink(missing_ok=True)
    fresh_venv = not (ROOT / ".venv" / "bin" / "python").exists()
    start = time.perf_counter()
    proc = subprocess.run(["make", "test", f"PYTEST_ARGS=--junitxml={junit}",
                           f"PYTEST_OFFLINE_ARGS=--junitxml={junit_offline}"], cwd=ROOT)
    wall = time.perf_counter() - start
    if not junit.is_file():
        print(f"make test exited {proc.returncode} without a JUnit report ({junit})", file=sys.stderr)
        return proc.returncode or 1
    files, counts = per_file_seconds(junit)
    pytest_seconds = float(next(ET.parse(junit).getroot().iter("testsuite")).get("time", 0))
    offline = None  # stage 3, `make test-offline` (absent when an earlier stage failed)
    if junit_offline.is_file():
        offline_files, offline_counts = per_file_seconds(junit_offline)
        offline = {"pytest_seconds": round(float(next(ET.parse(junit_offline).getroot().iter("testsuite"))
                                                 .get("time", 0)), 1),
                   "counts": offline_counts, "per_file_seconds": offline_files}
    result = {
        "command": "make test",
        "exit_code": proc.returncode,
        "wall_seconds": {"make_test": round(wall, 1), "pytest": round(pytest_seconds, 1)},
        "offline": offline,
        "target_minutes": TARGET_MINUTES,
        "counts": counts,
        "fresh_venv": fresh_venv,
        "data_mirror": bool(os.environ.get("COURSE_DATA_DIR")),
        "cpu_count": os.cpu_count(),
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "per_file_seconds": files,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"make test: {wall / 60:.1f} min (target ≤ {TARGET_MINUTES:g}), exit {proc.returncode}; wrote {args.out}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
