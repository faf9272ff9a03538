"""Notebook 05, part 1 — CycleGAN: unpaired image-to-image translation between two photo domains.

The model (generators, PatchGAN discriminators, the training step with its losses and history buffer)
is in :mod:`course_utils.models.cyclegan` (Zhu et al. 2017). Here: the data split shared with notebook
01 (:func:`holdout_split`), training (:func:`train_cyclegan`), the shipped generators
(:func:`save_generators`, :func:`load_generators`), translation (:func:`translate`), the classical
baseline it is compared with — colour transfer (Reinhard et al. 2001, :func:`colour_transfer`) — and the
evaluation by an independent judge: :func:`score_translator` scores any translator (the CycleGAN's
generators, colour transfer) with the same photos and the same judge; :func:`evaluate_pair` adds what only
the CycleGAN has (round trips, the judge on real photos).

Shipped weights (``course_utils/weights/cyclegan_horse2zebra_*.weights.h5`` and, for the
second pair, ``cyclegan_summer2winter_*``) were trained by the project's own script::

    python scripts/train_synthesis.py cyclegan   # the recipe of TRAINING: 30 epochs, batch 4, ≤ 90 min
    python scripts/train_synthesis.py cyclegan --pair summer winter

Public function on raw input: :func:`translate`.
"""
from __future__ import annotations

import functools
import json
import warnings
from pathlib import Path

import numpy as np

from . import metrics, saving, training
from .images import check_rgb, from_tanh_range, to_tanh_range
from .models.cyclegan import LinearDecay, build_cyclegan, build_generator
from .processing import restricted_prediction

#: The two directions of a pair, named after its domains; "a2b" maps domain A (first) to B.
DIRECTIONS = ("a2b", "b2a")
#: Architecture and training settings of the shipped horse↔zebra model.
DEFAULT_CONFIG = dict(pair=("horse", "zebra"), image_size=64, gen_filters=16, res_blocks=6, disc_filters=32)
#: How the shipped generators were trained — read by ``scripts/train_synthesis.py cyclegan`` (its defaults) and by
#: notebook 05's ``RETRAIN`` cell, so the two cannot drift apart: at most ``epochs`` epochs of ``batch_size``
#: photos, stopping after the epoch that passes ``minutes`` of wall time.
TRAINING = dict(epochs=30, batch_size=4, minutes=90.0)


# ----------------------------------------------------------------------------- data and training


def _check_photos(name: str, images, single: bool = False) -> np.ndarray:
    """``images`` as a uint8 array of RGB photos: :func:`course_utils.images.check_rgb` of a batch.

    Parameters
    ----------
    name : str
        The argument's name, for the message.
    images : array-like
        uint8, shape ``(n, h, w, 3)`` with ``n, h, w ≥ 1`` (also ``(h, w, 3)`` when ``single``).
    single : bool
        Accept one photo ``(h, w, 3)`` as well.

    Returns
    -------
    np.ndarray, uint8
        ``images`` itself (not copied).

    Raises
    ------
    course_utils.images.ImageError
        (a ValueError) Not uint8, not RGB, or empty; the message starts with ``name``.
    """
    return check_rgb(images, name, batch=not (single and np.ndim(images) == 3))


def holdout_split(photos, seed: int = 1234, test_size: float = 0.2):
    """The train/test split of notebook 01's photo-domain classifier, reused for the CycleGAN.

    The mirror has no ``test`` folders, so notebook 01 holds out a stratified 20 %
    of the four domains (``train_test_split(..., random_state=seed)``). Reusing the
    same split means the CycleGAN is evaluated on photos that neither it nor the
    classifier (its judge) saw in training. With official test folders, those are used.

    Parameters
    ----------
    photos : course_utils.data.PhotoDomains
        Loaded with all four domains in notebook 01's order, as notebook 01 does.
    seed : int
        Notebook 01's seed (``config.set_seed()``, 1234 by default).
    test_size : float

    Returns
    -------
    train_idx, test_idx : np.ndarray of int
    """
    from sklearn.model_selection import train_test_split

    if (photos.splits == "test").any():
        return np.where(photos.splits == "train")[0], np.where(photos.splits == "test")[0]
    return train_test_split(np.arange(len(photos)), test_size=test_size, stratify=photos.labels,
                            random_state=seed)


