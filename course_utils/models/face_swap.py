"""The face-swap autoencoder: one shared encoder, one decoder per identity.

Sources: the 2017 "deepfakes" code, as described by I. Perov et al. (2020), "DeepFaceLab: Integrated,
flexible and extensible face-swapping framework" (arXiv:2005.05535).

The encoder must describe *any* face of either person — pose, expression, lighting — in one shared
code (a dense bottleneck); each decoder learns to draw that code as its own person. Both are trained at
once to rebuild each person's faces through their own decoder, from **randomly warped** copies (small
rotation, zoom, shift and shear, :func:`face_warp`), so the decoders learn faces rather than copying
pixels. A swap encodes a face of A and decodes it with B's decoder: B's identity with A's pose and
expression. The encoder is four strided 5×5 convolutions, the bottleneck and a first 2× upscaling; each
decoder three 2× transposed convolutions and a sigmoid RGB layer. Face crops, training and the public
:func:`course_utils.face_swap.swap_face` are in :mod:`course_utils.face_swap`.
"""
from __future__ import annotations

import keras
import tensorflow as tf  # the TensorFlow backend's GradientTape

#: Side of the face crops the swap autoencoder works on, pixels.
FACE_SIZE = 64


def face_warp(seed: int = 0) -> keras.Sequential:
    """The random warp applied to training inputs: small rotation, zoom, shift and shear.

    The decoder must rebuild the *unwarped* face, so it learns faces rather than copying pixels
    (the "random warp" of the swap autoencoder).

    Returns
    -------
    keras.Sequential
        Active only with ``training=True``; expects float images in [0, 1].
    """
    return keras.Sequential([
        keras.layers.RandomRotation(0.03, fill_mode="reflect", seed=seed),
        keras.layers.RandomZoom((-0.08, 0.08), fill_mode="reflect", seed=seed + 1),
        keras.layers.RandomTranslation(0.05, 0.05, fill_mode="reflect", seed=seed + 2),
        keras.layers.RandomShear(0.05, 0.05, fill_mode="reflect", seed=seed + 3),
    ], name="random_warp")


def _conv(x, filters, name):
    x = keras.layers.Conv2D(filters, 5, strides=2, padding="same", name=name)(x)
    return keras.layers.LeakyReLU(0.1)(x)


def _upscale(x, filters, name):
    x = keras.layers.Conv2DTranspose(filters, 3, strides=2, padding="same", name=name)(x)
    return keras.layers.LeakyReLU(0.1)(x)


def build_face_encoder(size: int = FACE_SIZE, latent: int = 256, width: int = 24) -> keras.Model:
    """Shared encoder: 4 strided 5×5 convs, a dense bottleneck of ``latent`` units, back to a 4×4 map.

    Parameters
    ----------
    size : int
        Input side in pixels (a multiple of 16); input float32 in [0, 1], shape (size, size, 3).
    latent : int
        Units of the bottleneck.
    width : int
        Filters of the first convolution (doubled at each of the next three).

    Returns
    -------
    keras.Model
        Output shape (size/8, size/8, 4·width) — the decoders' starting map.
    """
    inputs = keras.Input((size, size, 3), name="face")
    x = inputs
    for i, f in enumerate([width, 2 * width, 4 * width, 8 * width]):
        x = _conv(x, f, f"enc_conv{i}")
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(latent, name="bottleneck")(x)
    s = size // 16
    x = keras.layers.Dense(s * s * 8 * width, name="expand")(x)
    x = keras.layers.Reshape((s, s, 8 * width))(x)
    x = _upscale(x, 4 * width, "enc_up")
    return keras.Model(inputs, x, name="encoder")


def build_face_decoder(size: int = FACE_SIZE, width: int = 24, name: str = "decoder") -> keras.Model:
    """One identity's decoder: three 2× transposed-convolution (3×3) blocks and a sigmoid RGB output.

    Returns
    -------
    keras.Model
        (size/8, size/8, 4·width) → (size, size, 3), float in [0, 1].
    """
    inputs = keras.Input((size // 8, size // 8, 4 * width))
    x = inputs
    for i, f in enumerate([4 * width, 2 * width, width]):
        x = _upscale(x, f, f"{name}_up{i}")
    outputs = keras.layers.Conv2D(3, 5, padding="same", activation="sigmoid", name=f"{name}_rgb")(x)
    return keras.Model(inputs, outputs, name=name)


class SwapAutoencoder(keras.Model):
    """Shared encoder + one decoder per identity; trained on warped faces of both.

    ``model.decode(model.encoder(faces), "b")`` draws faces as identity B; calling the model
    returns both decoders' drawings. ``train_step`` takes a batch ``(faces_a, faces_b)`` of
    float32 images in [0, 1] and minimises the mean absolute error of both reconstructions
    from warped inputs.

    Parameters
    ----------
    size : int
        Side of the square face crops, pixels (a multiple of 16).
    latent, width : int
        See :func:`build_face_encoder`.
    seed : int
        Seed of the random warp.
    """

    def __init__(self, size: int = FACE_SIZE, latent: int = 256, width: int = 24, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.size, self.latent, self.width, self.seed = size, latent, width, seed
        self.encoder = build_face_encoder(size, latent, width)
        self.decoder_a = build_face_decoder(size, width, "decoder_a")
        self.decoder_b = build_face_decoder(size, width, "decoder_b")
        self.warp = face_warp(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def build(self, input_shape):
        """Build the random warp for ``input_shape``; the encoder and decoders are functional models, built already."""
        self.warp.build(input_shape)

    def decode(self, codes, identity: str):
        """Draw encoder codes (batch, size/8, size/8, 4·width) as identity ``"a"`` or ``"b"``."""
        return (self.decoder_a if identity == "a" else self.decoder_b)(codes)

    def call(self, faces, training=False):
        codes = self.encoder(faces, training=training)
        return self.decoder_a(codes, training=training), self.decoder_b(codes, training=training)

    @property
    def metrics(self):
        return [self.loss_tracker]

    def train_step(self, data):
        faces_a, faces_b = data
        with tf.GradientTape() as tape:
            rec_a = self.decoder_a(self.encoder(self.warp(faces_a, training=True), training=True))
            rec_b = self.decoder_b(self.encoder(self.warp(faces_b, training=True), training=True))
            loss = tf.reduce_mean(tf.abs(rec_a - faces_a)) + tf.reduce_mean(tf.abs(rec_b - faces_b))
        variables = self.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def get_config(self):
        return {"size": self.size, "latent": self.latent, "width": self.width, "seed": self.seed}
