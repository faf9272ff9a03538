"""A variational autoencoder on faces (Kingma & Welling 2014, "Auto-encoding variational Bayes").

* **Encoder** q(z|x): four strided 4×4 convolutions and a dense layer → the mean μ and log-variance
  log σ² of a diagonal Gaussian over ``LATENT`` dimensions.
* **Reparameterisation**: ``z = μ + σ ⊙ ε``, ``ε ~ N(0, I)`` — a sample that gradients flow through.
* **Decoder** p(x|z): a dense layer and four transposed convolutions → per pixel a location μ and a
  log-scale of a **discretised logistic** over the 256 grey levels (Salimans et al. 2017, PixelCNN++),
  a proper probability mass function on 8-bit pixels, so the ELBO is a bound on ``log P(x)``
  of the actual integer image and converts to bits per dimension.
* **ELBO** = E_q[log p(x|z)] − KL(q(z|x) ‖ N(0, I)), in nats per image; bits/dim = −ELBO / (4096 · ln 2).
* The **plain autoencoder** is the same network with ``variational=False``: z = μ, no noise, no KL —
  it reconstructs, but nothing makes its latent look like N(0, I), so decoding random z fails.

Data: Olivetti faces (64×64 greyscale, 40 subjects × 10 images); the test set is *held-out subjects*
(:func:`split_subjects`), so the numbers are for faces of people never seen in training.
"""
from __future__ import annotations

import time

import numpy as np

from .compression import WEIGHTS_DIR
from .saving import load_weights_f16

LATENT = 32
SIZE = 64
TEST_SUBJECTS = 8   # the subjects with the highest ids are held out
LOG_SCALE_MIN = -7.0


def split_subjects(labels, n_test: int = TEST_SUBJECTS) -> tuple[np.ndarray, np.ndarray]:
    """Indices of train and test images: the ``n_test`` highest subject ids are the test set.

    Returns
    -------
    train_index, test_index : np.ndarray, int64
    """
    labels = np.asarray(labels)
    test_subjects = np.unique(labels)[-n_test:]
    test = np.isin(labels, test_subjects)
    return np.where(~test)[0], np.where(test)[0]


def _layers():
    if "FaceVAE" in globals():
        return
    import keras
    from keras import layers, ops

    class FaceVAE(keras.Model):
        """Encoder, decoder and ELBO of the face VAE (``variational=False``: the plain autoencoder)."""

        def __init__(self, latent=LATENT, variational=True, **kwargs):
            super().__init__(**kwargs)
            self.latent, self.variational = latent, variational
            conv = dict(kernel_size=4, strides=2, padding="same", activation="relu")
            self.encoder = keras.Sequential([
                layers.Conv2D(32, **conv), layers.Conv2D(32, **conv), layers.Conv2D(64, **conv),
                layers.Conv2D(64, **conv), layers.Flatten(), layers.Dense(2 * latent)], name="encoder")
            self.decoder = keras.Sequential([
                layers.Dense(4 * 4 * 64, activation="relu"), layers.Reshape((4, 4, 64)),
                layers.Conv2DTranspose(64, **conv), layers.Conv2DTranspose(32, **conv),
                layers.Conv2DTranspose(32, **conv),
                layers.Conv2DTranspose(2, kernel_size=4, strides=2, padding="same")], name="decoder")

        def encode(self, x):
            """x in [−1, 1], (batch, 64, 64, 1) → μ, log σ² (batch, LATENT)."""
            h = self.encoder(x)
            return h[:, :self.latent], ops.clip(h[:, self.latent:], -12.0, 8.0)

        def decode(self, z):
            """z (batch, LATENT) → location (batch, 64, 64, 1) in [−1, 1] scale and log-scale."""
            out = self.decoder(z)
            return out[..., :1], ops.maximum(out[..., 1:], LOG_SCALE_MIN)

        def call(self, x, training=False):
            mu, logvar = self.encode(x)
            z = mu + ops.exp(0.5 * logvar) * keras.random.normal(ops.shape(mu)) if self.variational else mu
            return self.decode(z), mu, logvar

    globals()["FaceVAE"] = FaceVAE


def __getattr__(name):
    """``vae.FaceVAE`` is defined on first use (Keras is imported lazily)."""
    if name == "FaceVAE":
        _layers()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def to_unit(images) -> np.ndarray:
    """uint8 faces (N, 64, 64, 1) → float32 in [−1, 1]."""
    return np.asarray(images, np.float32) / 127.5 - 1.0


