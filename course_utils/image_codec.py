"""A learned image codec: Ballé, Laparra & Simoncelli 2017, "End-to-end optimized image compression".

* **Analysis transform** ``g_a``: four 5×5 convolutions with stride 2, each but the last followed by
  GDN (generalised divisive normalisation) — an RGB image (H, W, 3) becomes a latent ``y`` of shape
  (H/16, W/16, ``LATENT``).
* **Synthesis transform** ``g_s``: the mirror image with transposed convolutions and inverse GDN.
* **Quantisation proxy**: in training, ``ỹ = y + u`` with ``u ~ U(−½, ½)``; at coding time ``ŷ = round(y)``.
* **Entropy model**: a learned *factorised* density per latent channel, written as in the paper's
  appendix (and Ballé et al. 2018, appendix 6.1): a monotone CDF built from softplus-weighted
  matrices and tanh gates; the probability of an integer is ``CDF(y + ½) − CDF(y − ½)``.
* **Loss**: ``R + λ·D`` with ``R`` the bits per pixel under the entropy model and ``D`` the MSE on
  the 0–255 scale (the convention of CompressAI: ``λ·255²·MSE`` on [0, 1] images).
* **Codec**: :func:`encode` turns the rounded latent into bytes with constriction's range coder
  (one categorical model per channel, tabulated from the learned CDF over ``[−SUPPORT, SUPPORT]``),
  behind a small header (magic ``LIC1``, version, image size, λ id, CRC-32); :func:`decode` inverts it.
  Bits per pixel are counted from those bytes.

Weights for the λ values in :data:`LAMBDAS` ship in ``course_utils/weights/`` (trained by
``python benchmarks/train_compression.py image`` — about 25 min on a 2-core CPU).
"""
from __future__ import annotations

import struct
import time

import numpy as np

from .compression import WEIGHTS_DIR, StreamError, pack_stream, unpack_stream
from .saving import load_weights_f16, save_weights_f16

#: Rate–distortion trade-offs of the shipped models (λ in ``R + λ·255²·MSE``), low to high rate.
LAMBDAS = (0.0009, 0.0018, 0.0035, 0.0067)
FILTERS = 64      # channels of the hidden layers
LATENT = 64       # channels of the latent y
STRIDE = 16       # total downsampling of g_a: the image is padded to a multiple of it
SUPPORT = 48      # integer latents are clipped to [−SUPPORT, SUPPORT] for coding
MAGIC, VERSION = b"LIC1", 1
MAX_SIDE = 8192


