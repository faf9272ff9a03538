"""Notebook 01's photo-domain evaluation (processing.py): accuracy per pair of domains, the confusion matrix,
test-time augmentation and the colour-histogram baseline, on small synthetic arrays."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import processing
from course_utils.images import ImageError

NAMES = ["horse", "zebra", "summer", "winter"]


def test_domain_pairs_come_from_the_data_sets_in_class_order():
    assert processing.domain_pairs(NAMES) == {"horse_zebra": (0, 1), "summer_winter": (2, 3)}
    assert processing.domain_pairs(["winter", "horse", "summer"]) == {"summer_winter": (2, 0)}
    assert processing.domain_pairs(["cat", "dog"]) == {}


def test_restricted_prediction_picks_the_larger_of_the_pair():
    # row 0: "summer" is the overall argmax, but zebra > horse; row 1: horse > zebra
    probs = np.array([[0.1, 0.2, 0.6, 0.1],
                      [0.3, 0.1, 0.1, 0.5]])
    np.testing.assert_array_equal(processing.restricted_prediction(probs, (0, 1)), [1, 0])
    np.testing.assert_array_equal(processing.restricted_prediction(probs, (2, 3)), [2, 3])


def test_evaluate_photo_domains_counts_all_classes_and_each_pair():
    labels = np.array([0, 1, 2, 3])
    probs = np.array([[0.4, 0.1, 0.5, 0.0],   # horse, taken for summer, but horse > zebra
                      [0.1, 0.9, 0.0, 0.0],   # zebra, right
                      [0.0, 0.0, 0.3, 0.7],   # summer, taken for winter (also within the pair)
                      [0.0, 0.0, 0.1, 0.9]])  # winter, right
    out = processing.evaluate_photo_domains(probs, labels, NAMES)
    assert out["accuracy"] == 0.5
    assert out["pair_accuracy"] == {"horse_zebra": 1.0, "summer_winter": 0.5}
    np.testing.assert_array_equal(out["pred"], [2, 1, 3, 3])
    expected = np.zeros((4, 4), np.int64)
    expected[0, 2] = expected[1, 1] = expected[2, 3] = expected[3, 3] = 1
    np.testing.assert_array_equal(out["confusion"], expected)  # rows: true class
    np.testing.assert_array_equal(out["pair_confusion"]["horse_zebra"], [[1, 0], [0, 1]])
    np.testing.assert_array_equal(out["pair_confusion"]["summer_winter"], [[0, 1], [0, 1]])
    # a pair without test photos is left out rather than reported as 0 or NaN
    assert processing.evaluate_photo_domains(probs[:2], labels[:2], NAMES)["pair_accuracy"] == {"horse_zebra": 1.0}


def test_evaluate_photo_domains_rejects_mismatched_input():
    probs = np.full((3, 4), 0.25)
    with pytest.raises(ValueError, match="probs"):
        processing.evaluate_photo_domains(probs[:, :3], [0, 1, 2], NAMES)
    with pytest.raises(ValueError, match="labels of length"):
        processing.evaluate_photo_domains(probs, [0, 1], NAMES)
    with pytest.raises(ValueError, match="class indices 0–3"):
        processing.evaluate_photo_domains(probs, [0, 1, 4], NAMES)


class LeftRightJudge:
    """A stand-in classifier that is not mirror-symmetric: class 0 when the left half is brighter."""

    def predict(self, x, batch_size=None, verbose=0):
        left = x[:, :, : x.shape[2] // 2].mean(axis=(1, 2, 3)) > x[:, :, x.shape[2] // 2:].mean(axis=(1, 2, 3))
        return np.stack([left, ~left], axis=1).astype(np.float32)


def test_predict_photos_averages_each_photo_with_its_mirror_image():
    photo = np.zeros((1, 8, 8, 3), np.uint8)
    photo[:, :, :4] = 255  # bright on the left
    judge = LeftRightJudge()
    np.testing.assert_array_equal(processing.predict_photos(judge, photo), [[1, 0]])
    np.testing.assert_array_equal(processing.predict_photos(judge, photo, flip=True), [[0.5, 0.5]])
    with pytest.raises(ImageError, match="uint8"):
        processing.predict_photos(judge, photo.astype(np.float32))


def coloured_photos(n, rgb, seed):
    """``n`` noisy 16×16 photos around one colour (0–255 per channel)."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(rgb, 30, (n, 16, 16, 3)), 0, 255).astype(np.uint8)


def test_colour_histograms_are_normalised_and_the_baseline_separates_two_colours():
    green, white = (60, 140, 50), (230, 235, 240)  # a summer meadow against snow
    hist = processing.colour_histograms(coloured_photos(3, green, 0), bins=3)
    assert hist.shape == (3, 27)
    np.testing.assert_allclose(hist.sum(axis=1), 1.0)
    train = np.concatenate([coloured_photos(20, green, 1), coloured_photos(20, white, 2)])
    test = np.concatenate([coloured_photos(10, green, 3), coloured_photos(10, white, 4)])
    labels = np.repeat([0, 1], 20)
    baseline = processing.train_colour_histogram_baseline(train, labels)
    out = processing.evaluate_photo_domains(baseline.predict_proba(test), np.repeat([0, 1], 10), ["summer", "winter"])
    assert out["accuracy"] == 1.0 and out["pair_accuracy"] == {"summer_winter": 1.0}
