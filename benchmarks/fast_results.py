"""The course's regression test: fast-mode metrics of every notebook against the recorded ones.

    python benchmarks/fast_results.py --check     # after `make test`'s nbval run (CI does this)
    python benchmarks/fast_results.py --update    # accept the last fast run's numbers (a change meant to move them)

``make test`` executes every notebook in fast mode under nbval; each notebook writes
its metrics to ``build/fast/results/<name>.json`` (:class:`course_utils.results.Results`).
Fast mode seeds everything and turns on TensorFlow's op determinism
(``config.set_seed``), so two fast runs on the same machine and data give the same
numbers. ``--check`` compares them with ``benchmarks/results/fast/<name>.json`` and
fails when a metric drifts by more than :data:`ABS_TOL` + :data:`REL_TOL` × |recorded|,
when a recorded metric is missing, or when a notebook wrote no results. Wall-clock
metrics (:data:`TIMING_WORDS`) are listed but not compared: they measure the machine.
The recorded numbers come from runs with the real-data mirror (``COURSE_DATA_DIR``);
a run on other data (no mirror, stand-ins) is not compared.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORDED = ROOT / "benchmarks" / "results" / "fast"

#: Allowed drift: |new - recorded| <= ABS_TOL + REL_TOL * |recorded|.
ABS_TOL = 1e-3
REL_TOL = 1e-3
#: Metrics whose key contains one of these words are wall-clock measurements and are not compared.
TIMING_WORDS = ("real_time_factor", "latency_ms", "seconds", "per_second")


def _flat(metrics: dict) -> dict:
    """``{"a": 1, "b": {"x": 2}}`` → ``{"a": 1.0, "b.x": 2.0}``."""
    out = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": float(v) for k, v in value.items()})
        else:
            out[key] = float(value)
    return out


def is_timing(key: str) -> bool:
    """True for a wall-clock metric (not compared, see :data:`TIMING_WORDS`)."""
    return any(word in key for word in TIMING_WORDS)


def compare(recorded: dict, new: dict, abs_tol: float = ABS_TOL, rel_tol: float = REL_TOL) -> list[str]:
    """Compare two notebooks' metrics.

    Parameters
    ----------
    recorded, new : dict
        ``{"metric": float or {name: float}}`` as in a results file's ``"metrics"``.
    abs_tol, rel_tol : float
        Allowed drift: ``|new - recorded| <= abs_tol + rel_tol * |recorded|``.

    Returns
    -------
    list of str
        One line per drifted or missing metric; empty when everything holds.
    """
    recorded, new = _flat(recorded), _flat(new)
    problems = []
    for key, old in recorded.items():
        if is_timing(key):
            continue
        if key not in new:
            problems.append(f"{key}: recorded {old:.6g}, missing from the new run")
            continue
        value = new[key]
        same_nan = math.isnan(old) and math.isnan(value)
        if not same_nan and not abs(value - old) <= abs_tol + rel_tol * abs(old):
            problems.append(f"{key}: recorded {old:.6g}, now {value:.6g} (drift {value - old:+.3g})")
    problems += [f"{key}: new metric {new[key]:.6g}, not recorded (run --update if it is meant)"
                 for key in new if key not in recorded and not is_timing(key)]
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true", help="fail when the last fast run drifted")
    action.add_argument("--update", action="store_true", help="record the last fast run's metrics")
    parser.add_argument("--build", type=Path, default=None,
                        help="the fast run's build folder (default: config.build_root(fast=True))")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from course_utils.config import build_root

    results = (args.build or build_root(fast=True)) / "results"
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.update:
        RECORDED.mkdir(parents=True, exist_ok=True)
        for name in notebooks:
            source = results / f"{name}.json"
            if not source.is_file():
                print(f"{name}: no {source}; run `make test` first", file=sys.stderr)
                return 1
            run = json.loads(source.read_text())
            kept = {"metrics": run["metrics"], "mode": run["mode"], "notes": run.get("notes", {}),
                    "command": "make test (nbval, COURSE_FAST=1, real-data mirror)",
                    "tolerance": {"abs": ABS_TOL, "rel": REL_TOL}}
            (RECORDED / f"{name}.json").write_text(json.dumps(kept, indent=2, sort_keys=True) + "\n")
            print(f"recorded {len(run['metrics'])} metrics of {name}")
        return 0
    failed = False
    for name in notebooks:
        recorded_file, new_file = RECORDED / f"{name}.json", results / f"{name}.json"
        if not recorded_file.is_file():
            print(f"✗ {name}: nothing recorded in {recorded_file} (run --update)")
            failed = True
            continue
        if not new_file.is_file():
            print(f"✗ {name}: the fast run wrote no {new_file}")
            failed = True
            continue
        new = json.loads(new_file.read_text())
        if new.get("mode") != "fast":
            print(f"✗ {name}: {new_file} is a {new.get('mode')}-mode result")
            failed = True
            continue
        problems = compare(json.loads(recorded_file.read_text())["metrics"], new["metrics"])
        print(("✗ " if problems else "✓ ") + f"{name}: {len(_flat(new['metrics']))} metrics"
              + (f", {len(problems)} drifted" if problems else " as recorded"))
        for line in problems:
            print(f"    {line}")
        failed |= bool(problems)
    if failed:
        print(f"\nFast-mode metrics drifted beyond {ABS_TOL} + {REL_TOL}·|recorded|. If the change is meant to move "
              "them, refresh with: python benchmarks/fast_results.py --update")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
