"""One place for the course's run mode, random seeds and folders.

Fast mode (``COURSE_FAST=1``) shrinks data sets and epochs so that every notebook
runs in CI within minutes; it changes sizes, never code paths.  Everything that
differs between the modes goes through :func:`pick`.

Environment variables
---------------------
COURSE_FAST
    ``1``/``true``/``yes`` selects fast mode; anything else (or unset) is full mode.
COURSE_SEED
    Integer seed used by :func:`set_seed` (default 1234).
COURSE_BUILD_DIR
    Where executed notebooks, figures, audio, saved models and results go
    (default ``<project>/build`` in full mode, ``<project>/build/fast`` in fast
    mode, so a CI run never replaces the models a full run trained).
"""
from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SEED = 1234


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def fast_mode() -> bool:
    """Return True when the course runs in fast (CI) mode (``COURSE_FAST=1``)."""
    return _truthy(os.environ.get("COURSE_FAST"))


def mode() -> str:
    """Return ``"fast"`` or ``"full"``."""
    return "fast" if fast_mode() else "full"


def pick(full, fast):
    """Return ``full`` in full mode and ``fast`` in fast mode.

    Use it for sizes only (epochs, number of files, image size), so both modes
    run the same code.

    Examples
    --------
    >>> epochs = pick(full=30, fast=1)
    """
    return fast if fast_mode() else full


def build_root(fast: bool | None = None) -> Path:
    """Return the build directory of a mode (not created).

    Parameters
    ----------
    fast : bool, optional
        The mode; default: the current one (:func:`fast_mode`).

    Returns
    -------
    pathlib.Path
        ``$COURSE_BUILD_DIR`` if set; otherwise ``<project>/build`` in full mode and
        ``<project>/build/fast`` in fast mode. Fast runs (``make test``) thus keep their
        2-epoch models, figures and results apart from the ones ``make course`` made,
        which notebooks load later (e.g. notebook 05's judge, ``recognize``'s model).
    """
    if os.environ.get("COURSE_BUILD_DIR"):
        return Path(os.environ["COURSE_BUILD_DIR"])
    fast = fast_mode() if fast is None else fast
    return PROJECT_ROOT / "build" / "fast" if fast else PROJECT_ROOT / "build"


def build_dir(*parts: str) -> Path:
    """Return (and create) a folder under the build directory.

    Parameters
    ----------
    *parts : str
        Sub-folders, e.g. ``build_dir("models")``.

    Returns
    -------
    pathlib.Path
        ``<build root>/<parts>``, the root from :func:`build_root`.
    """
    path = build_root().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def set_seed(seed: int | None = None, deterministic: bool | None = None) -> int:
    """Seed Python, NumPy and Keras/TensorFlow so runs are repeatable.

    Parameters
    ----------
    seed : int, optional
        Defaults to ``$COURSE_SEED`` or 1234.
    deterministic : bool, optional
        Also make TensorFlow's ops deterministic
        (``tf.config.experimental.enable_op_determinism``: ops without a
        deterministic kernel raise instead of running, and ``tf.data`` keeps its
        order). Default: on in fast mode, so two fast runs of a notebook give
        identical numbers and ``benchmarks/fast_results.py --check`` can tell a
        regression from noise; off in full mode, where it would cost speed.

    Returns
    -------
    int
        The seed used.

    Notes
    -----
    Without ``deterministic`` the multi-threaded CPU kernels can change the last
    digits of a training run (measured: best LOSO 0.750 then 0.763 with the same
    seed); the course reports measured numbers, not bit-exact ones.
    Follows Keras' ``keras.utils.set_random_seed`` and TensorFlow's
    "Reproducibility" guide (``enable_op_determinism``).
    """
    if seed is None:
        seed = int(os.environ.get("COURSE_SEED", DEFAULT_SEED))
    if deterministic is None:
        deterministic = fast_mode()
    random.seed(seed)
    np.random.seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    try:
        import keras

        keras.utils.set_random_seed(seed)
    except ImportError:  # pragma: no cover - keras is a hard dependency of the notebooks
        return seed
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        # TensorFlow exports only enable_op_determinism; the query and the way back live beside it.
        from tensorflow.python.framework import config as tf_config

        if deterministic:
            tf.config.experimental.enable_op_determinism()
        elif tf_config.is_op_determinism_enabled():
            tf_config.disable_op_determinism()
    return seed
