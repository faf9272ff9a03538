"""Trained models: the only weights folder, and one save/load pair for each of the two kinds of file.

* **Models a notebook trains** are saved whole as ``<build>/models/<name>.keras`` (plus an optional
  ``<name>.json`` of metadata such as class names) by :func:`save_model`; later notebooks and the
  public functions on raw input (``processing.classify_image``, ``recognition.recognize``…) read
  them with :func:`load_model`.
* **Shipped weights** in :data:`WEIGHTS_DIR` (``course_utils/weights``: codecs, VAE, WaveNet, TTS,
  CycleGAN) are written by :func:`save_weights` and read by :func:`load_weights` into a model the
  caller built: float16 arrays in an ``.npz`` file, or Keras' own ``.weights.h5``, with the model's
  configuration as JSON beside them.

Files are written under a temporary name and moved into place (:func:`replacing`), so a reader
never sees a half-written file, even while another run is saving one.
"""
from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path

import numpy as np

from .config import build_dir

#: The shipped weights (package data): the only weights folder of the course.
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


@contextlib.contextmanager
def replacing(path, suffix: str):
    """Write a file atomically: yield a temporary path beside ``path``, then move it into place.

    The caller writes to the yielded path (``suffix`` keeps writers that insist on an extension happy,
    e.g. ``".keras"``, ``".weights.h5"``, ``".npz"``). When the ``with`` block ends without an error,
    :func:`os.replace` moves it onto ``path`` (atomic on one file system); on an error the temporary
    file is removed and ``path`` keeps its old content. Nest two blocks to replace two files only
    when both were written.

    Parameters
    ----------
    path : path
        The file to (re)place; its folder is created.
    suffix : str
        The temporary file's extension.

    Yields
    ------
    pathlib.Path
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def save_model(model, name: str, meta: dict | None = None) -> Path:
    """Save a Keras model as ``<build>/models/<name>.keras`` (and ``meta`` as ``<name>.json``), atomically.

    Parameters
    ----------
    model : keras.Model
    name : str
        File stem, e.g. ``"photo_domains_cnn"``.
    meta : dict, optional
        JSON-serialisable metadata (e.g. ``{"class_names": [...]}``), written next to the model.

    Returns
    -------
    pathlib.Path
        The ``.keras`` file written.

    Raises
    ------
    TypeError
        ``meta`` is not JSON-serialisable (nothing is replaced then).
    """
    folder = build_dir("models")
    path = folder / f"{name}.keras"
    meta_text = json.dumps(meta) if meta is not None else None
    with replacing(path, ".keras") as tmp:
        model.save(tmp)  # creates the file, so the user's umask applies
    if meta_text is not None:
        with replacing(folder / f"{name}.json", ".json") as tmp:
            tmp.write_text(meta_text)
    return path


def load_model(name: str, writer: str, compile: bool = True):
    """Load ``<build>/models/<name>.keras`` and its metadata.

    Custom layers must be registered first (importing the module that defines them does it).

    Parameters
    ----------
    name : str
        File stem given to :func:`save_model`.
    writer : str
        The notebook that saves this model, named in the error, e.g. ``"notebook 01"``.
    compile : bool
        Restore the optimizer and loss too (False for inference only).

    Returns
    -------
    model : keras.Model
    meta : dict or None
        The metadata saved with it, if any.

    Raises
    ------
    FileNotFoundError
        No such model: the message names the file and the notebook that writes it.
    """
    import keras

    folder = build_dir("models")
    path = folder / f"{name}.keras"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no trained model '{name}' — run {writer} (or `make course`) first")
    meta_path = folder / f"{name}.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else None
    return keras.models.load_model(path, compile=compile), meta


def _config_path(path: Path) -> Path:
    name = path.name
    for suffix in (".weights.h5", ".npz"):
        if name.endswith(suffix):
            return path.with_name(name[: -len(suffix)] + ".json")
    raise ValueError(f"{path}: weights files end in .npz (float16 arrays) or .weights.h5 (Keras)")


def save_weights(model, path, config: dict | None = None) -> Path:
    """Save a Keras model's weights (and its configuration) atomically.

    Parameters
    ----------
    model : keras.Model
        A built model.
    path : path
        ``<stem>.npz``: every weight as a float16 array (``np.savez_compressed``, in
        ``model.get_weights()`` order) — half the size of float32, and the shipped models'
        outputs change by far less than their own quantisation or sampling noise;
        ``<stem>.weights.h5``: Keras' own format (float32, by layer).
    config : dict, optional
        JSON-serialisable settings needed to rebuild the model (hyperparameters, training
        information), written as ``<stem>.json``. Both files are replaced only once both are
        written, so a run stopped mid-checkpoint leaves the previous pair intact.

    Returns
    -------
    pathlib.Path
        The weights file.

    Raises
    ------
    ValueError
        ``path`` has neither suffix.
    TypeError
        ``config`` is not JSON-serialisable (nothing is replaced then).
    """
    path = Path(path)
    config_path = _config_path(path)
    text = json.dumps(config, indent=1) if config is not None else None
    suffix = ".npz" if path.name.endswith(".npz") else ".weights.h5"
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(replacing(path, suffix))
        if text is not None:
            tmp_config = stack.enter_context(replacing(config_path, ".json"))
            tmp_config.write_text(text)
        if suffix == ".npz":
            np.savez_compressed(tmp, *[np.asarray(w, np.float16) for w in model.get_weights()])
        else:
            model.save_weights(tmp)
    return path


def read_config(path) -> dict | None:
    """The JSON configuration saved beside a weights file by :func:`save_weights` (None if there is none).

    Only the configuration file ``<stem>.json`` is read; the weights file itself need not exist.

    Parameters
    ----------
    path : str or path
        The weights file, ``<stem>.npz`` or ``<stem>.weights.h5``.

    Returns
    -------
    dict or None
        The settings written as ``config`` by :func:`save_weights` (hyperparameters, training
        information), or None when there is no ``<stem>.json``.

    Raises
    ------
    ValueError
        ``path`` ends in neither ``.npz`` nor ``.weights.h5``.
    """
    config_path = _config_path(Path(path))
    return json.loads(config_path.read_text()) if config_path.is_file() else None


def load_weights(model, path) -> dict | None:
    """Load weights written by :func:`save_weights` into a model of the same architecture.

    Parameters
    ----------
    model : keras.Model
        Built with the same architecture (e.g. from :func:`read_config`'s settings).
    path : path
        The ``.npz`` or ``.weights.h5`` file; float16 arrays are loaded as float32.

    Returns
    -------
    dict or None
        The configuration saved beside the weights, if any.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        The file's arrays do not match the model's weights (another architecture); the message names the file.
        Also when ``path`` ends in neither ``.npz`` nor ``.weights.h5``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such weights file")
    if path.name.endswith(".npz"):
        with np.load(path) as f:
            arrays = [f[f"arr_{i}"] for i in range(len(f.files))]
        expected = [w.shape for w in model.get_weights()]
        if [a.shape for a in arrays] != expected:
            raise ValueError(f"{path}: {len(arrays)} arrays do not match the model's {len(expected)} weights")
        model.set_weights([a.astype(np.float32) for a in arrays])
    else:
        _config_path(path)  # checks the suffix: ValueError unless .weights.h5
        model.load_weights(path)
    return read_config(path)
