"""A learned image codec with a factorised prior and GDN.

Papers: J. Ballé, V. Laparra and E. P. Simoncelli (2017), "End-to-end Optimized Image Compression"
(ICLR 2017); J. Ballé, D. Minnen, S. Singh, S. J. Hwang and N. Johnston (2018), "Variational Image
Compression with a Scale Hyperprior" (ICLR 2018; appendix 6.1 gives the factorised density used
here); J. Ballé, V. Laparra and E. P. Simoncelli (2016), "Density Modeling of Images Using a
Generalized Normalization Transformation" (GDN).

An *analysis transform* ``g_a`` — four 5×5 convolutions with stride 2, each but the last followed by
generalised divisive normalisation (GDN) — maps an RGB image (H, W, 3) to a latent ``y`` of shape
(H/16, W/16, latent). A *synthesis transform* ``g_s`` mirrors it with transposed convolutions and inverse
GDN. Rounding ``ŷ = round(y)`` is what makes the latent codable, but it has no gradient, so training
replaces it by additive uniform noise ``ỹ = y + u``, ``u ~ U(−½, ½)``. The rate is measured under a
learned *factorised prior*: one monotone CDF per latent channel, built from softplus-weighted matrices and
tanh gates, so that the probability of an integer is ``CDF(y + ½) − CDF(y − ½)``. The loss is
``R + λ·D``: R the bits per pixel under that prior, D the MSE on the 0–255 scale (CompressAI's
convention: ``λ·255²·MSE`` on [0, 1] images). The byte stream, the range coder and the training data
are in :mod:`course_utils.image_codec`.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

FILTERS = 64      # channels of the hidden layers
LATENT = 64       # channels of the latent y


@keras.saving.register_keras_serializable(package="course")
class GDN(keras.layers.Layer):
    """Generalised divisive normalisation (Ballé et al. 2016): ``x_i / sqrt(β_i + Σ_j γ_ij x_j²)``.

    ``inverse=True`` multiplies instead (IGDN, used in the synthesis transform). β and γ are kept
    non-negative by storing their square roots; input and output ``(batch, H, W, C)`` float32.
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


def analysis_transform(filters: int = FILTERS, latent: int = LATENT) -> keras.Sequential:
    """g_a: four 5×5 convolutions with stride 2, GDN after each but the last.

    (batch, H, W, 3) → (batch, H/16, W/16, latent); shared by both image codecs of notebook 02.
    """
    conv = dict(kernel_size=5, strides=2, padding="same")
    return keras.Sequential([
        keras.layers.Conv2D(filters, **conv), GDN(),
        keras.layers.Conv2D(filters, **conv), GDN(),
        keras.layers.Conv2D(filters, **conv), GDN(),
        keras.layers.Conv2D(latent, **conv)], name="analysis")


def synthesis_transform(filters: int = FILTERS) -> keras.Sequential:
    """g_s: g_a mirrored, with transposed convolutions and inverse GDN.

    (batch, H/16, W/16, latent) → (batch, H, W, 3); shared by both image codecs of notebook 02.
    """
    conv = dict(kernel_size=5, strides=2, padding="same")
    return keras.Sequential([
        keras.layers.Conv2DTranspose(filters, **conv), GDN(inverse=True),
        keras.layers.Conv2DTranspose(filters, **conv), GDN(inverse=True),
        keras.layers.Conv2DTranspose(filters, **conv), GDN(inverse=True),
        keras.layers.Conv2DTranspose(3, **conv)], name="synthesis")


class ImageCodec(keras.Model):
    """Analysis transform, synthesis transform and factorised prior of one λ (see the module docstring).

    Parameters
    ----------
    lmbda : float
        The rate–distortion weight λ (loss ``bpp + λ·255²·MSE``).
    filters, latent : int
        Hidden and latent channels.
    """

    family = "factorized"

    def __init__(self, lmbda=0.0067, filters=FILTERS, latent=LATENT, **kwargs):
        super().__init__(**kwargs)
        self.lmbda = float(lmbda)
        self.noise = True  # False: a plain autoencoder (no quantisation proxy in training)
        self.analysis = analysis_transform(filters, latent)
        self.synthesis = synthesis_transform(filters)
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


def build_codec(lmbda: float = 0.0067, filters: int = FILTERS, latent: int = LATENT) -> ImageCodec:
    """A fresh :class:`ImageCodec` (parameters as the class's), built on a 64×64 input so its weights exist.

    Returns
    -------
    ImageCodec
        Its weights in the order the shipped ``.npz`` files store them.
    """
    model = ImageCodec(lmbda=lmbda, filters=filters, latent=latent)
    model(np.zeros((1, 64, 64, 3), np.float32))
    return model


def rd_loss(model, x, training: bool = True):
    """The rate–distortion loss of Ballé et al. 2017 on a batch.

    Parameters
    ----------
    model : ImageCodec or course_utils.models.hyperprior.HyperpriorCodec
        Called as ``model(x, training)`` → (reconstruction, likelihoods): one tensor of likelihoods, or a
        tuple of them (the hyperprior's y and z), whose bits are summed.
    x : tensor, float32, (batch, H, W, 3), in [0, 1]
    training : bool
        True adds uniform noise to the latent (the differentiable proxy of rounding).

    Returns
    -------
    loss, bpp, mse : scalar tensors
        ``loss = bpp + λ·255²·mse``; bpp in bits per pixel (of every latent); mse on the [0, 1] scale.
    """
    x_hat, likelihoods = model(x, training=training)
    likelihoods = likelihoods if isinstance(likelihoods, (tuple, list)) else (likelihoods,)
    pixels = ops.cast(ops.shape(x)[0] * ops.shape(x)[1] * ops.shape(x)[2], "float32")
    bpp = sum(ops.sum(-ops.log(p)) for p in likelihoods) / (np.log(2.0) * pixels)
    mse = ops.mean(ops.square(x - x_hat))
    return bpp + model.lmbda * 255.0 ** 2 * mse, bpp, mse


def make_train_step(model, optimizer, rate_weight: float = 1.0):
    """One optimisation step on a batch: minimise ``rate_weight·bpp + λ·255²·mse`` (a ``tf.function``).

    Each call of the returned step runs the codec in training mode (uniform noise on the latent, or
    none when ``model.noise`` is False), takes the gradient of the objective with respect to
    ``model.trainable_variables`` and applies it with ``optimizer``.

    Parameters
    ----------
    model : ImageCodec
        A built codec (e.g. :func:`build_codec`): its trainable variables are collected when the
        step is made.
    optimizer : keras.optimizers.Optimizer
    rate_weight : float
        Weight of the rate term; 0 trains a plain autoencoder (MSE only).

    Returns
    -------
    callable
        ``step(x) -> {"loss", "bpp", "mse"}`` (scalar float32 tensors, as :func:`rd_loss`: ``loss`` is
        always ``bpp + λ·255²·mse``, whatever ``rate_weight``; bpp in bits per pixel, mse on the
        [0, 1] scale), ``x`` float32 (batch, H, W, 3) in [0, 1], H and W multiples of 16.
    """
    weights = model.trainable_variables

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss, bpp, mse = rd_loss(model, x)
            objective = rate_weight * bpp + model.lmbda * 255.0 ** 2 * mse
        optimizer.apply_gradients(zip(tape.gradient(objective, weights), weights))
        return {"loss": loss, "bpp": bpp, "mse": mse}

    return step
