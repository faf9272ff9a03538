"""Notebook 01's pipelines: a CNN photo-domain classifier and an LSTM on MFCC sequences.

The models are :mod:`course_utils.models.image_cnn` and :mod:`course_utils.models.digit_lstm`; this
module holds what surrounds them, the keras-io way: the MFCC front end, training with ``model.fit``,
leave-one-speaker-out evaluation (:func:`course_utils.evaluation.leave_one_speaker_out`), the photo
classifier's evaluation over all domains and per pair (:func:`evaluate_photo_domains`, with test-time
augmentation in :func:`predict_photos`, harder tests in :func:`photo_robustness`) next to its classical
baselines, colour histograms (:func:`train_colour_histogram_baseline`) and texture features
(:mod:`course_utils.texture`), classifiers combined (:func:`combine_probabilities`), saving with class
names, and the public functions on raw input (:func:`classify_image`, :func:`recognize_digit`) that let
anyone try a trained model on their own files.

References
----------
* CNN: a VGG-style stack (Simonyan & Zisserman 2015, "Very Deep Convolutional
  Networks") with batch normalisation (Ioffe & Szegedy 2015) and global
  average pooling (Lin et al. 2014, "Network in Network").
* LSTM: Hochreiter & Schmidhuber 1997; MFCC front end as in Davis &
  Mermelstein 1980, with Δ/ΔΔ (Furui 1986) and per-utterance CMVN.
* Speed perturbation: Ko et al. 2015, "Audio augmentation for speech recognition".
* Colour histograms as image features: Swain & Ballard 1991, "Color Indexing".
* Combining classifiers (product and sum rules): Kittler, Hatef, Duin & Matas 1998, "On combining classifiers".
"""
from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np

from . import config, evaluation, saving
from .audio import check_waveform, mfcc, normalize_features, peak_normalize, trim_silence
from .images import center_zoom, check_rgb, image_dataset, load_image, resize_center_crop, resize_photos, web_thumbnail
from .models.digit_lstm import build_mfcc_lstm
from .models.image_cnn import build_image_cnn
from .training import LengthSortedBatches, pad_batch

#: FSDD front end: 8 kHz, 32 ms window (256 samples), 10 ms hop (80 samples), 40 mel bands, 13 MFCCs + Δ + ΔΔ.
DIGIT_SAMPLE_RATE = 8000
MFCC_PARAMS = dict(n_mfcc=13, n_fft=256, hop_length=80, n_mels=40)
MAX_FRAMES = 150  # 1.5 s at a 10 ms hop; longer clips are cropped to their centre


# ----------------------------------------------------------------------------- images


def train_image_classifier(images: np.ndarray, labels: np.ndarray, n_classes: int, epochs: int = 30,
                           batch_size: int = 32, learning_rate: float = 2e-3, seed: int = 0, verbose: int = 2):
    """Train :func:`~course_utils.models.image_cnn.build_image_cnn` on uint8 images (augmented; AdamW, cosine decay).

    Parameters
    ----------
    images : np.ndarray, uint8, shape (n, size, size, 3)
    labels : np.ndarray, int, shape (n,)
    n_classes : int
    epochs, batch_size : int
    learning_rate : float
        Peak learning rate of the cosine schedule.
    seed : int
        Reseeds Python's ``random``, NumPy's and TensorFlow's global generators
        (``keras.utils.set_random_seed``) before the initial weights, dropout, augmentation and shuffling are
        drawn: the same seed gives the same model whatever ran before (bit for bit with op determinism on,
        :func:`course_utils.config.set_seed`).
    verbose : int
        Keras ``fit`` verbosity.

    Returns
    -------
    model : keras.Model
    history : dict
        Per-epoch ``loss`` and ``accuracy`` on the training batches.
    seconds : float
        Training wall time.
    """
    keras.utils.set_random_seed(seed)
    pixels = np.asarray(images, np.float32)
    model = build_image_cnn(images.shape[1], n_classes, mean=pixels.mean(axis=(0, 1, 2)),
                            variance=pixels.var(axis=(0, 1, 2)))
    steps = epochs * int(np.ceil(len(images) / batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps, alpha=0.02)
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=1e-4),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(image_dataset(images, labels, batch_size, training=True, seed=seed), epochs=epochs,
                        shuffle=False, verbose=verbose)  # the tf.data pipeline shuffles
    return model, history.history, time.perf_counter() - start


