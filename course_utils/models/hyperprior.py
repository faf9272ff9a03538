"""A learned image codec with a scale hyperprior: side information that tells the coder how wide each latent is.

Paper: J. Ballé, D. Minnen, S. Singh, S. J. Hwang and N. Johnston (2018), "Variational Image Compression with a
Scale Hyperprior" (ICLR 2018). Reference implementation read: tensorflow/compression, ``models/bmshj2018.py``.

The factorised-prior codec (:mod:`course_utils.models.factorized_prior`) gives every element of a latent channel
the same distribution, wherever it is in the image. But a latent is large on edges and texture and near zero on
sky, so one fixed distribution per channel wastes bits on both. The hyperprior codec sends a second, much smaller
latent first:

* ``y = g_a(x)``: the same analysis transform (four 5×5 convolutions with stride 2 and GDN), (H/16, W/16, latent);
* ``z = h_a(|y|)``: the *hyper-analysis* (3×3 then two 5×5 stride-2 convolutions, ReLU), (H/64, W/64, hyper);
  ``ẑ = round(z)`` is coded with a factorised prior (:class:`~course_utils.models.factorized_prior.FactorizedPrior`);
* ``σ = h_s(ẑ)``: the *hyper-synthesis* mirrors ``h_a`` and predicts one standard deviation per element of y;
* ``ŷ = round(y)`` is coded with a zero-mean Gaussian of that σ, integrated over each integer's bin:
  ``P(ŷ) = Φ((ŷ + ½)/σ) − Φ((ŷ − ½)/σ)``.

The rate is the bits of both latents, ``R = −log₂ P(ŷ | ẑ) − log₂ P(ẑ)``; the loss is ``R + λ·255²·MSE``, trained
with uniform noise in place of rounding (:func:`course_utils.models.factorized_prior.rd_loss`, which sums the
bits of every latent the model returns). σ is bounded to [:data:`SCALE_MIN`, :data:`SCALE_MAX`] on a log scale;
the coder rounds it to one of :data:`NUM_SCALES` log-spaced values, as tensorflow/compression does, so the encoder
and the decoder use the same Gaussian. The byte stream is in :mod:`course_utils.image_codec`.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from .factorized_prior import FactorizedPrior, analysis_transform, synthesis_transform

FILTERS = 64      # channels of g_a / g_s hidden layers
LATENT = 128      # channels of y
HYPER = 64        # channels of h_a / h_s and of z
SCALE_MIN, SCALE_MAX, NUM_SCALES = 0.11, 256.0, 64   # the Gaussian's σ: bounds and coding table (tfc's values)


def scale_table() -> np.ndarray:
    """The :data:`NUM_SCALES` standard deviations the coder uses, log-spaced from SCALE_MIN to SCALE_MAX (float64)."""
    return np.exp(np.linspace(np.log(SCALE_MIN), np.log(SCALE_MAX), NUM_SCALES))


def gaussian_likelihood(y, sigma):
    """Probability of the integer bin ``[y − ½, y + ½]`` under N(0, σ²), element-wise.

    Computed on ``−|y|`` with ``erfc`` so that both CDF values sit in the lower tail, where float32 keeps
    its precision (tensorflow/compression does the same).

    Parameters
    ----------
    y : tensor, float32, any shape
        Latent values: rounded (coding) or with uniform noise (training).
    sigma : tensor, float32, broadcastable to ``y``
        Standard deviations, > 0.

    Returns
    -------
    tensor, float32, the shape of ``y``
        ``Φ((|y| + ½)/σ) − Φ((|y| − ½)/σ)`` by symmetry, floored at 1e-9 (at most ~30 bits per element).
    """
    values = -ops.abs(y)
    cdf = lambda v: 0.5 * tf.math.erfc(-v / (sigma * np.sqrt(2.0)))  # noqa: E731  Φ(v / σ)
    return ops.maximum(cdf(values + 0.5) - cdf(values - 0.5), 1e-9)


class HyperpriorCodec(keras.Model):
    """Transforms, hyper-transforms and the factorised prior of z, for one λ (see the module docstring).

    Parameters
    ----------
    lmbda : float
        The rate–distortion weight λ (loss ``bpp + λ·255²·MSE``).
    filters, latent, hyper : int
        Channels of g_a/g_s's hidden layers, of y, and of h_a/h_s and z.
    """

    family = "hyperprior"

    def __init__(self, lmbda=0.0067, filters=FILTERS, latent=LATENT, hyper=HYPER, **kwargs):
        super().__init__(**kwargs)
        self.lmbda = float(lmbda)
        self.noise = True
        self.analysis = analysis_transform(filters, latent)   # the factorised-prior codec's g_a and g_s
        self.synthesis = synthesis_transform(filters)
        conv = dict(kernel_size=5, strides=2, padding="same")
        self.hyper_analysis = keras.Sequential([
            keras.layers.Conv2D(hyper, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(hyper, **conv, activation="relu"),
            keras.layers.Conv2D(hyper, **conv)], name="hyper_analysis")
        self.hyper_synthesis = keras.Sequential([
            keras.layers.Conv2DTranspose(hyper, **conv, activation="relu"),
            keras.layers.Conv2DTranspose(hyper, **conv, activation="relu"),
            keras.layers.Conv2DTranspose(latent, 3, padding="same")], name="hyper_synthesis")
        self.prior = FactorizedPrior(name="prior")   # the density of z

    def call(self, x, training=False):
        """``x`` in [0, 1], (batch, H, W, 3) → (reconstruction, (likelihoods of y, likelihoods of z))."""
        y = self.encode_latent(x)
        z = self.hyper_latent(y)
        if training:  # uniform noise stands in for rounding (or nothing: a plain autoencoder, noise False)
            quantize = (lambda v: v + keras.random.uniform(ops.shape(v), -0.5, 0.5)) if self.noise else (lambda v: v)
        else:
            quantize = ops.round
        z_tilde = quantize(z)
        sigma = self.scales(z_tilde, ops.shape(y))
        y_tilde = quantize(y)
        return self.decode_latent(y_tilde), (gaussian_likelihood(y_tilde, sigma), self.prior(z_tilde))

    def encode_latent(self, x):
        """g_a: images in [0, 1] → latent y, (batch, H/16, W/16, latent)."""
        return self.analysis(x - 0.5)

    def decode_latent(self, y):
        """g_s: latent → images (≈ [0, 1], not clipped)."""
        return self.synthesis(y) + 0.5

    def hyper_latent(self, y):
        """h_a: latent y → side information z, (batch, ⌈H/64⌉, ⌈W/64⌉, hyper)."""
        return self.hyper_analysis(ops.abs(y))

    def scales(self, z, y_shape):
        """h_s: (quantised) z → σ of every element of y, cropped to ``y_shape``, in [SCALE_MIN, SCALE_MAX]."""
        log_sigma = self.hyper_synthesis(z)[:, :y_shape[1], :y_shape[2]]
        return ops.exp(ops.clip(log_sigma, np.log(SCALE_MIN), np.log(SCALE_MAX)))


def build_codec(lmbda: float = 0.0067, filters: int = FILTERS, latent: int = LATENT,
                hyper: int = HYPER) -> HyperpriorCodec:
    """A fresh :class:`HyperpriorCodec` (parameters as the class's), built on a 64×64 input so its weights exist.

    Returns
    -------
    HyperpriorCodec
        Its weights in the order the shipped ``.npz`` files store them.
    """
    model = HyperpriorCodec(lmbda=lmbda, filters=filters, latent=latent, hyper=hyper)
    model(np.zeros((1, 64, 64, 3), np.float32))
    return model
