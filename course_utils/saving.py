"""Trained models: one atomic save and one load for every notebook, and the shipped weights' format.

A notebook saves what it trained as ``<build>/models/<name>.keras`` (plus an optional
``<name>.json`` of metadata such as class names); later notebooks and the public
functions on raw input (``processing.classify_image``, ``recognition.recognize``…)
load it from there. Files are written under a temporary name and moved into place,
so a reader never sees a half-written model, even while another run is saving one.

The weights shipped in ``course_utils/weights`` (codecs, VAE, WaveNet, TTS) are float16 arrays
written by :func:`save_weights_f16` and read by :func:`load_weights_f16`, atomically too.
Every writer goes through :func:`replacing`.
"""
from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path

import numpy as np

from .config import build_dir


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


def save_weights_f16(model, path) -> Path:
    """Save a Keras model's weights as float16 arrays (``np.savez_compressed``), atomically.

    Half the size of float32; the shipped models' outputs change by far less than their
    own quantisation or sampling noise. The file is written under a temporary name and
    moved into place, so a training run stopped mid-checkpoint leaves the previous file intact.

    Parameters
    ----------
    model : keras.Model
    path : path
        The ``.npz`` file to write (its folder is created).

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    with replacing(path, ".npz") as tmp:
        np.savez_compressed(tmp, *[np.asarray(w, np.float16) for w in model.get_weights()])
    return path


def load_weights_f16(model, path) -> None:
    """Load weights written by :func:`save_weights_f16` into a model of the same architecture (as float32).

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        The file's arrays do not match the model's weights (another architecture); the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    with np.load(path) as f:
        arrays = [f[f"arr_{i}"] for i in range(len(f.files))]
    expected = [w.shape for w in model.get_weights()]
    if [a.shape for a in arrays] != expected:
        raise ValueError(f"{path}: {len(arrays)} arrays do not match the model's {len(expected)} weights")
    model.set_weights([a.astype(np.float32) for a in arrays])
