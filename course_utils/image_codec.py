"""The learned image codec of notebook 02: data, training, the shipped models and the byte stream.

The network — analysis and synthesis transforms with GDN, the factorised prior and the rate–distortion
loss of Ballé, Laparra & Simoncelli 2017 — is :mod:`course_utils.models.factorized_prior`. This module:

* **Training**: :func:`train_codec` runs the rate–distortion step on random crops
  (:func:`course_utils.training.train_steps`); :func:`train_family` trains one λ and fine-tunes the others;
  :func:`train_shipped` is the shipped recipe and budget, shared by ``scripts/train_compression.py image`` and
  the notebook's ``RETRAIN``.
* **Shipped models**: weights for the λ values in :data:`LAMBDAS` in ``course_utils/weights/``
  (:func:`load_codec`, :func:`shipped_codecs`; read by :func:`course_utils.saving.load_weights`).
* **Codec**: :func:`encode` turns the rounded latent into bytes with constriction's range coder
  (one categorical model per channel, tabulated from the learned CDF over ``[−SUPPORT, SUPPORT]``),
  behind a small header (magic ``LIC1``, version, image size, λ id, CRC-32; :mod:`course_utils.bitstream`);
  :func:`decode` inverts it. Bits per pixel are counted from those bytes.
* **Evaluation**: :func:`rate_distortion` — every image through encode → bytes → decode with every codec.
"""
from __future__ import annotations

import struct

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from . import config, data, metrics, saving, training
from .bitstream import StreamError, pack_stream, unpack_stream
from .compression import TRAINING_MINUTES, bpp
from .images import check_rgb
from .models import factorized_prior

#: Rate–distortion trade-offs of the shipped models (λ in ``R + λ·255²·MSE``), low to high rate.
LAMBDAS = (0.0009, 0.0018, 0.0035, 0.0067)
STRIDE = 16       # total downsampling of g_a: the image is padded to a multiple of it
SUPPORT = 48      # integer latents are clipped to [−SUPPORT, SUPPORT] for coding
MAGIC, VERSION = b"LIC1", 1
MAX_SIDE = 8192