def _layers():
    """Define GDN, the factorised prior and the codec model once (Keras is imported lazily)."""
    if "ImageCodec" in globals():
        return
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="course")
    class GDN(keras.layers.Layer):
        """Generalised divisive normalisation (Ballé et al. 2016): ``x_i / sqrt(β_i + Σ_j γ_ij x_j²)``.

        ``inverse=True`` multiplies instead (IGDN, used in the synthesis transform). β and γ are kept
        non-negative by storing their square roots; input and output ``(batch, H, W, C)``.
        """

        def __init__(self, inverse=False, **kwargs):
            super().__init__(**kwargs)
            self.inverse = inverse

        def build(self, input_shape):
            c = input_shape[-1]
            self.beta_root = self.add_weight(shape=(c,), initializer="ones", name="beta_root")
            self.gamma_root = self.add_weight(shape=(c, c), name="gamma_root",
                                              initializer=keras.initializers.Constant(np.sqrt(0.1) * np.eye(c)))

        def call(self, x):
            beta = ops.square(self.beta_root) + 1e-6
            gamma = ops.square(self.gamma_root)
            norm = ops.sqrt(ops.tensordot(ops.square(x), gamma, axes=[[3], [0]]) + beta)
            return x * norm if self.inverse else x / norm

        def get_config(self):
            return {**super().get_config(), "inverse": self.inverse}

    @keras.saving.register_keras_serializable(package="course")
    class FactorizedPrior(keras.layers.Layer):
        """A learned univariate density per channel (Ballé et al. 2018, appendix 6.1; "factorised prior").

        The CDF of channel c is ``sigmoid(f_K ∘ … ∘ f_1(x))`` with
        ``f_k(x) = g_k(softplus(H_k) x + b_k)``, ``g_k(x) = x + tanh(a_k) ⊙ tanh(x)`` for k < K
        — monotone in x because every matrix is non-negative and every ``g_k`` is increasing.
        Layer widths are ``1 → 3 → 3 → 3 → 1``.
        """

        def __init__(self, filters=(3, 3, 3), init_scale=10.0, **kwargs):
            super().__init__(**kwargs)
            self.filters, self.init_scale = tuple(filters), init_scale

        def build(self, input_shape):
            c = input_shape[-1]
            widths = (1,) + self.filters + (1,)
            scale = self.init_scale ** (1 / (len(self.filters) + 1))
            self.matrices, self.biases, self.factors = [], [], []
            for k in range(len(widths) - 1):
                init = np.log(np.expm1(1 / scale / widths[k + 1]))
                self.matrices.append(self.add_weight(shape=(c, widths[k + 1], widths[k]), name=f"matrix_{k}",
                                                     initializer=keras.initializers.Constant(init)))
                self.biases.append(self.add_weight(shape=(c, widths[k + 1], 1), name=f"bias_{k}",
                                                   initializer=keras.initializers.RandomUniform(-0.5, 0.5)))
                if k < len(widths) - 2:
                    self.factors.append(self.add_weight(shape=(c, widths[k + 1], 1), name=f"factor_{k}",
                                                        initializer="zeros"))

        def logits_cdf(self, x):
            """Logit of the CDF; ``x`` is ``(C, 1, N)`` (channel-major), the result too."""
            for k, (matrix, bias) in enumerate(zip(self.matrices, self.biases)):
                x = ops.matmul(ops.softplus(matrix), x) + bias
                if k < len(self.factors):
                    x = x + ops.tanh(self.factors[k]) * ops.tanh(x)
            return x

        def call(self, y):
            """Likelihood ``P(y) = CDF(y + ½) − CDF(y − ½)`` of each element of ``y`` (batch, H, W, C)."""
            shape = ops.shape(y)
            flat = ops.reshape(ops.transpose(ops.reshape(y, (-1, shape[-1]))), (shape[-1], 1, -1))
            lower, upper = self.logits_cdf(flat - 0.5), self.logits_cdf(flat + 0.5)
            sign = -ops.sign(lower + upper)  # compute in the tail where the sigmoid is not saturated
            p = ops.abs(ops.sigmoid(sign * upper) - ops.sigmoid(sign * lower))
            p = ops.maximum(p, 1e-9)
            return ops.reshape(ops.transpose(ops.reshape(p, (shape[-1], -1))), shape)

        def get_config(self):
            return {**super().get_config(), "filters": self.filters, "init_scale": self.init_scale}

    class ImageCodec(keras.Model):
        """Analysis transform, synthesis transform and factorised prior of one λ (see the module docstring)."""

        def __init__(self, lmbda=0.0067, filters=FILTERS, latent=LATENT, **kwargs):
            super().__init__(**kwargs)
            self.lmbda = float(lmbda)
            self.noise = True  # False: a plain autoencoder (no quantisation proxy in training)
            conv = dict(kernel_size=5, strides=2, padding="same")
            self.analysis = keras.Sequential([
                keras.layers.Conv2D(filters, **conv), GDN(),
                keras.layers.Conv2D(filters, **conv), GDN(),
                keras.layers.Conv2D(filters, **conv), GDN(),
                keras.layers.Conv2D(latent, **conv)], name="analysis")
            self.synthesis = keras.Sequential([
                keras.layers.Conv2DTranspose(filters, **conv), GDN(inverse=True),
                keras.layers.Conv2DTranspose(filters, **conv), GDN(inverse=True),
                keras.layers.Conv2DTranspose(filters, **conv), GDN(inverse=True),
                keras.layers.Conv2DTranspose(3, **conv)], name="synthesis")
            self.prior = FactorizedPrior(name="prior")

        def call(self, x, training=False):
            """``x`` in [0, 1], (batch, H, W, 3) → (reconstruction, likelihoods of the noisy/rounded latent)."""
            y = self.encode_latent(x)
            if training and not self.noise:
                y_tilde = y
            elif training:
                y_tilde = y + keras.random.uniform(ops.shape(y), -0.5, 0.5)
            else:
                y_tilde = ops.round(y)
            return self.decode_latent(y_tilde), self.prior(y_tilde)

        def encode_latent(self, x):
            """g_a: images in [0, 1] → latent y (centred on grey, which speeds up early training)."""
            return self.analysis(x - 0.5)

        def decode_latent(self, y):
            """g_s: latent → images (≈ [0, 1], not clipped)."""
            return self.synthesis(y) + 0.5

    globals().update(GDN=GDN, FactorizedPrior=FactorizedPrior, ImageCodec=ImageCodec)


