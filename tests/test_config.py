"""Run mode, build folders and model saving."""
from __future__ import annotations

import os

import numpy as np
import pytest

from course_utils import config, saving


def test_pick_follows_the_mode(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    assert config.fast_mode() and config.mode() == "fast" and config.pick(30, 2) == 2
    monkeypatch.setenv("COURSE_FAST", "0")
    assert not config.fast_mode() and config.mode() == "full" and config.pick(30, 2) == 30


def test_fast_runs_build_apart_from_full_runs(monkeypatch):
    monkeypatch.delenv("COURSE_BUILD_DIR")
    monkeypatch.setenv("COURSE_FAST", "0")
    assert config.build_root() == config.PROJECT_ROOT / "build"
    monkeypatch.setenv("COURSE_FAST", "1")
    assert config.build_root() == config.PROJECT_ROOT / "build" / "fast"
    assert config.build_root(fast=False) == config.PROJECT_ROOT / "build"


def test_build_dir_variable_wins_in_both_modes(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_BUILD_DIR", str(tmp_path / "elsewhere"))
    for fast in ("0", "1"):
        monkeypatch.setenv("COURSE_FAST", fast)
        folder = config.build_dir("models")
        assert folder == tmp_path / "elsewhere" / "models" and folder.is_dir()


def _tiny_model():
    import keras

    inputs = keras.Input((3,))
    return keras.Model(inputs, keras.layers.Dense(2)(inputs))


def test_save_model_replaces_atomically_and_round_trips_metadata():
    model = _tiny_model()
    path = saving.save_model(model, "tiny", {"class_names": ["a", "b"]})
    first = path.read_bytes()
    model.layers[-1].kernel.assign(np.ones((3, 2), np.float32))
    assert saving.save_model(model, "tiny", {"class_names": ["a", "b"]}) == path
    assert path.read_bytes() != first
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny.json", "tiny.keras"]  # no temporary left
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as readable as any file the user writes
    loaded, meta = saving.load_model("tiny", "notebook 99")
    assert meta == {"class_names": ["a", "b"]}
    x = np.arange(3, dtype=np.float32)[None]
    np.testing.assert_allclose(loaded.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-6)


def test_save_model_failure_keeps_the_old_file_and_leaves_no_temporary():
    path = saving.save_model(_tiny_model(), "tiny")
    before = path.read_bytes()

    class Broken:
        def save(self, filepath):
            with open(filepath, "wb") as f:
                f.write(b"half")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        saving.save_model(Broken(), "tiny")
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["tiny.keras"]


def test_load_model_names_the_file_and_the_notebook_that_writes_it():
    with pytest.raises(FileNotFoundError, match=r"nothing\.keras.*run notebook 07"):
        saving.load_model("nothing", "notebook 07")


def test_float16_weights_round_trip_atomically_and_check_the_architecture(tmp_path):
    import keras

    model = _tiny_model()
    path = saving.save_weights(model, tmp_path / "sub" / "tiny.npz")
    assert path.is_file() and sorted(os.listdir(path.parent)) == ["tiny.npz"]
    assert saving.read_config(path) is None  # no temporary file left behind
    copy = _tiny_model()
    assert saving.load_weights(copy, path) is None
    for a, b in zip(model.get_weights(), copy.get_weights()):
        assert b.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)  # float16 precision
    inputs = keras.Input((3,))
    other = keras.Model(inputs, keras.layers.Dense(5)(inputs))  # another architecture
    with pytest.raises(ValueError, match="tiny.npz"):
        saving.load_weights(other, path)
    with pytest.raises(FileNotFoundError):
        saving.load_weights(copy, tmp_path / "missing.npz")


def test_weights_with_their_config_round_trip_in_both_formats(tmp_path):
    for name in ("tiny.npz", "tiny.weights.h5"):
        model = _tiny_model()
        path = saving.save_weights(model, tmp_path / name, config={"units": 4})
        assert saving.read_config(path) == {"units": 4}
        copy = _tiny_model()
        assert saving.load_weights(copy, path) == {"units": 4}
        np.testing.assert_allclose(model.get_weights()[0], copy.get_weights()[0], rtol=1e-3, atol=1e-4)
    assert sorted(os.listdir(tmp_path)) == ["tiny.json", "tiny.npz", "tiny.weights.h5"]
    with pytest.raises(ValueError, match="suffix|end in"):
        saving.save_weights(_tiny_model(), tmp_path / "tiny.bin")
    with pytest.raises(TypeError):
        saving.save_weights(_tiny_model(), tmp_path / "bad.npz", config={"x": object()})
    assert not (tmp_path / "bad.npz").exists() and not (tmp_path / "bad.json").exists()


def test_the_shared_modules_import_without_keras_or_tensorflow():
    import subprocess
    import sys

    shared = ["course_utils", "course_utils.config", "course_utils.data", "course_utils.audio", "course_utils.images",
              "course_utils.metrics", "course_utils.saving", "course_utils.evaluation", "course_utils.training",
              "course_utils.results", "course_utils.exercises", "course_utils.plots", "course_utils.bitstream",
              "course_utils.compression", "course_utils.digit_features", "course_utils.models"]
    code = (f"import importlib, sys\nfor m in {shared!r}: importlib.import_module(m)\n"
            "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def _train_photo_classifier_once():
    from course_utils import processing

    config.set_seed(7, deterministic=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (24, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(24) % 2
    model, history, _ = processing.train_image_classifier(images, labels, 2, epochs=2, batch_size=8, seed=7,
                                                          verbose=0)
    return [w.copy() for w in model.get_weights()], history["loss"]


def test_a_deterministic_seed_gives_identical_weights_twice():
    """config.set_seed(deterministic=True) (fast mode's default): one training run twice, bit for bit the same."""
    (weights_a, loss_a), (weights_b, loss_b) = _train_photo_classifier_once(), _train_photo_classifier_once()
    assert loss_a == loss_b
    assert len(weights_a) == len(weights_b) > 0
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_array_equal(a, b)
    config.set_seed(0, deterministic=False)


def test_the_photo_classifier_depends_on_its_seed_not_on_what_ran_before():
    import keras

    from course_utils import processing

    config.set_seed(7, deterministic=True)
    images = np.random.default_rng(0).integers(0, 256, (16, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(16) % 2
    first = processing.train_image_classifier(images, labels, 2, epochs=1, batch_size=8, seed=3, verbose=0)[0]
    keras.random.normal((10,)), np.random.rand(), keras.layers.Dense(4).build((None, 3))  # other random draws
    second = processing.train_image_classifier(images, labels, 2, epochs=1, batch_size=8, seed=3, verbose=0)[0]
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)
    config.set_seed(0, deterministic=False)


def test_determinism_follows_the_mode(monkeypatch):
    # TensorFlow exports enable/disable_op_determinism but not the query; it lives beside them.
    from tensorflow.python.framework.config import is_op_determinism_enabled

    monkeypatch.setenv("COURSE_FAST", "1")
    config.set_seed(0)
    assert is_op_determinism_enabled()
    monkeypatch.setenv("COURSE_FAST", "0")
    config.set_seed(0)
    assert not is_op_determinism_enabled()
