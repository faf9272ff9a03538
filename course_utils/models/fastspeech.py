"""A duration-based acoustic model: phonemes → durations → WORLD vocoder frames, no attention.

Papers: Y. Ren et al., "FastSpeech 2: Fast and high-quality end-to-end text to speech", ICLR 2021;
J. Shen et al., "Non-Attentive Tacotron: Robust and controllable neural TTS synthesis including
unsupervised duration modeling", 2020; and the frame-level acoustic model of Merlin
(Z. Wu, O. Watts, S. King, "Merlin: an open source neural network speech synthesis system", SSW 2016).

The Tacotron (:mod:`course_utils.models.tacotron`) must *learn* where each output frame looks in
the text, with attention, which takes GPU-days. Here the alignment is given: a forced aligner
measured how many frames every phone lasts in the recordings (:mod:`course_utils.alignment`).

* **Encoder** — phoneme embedding, then residual 1-D convolutions (each phone sees its neighbours).
* **Duration predictor** — two convolutions and a linear layer: log(1 + frames) of every phone,
  trained on the forced-aligned durations.
* **Length regulator** — each phone's encoding is repeated for its duration (the true durations in
  training, the predicted ones at synthesis); every frame also gets its relative position inside
  its phone and the phone's length, as Merlin's frame-level linguistic features do.
* **Decoder** — dilated residual convolutions over frames, a linear layer to the vocoder features,
  and a convolutional **postnet** that adds a residual correction (as in Tacotron 2).

Everything is parallel over time (non-autoregressive), so it trains in minutes per epoch on a CPU.
"""
from __future__ import annotations

import keras
from keras import layers, ops

DEFAULT_HPARAMS = dict(channels=192, kernel_size=5, encoder_layers=4, decoder_dilations=(1, 2, 4, 8, 1, 2, 4, 8),
                       postnet_layers=3, dropout=0.1)


class ConvBlock(layers.Layer):
    """Residual block: Conv1D (dilated) → ReLU → LayerNorm → dropout, added to the input."""

    def __init__(self, channels: int, kernel_size: int, dilation: int = 1, dropout: float = 0.1, **kw):
        super().__init__(**kw)
        self.conv = layers.Conv1D(channels, kernel_size, padding="same", dilation_rate=dilation, activation="relu")
        self.norm = layers.LayerNormalization()
        self.drop = layers.Dropout(dropout)

    def call(self, x, training=False):
        return x + self.drop(self.norm(self.conv(x)), training=training)


class DurationTTS(keras.Model):
    """Phonemes → (durations, vocoder frames). See the module docstring.

    Parameters
    ----------
    n_symbols : int
        Size of the phoneme set (id 0 is padding).
    n_features : int
        Vocoder features per frame (e.g. 40 mel-cepstra + log F0 + voicing + aperiodicity).
    channels, kernel_size, encoder_layers, decoder_dilations, postnet_layers, dropout
        Layer sizes (:data:`DEFAULT_HPARAMS`).

    Call
    ----
    ``model((phones, frame_phone, frame_position))`` with
    phones int32 (batch, n_phones), frame_phone int32 (batch, n_frames) — the phone each frame
    belongs to — and frame_position float32 (batch, n_frames, 2) — position inside the phone
    (0–1) and log(1 + the phone's frames); returns ``(frames, frames_post, log_durations)``
    of shapes (batch, n_frames, n_features) ×2 and (batch, n_phones).
    """

    def __init__(self, n_symbols: int, n_features: int, channels=192, kernel_size=5, encoder_layers=4,
                 decoder_dilations=(1, 2, 4, 8, 1, 2, 4, 8), postnet_layers=3, dropout=0.1, **kw):
        super().__init__(**kw)
        self.hp = dict(n_symbols=n_symbols, n_features=n_features, channels=channels, kernel_size=kernel_size,
                       encoder_layers=encoder_layers, decoder_dilations=tuple(decoder_dilations),
                       postnet_layers=postnet_layers, dropout=dropout)
        self.embedding = layers.Embedding(n_symbols, channels)
        self.encoder = [ConvBlock(channels, kernel_size, 1, dropout) for _ in range(encoder_layers)]
        self.duration_predictor = [layers.Conv1D(channels, 3, padding="same", activation="relu"),
                                   layers.LayerNormalization(), layers.Dropout(dropout),
                                   layers.Conv1D(channels, 3, padding="same", activation="relu"),
                                   layers.LayerNormalization(), layers.Dropout(dropout), layers.Dense(1)]
        self.frame_input = layers.Dense(channels)
        self.decoder = [ConvBlock(channels, kernel_size, d, dropout) for d in decoder_dilations]
        self.output_layer = layers.Dense(n_features)
        self.postnet = [layers.Conv1D(channels, kernel_size, padding="same", activation="tanh")
                        for _ in range(postnet_layers)] + [layers.Conv1D(n_features, kernel_size, padding="same")]

    def encode(self, phones, training=False):
        """Phone ids (batch, n_phones) → (encodings (batch, n_phones, channels), log durations (batch, n_phones))."""
        h = self.embedding(phones)
        for block in self.encoder:
            h = block(h, training=training)
        d = h
        for layer in self.duration_predictor:
            d = layer(d, training=training) if isinstance(layer, layers.Dropout) else layer(d)
        return h, ops.squeeze(d, -1)

    def decode(self, h, frame_phone, frame_position, training=False):
        """Length regulator + decoder + postnet: (frames, frames after the postnet)."""
        x = ops.take_along_axis(h, ops.expand_dims(frame_phone, -1), axis=1)  # repeat each phone's encoding
        x = self.frame_input(ops.concatenate([x, frame_position], axis=-1))
        for block in self.decoder:
            x = block(x, training=training)
        y = self.output_layer(x)
        r = y
        for layer in self.postnet:
            r = layer(r)
        return y, y + r

    def call(self, inputs, training=False):
        phones, frame_phone, frame_position = inputs
        h, log_durations = self.encode(phones, training=training)
        y, y_post = self.decode(h, frame_phone, frame_position, training=training)
        return y, y_post, log_durations


def build_duration_tts(n_symbols: int, n_features: int, **hp) -> DurationTTS:
    """A :class:`DurationTTS` with :data:`DEFAULT_HPARAMS` overridden by ``hp``, built on a dummy batch."""
    model = DurationTTS(n_symbols, n_features, **dict(DEFAULT_HPARAMS, **hp))
    model((ops.ones((1, 4), "int32"), ops.zeros((1, 8), "int32"), ops.zeros((1, 8, 2))))
    return model
