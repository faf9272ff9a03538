"""A Tacotron-style text-to-spectrogram model: text symbols in (the course feeds phonemes), a mel spectrogram out.

Papers: Y. Wang et al. (2017), "Tacotron: Towards End-to-End Speech Synthesis" (Interspeech);
J. Shen et al. (2018), "Natural TTS Synthesis by Conditioning WaveNet on Mel Spectrogram Predictions"
(Tacotron 2, ICASSP); J. Chorowski et al. (2015), "Attention-Based Models for Speech Recognition"
(location-sensitive attention); H. Tachibana, K. Uenoyama and S. Aihara (2018), "Efficiently Trainable
Text-to-Speech System Based on Deep Convolutional Networks with Guided Attention" (ICASSP).

A sequence-to-sequence model reads text symbols (characters in the papers; phoneme tokens in this course)
and writes a mel spectrogram. The **encoder** embeds each
symbol, mixes neighbours with three convolutions (5 symbols wide, batch norm, ReLU, dropout) and
reads the sentence both ways with a bidirectional LSTM. The **decoder** is autoregressive: each step
takes the last frame it produced through a **prenet** (two ReLU layers whose dropout stays on at
inference, as in Tacotron 2), an attention LSTM, **location-sensitive attention** (energies from the
query, the encoder memory and convolutional features of the previous and cumulative alignments, so the
attention moves forward along the text) and a decoder LSTM, and predicts ``r`` mel frames at once (the
**reduction factor** of Tacotron) and a **stop token**. A **postnet** of five convolutions predicts a
residual that sharpens the whole spectrogram. The decoder's state between steps is a
:class:`DecoderState`. Training adds the **guided attention loss** (:func:`guided_attention_weights`),
which pushes the alignment towards the diagonal so it is learned in minutes instead of hours. The text
front end is :mod:`course_utils.text`; the mel spectrogram, Griffin-Lim, training and synthesis are in
:mod:`course_utils.tacotron_tts`.
"""
from __future__ import annotations

from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf  # the TensorFlow backend's GradientTape
from keras import layers, ops

#: Sizes of the shipped model (small enough for a 2-core CPU).
DEFAULT_HPARAMS = dict(n_mels=80, reduction=4, embed_dim=128, enc_filters=128, enc_units=64, prenet_units=128,
                       att_rnn_units=256, dec_rnn_units=256, att_dim=128, loc_filters=16, loc_kernel=31,
                       postnet_filters=128, dropout=0.5)


def guided_attention_weights(text_len, steps_len, n_text: int, n_steps: int, g: float = 0.2):
    """Penalty matrix of the guided attention loss (Tachibana et al. 2017).

    ``W[k, n] = 1 − exp(−(n / N − k / S)² / (2 g²))`` for decoder step ``k`` of ``S``
    and symbol ``n`` of ``N``; zero outside the valid region.

    Parameters
    ----------
    text_len, steps_len : tensor, int, shape (batch,)
        Valid symbols (N) and decoder steps (S) per example.
    n_text, n_steps : int
        Padded sizes.
    g : float
        Width of the allowed band around the diagonal (0.2 in the paper).

    Returns
    -------
    tensor, float32, shape (batch, n_steps, n_text)
    """
    n = ops.cast(ops.arange(n_text), "float32")[None, None, :]
    k = ops.cast(ops.arange(n_steps), "float32")[None, :, None]
    big_n = ops.cast(text_len, "float32")[:, None, None]
    big_s = ops.cast(steps_len, "float32")[:, None, None]
    w = 1.0 - ops.exp(-ops.square(n / big_n - k / big_s) / (2 * g * g))
    valid = ops.logical_and(n < big_n, k < big_s)
    return ops.where(valid, w, 0.0)