def discretized_logistic_log_prob(x, loc, log_scale):
    """log P(x) of 8-bit pixels under a discretised logistic (Salimans et al. 2017, eq. 2), in nats.

    Parameters
    ----------
    x : tensor, float32, (..., ) in [−1, 1]
        Pixels ``k / 127.5 − 1`` for integer k in 0–255 (bins of width 2/255).
    loc, log_scale : tensor, same shape
        Location (same scale as x) and log of the logistic scale.

    Returns
    -------
    tensor, same shape
        Per-pixel log-probabilities; the edge bins 0 and 255 take the whole tail.
    """
    from keras import ops

    centered = x - loc
    inv_s = ops.exp(-log_scale)
    plus_in = inv_s * (centered + 1.0 / 255)
    min_in = inv_s * (centered - 1.0 / 255)
    log_cdf_plus = plus_in - ops.softplus(plus_in)          # log sigmoid(plus_in): bin 0
    log_one_minus_cdf_min = -ops.softplus(min_in)            # log(1 − sigmoid(min_in)): bin 255
    cdf_delta = ops.sigmoid(plus_in) - ops.sigmoid(min_in)
    mid_in = inv_s * centered
    log_pdf_mid = mid_in - log_scale - 2.0 * ops.softplus(mid_in)  # density × bin width when the bin is tiny
    inner = ops.where(cdf_delta > 1e-5, ops.log(ops.maximum(cdf_delta, 1e-12)), log_pdf_mid - np.log(127.5))
    return ops.where(x < -0.999, log_cdf_plus, ops.where(x > 0.999, log_one_minus_cdf_min, inner))


def elbo_terms(model, x, training: bool = False):
    """Reconstruction log-likelihood and KL of a batch, each in nats per image.

    Parameters
    ----------
    model : FaceVAE
    x : tensor, float32, (batch, 64, 64, 1) in [−1, 1]

    Returns
    -------
    log_likelihood, kl : tensors (batch,)
        ELBO = log_likelihood − kl (for the plain autoencoder ``kl`` is 0 and the ELBO is not a bound).
    """
    from keras import ops

    (loc, log_scale), mu, logvar = model(x, training=training)
    log_lik = ops.sum(discretized_logistic_log_prob(x, loc, log_scale), axis=(1, 2, 3))
    kl = 0.5 * ops.sum(ops.square(mu) + ops.exp(logvar) - 1.0 - logvar, axis=1)
    return log_lik, kl * (1.0 if model.variational else 0.0)


def build_vae(variational: bool = True, latent: int = LATENT):
    """A fresh :class:`FaceVAE` (built), or the plain autoencoder with ``variational=False``."""
    _layers()
    model = FaceVAE(latent=latent, variational=variational)
    model(np.zeros((1, SIZE, SIZE, 1), np.float32))
    return model


