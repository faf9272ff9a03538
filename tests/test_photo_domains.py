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


def stripes(period, size=64, vertical=True, phase=0):
    """A black-and-white stripe photo (a zebra's coat, crudely), uint8 (size, size, 3)."""
    line = ((np.arange(size) + phase) // period % 2 * 255).astype(np.uint8)
    img = np.broadcast_to(line[None, :] if vertical else line[:, None], (size, size))
    return np.repeat(img[..., None], 3, axis=2).copy()


def test_least_similar_keeps_the_least_similar_share_of_each_class_mirror_images_included():
    rng = np.random.default_rng(0)
    noise = lambda: rng.uniform(0, 255, (8, 8, 3))  # noqa: E731
    train = np.stack([noise(), noise()])

    def mix(k, alpha):  # correlation with training photo k about alpha / sqrt(alpha² + (1 - alpha)²)
        return np.clip(alpha * train[k] + (1 - alpha) * noise(), 0, 255)

    #                    class 0: ~0.999, ~0.92     class 1: ~0.77, ~0.39, ~0.24
    test = np.stack([mix(0, 0.95), mix(0, 0.7), mix(1, 0.55), mix(1, 0.3), mix(1, 0.2)]).astype(np.uint8)
    labels = np.array([0, 0, 1, 1, 1])
    keep, similarity = processing.least_similar(test, labels, train.astype(np.uint8), side=8)
    assert np.all(np.diff(similarity[:2]) < 0) and np.all(np.diff(similarity[2:]) < 0)
    # per class, not overall: class 0 keeps a photo more similar than the one class 1 drops;
    # half of 3 rounds up to 2, half of 2 is 1
    np.testing.assert_array_equal(keep, [False, True, False, True, True])
    assert similarity[1] > similarity[2]
    assert processing.least_similar(test, labels, train.astype(np.uint8), fraction=1.0, side=8)[0].all()
    # a training photo's mirror image is no new photo
    mirrored = train[:1, :, ::-1].astype(np.uint8)
    _, similarity = processing.least_similar(mirrored, [0], train.astype(np.uint8), side=8)
    assert similarity[0] > 0.99
    with pytest.raises(ValueError, match="fraction"):
        processing.least_similar(test, labels, train.astype(np.uint8), fraction=0)
    with pytest.raises(ValueError, match="test_labels"):
        processing.least_similar(test, labels[:2], train.astype(np.uint8))


def test_harder_photo_tests_are_made_from_the_files_at_the_training_size(tmp_path):
    from PIL import Image

    files = []
    for i, period in enumerate((2, 3, 16, 32)):
        files.append(tmp_path / f"photo{i}.jpg")
        Image.fromarray(stripes(period, size=256)).save(files[-1], quality=95)
    labels = np.array([0, 0, 1, 1])
    train = np.stack([stripes(4), stripes(8)])
    tests = processing.harder_photo_tests(files, labels, train)
    assert set(tests) == {"far", "thumbnail", "zoom"}
    images, far_labels = tests["far"]
    assert images.shape == (2, 64, 64, 3) and images.dtype == np.uint8 and sorted(far_labels) == [0, 1]
    thumbs, zooms = tests["thumbnail"][0], tests["zoom"][0]
    assert thumbs.shape == zooms.shape == (4, 64, 64, 3)
    # 2-pixel stripes do not survive a 32-pixel thumbnail; 32-pixel stripes do
    assert thumbs[0].std() < 40 < thumbs[3].std()
    # the zoom enlarges: 16-pixel stripes at 256 px become 6.4 px at 64 px instead of 4 (a 1.6× wider period)
    row = zooms[2, 32, :, 0] > 127
    assert 5 <= np.mean(np.diff(np.flatnonzero(np.diff(row.astype(int))))) <= 8
    with pytest.raises(ValueError, match="test_labels"):
        processing.harder_photo_tests(files, labels[:3], train)
    with pytest.raises(FileNotFoundError):
        processing.harder_photo_tests([tmp_path / "missing.jpg"], labels[:1], train)
    with pytest.raises(ValueError, match="empty"):
        processing.harder_photo_tests([], [], train)
    with pytest.raises(ValueError, match="square"):
        processing.harder_photo_tests(files, labels, train[:, :, :32])


def test_photo_robustness_scores_every_classifier_on_every_test():
    judge = LeftRightJudge()
    left = np.zeros((2, 8, 8, 3), np.uint8)
    left[:, :, :4] = 255
    tests = {"holdout": (left, np.array([0, 0])), "mirrored": (left[:, :, ::-1].copy(), np.array([0, 0]))}
    scores, table = processing.photo_robustness(
        {"judge": lambda x: processing.predict_photos(judge, x)}, tests, ["left", "right"])
    assert scores["judge"]["holdout"]["accuracy"] == 1.0 and scores["judge"]["mirrored"]["accuracy"] == 0.0
    assert "| judge | holdout | 2 | 1.000 |" in table and "| judge | mirrored | 2 | 0.000 |" in table


def test_web_thumbnail_and_center_zoom_check_their_arguments():
    from PIL import Image

    from course_utils.images import center_zoom, web_thumbnail

    img = Image.fromarray(stripes(4))
    assert web_thumbnail(img, 48).size == (48, 48) and center_zoom(img, (40, 30)).size == (40, 30)
    grey = img.convert("L")
    assert web_thumbnail(grey, 16).mode == center_zoom(grey, 16).mode == "RGB"
    with pytest.raises(ValueError, match="small"):
        web_thumbnail(img, 48, small=4)
    with pytest.raises(ValueError, match="quality"):
        web_thumbnail(img, 48, quality=0)
    with pytest.raises(ValueError, match="fraction"):
        center_zoom(img, 48, fraction=1.5)


def test_combine_probabilities_product_and_sum_rules():
    a = np.array([[0.9, 0.1], [0.5, 0.5]])
    b = np.array([[0.6, 0.4], [0.0, 1.0]])
    np.testing.assert_allclose(processing.combine_probabilities([a, b], "sum"), [[0.75, 0.25], [0.25, 0.75]])
    product = processing.combine_probabilities([a, b])
    geometric = np.sqrt([0.9 * 0.6, 0.1 * 0.4])
    np.testing.assert_allclose(product[0], geometric / geometric.sum())
    np.testing.assert_allclose(product[1], [0.0, 1.0], atol=1e-5)  # a member that rules a class out vetoes it
    np.testing.assert_allclose(processing.combine_probabilities([a]), a)
    with pytest.raises(ValueError, match="same shape"):
        processing.combine_probabilities([a, b[:1]])
    with pytest.raises(ValueError, match="rule"):
        processing.combine_probabilities([a, b], "max")


def test_photo_robustness_combines_ensembles_from_each_members_single_run():
    calls = []

    def member(p):
        def predict(x):
            calls.append(p)
            return np.tile(p, (len(x), 1))
        return predict

    photos, labels = np.zeros((3, 8, 8, 3), np.uint8), np.array([0, 0, 0])
    classifiers = {"sure": member([0.9, 0.1]), "unsure": member([0.4, 0.6])}
    scores, table = processing.photo_robustness(classifiers, {"t": (photos, labels)}, ["left", "right"],
                                                ensembles={"both": (["sure", "unsure"], "sum")})
    assert len(calls) == 2  # the ensemble reuses its members' probabilities
    assert scores["unsure"]["t"]["accuracy"] == 0.0 and scores["both"]["t"]["accuracy"] == 1.0
    assert "| both | t | 3 | 1.000 |" in table
    with pytest.raises(KeyError, match="missing"):
        processing.photo_robustness(classifiers, {"t": (photos, labels)}, ["left", "right"],
                                    ensembles={"bad": (["sure", "missing"], "sum")})
    # an ensemble may combine an ensemble listed before it, still from the members' single run
    calls.clear()
    nested, _ = processing.photo_robustness(classifiers, {"t": (photos, labels)}, ["left", "right"],
                                            ensembles={"both": (["sure", "unsure"], "sum"),
                                                       "both and unsure": (["both", "unsure"], "sum")})
    assert len(calls) == 2
    assert nested["both and unsure"]["t"]["accuracy"] == 1.0  # (0.65 + 0.4) / 2 = 0.525 for "left"; unsure alone: 0
    with pytest.raises(KeyError, match="later"):
        processing.photo_robustness(classifiers, {"t": (photos, labels)}, ["left", "right"],
                                    ensembles={"first": (["sure", "later"], "sum"),
                                               "later": (["sure", "unsure"], "sum")})
    with pytest.raises(ValueError, match="earlier ensemble"):
        processing.photo_robustness(classifiers, {"t": (photos, labels)}, ["left", "right"],
                                    ensembles={"sure": (["sure", "unsure"], "sum")})


def test_resize_photos_resizes_a_batch_and_leaves_the_right_size_alone():
    from course_utils.images import resize_photos

    batch = np.zeros((2, 16, 16, 3), np.uint8)
    batch[:, :, 8:] = 255
    small = resize_photos(batch, 4)
    assert small.shape == (2, 4, 4, 3) and small.dtype == np.uint8
    assert small[:, :, :2].max() < 40 and small[:, :, 2:].min() > 215
    assert resize_photos(batch, 16) is batch
    with pytest.raises(ImageError):
        resize_photos(np.zeros((2, 16, 16), np.uint8), 4)