class DecoderState(NamedTuple):
    """What one decoder step passes to the next (and, stacked over steps by ``ops.scan``, its outputs).

    Shapes are per batch of ``b`` sentences of ``N`` symbols.
    """

    att_h: object  #: attention LSTM output, (b, att_rnn_units)
    att_c: object  #: attention LSTM cell, (b, att_rnn_units)
    dec_h: object  #: decoder LSTM output, (b, dec_rnn_units)
    dec_c: object  #: decoder LSTM cell, (b, dec_rnn_units)
    context: object  #: attention-weighted encoder memory, (b, 2·enc_units)
    align: object  #: this step's attention over the symbols, (b, N), sums to 1
    cum_align: object  #: attention summed over the steps so far, (b, N)
    frames: object  #: the step's ``r`` predicted mel frames, flattened, (b, n_mels·r)
    stop: object  #: the step's stop-token logit, (b,)


class Tacotron(keras.Model):
    """Character embedding → conv + BiLSTM encoder → location-sensitive attention →
    autoregressive LSTM decoder (prenet, reduction factor, stop token) → postnet.

    ``call((text_ids, decoder_inputs))`` runs the decoder with teacher forcing;
    :meth:`infer` runs it autoregressively. Shapes: ``text_ids`` (batch, N) int32
    (0 = padding); ``decoder_inputs`` (batch, steps, n_mels), the last true mel frame
    of the previous step (zeros for step 0). Both return the mel spectrogram before and after
    the postnet (batch, steps·r, n_mels), the stop logits (batch, steps) and the alignment
    (batch, steps, N).

    Parameters
    ----------
    n_symbols : int
        Size of the symbol set (ids 0 … n_symbols − 1; 0 is padding).
    ga_weight : float
        Weight of the guided attention loss.
    **hp
        Overrides of :data:`DEFAULT_HPARAMS`.
    """

    def __init__(self, n_symbols: int, ga_weight=1.0, **hp):
        super().__init__(name="tacotron")
        self.hp = dict(DEFAULT_HPARAMS, **hp)
        h, self.ga_weight = self.hp, ga_weight
        self.n_mels, self.r = h["n_mels"], h["reduction"]
        self.embedding = layers.Embedding(n_symbols, h["embed_dim"], name="symbol_embedding")
        self.enc_convs = [(layers.Conv1D(h["enc_filters"], 5, padding="same", name=f"enc_conv{i}"),
                           layers.BatchNormalization(name=f"enc_bn{i}")) for i in range(3)]
        self.enc_lstm = layers.Bidirectional(layers.LSTM(h["enc_units"], return_sequences=True), name="enc_bilstm")
        self.drop = layers.Dropout(h["dropout"])
        self.prenet = [layers.Dense(h["prenet_units"], activation="relu", name=f"prenet{i}") for i in range(2)]
        self.att_rnn = layers.LSTMCell(h["att_rnn_units"], name="attention_lstm")
        self.dec_rnn = layers.LSTMCell(h["dec_rnn_units"], name="decoder_lstm")
        self.query_proj = layers.Dense(h["att_dim"], use_bias=False, name="att_query")
        self.memory_proj = layers.Dense(h["att_dim"], use_bias=False, name="att_memory")
        self.loc_conv = layers.Conv1D(h["loc_filters"], h["loc_kernel"], padding="same", use_bias=False,
                                      name="att_location_conv")
        self.loc_proj = layers.Dense(h["att_dim"], use_bias=False, name="att_location")
        self.energy = layers.Dense(1, name="att_energy")
        self.frame_proj = layers.Dense(self.n_mels * self.r, name="frame_projection")
        self.stop_proj = layers.Dense(1, name="stop_token")
        self.postnet = [(layers.Conv1D(h["postnet_filters"] if i < 4 else self.n_mels, 5, padding="same",
                                       name=f"postnet_conv{i}"), layers.BatchNormalization(name=f"postnet_bn{i}"))
                        for i in range(5)]
        enc_dim = 2 * h["enc_units"]
        # Build the layers used inside the decoder loop now, outside any traced loop.
        for layer, shape in ((self.prenet[0], (None, self.n_mels)), (self.prenet[1], (None, h["prenet_units"])),
                             (self.att_rnn, (None, h["prenet_units"] + enc_dim)),
                             (self.dec_rnn, (None, h["att_rnn_units"] + enc_dim)),
                             (self.query_proj, (None, h["att_rnn_units"])), (self.loc_conv, (None, None, 2)),
                             (self.loc_proj, (None, None, h["loc_filters"])), (self.energy, (None, None, h["att_dim"])),
                             (self.frame_proj, (None, h["dec_rnn_units"] + enc_dim)),
                             (self.stop_proj, (None, h["dec_rnn_units"] + enc_dim))):
            layer.build(shape)
        self.loss_tracker = {k: keras.metrics.Mean(name=k) for k in ("loss", "mel", "post", "stop", "guided")}

    def encode(self, text_ids, training=False):
        """Text ids (batch, N) → encoder memory (batch, N, 2·enc_units) and its mask (batch, N), True on text."""
        mask = ops.not_equal(text_ids, 0)
        x = self.embedding(text_ids)
        for conv, bn in self.enc_convs:
            x = self.drop(ops.relu(bn(conv(x), training=training)), training=training)
        return self.enc_lstm(x, mask=mask, training=training), mask

    def decoder_step(self, state: DecoderState, frame_in, memory, memory_keys, mask):
        """One decoder step, shared by teacher forcing and inference.

        ``frame_in`` (batch, n_mels) is the previous step's last frame; returns the new
        :class:`DecoderState` twice (the carry and the output that ``ops.scan`` stacks).
        """
        x = frame_in
        for dense in self.prenet:  # dropout on at inference too (Tacotron 2)
            x = self.drop(dense(x), training=True)
        att_h, (att_h, att_c) = self.att_rnn(ops.concatenate([x, state.context], -1), [state.att_h, state.att_c])
        location = self.loc_proj(self.loc_conv(ops.stack([state.align, state.cum_align], -1)))
        energies = ops.squeeze(self.energy(ops.tanh(self.query_proj(att_h)[:, None, :] + memory_keys + location)), -1)
        align = ops.softmax(ops.where(mask, energies, -1e9), axis=-1)
        context = ops.sum(align[:, :, None] * memory, axis=1)
        dec_h, (dec_h, dec_c) = self.dec_rnn(ops.concatenate([att_h, context], -1), [state.dec_h, state.dec_c])
        out = ops.concatenate([dec_h, context], -1)
        state = DecoderState(att_h, att_c, dec_h, dec_c, context, align, state.cum_align + align,
                             self.frame_proj(out), self.stop_proj(out)[:, 0])
        return state, state

    def initial_state(self, memory) -> DecoderState:
        """Zeros, with the alignment on the first symbol."""
        b, n = ops.shape(memory)[0], ops.shape(memory)[1]
        z = lambda units: ops.zeros((b, units))  # noqa: E731
        first = ops.one_hot(ops.zeros((b,), "int32"), n)
        return DecoderState(att_h=z(self.hp["att_rnn_units"]), att_c=z(self.hp["att_rnn_units"]),
                            dec_h=z(self.hp["dec_rnn_units"]), dec_c=z(self.hp["dec_rnn_units"]),
                            context=ops.zeros((b, ops.shape(memory)[2])), align=first, cum_align=first,
                            frames=z(self.n_mels * self.r), stop=ops.zeros((b,)))

    def postprocess(self, frames, training=False):
        """Decoder output (batch, steps, n_mels·r) → mel before and after the postnet (batch, steps·r, n_mels)."""
        mel = ops.reshape(frames, (ops.shape(frames)[0], -1, self.n_mels))
        x = mel
        for i, (conv, bn) in enumerate(self.postnet):
            x = bn(conv(x), training=training)
            x = self.drop(ops.tanh(x) if i < 4 else x, training=training)
        return mel, mel + x

    def _decode(self, text_ids, step_inputs, length, training):
        """Run :meth:`decoder_step` over time (``ops.scan``) and the postnet; see the class docstring."""
        memory, mask = self.encode(text_ids, training=training)
        keys = self.memory_proj(memory)
        if step_inputs is None:  # autoregressive: each step's input is its previous output frame
            def step(state, _):
                return self.decoder_step(state, state.frames[:, -self.n_mels:], memory, keys, mask)
        else:  # teacher forcing: the true previous frame
            def step(state, frame_in):
                return self.decoder_step(state, frame_in, memory, keys, mask)
        _, stacked = ops.scan(step, self.initial_state(memory), step_inputs, length=length)
        # stacked: a DecoderState of time-major tensors (steps, batch, …)
        mel, mel_post = self.postprocess(ops.transpose(stacked.frames, (1, 0, 2)), training=training)
        return mel, mel_post, ops.transpose(stacked.stop, (1, 0)), ops.transpose(stacked.align, (1, 0, 2))

    def call(self, inputs, training=False):
        text_ids, dec_inputs = inputs
        return self._decode(text_ids, ops.transpose(dec_inputs, (1, 0, 2)), None, training)

    def infer(self, text_ids, max_steps: int):
        """Autoregressive decoding for ``max_steps`` steps; the caller cuts at the first stop."""
        return self._decode(text_ids, None, max_steps, False)

    def compute_losses(self, data, training=False):
        """Masked L1 mel losses (before/after postnet), stop-token BCE, guided attention loss."""
        (text_ids, dec_inputs), (mel_target, mel_len) = data[:2]  # fit passes (x, y), train_on_batch (x, y, None)
        mel, mel_post, stop, align = self((text_ids, dec_inputs), training=training)
        n_frames, n_steps = ops.shape(mel_target)[1], ops.shape(stop)[1]
        frame_mask = ops.cast(ops.arange(n_frames)[None, :] < mel_len[:, None], "float32")[:, :, None]
        denom = ops.sum(frame_mask) * self.n_mels
        l_mel = ops.sum(ops.abs(mel - mel_target) * frame_mask) / denom
        l_post = ops.sum(ops.abs(mel_post - mel_target) * frame_mask) / denom
        steps_len = (mel_len + self.r - 1) // self.r
        stop_target = ops.cast(ops.arange(n_steps)[None, :] >= steps_len[:, None] - 1, "float32")
        l_stop = ops.mean(keras.losses.binary_crossentropy(stop_target[..., None], stop[..., None], from_logits=True))
        text_len = ops.sum(ops.cast(ops.not_equal(text_ids, 0), "int32"), axis=1)
        w = guided_attention_weights(text_len, steps_len, ops.shape(text_ids)[1], n_steps)
        l_guided = ops.sum(align * w) / ops.cast(ops.sum(steps_len), "float32")  # off-diagonal mass per step
        total = l_mel + l_post + l_stop + self.ga_weight * l_guided
        return {"loss": total, "mel": l_mel, "post": l_post, "stop": l_stop, "guided": l_guided}

    def train_step(self, data):
        with tf.GradientTape() as tape:
            losses = self.compute_losses(data, training=True)
        grads = tape.gradient(losses["loss"], self.trainable_variables)
        grads, _ = tf.clip_by_global_norm(grads, 1.0)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        for key, tracker in self.loss_tracker.items():
            tracker.update_state(losses[key])
        return {k: t.result() for k, t in self.loss_tracker.items()}

    @property
    def metrics(self):
        return list(self.loss_tracker.values())


def build_tacotron(n_symbols: int, **hp) -> Tacotron:
    """A new :class:`Tacotron`, called once on a dummy batch so that every weight exists.

    Parameters
    ----------
    n_symbols : int
        Size of the symbol set.
    **hp
        Overrides of :data:`DEFAULT_HPARAMS` (``reduction``, LSTM sizes…) and ``ga_weight``.

    Returns
    -------
    Tacotron
    """
    model = Tacotron(n_symbols, **hp)
    model((np.ones((1, 3), np.int32), np.zeros((1, 2, model.n_mels), np.float32)))  # create every weight
    return model
