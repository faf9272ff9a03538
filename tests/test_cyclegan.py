"""Notebook 05, part 1: CycleGAN (course_utils.models.cyclegan, course_utils.cyclegan).

Tiny models and generated inputs keep them fast; the shipped weights are loaded once each.
Training steps run eagerly (direct ``train_step`` calls), so no graph is traced.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

keras = pytest.importorskip("keras")

from course_utils import cyclegan, metrics  # noqa: E402
from course_utils.models import cyclegan as cg  # noqa: E402

TINY_GAN = dict(image_size=16, gen_filters=4, res_blocks=1, disc_filters=4)


def test_generator_and_patchgan_shapes():
    gen = cg.build_generator(32, filters=4, res_blocks=2)
    disc = cg.build_discriminator(32, filters=4)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    y = np.asarray(gen(x))
    assert y.shape == (2, 32, 32, 3) and np.all(np.abs(y) <= 1)
    assert disc(x).shape == (2, 4, 4, 1)  # one score per patch
    with pytest.raises(ValueError, match="multiple of 4"):
        cg.build_generator(30)


def test_cyclegan_train_step_updates_and_fills_history_buffer():
    model = cg.build_cyclegan(pool_size=3, **TINY_GAN)
    model.compile(*[keras.optimizers.Adam(2e-4, beta_1=0.5) for _ in range(4)])
    rng = np.random.default_rng(0)
    a, b = (rng.uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32) for _ in range(2))
    before = [w.copy() for w in model.gen_a2b.get_weights()]
    for _ in range(2):
        logs = model.train_step((a, b))
    assert all(np.isfinite(float(v)) for v in logs.values())
    assert set(logs) == {"g_a2b", "g_b2a", "d_a", "d_b", "cycle_l1"}
    assert any(not np.allclose(x, y) for x, y in zip(before, model.gen_a2b.get_weights()))
    assert int(model.pool_count.numpy()) == 3  # capped at the pool size
    assert np.abs(model.pool_a.numpy()).sum() > 0


def test_linear_decay_schedule():
    sched = cg.LinearDecay(1.0, total_steps=10, decay_start=5)
    assert [round(float(sched(s)), 3) for s in (0, 5, 7, 10, 12)] == [1.0, 1.0, 0.6, 0.0, 0.0]


def test_train_cyclegan_rejects_bad_images():
    good = np.zeros((2, 16, 16, 3), np.uint8)
    with pytest.raises(ValueError, match="uint8"):
        cyclegan.train_cyclegan(good.astype(np.float32), good)
    with pytest.raises(ValueError, match="sizes differ"):
        cyclegan.train_cyclegan(good, np.zeros((2, 20, 20, 3), np.uint8))


def test_shipped_cyclegan_weights_translate_any_image():
    gens = cyclegan.load_generators(("horse", "zebra"))
    size = gens["config"]["image_size"]
    rng = np.random.default_rng(1)
    grey = Image.fromarray(rng.integers(0, 256, (50, 90), dtype=np.uint8), mode="L")  # odd size, greyscale
    for image, direction in ((grey, "horse2zebra"), (grey.convert("RGBA"), "b2a"),
                             (rng.uniform(0, 1, (70, 40, 3)), "a2b")):
        out = cyclegan.translate(image, direction, generators=gens)
        assert out.shape == (size, size, 3) and out.dtype == np.uint8
    with pytest.raises(ValueError, match="unknown direction"):
        cyclegan.translate(grey, "cat2dog", generators=gens)
    with pytest.raises(ValueError, match="image array"):
        cyclegan.translate(np.zeros((4, 4, 7), np.uint8), "a2b", generators=gens)
    with pytest.raises(ValueError, match="uint8 0–255"):
        cyclegan.translate(np.full((8, 8, 3), 300.0), "a2b", generators=gens)


def test_shipped_summer_winter_generators_load_and_translate():
    gens = cyclegan.load_generators(("summer", "winter"))
    assert tuple(gens["config"]["pair"]) == ("summer", "winter")
    photo = np.random.default_rng(2).integers(0, 256, (100, 80, 3), dtype=np.uint8)
    size = gens["config"]["image_size"]
    for direction in ("summer2winter", "winter2summer"):
        out = cyclegan.translate(photo, direction, pair=("summer", "winter"), generators=gens)
        assert out.shape == (size, size, 3) and out.dtype == np.uint8


def test_metrics():
    x = np.full((2, 8, 8, 3), 100, np.uint8)
    assert abs(metrics.psnr(x, x + 10, reduction="mean") - 20 * np.log10(255 / 10)) < 1e-6

    class Fixed:  # a stand-in classifier: always "class 2", then "class 1"
        input_shape = (None, 8, 8, 3)

        def predict(self, x, verbose=0):
            return np.tile([0.1, 0.3, 0.6], (len(x), 1))

    assert cyclegan.target_domain_rate(Fixed(), x, target=2) == 1.0
    assert cyclegan.target_domain_rate(Fixed(), x, target=1, among=[0, 1]) == 1.0


def test_evaluate_pair_scores_translations_round_trips_and_real_photos():
    class Brightness:  # a stand-in judge over 3 classes: dark photos are class 0, bright ones class 2
        input_shape = (None, 8, 8, 3)

        def predict(self, x, verbose=0):
            bright = (x.mean(axis=(1, 2, 3)) > 127.5).astype(np.float32)
            return np.stack([1 - bright, np.full_like(bright, 0.5), bright], axis=1)

    dark, bright = np.full((3, 8, 8, 3), 20, np.uint8), np.full((2, 8, 8, 3), 230, np.uint8)
    generators = {"a2b": lambda x, training=False: -x,  # inverts the photo: dark becomes bright
                  "b2a": lambda x, training=False: x}  # leaves it as it is
    out = cyclegan.evaluate_pair(generators, dark, bright, Brightness(), classes=(0, 2))
    assert out["rate"] == {"a2b": 1.0, "b2a": 0.0}
    assert out["real_rate"] == {"a": 1.0, "b": 1.0}
    assert np.all(out["translated"]["a2b"] == 235) and np.all(out["reconstructed"]["a2b"] == 235)
    assert np.all(out["translated"]["b2a"] == 230) and np.all(out["reconstructed"]["b2a"] == 25)
    expected = np.mean([20 * np.log10(255 / 215), 20 * np.log10(255 / 205)])
    assert abs(out["cycle_psnr_db"] - expected) < 1e-6



def test_save_generators_round_trips_and_a_failed_save_keeps_the_old_files(tmp_path):
    model = cg.build_cyclegan(pool_size=1, **TINY_GAN)
    config = dict(pair=["horse", "zebra"], image_size=16, gen_filters=4, res_blocks=1)
    paths = cyclegan.save_generators(model, config, folder=tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(p.name for p in paths.values())
    gens = cyclegan.load_generators(("horse", "zebra"), folder=tmp_path)
    x = np.random.default_rng(0).uniform(-1, 1, (1, 16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(gens["a2b"](x)), np.asarray(model.gen_a2b(x)), atol=1e-6)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken(filepath):
        with open(filepath, "wb") as f:
            f.write(b"half")
        raise OSError("disk full")

    model.gen_a2b.get_layer(index=-1).kernel.assign(np.zeros_like(model.gen_a2b.get_layer(index=-1).kernel))
    model.gen_b2a.save_weights = broken
    with pytest.raises(OSError, match="disk full"):
        cyclegan.save_generators(model, dict(config, epochs=99), folder=tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # a2b and config untouched, no temporary