def __getattr__(name):
    """``image_codec.GDN``, ``.FactorizedPrior`` and ``.ImageCodec`` are defined on first use (lazy Keras)."""
    if name in ("GDN", "FactorizedPrior", "ImageCodec"):
        _layers()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_codec(lmbda: float = 0.0067, filters: int = FILTERS, latent: int = LATENT):
    """A fresh :class:`ImageCodec`, built on a 64×64 input.

    Parameters
    ----------
    lmbda : float
        The rate–distortion weight λ (loss ``bpp + λ·255²·MSE``).
    filters, latent : int
        Hidden and latent channels.

    Returns
    -------
    ImageCodec
    """
    _layers()
    model = ImageCodec(lmbda=lmbda, filters=filters, latent=latent)
    model(np.zeros((1, 64, 64, 3), np.float32))
    return model


def rd_loss(model, x, training: bool = True):
    """The rate–distortion loss of Ballé et al. 2017 on a batch.

    Parameters
    ----------
    model : ImageCodec
    x : tensor, float32, (batch, H, W, 3), in [0, 1]
    training : bool
        True adds uniform noise to the latent (the differentiable proxy of rounding).

    Returns
    -------
    loss, bpp, mse : scalar tensors
        ``loss = bpp + λ·255²·mse``; bpp in bits per pixel; mse on the [0, 1] scale.
    """
    from keras import ops

    x_hat, likelihood = model(x, training=training)
    pixels = ops.cast(ops.shape(x)[0] * ops.shape(x)[1] * ops.shape(x)[2], "float32")
    bpp = ops.sum(-ops.log(likelihood)) / (np.log(2.0) * pixels)
    mse = ops.mean(ops.square(x - x_hat))
    return bpp + model.lmbda * 255.0 ** 2 * mse, bpp, mse


