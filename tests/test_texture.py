"""Texture features (course_utils.texture): the log-Gabor bank, its statistics, textons, LBP and the
texture classifier, on small synthetic photos whose answer is known (stripes vs blotches)."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import texture
from course_utils.images import ImageError


def striped(side, period, angle, phase=0.0):
    """Grey-level stripes of ``period`` pixels across direction ``angle`` (radians), values in [0, 1]."""
    y, x = np.mgrid[:side, :side]
    return 0.5 + 0.5 * np.sin(2 * np.pi * (x * np.cos(angle) + y * np.sin(angle)) / period + phase)


def blotches(side, rng):
    """Smooth random blotches: white noise blurred, no dominant orientation, values in [0, 1]."""
    from scipy.ndimage import gaussian_filter

    g = gaussian_filter(rng.normal(size=(side, side)), 3)
    return (g - g.min()) / (g.max() - g.min())


def as_photos(grays):
    return np.repeat((np.stack(grays)[..., None] * 255).round().astype(np.uint8), 3, axis=-1)


def test_log_gabor_bank_is_zero_at_dc_and_tuned_to_its_scale_and_orientation():
    bank = texture.log_gabor_bank(64)
    assert bank.shape == (5, 8, 64, 64) and bank.dtype == np.float32
    assert np.all(bank[:, :, 0, 0] == 0)
    # stripes varying along x with 0.125 cycles/pixel (period 8): scale 1, orientation 0 responds most
    energy = texture.gabor_energy(striped(64, 8, 0.0), bank)
    assert energy.shape == (5, 8, 64, 64)
    assert np.unravel_index(np.argmax(energy.mean(axis=(2, 3))), (5, 8)) == (1, 0)
    # the same stripes turned by 90°: orientation 4 (π/2)
    turned = texture.gabor_energy(striped(64, 8, np.pi / 2), bank)
    assert np.unravel_index(np.argmax(turned.mean(axis=(2, 3))), (5, 8)) == (1, 4)


def test_gabor_statistics_see_stripes_as_dominant_and_are_rotation_normalised():
    bank = texture.log_gabor_bank(64)
    rng = np.random.default_rng(0)
    stats_0 = texture.gabor_statistics(texture.gabor_energy(striped(64, 8, 0.0), bank))
    stats_90 = texture.gabor_statistics(texture.gabor_energy(striped(64, 8, np.pi / 2), bank))
    noise = texture.gabor_statistics(texture.gabor_energy(blotches(64, rng), bank))
    assert stats_0.shape == (210,) and stats_0.dtype == np.float64
    rotated = slice(120, 160)  # per scale, the mean energies with the strongest orientation first
    np.testing.assert_allclose(stats_0[rotated], stats_90[rotated], rtol=1e-3, atol=1e-5)
    dominance_median = slice(160 + 4 * 1 + 1, 160 + 4 * 1 + 2)  # scale 1, median orientation dominance
    assert stats_0[dominance_median][0] > 0.4 > 0.3 > noise[dominance_median][0]  # 1/8 would be no preference


def test_texton_descriptors_are_one_row_per_block_and_rotation_normalised():
    bank = texture.log_gabor_bank(64)
    d0 = texture.texton_descriptors(texture.gabor_energy(striped(64, 8, 0.0), bank))
    d90 = texture.texton_descriptors(texture.gabor_energy(striped(64, 8, np.pi / 2), bank))
    assert d0.shape == (64, 40) and d0.dtype == np.float32
    np.testing.assert_allclose(np.median(d0, axis=0), np.median(d90, axis=0), atol=0.05)
    with pytest.raises(ValueError, match="64×64"):
        texture.gabor_energy(np.zeros((32, 32)), bank)
    with pytest.raises(ValueError, match="multiple of block"):
        texture.texton_descriptors(np.zeros((5, 8, 60, 64), np.float32))


def test_lbp_histograms_are_nine_normalised_histograms():
    h = texture.lbp_histograms(blotches(64, np.random.default_rng(1)))
    assert h.shape == (162,)
    sizes = [p + 2 for _ in range(3) for p, _ in texture.LBP_SETTINGS]
    np.testing.assert_allclose([part.sum() for part in np.split(h, np.cumsum(sizes)[:-1])], 1.0)


def photo_set(n_per_class, seed):
    rng = np.random.default_rng(seed)
    stripes = [striped(64, rng.uniform(5, 9), rng.uniform(0, np.pi), rng.uniform(0, 6)) for _ in range(n_per_class)]
    blots = [blotches(64, rng) for _ in range(n_per_class)]
    return as_photos(stripes + blots), np.repeat([0, 1], n_per_class)


def test_texture_features_fit_learns_textons_and_transform_repeats_fit_transform():
    photos, _ = photo_set(4, seed=2)
    features = texture.TextureFeatures(n_textons=8, samples_per_photo=20, seed=0, progress=False)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        features.transform(photos)
    fitted = features.fit_transform(photos)
    assert fitted.shape == (8, 8 + 372)
    np.testing.assert_allclose(features.transform(photos), fitted)
    np.testing.assert_allclose((fitted[:, :8] ** 2).sum(axis=1), 1.0)  # square-rooted texton shares
    with pytest.raises(ValueError, match="64×32"):
        features.transform(photos[:, :, :32])
    with pytest.raises(ValueError, match="square"):
        texture.TextureFeatures(n_textons=8, samples_per_photo=20, progress=False).fit(photos[:, :, :32])
    with pytest.raises(ValueError, match="64-pixel"):
        features.transform(photos[:, :32, :32])
    with pytest.raises(ImageError):
        features.transform(photos[..., 0])
    with pytest.raises(ValueError, match="textons"):
        texture.TextureFeatures(n_textons=500, samples_per_photo=20, progress=False).fit(photos)


def test_texture_classifier_tells_stripes_from_blotches_on_new_photos():
    train, train_labels = photo_set(10, seed=3)
    test, test_labels = photo_set(10, seed=4)
    model = texture.TextureClassifier(n_textons=8, n_vocabularies=2, seed=0, progress=False).fit(train, train_labels)
    probs = model.predict_proba(test)
    assert probs.shape == (20, 2) and np.allclose(probs.sum(axis=1), 1.0)
    assert np.mean(model.predict(test) == test_labels) == 1.0
    # two vocabularies (k-means seeded 0 and 1) share one filtering pass; the answer is their mean
    (f0, lr0), (f1, lr1) = model.members_
    assert (f0.seed, f1.seed) == (0, 1) and not np.allclose(f0.kmeans_.cluster_centers_, f1.kmeans_.cluster_centers_)
    np.testing.assert_allclose(probs, (lr0.predict_proba(f0.transform(test))
                                       + lr1.predict_proba(f1.transform(test))) / 2)
    with pytest.raises(ValueError, match="64-pixel"):
        model.predict_proba(test[:, :32, :32])
    # member 0 is TextureFeatures with the classifier's seed; the estimator clones like any scikit-learn one
    alone = texture.TextureFeatures(n_textons=8, seed=0, progress=False).fit(train)
    np.testing.assert_allclose(f0.kmeans_.cluster_centers_, alone.kmeans_.cluster_centers_)
    from sklearn.base import clone

    assert clone(model).get_params() == model.get_params() and not hasattr(clone(model), "members_")
    assert model.classes_.tolist() == [0, 1]
    with pytest.raises(ValueError, match="at least 5"):
        texture.TextureClassifier(n_textons=8, progress=False).fit(train[:12], train_labels[:12])
    with pytest.raises(ValueError, match="labels"):
        texture.TextureClassifier(n_textons=8, progress=False).fit(train, train_labels[:3])
    with pytest.raises(ValueError, match="n_vocabularies"):
        texture.TextureClassifier(n_textons=8, n_vocabularies=0, progress=False).fit(train, train_labels)


def test_texture_features_from_descriptors_repeat_fit_and_transform():
    photos, _ = photo_set(4, seed=2)
    described = texture.describe_photos(photos, progress=False)
    assert described.side == 64 and described.local.shape == (8, 64, 40) and described.pooled.shape == (8, 372)
    a = texture.TextureFeatures(n_textons=8, samples_per_photo=20, seed=0, progress=False)
    b = texture.TextureFeatures(n_textons=8, samples_per_photo=20, seed=0, progress=False)
    np.testing.assert_allclose(a.fit_descriptors(described), b.fit_transform(photos))
    np.testing.assert_allclose(a.transform_descriptors(described), b.transform(photos))
    with pytest.raises(ValueError, match="64-pixel"):
        a.transform_descriptors(texture.describe_photos(photos[:, :32, :32], progress=False))
