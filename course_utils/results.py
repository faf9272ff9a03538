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

#: The course's quality targets (from the issues), declared once: the notebooks' result tables and the
#: README (``benchmarks/readme.py``) read them here. ``key: (op, bound)``, or a list of them that must all
#: hold, with ``op`` ">=" or "<="; a bound is a number, or ``(factor, other_key)`` / ``(factor, other_key,
#: offset)``: at most/least ``factor`` × another measured value of the same notebook (+ ``offset``) — how the
#: course's models are held to the classical system a user would pick instead (issue 20).
TARGETS = {
    # Issue 19: what the pixels can tell (horse vs zebra, the decision restricted to the pair); the season labels
    # of summer vs winter and the 4-way number are reported without a target.
    "photo_domains.horse_zebra_accuracy": (">=", 0.95),
    "fsdd_lstm.random_split_accuracy": (">=", 0.97),
    "fsdd_lstm.loso_mean_accuracy": (">=", 0.90),
    # Issue 19, six FSDD speakers: the best isolated-digit recipe's mean and worst held-out speaker; CTC digit
    # strings, mean WER over the held-out speakers, and below PocketSphinx's on the same strings.
    "digits.best_loso_accuracy": (">=", 0.90),
    "digits.best_loso_worst_accuracy": (">=", 0.80),
    "ctc.wer": [("<=", 0.15), ("<=", (1.0, "ctc.pocketsphinx_wer"))],
    # The learned image codec against JPEG and WebP over the overlapping range on Kodak (issue 20: the 2018
    # scale hyperprior's targets; the factorised prior is measured against them too).
    "image_codec.bd_rate_vs_jpeg": ("<=", -35.0),
    "image_codec.bd_rate_vs_webp": ("<=", 0.0),
    "speech_codec.kbps": ("<=", 8.0),
    # At ≤ 8 kbps: STOI within 0.03 of Opus 8 kbps's, CER at most Opus 8 kbps's and Codec 2 3.2 kbps's.
    "speech_codec.stoi": [(">=", 0.75), (">=", (1.0, "opus_8kbps.stoi", -0.03))],
    "speech_codec.cer": [("<=", (2.0, "speech_codec.cer_original")), ("<=", (1.0, "opus_8kbps.cer")),
                         ("<=", (1.0, "codec2_3200.cer"))],
    # The DNN at least 0.3 dB below the joint-density GMM on the same sentences.
    "voice_conversion.mcd_db": [("<=", 6.5), ("<=", (1.0, "voice_conversion.gmm_mcd_db", -0.3))],
    "voice_conversion.cer": ("<=", (2.0, "voice_conversion.cer_target")),
    "voice_conversion.target_speaker_rate": (">=", 0.9),
    "face_swap.swap_rate": (">=", 0.8),
    "face_swap.identity_classifier_accuracy": (">=", 0.9),
    # CycleGAN above colour transfer (Reinhard et al. 2001), judged alike, in both directions of both pairs.
    "cyclegan.target_domain_rate_a2b": [(">=", 0.8), (">=", (1.0, "cyclegan.colour_transfer_rate_a2b"))],
    "cyclegan.target_domain_rate_b2a": [(">=", 0.8), (">=", (1.0, "cyclegan.colour_transfer_rate_b2a"))],
    "cyclegan.summer_winter.target_domain_rate_a2b": (">=", (1.0, "cyclegan.summer_winter.colour_transfer_rate_a2b")),
    "cyclegan.summer_winter.target_domain_rate_b2a": (">=", (1.0, "cyclegan.summer_winter.colour_transfer_rate_b2a")),
    "tts.cer": ("<=", (2.0, "tts.cer_real")),
    "tts.mcd_db": ("<=", 7.5),
    "tts.real_time_factor": ("<=", 0.3),
}


def target_bounds(key: str) -> list:
    """The targets of one metric as a list.

    Parameters
    ----------
    key : str
        A metric key, e.g. ``"speech_codec.cer"``.

    Returns
    -------
    list of tuple
        ``(op, bound)`` pairs as in :data:`TARGETS`; empty when ``key`` has no target.
    """
    targets = TARGETS.get(key, [])
    return list(targets) if isinstance(targets, list) else [targets]


def check_target(key: str, value: float, metrics: dict | None = None) -> tuple[str, bool] | None:
    """Compare a measured value with its targets in :data:`TARGETS`.

    Parameters
    ----------
    key : str
        The metric's key, e.g. ``"tts.cer"``.
    value : float
        The measured value.
    metrics : dict, optional
        The run's other metrics, needed for a bound relative to another key.

    Returns
    -------
    (label, met) or None
        ``label`` like ``"≤ 2 × `tts.cer_real` = 0.1663"`` or ``"≥ 0.8"`` (several joined by ``"; "``), and
        whether ``value`` meets all of them (NaN meets none); None when ``key`` has no target. A relative
        bound whose other key was not measured is labelled "(not measured)" and counts as missed.

    Examples
    --------
    >>> check_target("face_swap.swap_rate", 0.85)
    ('≥ 0.8', True)
    >>> check_target("voice_conversion.mcd_db", 5.3, {"voice_conversion.gmm_mcd_db": 5.4})
    ('≤ 6.5; ≤ 1 × `voice_conversion.gmm_mcd_db` − 0.3 = 5.1', False)
    """
    if key not in TARGETS:
        return None
    labels, met = [], True
    for op, bound in target_bounds(key):
        if not isinstance(bound, tuple):
            label = f"{bound:g}"
        else:
            factor, other, offset = (*bound, 0.0)[:3]
            shift = f" {'+' if offset > 0 else '−'} {abs(offset):g}" if offset else ""
            if not metrics or other not in metrics:  # the baseline was not measured: nothing shows the target met
                labels.append(f"{'≥' if op == '>=' else '≤'} {factor:g} × `{other}`{shift} (not measured)")
                met = False
                continue
            bound = factor * metrics[other] + offset
            label = f"{factor:g} × `{other}`{shift} = {bound:.4g}"
        met = met and bool(value >= bound if op == ">=" else value <= bound)
        labels.append(f"{'≥' if op == '>=' else '≤'} {label}")
    return "; ".join(labels), met


def comparison_table(rows, metrics: dict) -> str:
    """A notebook's closing table: each measured result next to its baseline and target, in Markdown.

    Parameters
    ----------
    rows : sequence of tuple
        ``(model, measure, value, baseline, key)``: ``value`` and ``baseline`` as text; ``key`` names the
        metric in ``metrics`` whose target (:data:`TARGETS`) fills the last two columns, or is None.
    metrics : dict
        The run's metrics (:attr:`Results.metrics`).

    Returns
    -------
    str
        Columns model · measure · this run · baseline · target · met?; a missed target shows as **no**.
    """
    table = ["| model | measure | this run | baseline | target | met? |", "|---|---|---|---|---|---|"]
    for model, measure, value, baseline, key in rows:
        label, met = (check_target(key, metrics[key], metrics) if key in metrics else None) or ("", None)
        table.append(f"| {model} | {measure} | {value} | {baseline} | {label} | "
                     f"{'' if met is None else ('yes' if met else '**no**')} |")
    return "\n".join(table)


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
