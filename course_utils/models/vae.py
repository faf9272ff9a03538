"""A variational autoencoder on 64×64 greyscale faces, with a discretised logistic likelihood.

Papers: D. P. Kingma and M. Welling (2014), "Auto-Encoding Variational Bayes" (ICLR 2014);
T. Salimans, A. Karpathy, X. Chen and D. P. Kingma (2017), "PixelCNN++: Improving the PixelCNN with
Discretized Logistic Mixture Likelihood and Other Modifications" (ICLR 2017; the pixel likelihood);
S. R. Bowman et al. (2016), "Generating Sentences from a Continuous Space" (KL warm-up).

The *encoder* q(z|x) — four strided 4×4 convolutions and a dense layer — outputs the mean μ and the
log-variance log σ² of a diagonal Gaussian over ``LATENT`` dimensions. The *reparameterisation*
``z = μ + σ ⊙ ε``, ``ε ~ N(0, I)``, draws a sample that gradients flow through. The *decoder* p(x|z) — a
dense layer and four transposed convolutions — outputs per pixel the location and log-scale of a
**discretised logistic** over the 256 grey levels, a proper probability mass function on 8-bit pixels, so
the ELBO = E_q[log p(x|z)] − KL(q(z|x) ‖ N(0, I)) is a bound on ``log P(x)`` of the actual integer image
(nats per image; bits/dim = −ELBO / (4096 · ln 2)). The *plain autoencoder* is the same network with
``variational=False``: z = μ, no noise, no KL — it reconstructs, but nothing makes its latent look like
N(0, I), so decoding random z fails. Data, training and evaluation are in :mod:`course_utils.vae`.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

LATENT = 32
SIZE = 64
LOG_SCALE_MIN = -7.0


class FaceVAE(keras.Model):
    """Encoder, decoder and reparameterised sampling of the face VAE (``variational=False``: the plain autoencoder).

    Parameters
    ----------
    latent : int
        Dimensions of z.
    variational : bool
        False: z = μ (no noise) and no KL term — the plain autoencoder.
    """

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


def build_vae(variational: bool = True, latent: int = LATENT) -> FaceVAE:
    """A fresh :class:`FaceVAE` (built on a 64×64×1 input), or the plain autoencoder with ``variational=False``."""
    model = FaceVAE(latent=latent, variational=variational)
    model(np.zeros((1, SIZE, SIZE, 1), np.float32))
    return model


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


def elbo_terms(model: FaceVAE, x, training: bool = False):
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
    (loc, log_scale), mu, logvar = model(x, training=training)
    log_lik = ops.sum(discretized_logistic_log_prob(x, loc, log_scale), axis=(1, 2, 3))
    kl = 0.5 * ops.sum(ops.square(mu) + ops.exp(logvar) - 1.0 - logvar, axis=1)
    return log_lik, kl * (1.0 if model.variational else 0.0)


def make_train_step(model: FaceVAE, optimizer, beta: tf.Variable):
    """One optimisation step: maximise ``log p(x|z) − β·KL`` on a batch (a ``tf.function``).

    Each call of the returned step draws z with the reparameterisation (training mode), takes the
    gradient of the loss ``−mean(log p(x|z) − β·KL)`` with respect to ``model.trainable_variables``
    and applies it with ``optimizer``.

    Parameters
    ----------
    model : FaceVAE
        A built model (e.g. :func:`build_vae`): its trainable variables are collected when the step
        is made.
    optimizer : keras.optimizers.Optimizer
    beta : tf.Variable, float32 scalar
        Weight of the KL term (warmed up from 0 to 1 by the caller; 1 for the plain autoencoder, whose KL is 0).
        Read at every call, so assigning a new value needs no new step (and no retracing).

    Returns
    -------
    callable
        ``step(x) -> {"elbo": tensor}``: the batch's mean ELBO with the full KL, whatever ``beta``
        (a float32 scalar tensor, nats per image); ``x`` float32 (batch, 64, 64, 1) in [−1, 1]
        (8-bit pixels ``k / 127.5 − 1``).
    """
    weights = model.trainable_variables

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            log_lik, kl = elbo_terms(model, x, training=True)
            loss = -tf.reduce_mean(log_lik - beta * kl)
        optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return {"elbo": tf.reduce_mean(log_lik - kl)}

    return step