def train_vae(images, variational: bool = True, epochs: int = 200, batch_size: int = 32,
              learning_rate: float = 1e-3, model=None, seed: int = 0, log_every: int = 0,
              max_seconds: float | None = None):
    """Train the VAE (maximise the ELBO) or the plain autoencoder (maximise log p(x|z)) with Adam.

    The KL term is warmed up linearly over the first 10 % of the steps (Bowman et al. 2016) to avoid an
    early collapse of the posterior; the reported ELBO always uses the full KL. Images are flipped
    left–right at random.

    Parameters
    ----------
    images : np.ndarray, uint8, (N, 64, 64, 1)
    variational : bool
    epochs, batch_size : int
    learning_rate : float
    model : FaceVAE, optional
        Continue training it.
    seed : int
    log_every : int
        Print every this many epochs (0: silent).
    max_seconds : float, optional

    Returns
    -------
    model : FaceVAE
    history : dict
        ``epoch``, ``elbo`` (nats per image, training set, noisy estimate), ``seconds``.
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = model if model is not None else build_vae(variational)
    optimizer = keras.optimizers.Adam(learning_rate)
    weights = model.trainable_variables
    x_all = to_unit(images)
    per_epoch = max(1, len(x_all) // batch_size)
    warmup = max(1, int(0.1 * epochs * per_epoch))
    beta = tf.Variable(0.0 if variational else 1.0, trainable=False)

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            log_lik, kl = elbo_terms(model, x, training=True)
            loss = -tf.reduce_mean(log_lik - beta * kl)
        optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return tf.reduce_mean(log_lik - kl)

    history = {"epoch": [], "elbo": []}
    start, n = time.perf_counter(), 0
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x_all))
        values = []
        for b in range(per_epoch):
            x = x_all[order[b * batch_size:(b + 1) * batch_size]]
            flip = rng.random(len(x)) < 0.5
            x = np.where(flip[:, None, None, None], x[:, :, ::-1], x)
            n += 1
            beta.assign(min(1.0, n / warmup) if variational else 1.0)
            values.append(float(step(tf.constant(x))))
        history["epoch"].append(epoch)
        history["elbo"].append(float(np.mean(values)))
        if log_every and (epoch % log_every == 0 or epoch == epochs):
            print(f"  epoch {epoch:>4}/{epochs}: ELBO {history['elbo'][-1]:.1f} nats/image "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
        if max_seconds is not None and time.perf_counter() - start > max_seconds:
            break
    history["seconds"] = time.perf_counter() - start
    return model, history


def evaluate(model, images, samples: int = 8, seed: int = 0) -> dict:
    """ELBO of held-out images, averaged over ``samples`` draws of z per image.

    Parameters
    ----------
    model : FaceVAE
    images : np.ndarray, uint8, (N, 64, 64, 1)
    samples : int
    seed : int

    Returns
    -------
    dict
        ``elbo_nats`` (mean nats per image), ``bits_per_dim`` (−ELBO / (4096 ln 2)),
        ``log_likelihood_nats`` and ``kl_nats`` (means per image).
    """
    import keras
    from keras import ops

    keras.utils.set_random_seed(seed)
    x = to_unit(images)
    lik, kl = [], []
    for _ in range(samples):
        a, b = elbo_terms(model, x)
        lik.append(ops.convert_to_numpy(a))
        kl.append(ops.convert_to_numpy(b))
    lik, kl = float(np.mean(lik)), float(np.mean(kl))
    elbo = lik - kl
    return {"elbo_nats": elbo, "bits_per_dim": -elbo / (SIZE * SIZE * np.log(2)),
            "log_likelihood_nats": lik, "kl_nats": kl}


def to_uint8(loc) -> np.ndarray:
    """Decoder locations (…, 64, 64, 1) in [−1, 1] → uint8 images (the mean face, no pixel noise)."""
    return np.clip(np.round((np.asarray(loc) + 1) * 127.5), 0, 255).astype(np.uint8)


def reconstruct(model, images) -> np.ndarray:
    """Encode (μ) and decode faces: uint8 (N, 64, 64, 1) → uint8 (N, 64, 64, 1)."""
    from keras import ops

    mu, _ = model.encode(to_unit(images))
    return to_uint8(ops.convert_to_numpy(model.decode(mu)[0]))


def sample(model, n: int, seed: int = 0) -> np.ndarray:
    """Decode ``n`` draws z ~ N(0, I) (the prior): uint8 (n, 64, 64, 1)."""
    from keras import ops

    z = np.random.default_rng(seed).standard_normal((n, model.latent)).astype(np.float32)
    return to_uint8(ops.convert_to_numpy(model.decode(z)[0]))


def interpolate(model, face_a, face_b, steps: int = 8) -> np.ndarray:
    """Decode the straight line between the latent means of two faces: uint8 (steps, 64, 64, 1)."""
    from keras import ops

    mu, _ = model.encode(to_unit(np.stack([face_a, face_b])))
    mu = ops.convert_to_numpy(mu)
    t = np.linspace(0, 1, steps, dtype=np.float32)[:, None]
    return to_uint8(ops.convert_to_numpy(model.decode((1 - t) * mu[0] + t * mu[1])[0]))


def weights_path(variational: bool = True):
    """``course_utils/weights/face_vae.npz`` or ``face_ae.npz`` (float16 weights)."""
    return WEIGHTS_DIR / ("face_vae.npz" if variational else "face_ae.npz")


def load_vae(variational: bool = True):
    """The shipped face VAE (or plain autoencoder).

    Raises
    ------
    FileNotFoundError
        Train them with ``python benchmarks/train_compression.py vae``.
    """
    path = weights_path(variational)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing — run `python benchmarks/train_compression.py vae`")
    model = build_vae(variational)
    load_weights_f16(model, path)
    return model
