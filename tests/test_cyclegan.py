"""Notebook 05, part 1: CycleGAN (course_utils.models.cyclegan, course_utils.cyclegan) and the colour-transfer baseline.

Tiny models, generated inputs and stand-in judges keep them fast; the shipped weights are loaded once each.
Training steps run eagerly (direct ``train_step`` calls), so no graph is traced.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage.color import rgb2lab

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
    # the middle class never wins here, so restricting the decision to the pair changes nothing
    assert out["rate_unrestricted"] == out["rate"] and out["real_rate_unrestricted"] == out["real_rate"]


class ThreeBands:
    """A stand-in judge over 3 classes by mean brightness: dark (class 0), grey (1), bright (2).

    The score of a class falls with the distance of the photo's mean from the class's centre.
    """

    input_shape = (None, 8, 8, 3)
    centres = np.array([40.0, 128.0, 215.0])

    def predict(self, x, verbose=0):
        return -np.abs(np.asarray(x).mean(axis=(1, 2, 3))[:, None] - self.centres)


def _noisy(level, n, size=8, spread=12.0, seed=0):
    """uint8 photos of mean ``level`` with Gaussian pixel noise (so every channel has a spread)."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(level, spread, (n, size, size, 3)), 0, 255).astype(np.uint8)


def _smooth_photos(rgb, n, spread, seed):
    """uint8 photos of a given mean colour with smooth, in-gamut colour variation (random-walk fields)."""
    rng = np.random.default_rng(seed)
    field = rng.normal(0, 1, (n, 24, 24, 3)).cumsum(axis=1).cumsum(axis=2)
    field = (field - field.mean(axis=(1, 2), keepdims=True)) / field.std(axis=(1, 2), keepdims=True)
    return np.clip(np.round(np.asarray(rgb) + spread * field), 0, 255).astype(np.uint8)


def test_colour_transfer_moves_each_photos_lab_mean_and_std_to_the_reference():
    source = _smooth_photos((150, 110, 70), n=3, spread=18, seed=1)  # brownish
    reference = _smooth_photos((110, 120, 140), n=5, spread=12, seed=2)  # bluish grey, another size below
    reference = np.concatenate([reference, reference[:, ::-1]])[:, :20, :16]
    target_mean, target_std = cyclegan.lab_statistics(reference)
    lab_ref = rgb2lab(reference).reshape(-1, 3)
    np.testing.assert_allclose(target_mean, lab_ref.mean(axis=0))
    np.testing.assert_allclose(target_std, lab_ref.std(axis=0))

    out = cyclegan.colour_transfer(source, reference)
    assert out.shape == source.shape and out.dtype == np.uint8
    lab = rgb2lab(out)
    before = np.abs(rgb2lab(source).mean(axis=(1, 2)) - target_mean).max()
    assert before > 10  # the source really had other colours
    np.testing.assert_allclose(lab.mean(axis=(1, 2)), np.tile(target_mean, (3, 1)), atol=0.5)  # 8-bit rounding
    np.testing.assert_allclose(lab.std(axis=(1, 2)), np.tile(target_std, (3, 1)), rtol=0.05, atol=0.3)

    one = cyclegan.colour_transfer(source[0], reference[0])  # one photo to one photo (Reinhard's own use)
    assert one.shape == source[0].shape and one.dtype == np.uint8
    np.testing.assert_allclose(rgb2lab(one).mean(axis=(0, 1)), cyclegan.lab_statistics(reference[0])[0], atol=0.5)
    same = cyclegan.colour_transfer(source[:1], source[0])  # a photo's own statistics: unchanged (±1 rounding)
    assert np.abs(same.astype(int) - source[:1]).max() <= 1

    flat = np.full((1, 4, 4, 3), 90, np.uint8)  # zero spread: the reference's mean colour, no division by zero
    recoloured = cyclegan.colour_transfer(flat, reference)
    assert len(np.unique(recoloured.reshape(-1, 3), axis=0)) == 1
    np.testing.assert_allclose(rgb2lab(recoloured)[0, 0, 0], target_mean, atol=0.6)

    extreme = cyclegan.colour_transfer(source, _noisy(250, 2, spread=60))  # far outside sRGB: clipped, no warning
    assert extreme.dtype == np.uint8 and extreme.shape == source.shape