def classify_image(image, model=None, class_names=None) -> tuple[str, dict]:
    """Classify one photo with a trained photo-domain model.

    Parameters
    ----------
    image : PIL.Image.Image, str or pathlib.Path
        Any mode or size: it is converted to RGB, EXIF-rotated and
        centre-cropped to the model's input size (:func:`course_utils.images.load_image`).
    model : keras.Model, optional
        From :func:`train_image_classifier`; by default the model notebook 01
        saved as ``build/models/photo_domains_cnn.keras`` (with its class names).
    class_names : sequence of str, optional
        Required when ``model`` is given.

    Returns
    -------
    name : str
        The most probable class.
    probabilities : dict
        Class name -> probability.

    Raises
    ------
    FileNotFoundError, course_utils.images.ImageError
        As :func:`course_utils.images.load_image`.
    """
    if model is None:
        model, class_names = load_trained("photo_domains_cnn")
    elif class_names is None:
        raise ValueError("class_names is required with an explicit model")
    size = model.input_shape[1]
    x = np.asarray(load_image(image, size=size), np.float32)[None]
    probs = model.predict(x, verbose=0)[0]
    return class_names[int(np.argmax(probs))], {c: float(p) for c, p in zip(class_names, probs)}


def predict_photos(model, images: np.ndarray, flip: bool = False, batch_size: int = 32) -> np.ndarray:
    """Class probabilities of a photo-domain classifier, optionally with test-time augmentation.

    Parameters
    ----------
    model : keras.Model
        From :func:`train_image_classifier` (takes float32 pixels 0–255 of its input size).
    images : np.ndarray, uint8, shape (n, size, size, 3)
    flip : bool
        Test-time augmentation: average the probabilities of each photo and of its mirror image
        (left–right flip, as in training's :func:`course_utils.images.augmentation`).
    batch_size : int

    Returns
    -------
    np.ndarray, float32, shape (n, n_classes)
        Each row sums to 1.

    Raises
    ------
    course_utils.images.ImageError
        Not a uint8 batch of RGB photos.
    """
    x = np.asarray(check_rgb(images, "images", batch=True), np.float32)
    probs = model.predict(x, batch_size=batch_size, verbose=0)
    if flip:
        probs = (probs + model.predict(x[:, :, ::-1], batch_size=batch_size, verbose=0)) / 2
    return probs


def domain_pairs(class_names) -> dict:
    """The translation pairs among photo domains: the two domains of one CycleGAN data set.

    Parameters
    ----------
    class_names : sequence of str
        Domain names, keys of :data:`course_utils.data.PHOTO_DOMAINS` (others are ignored).

    Returns
    -------
    dict
        ``"<a>_<b>"`` -> ``(index of a, index of b)`` in ``class_names``, e.g.
        ``{"horse_zebra": (0, 1), "summer_winter": (2, 3)}`` for the four course domains; a data set
        with only one of its domains in ``class_names`` gives no pair.
    """
    from .data import PHOTO_DOMAINS

    by_set = {}
    for domain in sorted((d for d in class_names if d in PHOTO_DOMAINS), key=lambda d: PHOTO_DOMAINS[d][1]):
        by_set.setdefault(PHOTO_DOMAINS[domain][0], []).append(domain)
    return {f"{a}_{b}": (list(class_names).index(a), list(class_names).index(b))
            for a, b in (pair for pair in by_set.values() if len(pair) == 2)}


def restricted_prediction(probs: np.ndarray, among) -> np.ndarray:
    """The most probable class when only the classes ``among`` are allowed (e.g. horse vs zebra).

    Parameters
    ----------
    probs : np.ndarray, float, shape (n, n_classes)
    among : sequence of int
        Allowed class indices.

    Returns
    -------
    np.ndarray, int64, shape (n,)
        For each row, the index (in ``0..n_classes-1``) of the largest probability among ``among``.
    """
    among = np.asarray(among, np.int64)
    return among[np.argmax(np.asarray(probs)[:, among], axis=1)]


