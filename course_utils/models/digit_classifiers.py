"""Three isolated-digit recognisers on log-mel frames — a CNN, a CRNN and a Transformer — and SpecAugment.

Papers: T. N. Sainath and C. Parada (2015), "Convolutional Neural Networks for Small-footprint Keyword
Spotting" (CNN); S. Ö. Arık et al. (2017), "Convolutional Recurrent Neural Networks for Small-Footprint
Keyword Spotting" (CRNN), with the GRU of K. Cho et al. (2014); A. Vaswani et al. (2017), "Attention Is
All You Need" (Transformer), in the pre-norm form of R. Xiong et al. (2020), "On Layer Normalization in
the Transformer Architecture"; D. S. Park et al. (2019), "SpecAugment: A Simple Data Augmentation Method
for Automatic Speech Recognition".

All three read the same input, a fixed 0.8 s window of 10 ms frames × 40 mel bands
(``(batch, 80, 40)``, :mod:`course_utils.digit_features`), and end in a softmax over the ten digits; they
differ in how they look at it. The **CNN** treats the spectrogram as an image: small time–frequency
patterns, pooled, then flattened so that *where* a pattern occurs still counts. The **CRNN** keeps the
convolutions for local patterns, collapses the frequency axis into one vector per time step and lets a
bidirectional GRU read the word in time order. The **Transformer** embeds pairs of frames as tokens, adds
a sinusoidal position code, and lets every token attend to every other. Each can put a
:class:`SpecAugment` layer in front, which masks random bands and frames during training only.
:func:`build_ensemble` averages the probabilities of trained models (T. G. Dietterich (2000), "Ensemble
Methods in Machine Learning"): notebook 04's best model on unseen speakers is such a pair. Training,
evaluation on unseen speakers and the public :func:`course_utils.recognition.recognize` are in
:mod:`course_utils.recognition`.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from ..digit_features import N_FRAMES, N_MELS

#: SpecAugment masks (Park et al. 2019, their "LB" policy scaled to 80 frames × 40 bands).
SPEC_AUGMENT = dict(freq_masks=2, freq_width=6, time_masks=2, time_width=8)


@keras.saving.register_keras_serializable(package="course")
class SpecAugment(keras.layers.Layer):
    """SpecAugment frequency and time masks (Park et al. 2019), active only in training.

    Input and output ``(batch, n_frames, n_mels)``; masked cells become 0 (the
    padding value, 40 dB below the peak). Time warping, the paper's least useful part, is left out.

    Parameters
    ----------
    freq_masks, time_masks : int
        Masks per example along each axis.
    freq_width, time_width : int
        Largest mask width in bands / frames (each mask's width is drawn from 0…width).
    seed : int, optional
        Seeds the layer's own random-number generator.
    """

    def __init__(self, freq_masks=2, freq_width=6, time_masks=2, time_width=8, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.freq_masks, self.freq_width = freq_masks, freq_width
        self.time_masks, self.time_width = time_masks, time_width
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)

    def _mask(self, batch, size, count, width):
        # count masks per example, each [start, start + w) with w ~ U{0..width}
        w = keras.random.randint((batch, count, 1), 0, width + 1, seed=self.generator)
        start = ops.cast(keras.random.uniform((batch, count, 1), seed=self.generator)
                         * ops.cast(size - w + 1, "float32"), "int32")
        idx = ops.arange(size, dtype="int32")[None, None, :]
        hit = ops.logical_and(idx >= start, idx < start + w)
        return ops.any(hit, axis=1)  # (batch, size)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        shape = ops.shape(inputs)
        batch, frames, bands = shape[0], shape[1], shape[2]
        keep = ops.logical_not(ops.logical_or(
            self._mask(batch, frames, self.time_masks, self.time_width)[:, :, None],
            self._mask(batch, bands, self.freq_masks, self.freq_width)[:, None, :]))
        return inputs * ops.cast(keep, inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "freq_masks": self.freq_masks, "freq_width": self.freq_width,
                "time_masks": self.time_masks, "time_width": self.time_width, "seed": self.seed}


@keras.saving.register_keras_serializable(package="course")
class PositionalEncoding(keras.layers.Layer):
    """Add the sinusoidal positional encoding of Vaswani et al. 2017 to ``(batch, time, d_model)``.

    ``PE[t, 2i] = sin(t / 10000^(2i/d))``, ``PE[t, 2i+1] = cos(t / 10000^(2i/d))``.
    """

    def call(self, inputs):
        length, d = ops.shape(inputs)[1], inputs.shape[-1]
        position = ops.cast(ops.arange(length)[:, None], "float32")
        rate = ops.exp(ops.cast(ops.arange(0, d, 2), "float32") * (-np.log(10000.0) / d))
        angles = position * rate[None, :]
        pe = ops.reshape(ops.stack([ops.sin(angles), ops.cos(angles)], axis=-1), (length, d))
        return inputs + ops.cast(pe[None], inputs.dtype)


def spec_augment_input(inputs, enabled: bool):
    """``inputs`` through a :class:`SpecAugment` layer named ``"spec_augment"`` when ``enabled``, else unchanged.

    The first step of every builder here: the layer uses the masks of :data:`SPEC_AUGMENT` and is
    active only in training, so inference sees the features unmasked either way.

    Parameters
    ----------
    inputs : keras.KerasTensor, float32, shape (batch, n_frames, n_mels)
        The model's log-mel input (``keras.Input``).
    enabled : bool
        Add the layer; False returns ``inputs`` itself and the model has no ``"spec_augment"`` layer.

    Returns
    -------
    keras.KerasTensor, float32, shape (batch, n_frames, n_mels)
        The masked features (masked cells are 0 in training), or ``inputs`` unchanged.
    """
    return SpecAugment(**SPEC_AUGMENT, name="spec_augment")(inputs) if enabled else inputs


def build_cnn(n_frames: int = N_FRAMES, n_mels: int = N_MELS, n_classes: int = 10, width: int = 16,
              dropout: float = 0.3, spec_augment: bool = False) -> keras.Model:
    """A 2-D CNN on the log-mel "image" (Sainath & Parada 2015).

    ``[Conv 3×3 → BatchNorm → ReLU → MaxPool 2×2] × 3`` with ``width, 2·width,
    4·width`` filters, then the whole ``(10, 5, 4·width)`` map is flattened —
    *where* in time and frequency a pattern occurs matters for a digit, so it
    is not averaged away — and fed through dropout to a softmax.

    Parameters
    ----------
    n_frames, n_mels : int
        Input ``(batch, n_frames, n_mels)`` float32 — :func:`course_utils.digit_features.digit_log_mel` features.
    n_classes : int
    width : int
        Filters in the first block.
    dropout : float
    spec_augment : bool
        Put a :class:`SpecAugment` layer (training only) in front.

    Returns
    -------
    keras.Model
        Outputs class probabilities ``(batch, n_classes)``.
    """
    inputs = keras.Input((n_frames, n_mels), name="log_mel")
    x = layers.Reshape((n_frames, n_mels, 1))(spec_augment_input(inputs, spec_augment))
    for block, filters in enumerate([width, 2 * width, 4 * width]):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{block}")(x)
        x = layers.BatchNormalization(name=f"bn{block}")(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="cnn")


def build_crnn(n_frames: int = N_FRAMES, n_mels: int = N_MELS, n_classes: int = 10, width: int = 16,
               units: int = 48, dropout: float = 0.3, spec_augment: bool = False) -> keras.Model:
    """A convolutional recurrent network (Arık et al. 2017): Conv2D, collapse frequency, BiGRU over time.

    Two ``Conv 3×3 → BatchNorm → ReLU`` blocks pool time by 2 and frequency by 4
    in all; the frequency axis and channels are then flattened into one vector
    per time step, projected to 64 dimensions, and read by a bidirectional GRU
    (Cho et al. 2014). The GRU's outputs at every step are averaged over time
    before the softmax: reading only its final states would make it carry the
    digit through the padding frames after the word, and in our tests on FSDD
    it then learned far slower within the same number of epochs.

    Parameters
    ----------
    n_frames, n_mels : int
        Input ``(batch, n_frames, n_mels)`` float32.
    n_classes, width : int
    units : int
        GRU cells per direction.
    dropout : float
    spec_augment : bool

    Returns
    -------
    keras.Model
        Outputs class probabilities ``(batch, n_classes)``.
    """
    inputs = keras.Input((n_frames, n_mels), name="log_mel")
    x = layers.Reshape((n_frames, n_mels, 1))(spec_augment_input(inputs, spec_augment))
    for block, (filters, pool) in enumerate([(width, (2, 2)), (2 * width, (1, 2))]):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{block}")(x)
        x = layers.BatchNormalization(name=f"bn{block}")(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(pool, name=f"pool{block}")(x)  # pool = (time, frequency)
    x = layers.Reshape((x.shape[1], x.shape[2] * x.shape[3]), name="collapse_frequency")(x)
    x = layers.Dense(64, activation="relu", name="project")(x)
    x = layers.Bidirectional(layers.GRU(units, return_sequences=True), name="bigru")(x)
    x = layers.GlobalAveragePooling1D(name="average_over_time")(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="crnn")


def build_transformer(n_frames: int = N_FRAMES, n_mels: int = N_MELS, n_classes: int = 10, d_model: int = 64,
                      heads: int = 4, ff: int = 128, blocks: int = 2, dropout: float = 0.1,
                      spec_augment: bool = False) -> keras.Model:
    """A small Transformer encoder (Vaswani et al. 2017) over log-mel frames.

    A strided 1-D convolution embeds pairs of frames in ``d_model`` dimensions
    (20 ms tokens); the sinusoidal :class:`PositionalEncoding` tells attention
    where each token is; ``blocks`` pre-norm encoder blocks
    (``x + MHA(LN(x))``, ``x + FFN(LN(x))``; Xiong et al. 2020) follow, then
    average pooling over time and a softmax.

    Parameters
    ----------
    n_frames, n_mels : int
        Input ``(batch, n_frames, n_mels)`` float32.
    n_classes : int
    d_model, heads, ff, blocks : int
        Model width, attention heads (``key_dim = d_model // heads``),
        feed-forward width, number of encoder blocks.
    dropout : float
    spec_augment : bool

    Returns
    -------
    keras.Model
        Outputs class probabilities ``(batch, n_classes)``.
    """
    inputs = keras.Input((n_frames, n_mels), name="log_mel")
    x = layers.Conv1D(d_model, 3, strides=2, padding="same", activation="relu", name="embed")(
        spec_augment_input(inputs, spec_augment))
    x = PositionalEncoding(name="positions")(x)
    for b in range(blocks):
        h = layers.LayerNormalization(name=f"ln_att{b}")(x)
        h = layers.MultiHeadAttention(heads, d_model // heads, dropout=dropout, name=f"attention{b}")(h, h)
        x = x + layers.Dropout(dropout)(h)
        h = layers.LayerNormalization(name=f"ln_ff{b}")(x)
        h = layers.Dense(ff, activation="gelu", name=f"ff{b}_1")(h)
        x = x + layers.Dropout(dropout)(layers.Dense(d_model, name=f"ff{b}_2")(h))
    x = layers.LayerNormalization(name="ln_out")(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="transformer")


def build_ensemble(models, name: str = "ensemble") -> keras.Model:
    """One model that averages the class probabilities of trained models (Dietterich 2000).

    T. G. Dietterich (2000), "Ensemble methods in machine learning": models that make different
    mistakes, averaged, make fewer. The members keep their weights (no training here).

    Parameters
    ----------
    models : sequence of keras.Model
        Trained classifiers with the same input shape ``(batch, n_frames, n_mels)`` and softmax
        outputs ``(batch, n_classes)``, with distinct names (e.g. ``"transformer"`` and ``"crnn"``).
    name : str

    Returns
    -------
    keras.Model
        Input ``(batch, n_frames, n_mels)`` float32; output the members' mean probabilities
        ``(batch, n_classes)``.

    Raises
    ------
    ValueError
        Fewer than two models, different input shapes, or two models with the same name.
    """
    models = list(models)
    if len(models) < 2:
        raise ValueError(f"an ensemble needs at least two models, got {len(models)}")
    shapes = {tuple(m.input_shape[1:]) for m in models}
    if len(shapes) != 1:
        raise ValueError(f"the models' input shapes differ: {sorted(shapes)}")
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise ValueError(f"the models need distinct names, got {names}")
    inputs = keras.Input(shapes.pop(), name="log_mel")
    outputs = layers.Average(name="probabilities")([m(inputs) for m in models])
    return keras.Model(inputs, outputs, name=name)


#: Model name -> builder.
BUILDERS = {"cnn": build_cnn, "crnn": build_crnn, "transformer": build_transformer}