def random_crops(images: np.ndarray, n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random ``size``×``size`` crops, randomly flipped, of uint8 images (N, H, W, 3) → float32 in [0, 1]."""
    idx = rng.integers(0, len(images), n)
    h, w = images.shape[1:3]
    out = np.empty((n, size, size, 3), np.float32)
    for k, i in enumerate(idx):
        top, left = rng.integers(0, h - size + 1), rng.integers(0, w - size + 1)
        crop = images[i, top:top + size, left:left + size]
        out[k] = (crop[:, ::-1] if rng.random() < 0.5 else crop) / 255.0
    return out


def train_codec(images: np.ndarray, lmbda: float, steps: int = 2000, batch_size: int = 8, crop: int = 64,
                learning_rate: float = 1e-3, model=None, seed: int = 0, rate_weight: float = 1.0,
                log_every: int = 0, max_seconds: float | None = None):
    """Train an image codec on random crops: Adam on the rate–distortion loss (``factorized_prior.rd_loss``).

    The loop is :func:`course_utils.training.train_steps`; the step is
    :func:`course_utils.models.factorized_prior.make_train_step`.

    Parameters
    ----------
    images : np.ndarray, uint8, (N, H, W, 3)
        Training photos, H and W ≥ ``crop``.
    lmbda : float
        λ of the loss.
    steps, batch_size, crop : int
        Optimisation steps, crops per step, crop side in pixels (a multiple of 16).
    learning_rate : float
    model : ImageCodec, optional
        Continue training this model (e.g. fine-tune a model trained at another λ); its λ is set to ``lmbda``.
    seed : int
    rate_weight : float
        Weight of the rate term; 0 trains a *plain autoencoder*: MSE only, and no quantisation noise either.
    log_every : int
        Print a line every this many steps (0: silent).
    max_seconds : float, optional
        Stop early after this much wall time.

    Returns
    -------
    model : ImageCodec
    history : dict
        ``step``, ``loss``, ``bpp``, ``psnr`` (dB, of the noisy-latent reconstruction), means over each
        ``log_every`` steps (default ``steps // 50``); ``seconds``; ``decayed``: the step where the
        learning rate dropped to a quarter (at 80 % of the steps or of ``max_seconds``).
    """
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    if model is None:
        model = factorized_prior.build_codec(lmbda)
    model.lmbda = float(lmbda)
    model.noise = rate_weight > 0
    optimizer = keras.optimizers.Adam(learning_rate, clipnorm=1.0)
    step = factorized_prior.make_train_step(model, optimizer, rate_weight)
    to_psnr = lambda mse: float(10 * np.log10(1 / max(mse, 1e-10)))  # noqa: E731  (MSE on [0, 1] → dB)
    history = training.train_steps(
        step, lambda i: (tf.constant(random_crops(images, batch_size, crop, rng)),), steps,
        max_seconds=max_seconds, record_every=log_every or max(1, steps // 50), log_every=log_every,
        describe=lambda m: f"loss {m['loss']:.3f}, {m['bpp']:.3f} bpp, {to_psnr(m['mse']):.2f} dB",
        optimizer=optimizer, learning_rate=learning_rate, decay_at=0.8, decay_by=0.25)
    history["psnr"] = [to_psnr(mse) for mse in history.pop("mse")]
    model._pmf = None  # the coding tables must be recomputed from the new prior
    return model, history


def train_family(images: np.ndarray, base_seconds: float, finetune_seconds: float, log_every: int = 0,
                 lambdas=LAMBDAS, base_lambda: float = 0.0067, base=None, only=None) -> dict:
    """The shipped recipe: train one codec at ``base_lambda``, then fine-tune a copy for every other λ.

    Fine-tuning from a trained model is much cheaper than training each λ from scratch, and keeps the
    transforms similar across rates.

    Parameters
    ----------
    images : np.ndarray, uint8, (N, H, W, 3)
        Training photos (H, W ≥ 64).
    base_seconds, finetune_seconds : float
        Wall-time budgets (the base at learning rate 1e-3, each fine-tune at 3e-4).
    log_every : int
    lambdas : sequence of float
    base_lambda : float
        One of ``lambdas``.
    base : ImageCodec, optional
        An already trained base model (skips its training).
    only : sequence of int, optional
        Fine-tune only these λ ids (default: all but the base).

    Returns
    -------
    dict
        ``{lambda_id: ImageCodec}``, ids indexing ``lambdas``.
    """
    base_id = list(lambdas).index(base_lambda)
    if base is None:
        base, _ = train_codec(images, base_lambda, steps=10 ** 6, learning_rate=1e-3, seed=0, log_every=log_every,
                              max_seconds=base_seconds)
    models = {base_id: base}
    for lambda_id, lmbda in enumerate(lambdas):
        if lambda_id != base_id and (only is None or lambda_id in only):
            start = factorized_prior.build_codec(lmbda)
            start.set_weights(base.get_weights())
            models[lambda_id], _ = train_codec(images, lmbda, steps=10 ** 6, learning_rate=3e-4, model=start,
                                               seed=lambda_id, log_every=log_every, max_seconds=finetune_seconds)
    return dict(sorted(models.items()))


def train_shipped(scale: float = 1.0, base=None, only=None, log_every: int = 50) -> dict:
    """The shipped codecs' training: what ``scripts/train_compression.py image`` and notebook 02's ``RETRAIN`` run.

    1,000 photos of the CycleGAN domains at 256×256 (seed 0), then :func:`train_family` with the budgets
    ``TRAINING_MINUTES["image_base"]`` and ``["image_finetune"]`` (minutes, times ``scale``).

    Parameters
    ----------
    scale : float
        Multiplies every time budget (:data:`course_utils.compression.TRAINING_MINUTES`).
    base : ImageCodec, optional
        Start from this trained base model (skips its training).
    only : sequence of int, optional
        Fine-tune only these λ ids.
    log_every : int
        Print every this many steps.

    Returns
    -------
    dict
        ``{lambda_id: ImageCodec}``; save each with ``saving.save_weights(model, weights_path(lambda_id))``.
    """
    config.set_seed(0)
    photos = data.load_photo_domains(image_size=256, per_domain=250, seed=0)
    print(f"image codec: {len(photos)} photos 256×256 ({photos.origin})", flush=True)
    return train_family(photos.images, TRAINING_MINUTES["image_base"] * 60 * scale,
                        TRAINING_MINUTES["image_finetune"] * 60 * scale, log_every=log_every, base=base, only=only)


def weights_path(lambda_id: int):
    """Path of the shipped weights for ``LAMBDAS[lambda_id]`` (in :data:`course_utils.saving.WEIGHTS_DIR`)."""
    return saving.WEIGHTS_DIR / f"image_codec_{lambda_id}.npz"


def load_codec(lambda_id: int):
    """Load the shipped :class:`~course_utils.models.factorized_prior.ImageCodec` for ``LAMBDAS[lambda_id]``.

    Each call builds a new model and reads :func:`weights_path` into it (float16 arrays loaded as
    float32); :func:`shipped_codecs` caches them.

    Parameters
    ----------
    lambda_id : int
        Index of the rate–distortion trade-off in :data:`LAMBDAS`, 0 (lowest rate) to
        ``len(LAMBDAS) - 1`` (highest).

    Returns
    -------
    ImageCodec
        A built, trained codec with ``lmbda = LAMBDAS[lambda_id]``, ready for :func:`encode` and
        :func:`decode`.

    Raises
    ------
    ValueError
        ``lambda_id`` is not an index of :data:`LAMBDAS`, or the weights file does not match the
        codec's architecture.
    FileNotFoundError
        The weights are missing (train them with ``python scripts/train_compression.py image``).
    """
    if not 0 <= int(lambda_id) < len(LAMBDAS):
        raise ValueError(f"lambda id {lambda_id} unknown; the shipped models are 0–{len(LAMBDAS) - 1}")
    model = factorized_prior.build_codec(LAMBDAS[lambda_id])
    saving.load_weights(model, weights_path(lambda_id))
    return model


_CACHE: dict = {}


def shipped_codecs() -> dict:
    """All shipped codecs, ``{lambda_id: ImageCodec}`` (loaded once, then cached).

    Returns
    -------
    dict
        ``{lambda_id: ImageCodec}`` for every index of :data:`LAMBDAS`, in order (as
        :func:`load_codec` returns them). The dict is a new one at each call, but the models are
        the cached ones, shared by every caller: change a copy, not them.

    Raises
    ------
    FileNotFoundError
        A shipped weights file is missing (train them with ``python scripts/train_compression.py image``).
    ValueError
        A weights file does not match the codec's architecture.
    """
    for i in range(len(LAMBDAS)):
        if i not in _CACHE:
            _CACHE[i] = load_codec(i)
    return dict(_CACHE)


def check_image(image) -> np.ndarray:
    """Validate an image for :func:`encode`: a uint8 RGB array or an RGB PIL image.

    :func:`course_utils.images.check_rgb` with this codec's side limits.

    Returns
    -------
    np.ndarray, uint8, (H, W, 3)

    Raises
    ------
    course_utils.images.ImageError
        (a ValueError) A PIL image whose mode is not RGB, an array that is not (H, W, 3), not uint8, or a side
        outside 16–8192 pixels.
    """
    return check_rgb(image, min_side=STRIDE, max_side=MAX_SIDE)


def _pad(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    ph, pw = -h % STRIDE, -w % STRIDE
    return np.pad(image, ((0, ph), (0, pw), (0, 0)), mode="edge")


def _pmf_tables(model) -> np.ndarray:
    """Probability of each integer in ``[−SUPPORT, SUPPORT]`` per channel, (LATENT, 2·SUPPORT+1), float64."""
    if getattr(model, "_pmf", None) is None:
        k = np.arange(-SUPPORT, SUPPORT + 1, dtype=np.float32)
        c = model.prior.matrices[0].shape[0]
        grid = np.broadcast_to(k, (c, 1, k.size)).astype(np.float32)
        cdf = lambda x: ops.convert_to_numpy(ops.sigmoid(model.prior.logits_cdf(x)))[:, 0].astype(np.float64)
        upper, lower = cdf(grid + 0.5), cdf(grid - 0.5)
        pmf = upper - lower
        pmf[:, 0] += lower[:, 0]          # the tails go to the end symbols (values are clipped there)
        pmf[:, -1] += 1 - upper[:, -1]
        model._pmf = np.maximum(pmf, 1e-12)
    return model._pmf


def latent(model, image: np.ndarray) -> np.ndarray:
    """The unquantised latent ``y = g_a(x)`` of a uint8 image, float32 (H/16, W/16, LATENT) (after padding)."""
    x = _pad(check_image(image)).astype(np.float32)[None] / 255.0
    return ops.convert_to_numpy(model.encode_latent(x))[0]


def synthesize(model, y: np.ndarray, height: int, width: int) -> np.ndarray:
    """Decode a latent (H', W', LATENT) to a uint8 image cropped to ``height`` × ``width``."""
    x = ops.convert_to_numpy(model.decode_latent(np.asarray(y, np.float32)[None]))[0]
    return np.clip(np.round(x[:height, :width] * 255.0), 0, 255).astype(np.uint8)


def encode(image, lambda_id: int = 3, model=None) -> bytes:
    """Compress an RGB image with the learned codec.

    Parameters
    ----------
    image : np.ndarray, uint8, (H, W, 3), or PIL.Image in mode RGB
        Sides 16–8192 pixels (any size: the image is edge-padded to a multiple of 16).
    lambda_id : int
        Index into :data:`LAMBDAS` (0 = lowest rate); written into the header.
    model : ImageCodec, optional
        Defaults to the shipped model for ``lambda_id``.

    Returns
    -------
    bytes
        ``LIC1`` stream: header (magic, version, height, width, λ id, CRC-32) and the range-coded latent.
        Its bpp is ``len(bytes) * 8 / (H * W)``.

    Raises
    ------
    ValueError
        Wrong image mode, shape, dtype or size (see :func:`check_image`), unknown ``lambda_id``.
    """
    import constriction

    image = check_image(image)
    if not 0 <= int(lambda_id) < 256:
        raise ValueError(f"lambda id {lambda_id} must be 0–255")
    model = model if model is not None else shipped_codecs()[int(lambda_id)]
    y = np.round(latent(model, image)).astype(np.int32)
    symbols = np.clip(y, -SUPPORT, SUPPORT) + SUPPORT
    pmf = _pmf_tables(model)
    encoder = constriction.stream.queue.RangeEncoder()
    for c in range(symbols.shape[-1]):
        probs = constriction.stream.model.Categorical(pmf[c], perfect=False)
        encoder.encode(symbols[..., c].ravel().astype(np.int32), probs)
    payload = encoder.get_compressed().astype("<u4").tobytes()
    fields = struct.pack(">HHBB", image.shape[0], image.shape[1], int(lambda_id), symbols.shape[-1])
    return pack_stream(MAGIC, VERSION, fields, payload)


def decode(data: bytes, model=None) -> np.ndarray:
    """Decompress a ``LIC1`` stream written by :func:`encode`.

    Parameters
    ----------
    data : bytes
    model : ImageCodec, optional
        Defaults to the shipped model named by the header's λ id.

    Returns
    -------
    np.ndarray, uint8, (H, W, 3)

    Raises
    ------
    StreamError
        Bad magic or version, truncated or corrupt bytes (CRC-32), a header that does not match the model.
    """
    import constriction

    fields, payload = unpack_stream(data, MAGIC, VERSION, "learned image codec")
    if len(fields) != 6:
        raise StreamError(f"learned image codec header has {len(fields)} field bytes, expected 6")
    height, width, lambda_id, channels = struct.unpack(">HHBB", fields)
    if min(height, width) < STRIDE or lambda_id >= 255:
        raise StreamError(f"learned image codec header describes an invalid image {width}×{height}")
    if len(payload) % 4:
        raise StreamError("learned image codec payload is not a whole number of 32-bit words (truncated)")
    if model is None:
        if lambda_id >= len(LAMBDAS):
            raise StreamError(f"stream made with λ id {lambda_id}; the shipped models are 0–{len(LAMBDAS) - 1}")
        model = shipped_codecs()[lambda_id]
    pmf = _pmf_tables(model)
    if channels != pmf.shape[0]:
        raise StreamError(f"stream has {channels} latent channels, the model {pmf.shape[0]}")
    shape = (-(-height // STRIDE), -(-width // STRIDE))
    decoder = constriction.stream.queue.RangeDecoder(np.frombuffer(payload, "<u4").astype(np.uint32))
    y = np.empty(shape + (channels,), np.float32)
    for c in range(channels):
        probs = constriction.stream.model.Categorical(pmf[c], perfect=False)
        y[..., c] = decoder.decode(probs, shape[0] * shape[1]).reshape(shape) - SUPPORT
    return synthesize(model, y, height, width)


def float_latent_bpp(model, image: np.ndarray) -> float:
    """What storing the *unquantised* latent as float32 would cost, in bits per pixel (32 bits per element)."""
    y = latent(model, image)
    return y.size * 32 / (image.shape[0] * image.shape[1])


def rate_distortion(codecs: dict, images, names=None) -> dict:
    """Every image through ``encode → bytes → decode`` with every codec: bits per pixel, PSNR and MS-SSIM.

    Parameters
    ----------
    codecs : dict
        ``{lambda_id: ImageCodec}`` (e.g. :func:`shipped_codecs`).
    images : sequence of np.ndarray, uint8, (H, W, 3)
        E.g. the Kodak photos (MS-SSIM needs sides of at least 161 pixels).
    names : sequence of str, optional
        The images' names (default ``"0"``, ``"1"``…).

    Returns
    -------
    dict
        ``lambda_id``: the codecs' ids in order; ``bpp``, ``psnr`` (dB, RGB) and ``ms_ssim``: one mean over
        the images per codec, in that order (the layout of :func:`course_utils.compression.classical_curve`);
        ``per_image``: ``{name: [(bpp, psnr, ms_ssim) for each codec]}``. bpp is counted from the stream's bytes.
    """
    names = [str(i) for i in range(len(images))] if names is None else list(names)
    per_image = {name: [] for name in names}
    for lambda_id, codec in codecs.items():
        for name, image in zip(names, images):
            stream = encode(image, lambda_id=lambda_id, model=codec)
            out = decode(stream, model=codec)
            per_image[name].append((bpp(stream, image.shape), metrics.psnr(image, out), metrics.ms_ssim(image, out)))
    result = {"lambda_id": list(codecs), "per_image": per_image}
    for col, key in enumerate(("bpp", "psnr", "ms_ssim")):
        result[key] = [float(np.mean([per_image[name][k][col] for name in names])) for k in range(len(codecs))]
    return result