def evaluate_photo_domains(probs: np.ndarray, labels: np.ndarray, class_names, pairs=None) -> dict:
    """Accuracy of a photo-domain classifier over all classes and within each pair of domains.

    The pair accuracy answers "horse or zebra?" on the horse and zebra photos only: the decision is
    restricted to the pair's two classes (:func:`restricted_prediction`), as when the classifier judges
    a CycleGAN (:func:`course_utils.cyclegan.target_domain_rate`).

    Parameters
    ----------
    probs : np.ndarray, float, shape (n, n_classes)
        Class scores of the test photos (:func:`predict_photos`, or any scikit-learn ``predict_proba``).
    labels : np.ndarray, int, shape (n,)
        True class indices.
    class_names : sequence of str, length n_classes
    pairs : dict, optional
        Name -> two class indices; default :func:`domain_pairs` of ``class_names``.

    Returns
    -------
    dict
        ``accuracy`` (float, argmax over all classes), ``pair_accuracy`` (pair name -> float, over the
        photos of that pair's two domains), ``confusion`` (int64 ``(n_classes, n_classes)``, rows the
        true class, columns the all-class prediction), ``pred`` (int64 ``(n,)``, that prediction) and
        ``pair_confusion`` (pair name -> int64 ``(2, 2)``, the same for the restricted decision, in the
        pair's order).

    Raises
    ------
    ValueError
        ``probs`` not ``(n, len(class_names))``, ``labels`` of another length or outside the classes.
    """
    from sklearn.metrics import confusion_matrix

    probs, labels = np.asarray(probs, np.float64), np.asarray(labels)
    n_classes = len(class_names)
    if probs.ndim != 2 or probs.shape[1] != n_classes or len(labels) != len(probs) or not len(labels):
        raise ValueError(f"probs: expected shape (n ≥ 1, {n_classes}) and labels of length n, got probs "
                         f"{probs.shape} and labels {labels.shape}")
    if labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"labels: expected class indices 0–{n_classes - 1}, got {labels.min()}–{labels.max()}")
    pairs = domain_pairs(class_names) if pairs is None else pairs
    pred = probs.argmax(axis=1)
    pair_accuracy, pair_confusion = {}, {}
    for name, among in pairs.items():
        rows = np.isin(labels, among)
        if rows.any():
            pair_pred = restricted_prediction(probs[rows], among)
            pair_accuracy[name] = float(np.mean(pair_pred == labels[rows]))
            pair_confusion[name] = confusion_matrix(labels[rows], pair_pred, labels=list(among))
    return {"accuracy": float(np.mean(pred == labels)), "pair_accuracy": pair_accuracy, "pred": pred,
            "confusion": confusion_matrix(labels, pred, labels=np.arange(n_classes)), "pair_confusion": pair_confusion}