def random_crops(images: np.ndarray, n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random ``size``×``size`` crops (with random horizontal flips) of uint8 images (N, H, W, 3) → float32 [0, 1]."""
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
    """Train an :class:`ImageCodec` on random crops (Adam, the rate–distortion loss :func:`rd_loss`).

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
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    if model is None:
        model = build_codec(lmbda)
    model.lmbda = float(lmbda)
    model.noise = rate_weight > 0
    optimizer = keras.optimizers.Adam(learning_rate, clipnorm=1.0)
    weights = model.trainable_variables

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss, bpp, mse = rd_loss(model, x)
            objective = rate_weight * bpp + model.lmbda * 255.0 ** 2 * mse
        optimizer.apply_gradients(zip(tape.gradient(objective, weights), weights))
        return loss, bpp, mse

    history = {"step": [], "loss": [], "bpp": [], "psnr": []}
    every = log_every or max(1, steps // 50)
    start = time.perf_counter()
    acc = []
    for i in range(1, steps + 1):
        elapsed = time.perf_counter() - start
        if (i == int(0.8 * steps) or (max_seconds and elapsed > 0.8 * max_seconds)) and not history.get("decayed"):
            optimizer.learning_rate.assign(learning_rate / 4)  # a last, quieter phase
            history["decayed"] = i
        loss, bpp, mse = step(tf.constant(random_crops(images, batch_size, crop, rng)))
        acc.append((float(loss), float(bpp), float(mse)))
        if i % every == 0 or i == steps:
            loss, bpp, mse = np.mean(acc, axis=0)
            acc = []
            history["step"].append(i)
            history["loss"].append(float(loss))
            history["bpp"].append(float(bpp))
            history["psnr"].append(float(10 * np.log10(1 / max(mse, 1e-10))))
            if log_every:
                print(f"  step {i:>5}/{steps}: loss {loss:.3f}, {bpp:.3f} bpp, {history['psnr'][-1]:.2f} dB "
                      f"({time.perf_counter() - start:.0f} s)", flush=True)
        if max_seconds is not None and time.perf_counter() - start > max_seconds:
            break
    history["seconds"] = time.perf_counter() - start
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
            start = build_codec(lmbda)
            start.set_weights(base.get_weights())
            models[lambda_id], _ = train_codec(images, lmbda, steps=10 ** 6, learning_rate=3e-4, model=start,
                                               seed=lambda_id, log_every=log_every, max_seconds=finetune_seconds)
    return dict(sorted(models.items()))


def weights_path(lambda_id: int):
    """Path of the shipped weights for ``LAMBDAS[lambda_id]``."""
    return WEIGHTS_DIR / f"image_codec_{lambda_id}.npz"


def load_codec(lambda_id: int):
    """Load the shipped :class:`ImageCodec` for ``LAMBDAS[lambda_id]``.

    Raises
    ------
    ValueError
        ``lambda_id`` is not an index of :data:`LAMBDAS`.
    FileNotFoundError
        The weights are missing (train them with ``python benchmarks/train_compression.py image``).
    """
    if not 0 <= int(lambda_id) < len(LAMBDAS):
        raise ValueError(f"lambda id {lambda_id} unknown; the shipped models are 0–{len(LAMBDAS) - 1}")
    path = weights_path(lambda_id)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing — run `python benchmarks/train_compression.py image`")
    model = build_codec(LAMBDAS[lambda_id])
    load_weights_f16(model, path)
    return model


def save_codec(model, lambda_id: int):
    """Save a codec's weights (float16) where :func:`load_codec` finds them; returns the path."""
    return save_weights_f16(model, weights_path(lambda_id))


_CACHE: dict = {}


def shipped_codecs() -> dict:
    """All shipped codecs, ``{lambda_id: ImageCodec}`` (loaded once, then cached)."""
    for i in range(len(LAMBDAS)):
        if i not in _CACHE:
            _CACHE[i] = load_codec(i)
    return dict(_CACHE)


def check_image(image) -> np.ndarray:
    """Validate an image for :func:`encode`: a uint8 RGB array or an RGB PIL image.

    Returns
    -------
    np.ndarray, uint8, (H, W, 3)

    Raises
    ------
    ValueError
        A PIL image whose mode is not RGB, an array that is not (H, W, 3), not uint8, or a side
        outside 16–8192 pixels.
    """
    try:
        from PIL import Image

        if isinstance(image, Image.Image):
            if image.mode != "RGB":
                raise ValueError(f"image mode {image.mode!r} is not RGB: convert it first "
                                 "(course_utils.images.to_rgb handles RGBA, greyscale, CMYK, 16-bit)")
            image = np.asarray(image)
    except ImportError:  # pragma: no cover - Pillow is a dependency
        pass
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image of shape (H, W, 3), got shape {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels (0–255), got dtype {image.dtype}")
    if min(image.shape[:2]) < STRIDE or max(image.shape[:2]) > MAX_SIDE:
        raise ValueError(f"image size {image.shape[1]}×{image.shape[0]} outside the supported "
                         f"{STRIDE}–{MAX_SIDE} pixels per side")
    return image


def _pad(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    ph, pw = -h % STRIDE, -w % STRIDE
    return np.pad(image, ((0, ph), (0, pw), (0, 0)), mode="edge")


def _pmf_tables(model) -> np.ndarray:
    """Probability of each integer in ``[−SUPPORT, SUPPORT]`` per channel, (LATENT, 2·SUPPORT+1), float64."""
    from keras import ops

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
    from keras import ops

    x = _pad(check_image(image)).astype(np.float32)[None] / 255.0
    return ops.convert_to_numpy(model.encode_latent(x))[0]


def synthesize(model, y: np.ndarray, height: int, width: int) -> np.ndarray:
    """Decode a latent (H', W', LATENT) to a uint8 image cropped to ``height`` × ``width``."""
    from keras import ops

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


def bpp(data: bytes, image_shape) -> float:
    """Bits per pixel of a stream for an image of shape (H, W, …): ``len(data) * 8 / (H * W)``."""
    return len(data) * 8 / (image_shape[0] * image_shape[1])


def float_latent_bpp(model, image: np.ndarray) -> float:
    """What storing the *unquantised* latent as float32 would cost, in bits per pixel (32 bits per element)."""
    y = latent(model, image)
    return y.size * 32 / (image.shape[0] * image.shape[1])
