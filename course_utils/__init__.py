"""course_utils — the models, data and preprocessing code behind the course notebooks.

Modules, one per concern:

* :mod:`course_utils.config` — fast/full mode, seeds, build folders
* :mod:`course_utils.data` — data registry, verified downloads, mirror, cache, loaders
* :mod:`course_utils.fallback` — generated stand-ins used only without real data
* :mod:`course_utils.audio` — audio loading, trimming, log-mel spectrograms, MFCCs
* :mod:`course_utils.images` — Pillow loading (EXIF, modes), resizing, tf.data pipeline
* :mod:`course_utils.processing` — topic 1's CNN and LSTM, and their public functions
* :mod:`course_utils.results` — measured metrics and timings of a run
* :mod:`course_utils.exercises` — exercises with automatic checks
* :mod:`course_utils.plots` — figures and audio written under ``build/``
"""
import os as _os
import warnings as _warnings

# Quieter TensorFlow start-up in notebooks (its INFO lines say nothing a learner needs); set before TF loads.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# tqdm warns in Jupyter when ipywidgets is absent, and then falls back to text bars, which is fine.
_warnings.filterwarnings("ignore", message="IProgress not found")

__version__ = "0.1.0"