@pytest.mark.parametrize("images, reference, match", [
    (np.zeros((2, 8, 8, 3), np.float32), np.zeros((2, 8, 8, 3), np.uint8), "images: expected uint8"),
    (np.zeros((2, 8, 8, 4), np.uint8), np.zeros((2, 8, 8, 3), np.uint8), "images: expected uint8"),
    (np.zeros((0, 8, 8, 3), np.uint8), np.zeros((2, 8, 8, 3), np.uint8), "images: expected uint8"),
    (np.zeros((8, 8), np.uint8), np.zeros((2, 8, 8, 3), np.uint8), "images: expected uint8"),
    (np.zeros((2, 8, 8, 3), np.uint8), np.zeros((2, 8, 8, 3), np.int64), "reference: expected uint8"),
    (np.zeros((2, 8, 8, 3), np.uint8), [], "reference: expected uint8"),
])
def test_colour_transfer_rejects_bad_input(images, reference, match):
    with pytest.raises(ValueError, match=match):
        cyclegan.colour_transfer(images, reference)


def test_score_translator_scores_any_translator_with_the_same_judge():
    dark, bright = _noisy(35, 4, seed=1), _noisy(220, 3, seed=2)
    judge, classes = ThreeBands(), (0, 2)
    colour = cyclegan.colour_transfer_translators(_noisy(30, 5, seed=3), _noisy(225, 5, seed=4))  # training photos
    out = cyclegan.score_translator(colour, dark, bright, judge, classes)
    assert out["rate"] == {"a2b": 1.0, "b2a": 1.0} and out["rate_unrestricted"] == out["rate"]
    assert out["translated"]["a2b"].shape == dark.shape and out["translated"]["a2b"].mean() > 200

    unchanged = {"a2b": lambda x: x, "b2a": lambda x: x}
    out = cyclegan.score_translator(unchanged, dark, bright, judge, classes)
    assert out["rate"] == {"a2b": 0.0, "b2a": 0.0}

    # greyish photos: restricted to the pair (dark vs bright) they count as the nearer one, unrestricted as "grey"
    greyish = {"a2b": lambda x: np.full_like(x, 140), "b2a": lambda x: np.full_like(x, 100)}
    out = cyclegan.score_translator(greyish, dark, bright, judge, classes)
    assert out["rate"] == {"a2b": 1.0, "b2a": 1.0}
    assert out["rate_unrestricted"] == {"a2b": 0.0, "b2a": 0.0}


def test_score_translator_rejects_bad_input():
    photos, judge = _noisy(100, 2), ThreeBands()
    same = {"a2b": lambda x: x, "b2a": lambda x: x}
    with pytest.raises(ValueError, match="translators: missing direction"):
        cyclegan.score_translator({"a2b": same["a2b"]}, photos, photos, judge, (0, 2))
    with pytest.raises(ValueError, match="classes: expected two different"):
        cyclegan.score_translator(same, photos, photos, judge, (2, 2))
    with pytest.raises(ValueError, match="images_b: expected uint8"):
        cyclegan.score_translator(same, photos, photos / 255.0, judge, (0, 2))
    with pytest.raises(ValueError, match=r"translators\['a2b'\]: expected uint8"):
        cyclegan.score_translator({"a2b": lambda x: x / 255.0, "b2a": same["b2a"]}, photos, photos, judge, (0, 2))
    with pytest.raises(ValueError, match=r"translators\['b2a'\]: expected uint8 photos \(2"):
        cyclegan.score_translator({"a2b": same["a2b"], "b2a": lambda x: x[:1]}, photos, photos, judge, (0, 2))
    with pytest.raises(ValueError, match="images_b: expected uint8"):
        cyclegan.colour_transfer_translators(photos, photos[..., 0])



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
