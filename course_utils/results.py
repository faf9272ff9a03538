"""Measured results of a notebook run: metrics, wall times, peak memory, versions.

A notebook creates one :class:`Results`, records what it measures, and saves it
to ``build/results/<notebook>.json``. ``benchmarks/run_notebooks.py`` executes
the notebooks in full mode and copies those files to ``benchmarks/results/``,
from which the README's results table is generated — no number is typed by hand.
"""
from __future__ import annotations

import json
import platform
import resource
import sys
import time
from contextlib import contextmanager
from importlib import metadata

from .config import build_dir, mode

VERSIONED = ("tensorflow", "tensorflow-cpu", "keras", "numpy", "librosa", "soundfile", "pillow",
             "scikit-learn", "scikit-image")


def versions() -> dict:
    """Versions of Python and the course's main libraries (those installed)."""
    out = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (``getrusage``; Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class Results:
    """Collects a notebook's measured numbers.

    Parameters
    ----------
    notebook : str
        Results name, e.g. ``"01_processing"``.

    Examples
    --------
    >>> r = Results("01_processing")
    >>> with r.timer("photo_domains.train"):
    ...     pass
    >>> r.metric("photo_domains.test_accuracy", 0.97)
    """

    def __init__(self, notebook: str):
        self.notebook = notebook
        self.metrics: dict = {}
        self.wall_seconds: dict = {}
        self.notes: dict = {}

    def metric(self, key: str, value) -> None:
        """Record one metric (a float, or a dict of floats such as per-speaker accuracy)."""
        self.metrics[key] = (float(value) if not isinstance(value, dict)
                             else {k: float(v) for k, v in value.items()})

    def seconds(self, key: str, value: float) -> None:
        """Record a wall time in seconds."""
        self.wall_seconds[key] = round(float(value), 2)

    def note(self, key: str, value) -> None:
        """Record context (data origin, sizes) that explains the numbers."""
        self.notes[key] = value

    @contextmanager
    def timer(self, key: str):
        """Time the ``with`` block and record it under ``key``."""
        start = time.perf_counter()
        yield
        self.seconds(key, time.perf_counter() - start)

    def as_dict(self) -> dict:
        return {"metrics": self.metrics, "wall_seconds": self.wall_seconds, "peak_rss_mb": round(peak_rss_mb(), 1),
                "mode": mode(), "versions": versions(), "notes": self.notes}

    def save(self):
        """Write ``build/results/<notebook>.json`` and return its path."""
        path = build_dir("results") / f"{self.notebook}.json"
        path.write_text(json.dumps(self.as_dict(), indent=2, sort_keys=True) + "\n")
        return path

    def table(self):
        """The metrics as a two-column pandas-free markdown table (for display in the notebook)."""
        from IPython.display import Markdown

        rows = ["| metric | value |", "|---|---|"]
        for key, value in self.metrics.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k}: {v:.3f}" for k, v in value.items())
            else:
                value = f"{value:.4g}"
            rows.append(f"| `{key}` | {value} |")
        return Markdown("\n".join(rows))
