"""course_utils — the models, data and preprocessing code behind the course notebooks.

The map of every module, what it holds and the notebook that teaches it, is ``course_utils/README.md``.
In short:

* :mod:`course_utils.models` — one file per neural network, the paper named at its top (imports Keras);
* the lessons' pipelines and public functions on raw input — :mod:`~course_utils.processing`,
  :mod:`~course_utils.texture` (01);
  :mod:`~course_utils.compression`, :mod:`~course_utils.bitstream`, :mod:`~course_utils.image_codec`,
  :mod:`~course_utils.vae`, :mod:`~course_utils.speech_codec` (02); :mod:`~course_utils.voice_conversion`,
  :mod:`~course_utils.face_swap` (03); :mod:`~course_utils.digit_features`, :mod:`~course_utils.recognition`,
  :mod:`~course_utils.digit_strings` (04); :mod:`~course_utils.cyclegan`, :mod:`~course_utils.text`,
  :mod:`~course_utils.alignment`, :mod:`~course_utils.tts`, :mod:`~course_utils.tacotron_tts` (05);
* shared jobs, written once — :mod:`~course_utils.config` (fast/full mode, seeds, build folders),
  :mod:`~course_utils.audio`, :mod:`~course_utils.images`, :mod:`~course_utils.metrics`,
  :mod:`~course_utils.data` (registry, verified downloads, loaders, :mod:`~course_utils.data.fallback`
  stand-ins), :mod:`~course_utils.saving`, :mod:`~course_utils.training`, :mod:`~course_utils.evaluation`,
  :mod:`~course_utils.exercises`, :mod:`~course_utils.results`, :mod:`~course_utils.plots`.

Importing the package, or any shared module, does not import Keras or TensorFlow.
"""
import os as _os
import warnings as _warnings

# Quieter TensorFlow start-up in notebooks (its INFO lines say nothing a learner needs); set before TF loads.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# tqdm warns in Jupyter when ipywidgets is absent, and then falls back to text bars, which is fine.
_warnings.filterwarnings("ignore", message="IProgress not found")

__version__ = "0.1.0"