def train_cyclegan(images_a: np.ndarray, images_b: np.ndarray, epochs: int = 10, batch_size: int = 1,
                   learning_rate: float = 2e-4, model=None, seed: int = 0, minutes: float | None = None,
                   checkpoint=None, verbose: int = 1, **arch):
    """Train a CycleGAN on two unpaired sets of uint8 images.

    Each epoch shuffles both sets and pairs them at random (unpaired training);
    its length is that of the larger set. The learning rate stays constant for
    the first half of the epochs and decays linearly to 0 over the second half.

    Parameters
    ----------
    images_a, images_b : np.ndarray, uint8, shape (n, size, size, 3)
        Photos of domain A and B (same size, any counts).
    epochs : int
    batch_size : int
        1 in the paper; larger batches train faster per image on a CPU.
    learning_rate : float
        Adam's initial rate (2e-4, β₁ = 0.5).
    model : keras.Model, optional
        A CycleGAN to continue training (e.g. shipped weights); default: a new one
        from :func:`course_utils.models.cyclegan.build_cyclegan` with ``**arch``.
    seed : int
    minutes : float, optional
        Stop after the first epoch that ends past this wall time (the learning-rate
        schedule still assumes ``epochs``).
    checkpoint : callable, optional
        Called as ``checkpoint(model, epoch)`` after every epoch (e.g. to save weights).
    verbose : int
    **arch
        Passed to :func:`course_utils.models.cyclegan.build_cyclegan`.

    Returns
    -------
    model : keras.Model
    history : dict of list of float
        Per-epoch mean losses (``g_a2b``, ``g_b2a``, ``d_a``, ``d_b``, ``cycle_l1``).
    seconds : float

    Raises
    ------
    ValueError
        Image sets of different sizes, or not uint8 RGB.
    """
    import keras

    images_a, images_b = _check_photos("images_a", images_a), _check_photos("images_b", images_b)
    if images_a.shape[1:] != images_b.shape[1:]:
        raise ValueError(f"image sizes differ: {images_a.shape[1:]} vs {images_b.shape[1:]}")
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    if model is None:
        model = build_cyclegan(image_size=images_a.shape[1], **arch)
    steps_per_epoch = int(np.ceil(max(len(images_a), len(images_b)) / batch_size))
    total = epochs * steps_per_epoch
    optimizers = [keras.optimizers.Adam(LinearDecay(learning_rate, total, total // 2), beta_1=0.5)
                  for _ in range(4)]
    model.compile(*optimizers)
    a, b = to_tanh_range(images_a), to_tanh_range(images_b)
    n = steps_per_epoch * batch_size

    def one_epoch(epoch):
        ia = np.concatenate([rng.permutation(len(a)) for _ in range(n // len(a) + 1)])[:n]
        ib = np.concatenate([rng.permutation(len(b)) for _ in range(n // len(b) + 1)])[:n]
        return model.fit(a[ia], b[ib], batch_size=batch_size, epochs=1, shuffle=False, verbose=0).history

    history, seconds = training.fit_epochs(one_epoch, epochs, minutes=minutes, verbose=verbose,
                                           checkpoint=None if checkpoint is None else lambda e: checkpoint(model, e))
    return model, history, seconds


# ----------------------------------------------------------------------------- weights and inference


def weights_paths(pair=("horse", "zebra"), folder=None) -> dict:
    """Files of a pair's shipped generators: ``cyclegan_<a>2<b>_{a2b,b2a}.weights.h5`` and a ``.json`` config."""
    folder = Path(folder) if folder is not None else saving.WEIGHTS_DIR
    stem = f"cyclegan_{pair[0]}2{pair[1]}"
    return {"a2b": folder / f"{stem}_a2b.weights.h5", "b2a": folder / f"{stem}_b2a.weights.h5",
            "config": folder / f"{stem}.json"}


def save_generators(model, config: dict, folder=None) -> dict:
    """Save the two generators of a trained CycleGAN (:func:`course_utils.saving.save_weights`) and the pair's config.

    Parameters
    ----------
    model : keras.Model
        From :func:`course_utils.models.cyclegan.build_cyclegan` / :func:`train_cyclegan`.
    config : dict
        ``pair``, ``image_size``, ``gen_filters``, ``res_blocks`` (and anything
        else worth recording, e.g. epochs).
    folder : path, optional
        Default: :data:`course_utils.saving.WEIGHTS_DIR`.

    Returns
    -------
    dict
        The written paths (see :func:`weights_paths`). A failure while writing leaves the previous
        files as they were.

    Raises
    ------
    TypeError
        ``config`` is not JSON-serialisable.
    """
    paths = weights_paths(tuple(config["pair"]), folder)
    text = json.dumps(config, indent=1)
    # the three files are replaced only once all three are written: each is written to a temporary
    # name first (saving.replacing), and the two directions share one config
    with (saving.replacing(paths["a2b"], ".weights.h5") as a2b, saving.replacing(paths["b2a"], ".weights.h5") as b2a,
          saving.replacing(paths["config"], ".json") as cfg):
        saving.save_weights(model.gen_a2b, a2b)
        saving.save_weights(model.gen_b2a, b2a)
        cfg.write_text(text)
    return paths


_LOADED: dict = {}


def load_generators(pair=("horse", "zebra"), folder=None) -> dict:
    """Load a pair's trained generators (:func:`course_utils.saving.load_weights`).

    Returns
    -------
    dict
        ``"a2b"``, ``"b2a"``: keras.Model generators; ``"config"``: dict.

    Raises
    ------
    FileNotFoundError
        No weights for this pair (the message says how to train them).
    """
    key = (tuple(pair), str(folder))
    if key in _LOADED:
        return _LOADED[key]
    paths = weights_paths(tuple(pair), folder)
    if not paths["config"].is_file():
        raise FileNotFoundError(f"{paths['config']}: no CycleGAN weights for {pair[0]}↔{pair[1]} — train them with "
                                f"`python scripts/train_synthesis.py cyclegan`")
    config = json.loads(paths["config"].read_text())
    out = {"config": config}
    for direction in DIRECTIONS:
        gen = build_generator(config["image_size"], config["gen_filters"], config["res_blocks"], f"gen_{direction}")
        saving.load_weights(gen, paths[direction])
        out[direction] = gen
    _LOADED[key] = out
    return out


def translate_batch(generator, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """Translate uint8 images with one generator.

    Parameters
    ----------
    generator : keras.Model
    images : np.ndarray, uint8, shape (n, size, size, 3)
        ``size`` must match the generator's input.
    batch_size : int

    Returns
    -------
    np.ndarray, uint8, same shape.
    """
    x = to_tanh_range(images)
    out = [np.asarray(generator(x[i:i + batch_size], training=False)) for i in range(0, len(x), batch_size)]
    return from_tanh_range(np.concatenate(out))


def translate(image, direction: str = "a2b", pair=("horse", "zebra"), generators=None):
    """Translate one photo to the other domain of a pair (e.g. a horse into a zebra).

    Parameters
    ----------
    image : PIL.Image.Image, str, pathlib.Path or np.ndarray
        Any size and mode (greyscale, RGBA, CMYK, 16-bit, EXIF-rotated…): it is
        converted to RGB and centre-cropped to the model's square input
        (:func:`course_utils.images.load_image`). An array must be uint8 of shape
        ``(h, w)`` or ``(h, w, 3|4)``, or float in [0, 1].
    direction : {"a2b", "b2a"} or e.g. "horse2zebra"
        ``"a2b"`` maps the pair's first domain to its second.
    pair : tuple of str
        The domains of the shipped model, default ``("horse", "zebra")``.
    generators : dict, optional
        From :func:`load_generators` (default: the shipped weights).

    Returns
    -------
    np.ndarray, uint8, shape (size, size, 3)
        The translated image at the model's resolution (64×64 for the shipped model).

    Raises
    ------
    ValueError
        Unknown direction, or an array that is not an image.
    FileNotFoundError, course_utils.images.ImageError
        As :func:`course_utils.images.load_image`.
    """
    from PIL import Image

    from .images import load_image

    names = {f"{pair[0]}2{pair[1]}": "a2b", f"{pair[1]}2{pair[0]}": "b2a", "a2b": "a2b", "b2a": "b2a"}
    if direction not in names:
        raise ValueError(f"unknown direction {direction!r}; use one of {sorted(names)}")
    gens = generators if generators is not None else load_generators(pair)
    if isinstance(image, np.ndarray):
        arr = image
        if arr.dtype != np.uint8:
            if not np.issubdtype(arr.dtype, np.floating) or arr.size == 0 or arr.min() < 0 or arr.max() > 1:
                raise ValueError(f"an image array must be uint8 0–255 or float in [0, 1], got {arr.dtype}")
            arr = np.round(arr * 255).astype(np.uint8)
        if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (1, 3, 4)) or min(arr.shape[:2]) < 1:
            raise ValueError(f"expected an image array (h, w) or (h, w, 1|3|4), got shape {arr.shape}")
        image = Image.fromarray(arr[..., 0] if arr.ndim == 3 and arr.shape[-1] == 1 else arr)
    size = gens[names[direction]].input_shape[1]
    x = np.asarray(load_image(image, size=size))[None]
    return translate_batch(gens[names[direction]], x)[0]


# ----------------------------------------------------------------------------- the classical baseline


def lab_statistics(images) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each CIELAB channel, pooled over every pixel of every photo.

    Parameters
    ----------
    images : np.ndarray, uint8, shape (n, h, w, 3) or (h, w, 3)
        sRGB photos (converted with :func:`skimage.color.rgb2lab`, D65 white).

    Returns
    -------
    mean, std : np.ndarray, float64, shape (3,)
        Channels L* (lightness, 0–100), a* (green − / red +), b* (blue − / yellow +; both about −128…127).

    Raises
    ------
    ValueError
        ``images`` is not uint8 RGB.
    """
    from skimage.color import rgb2lab

    lab = rgb2lab(_check_photos("images", images, single=True)).reshape(-1, 3)
    return lab.mean(axis=0), lab.std(axis=0)


def colour_transfer(images, reference) -> np.ndarray:
    """Reinhard et al. (2001) colour transfer: give each photo the colour statistics of a reference.

    Each photo is converted to CIELAB, a decorrelated opponent-colour space (lightness, green–red,
    blue–yellow), so the three channels can be matched independently: per channel, the photo's own
    mean is subtracted, its spread scaled by ``std_reference / std_photo``, and the reference's mean
    added. Colours that land outside sRGB are clipped when converting back. Only the colour
    *distribution* moves; every edge, texture and shape of the photo stays where it was.

    Reinhard et al. worked in Ruderman's lαβ space; CIELAB (:func:`skimage.color.rgb2lab`) is the
    decorrelated space of the same kind that scikit-image provides.

    The course's choice of reference (notebook 05): **all training photos of the target domain**,
    their statistics pooled (:func:`lab_statistics`). It is the information the CycleGAN learned
    from — the whole target domain, no held-out photo — so the two are compared on equal terms, and
    it is deterministic: a single random target photo as the reference (Reinhard's own use) would make
    the rate depend on which photo was drawn (a snowy or a green winter photo, a close-up or a herd).
    One photo as ``reference`` is accepted as well.

    Parameters
    ----------
    images : np.ndarray, uint8, shape (n, h, w, 3) or (h, w, 3)
        The photos to recolour; each is matched on its own statistics.
    reference : np.ndarray, uint8, shape (m, h', w', 3) or (h', w', 3)
        Photos of the target domain (any size and count); their pooled CIELAB mean and standard
        deviation are the target.

    Returns
    -------
    np.ndarray, uint8, same shape as ``images``
        The recoloured photos, 0–255.

    Raises
    ------
    ValueError
        ``images`` or ``reference`` is not uint8 RGB.

    References
    ----------
    E. Reinhard, M. Ashikhmin, B. Gooch and P. Shirley, "Color transfer between images",
    IEEE Computer Graphics and Applications 21(5), 2001.
    """
    from skimage.color import lab2rgb, rgb2lab
    from skimage.util import img_as_ubyte

    images = _check_photos("images", images, single=True)
    target_mean, target_std = lab_statistics(_check_photos("reference", reference, single=True))
    lab = rgb2lab(images)
    axes = (-3, -2)  # each photo's own pixels
    mean, std = lab.mean(axis=axes, keepdims=True), lab.std(axis=axes, keepdims=True)
    lab = (lab - mean) * (target_std / np.maximum(std, 1e-6)) + target_mean  # a flat channel takes the target mean
    with warnings.catch_warnings():  # out-of-gamut colours are clipped to sRGB: expected here, not news
        warnings.filterwarnings("ignore", message=".*negative Z values", category=UserWarning)
        rgb = lab2rgb(lab)
    return img_as_ubyte(np.clip(rgb, 0.0, 1.0))


def colour_transfer_translators(images_a, images_b) -> dict:
    """Colour transfer both ways between the two domains of a pair, as translators for :func:`score_translator`.

    Parameters
    ----------
    images_a, images_b : np.ndarray, uint8, shape (n, h, w, 3)
        The **training** photos of domain a and of domain b: the references (see :func:`colour_transfer`).

    Returns
    -------
    dict
        ``"a2b"``: photos → :func:`colour_transfer` to ``images_b``'s statistics; ``"b2a"``: to ``images_a``'s.

    Raises
    ------
    ValueError
        ``images_a`` or ``images_b`` is not uint8 RGB.
    """
    images_a, images_b = _check_photos("images_a", images_a), _check_photos("images_b", images_b)
    return {"a2b": functools.partial(colour_transfer, reference=images_b),
            "b2a": functools.partial(colour_transfer, reference=images_a)}


# ----------------------------------------------------------------------------- metrics


def _judge_probabilities(classifier, images: np.ndarray) -> np.ndarray:
    """The classifier's class probabilities of uint8 photos, resized (bicubic) to its input size if needed.

    Returns
    -------
    np.ndarray, float, shape (n, n_classes)
    """
    import keras

    x = np.asarray(images, np.float32)
    size = classifier.input_shape[1]
    if x.shape[1] != size:
        x = np.asarray(keras.ops.image.resize(x, (size, size), interpolation="bicubic"))
    return np.asarray(classifier.predict(np.clip(x, 0, 255), verbose=0))


def _rate(probs: np.ndarray, target: int, among=None) -> float:
    """Share of rows of ``probs`` whose most probable class (among ``among``, default all) is ``target``."""
    pred = np.argmax(probs, axis=1) if among is None else restricted_prediction(probs, among)
    return float(np.mean(pred == target))


def target_domain_rate(classifier, images: np.ndarray, target: int, among=None) -> float:
    """Share of images that an independent classifier assigns to the ``target`` class.

    Parameters
    ----------
    classifier : keras.Model
        Photo-domain classifier (notebook 01), input float32 0–255 pixels.
    images : np.ndarray, uint8, shape (n, size, size, 3)
        Resized to the classifier's input size if needed.
    target : int
        Index of the target domain among the classifier's classes.
    among : sequence of int, optional
        Restrict the decision to these classes (e.g. the two domains of the pair); default: the
        classifier's argmax over all its classes.

    Returns
    -------
    float
        In [0, 1].
    """
    return _rate(_judge_probabilities(classifier, images), target, among)


def score_translator(translators: dict, images_a: np.ndarray, images_b: np.ndarray, judge, classes) -> dict:
    """Translate held-out photos of a pair both ways with any translator; the judge's target-domain rates.

    The one scoring of the lesson: the CycleGAN's generators (:func:`evaluate_pair` calls it) and the
    colour-transfer baseline (:func:`colour_transfer`) go through it with the same photos and judge, so
    their rates differ only by the translator.

    Parameters
    ----------
    translators : dict
        ``"a2b"`` and ``"b2a"``: callables mapping uint8 photos ``(n, h, w, 3)`` to uint8 photos
        ``(n, h', w', 3)`` (e.g. ``functools.partial(translate_batch, generator)``, or
        ``functools.partial(colour_transfer, reference=target_training_photos)``).
    images_a, images_b : np.ndarray, uint8, shape (n, h, w, 3)
        Held-out real photos of domain a and of domain b (any counts ≥ 1).
    judge : keras.Model
        Photo-domain classifier trained on real photos only (notebook 01); anything with
        ``input_shape`` and ``predict(x, verbose=0)`` returning ``(n, n_classes)`` scores.
    classes : sequence of two int
        The judge's class index of domain a and of domain b.

    Returns
    -------
    dict
        ``rate``: ``"a2b"``/``"b2a"`` -> share in [0, 1] of the translations judged as the target
        domain, the decision restricted to the pair's two classes (the larger of the two scores);
        ``rate_unrestricted``: the same with the judge's argmax over all its classes (another class,
        e.g. "winter" for a horse→zebra translation, counts as a miss); ``translated``:
        ``"a2b"``/``"b2a"`` -> the uint8 translations.

    Raises
    ------
    ValueError
        Photos that are not uint8 RGB batches, ``classes`` not two different indices, a missing
        direction in ``translators``, or a translator that does not return one uint8 photo per input.
    """
    real = {"a2b": _check_photos("images_a", images_a), "b2a": _check_photos("images_b", images_b)}
    if len(classes) != 2 or classes[0] == classes[1]:
        raise ValueError(f"classes: expected two different class indices (domain a, domain b), got {classes!r}")
    missing = [d for d in DIRECTIONS if d not in translators]
    if missing:
        raise ValueError(f"translators: missing direction(s) {missing}; expected the keys {list(DIRECTIONS)}")
    target = {"a2b": classes[1], "b2a": classes[0]}
    out = {"rate": {}, "rate_unrestricted": {}, "translated": {}}
    for d in DIRECTIONS:
        translated = np.asarray(translators[d](real[d]))
        if translated.dtype != np.uint8 or translated.ndim != 4 or len(translated) != len(real[d]):
            raise ValueError(f"translators[{d!r}]: expected uint8 photos ({len(real[d])}, h, w, 3), "
                             f"got {translated.dtype} {translated.shape}")
        probs = _judge_probabilities(judge, translated)
        out["rate"][d] = _rate(probs, target[d], classes)
        out["rate_unrestricted"][d] = _rate(probs, target[d])
        out["translated"][d] = translated
    return out


def evaluate_pair(generators, images_a: np.ndarray, images_b: np.ndarray, judge, classes) -> dict:
    """Translate held-out photos both ways and back with a CycleGAN; score them with an independent judge.

    Parameters
    ----------
    generators : dict
        ``"a2b"`` and ``"b2a"`` keras.Model generators (:func:`load_generators`).
    images_a, images_b : np.ndarray, uint8, shape (n, size, size, 3)
        Held-out real photos of each domain, at the generators' size.
    judge : keras.Model
        Photo-domain classifier trained on real photos only (notebook 01).
    classes : sequence of int
        The judge's class index of domain a and of domain b; ``rate`` and ``real_rate`` restrict
        every decision to these two (see :func:`target_domain_rate`), the ``*_unrestricted`` rates
        take the judge's argmax over all its classes.

    Returns
    -------
    dict
        What :func:`score_translator` returns for the generators (``rate``, ``rate_unrestricted``,
        ``translated``), and ``real_rate``, ``real_rate_unrestricted`` (``"a"``/``"b"`` -> share of
        the real photos judged as their own domain: the reference for the rate into that domain),
        ``cycle_psnr_db`` (mean PSNR of a → b → a and b → a → b round trips against the input, dB),
        ``reconstructed`` (``"a2b"``/``"b2a"`` -> uint8 round trips).

    Raises
    ------
    ValueError
        As :func:`score_translator`.
    """
    translators = {d: functools.partial(translate_batch, generators[d]) for d in DIRECTIONS}
    out = score_translator(translators, images_a, images_b, judge, classes)
    real = {"a": images_a, "b": images_b}
    own = {"a": classes[0], "b": classes[1]}
    probs = {k: _judge_probabilities(judge, real[k]) for k in real}
    reconstructed = {d: translators[other](out["translated"][d]) for d, other in (("a2b", "b2a"), ("b2a", "a2b"))}
    out.update(
        real_rate={k: _rate(probs[k], own[k], classes) for k in real},
        real_rate_unrestricted={k: _rate(probs[k], own[k]) for k in real},
        cycle_psnr_db=float(np.mean([metrics.psnr(real[source], reconstructed[d], reduction="mean")
                                     for d, source in (("a2b", "a"), ("b2a", "b"))])),
        reconstructed=reconstructed,
    )
    return out