def least_similar(test_images: np.ndarray, test_labels: np.ndarray, train_images: np.ndarray,
                  fraction: float = 0.5, side: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """The held-out photos least like any training photo: per class, the ``fraction`` with the lowest similarity.

    A random hold-out split of a photo collection keeps near-duplicates apart: the same Yosemite viewpoint
    in another season's light, the next frame of a series. A photo's similarity is the largest
    correlation of its ``side``-pixel thumbnail (each standardised over its pixels) with any training
    photo's, or that photo's mirror image. Keeping the least similar share of each class leaves real photos,
    unchanged, that the model has not seen in any near form — closer to photos from outside the collection.

    Parameters
    ----------
    test_images : np.ndarray, uint8, shape (n, height, width, 3)
    test_labels : np.ndarray, int, shape (n,)
    train_images : np.ndarray, uint8, shape (m, height', width', 3)
    fraction : float
        Share kept of each class's ``k`` test photos, in (0, 1]: ``floor(fraction · k + 0.5)`` of them
        (half rounded up), at least one.
    side : int
        Thumbnail side in pixels.

    Returns
    -------
    keep : np.ndarray, bool, shape (n,)
        True for the photos kept.
    similarity : np.ndarray, float64, shape (n,)
        Each test photo's largest correlation with a training photo or its mirror image, in [-1, 1].

    Raises
    ------
    ValueError
        ``fraction`` outside (0, 1], ``test_labels`` of another length than ``test_images``.
    course_utils.images.ImageError
        Either batch not uint8 RGB.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"least_similar: fraction must be in (0, 1], got {fraction}")
    test_images = check_rgb(test_images, "test_images", batch=True)
    train_images = check_rgb(train_images, "train_images", batch=True)
    test_labels = np.asarray(test_labels)
    if len(test_labels) != len(test_images):
        raise ValueError(f"test_labels: {len(test_labels)} labels for {len(test_images)} test images")

    def thumbnails(batch):
        t = resize_photos(batch, side).astype(np.float64)
        t -= t.mean(axis=(1, 2, 3), keepdims=True)
        return t / np.maximum(np.sqrt((t ** 2).sum(axis=(1, 2, 3), keepdims=True)), 1e-12)

    test, train = thumbnails(test_images).reshape(len(test_images), -1), thumbnails(train_images)
    similarity = np.maximum(test @ train.reshape(len(train), -1).T,
                            test @ train[:, :, ::-1].reshape(len(train), -1).T).max(axis=1)
    keep = np.zeros(len(test_images), bool)
    for k in np.unique(test_labels):
        rows = np.where(test_labels == k)[0]
        n_keep = max(1, int(np.floor(fraction * len(rows) + 0.5)))
        keep[rows[np.argsort(similarity[rows], kind="stable")[:n_keep]]] = True
    return keep, similarity


def harder_photo_tests(test_files, test_labels: np.ndarray, train_images: np.ndarray) -> dict:
    """Three harder tests built from held-out photos, for when no photos from outside the collection exist.

    ``"far"``: the half of each class least like any training photo (:func:`least_similar`), unchanged;
    ``"thumbnail"``: every held-out photo as a 32-pixel JPEG web thumbnail (:func:`course_utils.images.web_thumbnail`);
    ``"zoom"``: every held-out photo's central 62.5 % of each side (:func:`course_utils.images.center_zoom`).
    All are made from the original files at the training photos' size, so no training photo enters a test.

    Parameters
    ----------
    test_files : sequence of str or pathlib.Path
        The held-out photos' files, at least one.
    test_labels : np.ndarray, int, shape (n,)
    train_images : np.ndarray, uint8, shape (m, size, size, 3)
        The training photos, square (their size is the tests' size).

    Returns
    -------
    dict
        Test name → ``(images, labels)``: uint8 ``(k, size, size, 3)`` and int ``(k,)``.

    Raises
    ------
    FileNotFoundError, course_utils.images.ImageError
        A test file missing or undecodable (:func:`course_utils.images.load_image`).
    ValueError
        No test file, ``test_labels`` of another length than ``test_files``, training photos not square.
    """
    test_labels = np.asarray(test_labels)
    if not len(test_files):
        raise ValueError("harder_photo_tests: test_files is empty")
    if len(test_labels) != len(test_files):
        raise ValueError(f"test_labels: {len(test_labels)} labels for {len(test_files)} test files")
    train_images = check_rgb(train_images, "train_images", batch=True)
    size = train_images.shape[1]
    if train_images.shape[2] != size:
        raise ValueError(f"train_images: expected square photos, got {size}×{train_images.shape[2]} (height×width)")
    originals = [load_image(f) for f in test_files]
    held_out = np.stack([np.asarray(resize_center_crop(img, size)) for img in originals])
    far, _ = least_similar(held_out, test_labels, train_images)
    return {"far": (held_out[far], test_labels[far]),
            "thumbnail": (np.stack([np.asarray(web_thumbnail(img, size)) for img in originals]), test_labels),
            "zoom": (np.stack([np.asarray(center_zoom(img, size)) for img in originals]), test_labels)}


def combine_probabilities(probabilities, rule: str = "product") -> np.ndarray:
    """Several classifiers' class probabilities for the same photos, combined into one (Kittler et al. 1998).

    Parameters
    ----------
    probabilities : sequence of np.ndarray, float, each shape (n, n_classes)
        One array per classifier, rows summing to 1.
    rule : {"product", "sum"}
        ``"product"``: the normalised geometric mean — the Bayes rule when the classifiers' errors are
        independent given the class, so two confident members that agree reinforce each other and a
        member that rules a class out vetoes it. ``"sum"``: the arithmetic mean, more forgiving of one
        badly calibrated member.

    Returns
    -------
    np.ndarray, float64, shape (n, n_classes)
        Rows sum to 1.

    Raises
    ------
    ValueError
        No arrays, arrays of different shapes, or an unknown ``rule``.

    References
    ----------
    Kittler, Hatef, Duin & Matas 1998, "On combining classifiers", IEEE TPAMI 20(3).
    """
    probabilities = [np.asarray(p, np.float64) for p in probabilities]
    if not probabilities or any(p.ndim != 2 or p.shape != probabilities[0].shape for p in probabilities):
        raise ValueError("combine_probabilities: expected one or more arrays of the same shape (n, n_classes), got "
                         f"{[p.shape for p in probabilities]}")
    if rule == "sum":
        return np.mean(probabilities, axis=0)
    if rule != "product":
        raise ValueError(f"combine_probabilities: rule must be 'product' or 'sum', got {rule!r}")
    log_mean = np.mean(np.log(np.clip(probabilities, 1e-12, 1.0)), axis=0)
    combined = np.exp(log_mean - log_mean.max(axis=1, keepdims=True))
    return combined / combined.sum(axis=1, keepdims=True)


def photo_robustness(classifiers: dict, tests: dict, class_names, ensembles: dict | None = None) -> tuple[dict, str]:
    """Every classifier on every test set: accuracy over all domains and per pair, and a Markdown table.

    Each classifier runs once per test; an ensemble combines its members' probabilities
    (:func:`combine_probabilities`) without running them again.

    Parameters
    ----------
    classifiers : dict
        Name → function from uint8 photos ``(n, size, size, 3)`` to probabilities ``(n, n_classes)``
        (e.g. ``lambda x: predict_photos(model, x)`` or a scikit-learn ``predict_proba``).
    tests : dict
        Test name → ``(images, labels)``, e.g. the hold-out split and :func:`harder_photo_tests`.
    class_names : sequence of str
    ensembles : dict, optional
        Name → ``(members, rule)``: names of ``classifiers`` (or of ensembles listed before this one) and a
        :func:`combine_probabilities` rule.

    Returns
    -------
    scores : dict
        ``scores[classifier][test]`` = :func:`evaluate_photo_domains` of that pair, ensembles included.
    table : str
        One row per classifier and test: photos, all-domain accuracy, one column per domain pair.

    Raises
    ------
    KeyError
        An ensemble member that is neither in ``classifiers`` nor an ensemble listed before it.
    ValueError
        An ensemble named like a classifier or an earlier ensemble.
    """
    pairs = domain_pairs(class_names)
    probs = {name: {test: predict(images) for test, (images, _) in tests.items()}
             for name, predict in classifiers.items()}
    for name, (members, rule) in (ensembles or {}).items():
        missing = [m for m in members if m not in probs]
        if missing:
            raise KeyError(f"ensemble {name!r}: {missing} not among the classifiers and earlier ensembles "
                           f"{list(probs)}")
        if name in probs:
            raise ValueError(f"ensemble {name!r}: the name of a classifier or of an earlier ensemble")
        probs[name] = {test: combine_probabilities([probs[m][test] for m in members], rule) for test in tests}
    scores = {name: {test: evaluate_photo_domains(p, tests[test][1], class_names, pairs) for test, p in by_test.items()}
              for name, by_test in probs.items()}
    table = ["| classifier | test | photos | all domains | " + " | ".join(p.replace("_", " vs ") for p in pairs) + " |",
             "|---" * (4 + len(pairs)) + "|"]
    for name, by_test in scores.items():
        for test, r in by_test.items():
            table.append(f"| {name} | {test} | {len(tests[test][1])} | {r['accuracy']:.3f} | "
                         + " | ".join(f"{r['pair_accuracy'].get(p, float('nan')):.3f}" for p in pairs) + " |")
    return scores, "\n".join(table)


def colour_histograms(images: np.ndarray, bins: int = 4) -> np.ndarray:
    """Each photo's joint HSV colour histogram: the share of its pixels in each of ``bins³`` colour cells.

    Parameters
    ----------
    images : np.ndarray, uint8, shape (n, height, width, 3)
    bins : int
        Cells per channel (hue, saturation, value).

    Returns
    -------
    np.ndarray, float64, shape (n, bins**3)
        Each row sums to 1; where a pixel is in the photo plays no part.
    """
    from skimage.color import rgb2hsv

    hsv = rgb2hsv(check_rgb(images, "images", batch=True))  # each channel in [0, 1]
    cell = np.minimum((hsv * bins).astype(np.int64), bins - 1)
    index = (cell[..., 0] * bins + cell[..., 1]) * bins + cell[..., 2]
    counts = np.stack([np.bincount(row, minlength=bins ** 3) for row in index.reshape(len(images), -1)])
    return counts / index[0].size


def train_colour_histogram_baseline(images: np.ndarray, labels: np.ndarray, bins: int = 4, C: float = 1.0):
    """The classical baseline of the photo-domain CNN: logistic regression on colour histograms.

    Parameters
    ----------
    images : np.ndarray, uint8, shape (n, height, width, 3)
        The CNN's training photos.
    labels : np.ndarray, int, shape (n,)
    bins : int
        Cells per HSV channel (:func:`colour_histograms`).
    C : float
        Inverse L2 regularisation strength of the logistic regression.

    Returns
    -------
    sklearn.pipeline.Pipeline
        ``colour_histograms → StandardScaler → LogisticRegression``; its ``predict_proba`` takes uint8
        photos ``(n, height, width, 3)`` and returns ``(n, n_classes)`` probabilities.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    model = make_pipeline(FunctionTransformer(colour_histograms, kw_args={"bins": bins}), StandardScaler(),
                          LogisticRegression(C=C, max_iter=2000))
    return model.fit(images, np.asarray(labels))


# ----------------------------------------------------------------------------- spoken digits


def digit_features(waveform: np.ndarray, sample_rate: int) -> np.ndarray:
    """The digit recogniser's front end: trim silence, peak-normalise, MFCC+Δ+ΔΔ, CMVN.

    Parameters
    ----------
    waveform : np.ndarray, float, shape (n_samples,)
        Mono audio.
    sample_rate : int
        Hz; resampled to :data:`DIGIT_SAMPLE_RATE` (8 kHz) if different.

    Returns
    -------
    np.ndarray, float32, shape (n_frames, 39)
        Time-major (one row per 10 ms frame), at most :data:`MAX_FRAMES` frames.

    Raises
    ------
    course_utils.audio.AudioError
        Not one-dimensional (e.g. stereo: average the channels first), empty, non-finite or
        silent audio, or a bad sample rate (:func:`course_utils.audio.check_waveform`).
    """
    y = check_waveform(waveform, sample_rate, target_rate=DIGIT_SAMPLE_RATE)
    y = peak_normalize(trim_silence(y, top_db=30))
    feats = normalize_features(mfcc(y, DIGIT_SAMPLE_RATE, **MFCC_PARAMS), axis=1).T
    if len(feats) > MAX_FRAMES:
        start = (len(feats) - MAX_FRAMES) // 2
        feats = feats[start:start + MAX_FRAMES]
    return feats


def augment_waveform(y: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Random speed (±20 %) and gain (±6 dB) perturbation plus light noise, for speaker robustness.

    Speed perturbation follows Ko et al. 2015, "Audio augmentation for speech recognition"
    (notebook 04's augmentations, :mod:`course_utils.digit_features`, are finer grained).

    Returns
    -------
    np.ndarray, float32
    """
    import librosa

    rate = rng.uniform(0.8, 1.2)
    y = librosa.resample(y, orig_sr=sample_rate, target_sr=int(sample_rate / rate), res_type="soxr_hq")
    y = y * 10 ** (rng.uniform(-6, 6) / 20)
    return (y + rng.normal(0, 10 ** (rng.uniform(-4, -2.5)), size=y.shape)).astype(np.float32)


def digit_feature_set(waveforms, sample_rate: int, augment_copies: int = 0, seed: int = 0):
    """Features of many clips, optionally with ``augment_copies`` perturbed copies of each.

    Returns
    -------
    features : list of np.ndarray, float32, (n_frames, 39)
    source : np.ndarray, int64
        Index of the original clip each feature sequence comes from.
    """
    rng = np.random.default_rng(seed)
    feats, source = [], []
    for i, y in enumerate(waveforms):
        feats.append(digit_features(y, sample_rate))
        source.append(i)
        for _ in range(augment_copies):
            feats.append(digit_features(augment_waveform(y, sample_rate, rng), sample_rate))
            source.append(i)
    return feats, np.asarray(source, np.int64)


def train_digit_lstm(features, labels: np.ndarray, epochs: int = 25, batch_size: int = 64,
                     learning_rate: float = 3e-3, seed: int = 0, verbose: int = 0):
    """Train :func:`~course_utils.models.digit_lstm.build_mfcc_lstm` on MFCC sequences (Adam, cosine decay).

    Batches hold words of similar length, each zero-padded to its own longest
    (:class:`course_utils.training.LengthSortedBatches`): 2–3.5× faster than padding every word to the
    longest clip of the set. A batch then holds the same words every epoch (only the order of the
    batches is shuffled); on two leave-one-speaker-out folds of notebook 01 the accuracy moved by one to
    two points, one down and one up (george 0.754 → 0.734, theo 0.938 → 0.948).

    Parameters
    ----------
    features : list of np.ndarray, float32, (n_frames, n_features)
        From :func:`digit_features`.
    labels : np.ndarray, int, shape (n,)
    epochs, batch_size : int
    learning_rate : float
    seed : int
    verbose : int

    Returns
    -------
    model : keras.Model
    history : dict
    seconds : float
        Training wall time.
    """
    keras.utils.set_random_seed(seed)
    data = LengthSortedBatches(features, np.asarray(labels, np.int64), batch_size, np.random.default_rng(seed))
    model = build_mfcc_lstm(features[0].shape[-1], 10)
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(learning_rate,
                                                                                          epochs * len(data))),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(data.dataset(), epochs=epochs, shuffle=False, verbose=verbose)  # the batches shuffle themselves
    return model, history.history, time.perf_counter() - start


def predict_digits(model, features, batch_size: int = 256) -> np.ndarray:
    """Class probabilities for a list of MFCC sequences: float32 array ``(n, 10)``.

    Calls the model directly in batches (not ``model.predict``), so sequences of
    new lengths do not trigger a ``tf.function`` retrace each time.
    """
    features = list(features)
    out = [np.asarray(model(pad_batch(features[i:i + batch_size]), training=False))
           for i in range(0, len(features), batch_size)]
    return np.concatenate(out, axis=0)


def lstm_leave_one_speaker_out(digits, features, epochs: int = 15, augment_copies: int = 2, extra=None,
                               seed: int = 0, verbose: bool = True) -> dict:
    """Leave-one-speaker-out evaluation of the MFCC LSTM: for each speaker, train on the others, test on them.

    The protocol is :func:`course_utils.evaluation.leave_one_speaker_out`; each fold computes the
    (augmented) features of the other speakers' clips with :func:`digit_feature_set`, trains a fresh
    model with :func:`train_digit_lstm` and predicts the held-out speaker's clean ``features``.

    Parameters
    ----------
    digits : course_utils.data.SpokenDigits
        Real clips with ``waveforms``, ``labels``, ``speakers`` and ``sample_rate`` (Hz).
    features : list of np.ndarray, float32, (n_frames, 39)
        :func:`digit_features` of every clip (the clean test inputs).
    epochs, augment_copies : int
        As in :func:`train_digit_lstm` and :func:`digit_feature_set`.
    extra : tuple (features, labels), optional
        Extra training sequences added to every fold — e.g. synthetic speakers from
        :func:`course_utils.data.fallback.synthetic_spoken_digits`. They are never tested on.
    seed : int
    verbose : bool
        Print one line per fold.

    Returns
    -------
    dict
        As :func:`course_utils.evaluation.leave_one_speaker_out`: ``accuracy`` (speaker -> accuracy on
        that speaker's clips), ``mean``, ``worst``, ``pred`` (held-out prediction of every clip, int64
        ``(n,)``) and ``seconds`` (total training time).
    """
    extra_feats, extra_labels = ([], np.zeros(0, np.int64)) if extra is None else (list(extra[0]),
                                                                                   np.asarray(extra[1], np.int64))

    def fit_predict(held_out, test):
        train_i = np.where(~np.isin(digits.speakers, held_out))[0]
        feats, source = digit_feature_set([digits.waveforms[k] for k in train_i], digits.sample_rate,
                                          augment_copies=augment_copies, seed=seed)
        labels = np.concatenate([digits.labels[train_i][source], extra_labels])
        model, _, seconds = train_digit_lstm(list(feats) + extra_feats, labels, epochs=epochs, seed=seed)
        return predict_digits(model, [features[k] for k in test]).argmax(axis=1), seconds

    return evaluation.leave_one_speaker_out(digits.labels, digits.speakers, fit_predict, verbose=verbose,
                                            name="LSTM")


def recognize_digit(waveform: np.ndarray, sample_rate: int, model=None,
                    min_confidence: float = 0.0) -> tuple[int | None, np.ndarray]:
    """Recognise one spoken digit from a raw waveform.

    Parameters
    ----------
    waveform : np.ndarray, float, shape (n_samples,)
        Mono audio in [-1, 1]; any length up to a few seconds (longer audio is
        cropped to its central 1.5 s of speech after trimming silence).
    sample_rate : int
        Hz (resampled to 8 kHz).
    model : keras.Model, optional
        From :func:`train_digit_lstm`; by default the model notebook 01 saved
        as ``build/models/fsdd_lstm.keras``.
    min_confidence : float
        Reject the clip (``digit`` None) when the top probability is below this (0–1): a tone or
        noise spreads its probability over the ten classes. 0 never rejects.

    Returns
    -------
    digit : int or None
        0–9, or None when rejected.
    probabilities : np.ndarray, float32, shape (10,)
        The model's confidence in each digit.

    Raises
    ------
    course_utils.audio.AudioError
        As :func:`digit_features`.
    FileNotFoundError
        No ``model`` given and notebook 01 has not saved one.
    ValueError
        ``min_confidence`` outside [0, 1].
    """
    if not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must lie in [0, 1], got {min_confidence!r}")
    features = digit_features(waveform, sample_rate)
    if model is None:
        model, _ = load_trained("fsdd_lstm")
    probs = predict_digits(model, [features])[0]
    return (int(np.argmax(probs)) if probs.max() >= min_confidence else None), probs


# ----------------------------------------------------------------------------- saving


def save_trained(model, name: str, class_names) -> Path:
    """Save a trained model and its class names as ``<build>/models/<name>.keras`` + ``.json`` (atomically).

    Returns
    -------
    pathlib.Path
        The ``.keras`` file (see :func:`course_utils.saving.save_model`).
    """
    return saving.save_model(model, name, {"class_names": list(class_names)})


def load_trained(name: str):
    """Load a model saved by :func:`save_trained`.

    Returns
    -------
    model : keras.Model
    class_names : list of str

    Raises
    ------
    FileNotFoundError
        Naming the file and the notebook that writes it; also when the model's ``<name>.json``
        (its class names) is missing.
    """
    model, meta = saving.load_model(name, "notebook 01")
    if not meta or "class_names" not in meta:
        raise FileNotFoundError(f"{config.build_dir('models') / (name + '.json')}: the class names saved with model "
                                f"'{name}' are missing — run notebook 01 (or `make course`) again")
    return model, meta["class_names"]
