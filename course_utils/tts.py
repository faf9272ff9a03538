"""Topic 5b — a Tacotron-style text-to-speech model with a Griffin-Lim vocoder.

Architecture (small enough for a 2-core CPU; Wang et al. 2017 "Tacotron",
Shen et al. 2018 "Tacotron 2"):

* **text** — lower-case characters, a few punctuation marks and an end-of-sentence symbol,
  one learned **character embedding** each;
* **encoder** — 3 × (Conv1D 5 → batch norm → ReLU → dropout) and a bidirectional LSTM;
* **location-sensitive attention** (Chorowski et al. 2015): energies from the decoder
  query, the encoder memory and convolutional features of the previous and cumulative
  alignments;
* **decoder** — autoregressive: a **prenet** (two ReLU layers with dropout 0.5, kept on at
  inference as in Tacotron 2), an attention LSTM, a decoder LSTM, and a projection to
  ``r`` mel frames per step (**reduction factor** r, Tacotron) plus a **stop token**;
* **postnet** — 5 convolutions predicting a residual that refines the **mel spectrogram**;
* **guided attention loss** (Tachibana et al. 2017) pushes the alignment towards the
  diagonal, so it is learned within minutes instead of hours;
* vocoder — **Griffin-Lim** (Griffin & Lim 1984) from the mel spectrogram with librosa.

Shipped weights (``course_utils/weights/tts_slt.npz``, float16) were trained by the
project's own script on CMU ARCTIC ``slt`` (all but the held-out sentences), in the
stages of :data:`TRAINING_STAGES`, which this command replays from scratch::

    python benchmarks/train_synthesis.py tts

Public function on raw input: :func:`synthesize`.
"""
from __future__ import annotations

import json
import re
import time
import unicodedata
import warnings
from pathlib import Path

import numpy as np

from .saving import load_weights_f16, replacing, save_weights_f16

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

# ----------------------------------------------------------------------------- text

PAD, EOS = "_", "~"
#: Index 0 is padding, 1 the end-of-sentence symbol.
SYMBOLS = PAD + EOS + " abcdefghijklmnopqrstuvwxyz'.,?!-"
SYMBOL_ID = {s: i for i, s in enumerate(SYMBOLS)}
#: Longest text (characters) synthesised in one pass; longer text is split at punctuation/spaces.
MAX_CHARS = 120


class TextError(ValueError):
    """Text that cannot be synthesised (empty, or characters the model has no symbol for)."""


def normalize_text(text: str) -> str:
    """Lower-case, strip accents, map ``;:`` to commas and drop quotes and brackets.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        Only characters of :data:`SYMBOLS` (without pad/EOS), single spaces.

    Raises
    ------
    TextError
        Empty text, digits (spell numbers out: "twenty one") or other characters
        without a symbol (the message lists them).
    """
    if not isinstance(text, str):
        raise TextError(f"text must be a str, got {type(text).__name__}")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"[;:]", ",", text)
    text = re.sub(r"[\"()\[\]{}`]", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise TextError("text is empty (or has no letters the model can read)")
    unknown = sorted(set(text) - set(SYMBOLS[2:]))
    if unknown:
        hint = " — spell numbers out in words" if any(c.isdigit() for c in unknown) else ""
        raise TextError(f"characters the model has no symbol for: {unknown}{hint}")
    return text


def text_to_ids(text: str) -> np.ndarray:
    """Normalised text → int32 symbol ids ending with the end-of-sentence id (1).

    Raises
    ------
    TextError
        As :func:`normalize_text`.
    """
    return np.array([SYMBOL_ID[c] for c in normalize_text(text)] + [SYMBOL_ID[EOS]], np.int32)


def split_text(text: str, max_chars: int = MAX_CHARS) -> list[str]:
    """Split long text into chunks of at most ``max_chars``, at sentence ends, commas, then spaces."""
    text = normalize_text(text)
    chunks: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        while len(sentence) > max_chars:
            cut = max(sentence.rfind(", ", 0, max_chars), sentence.rfind(" ", 0, max_chars))
            cut = cut if cut > 0 else max_chars - 1
            chunks.append(sentence[:cut + 1].strip())
            sentence = sentence[cut + 1:].strip()
        if sentence:
            chunks.append(sentence)
    return chunks


# ----------------------------------------------------------------------------- audio ↔ mel

SAMPLE_RATE = 16000
#: STFT: 50 ms window (800 samples), 12.5 ms hop (200 samples), FFT 1024; 80 mel bands 55–7600 Hz.
MEL = dict(n_fft=1024, hop_length=200, win_length=800, n_mels=80, fmin=55.0, fmax=7600.0)
REF_DB, MIN_DB = 20.0, -100.0


def mel_spectrogram(waveform: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Normalised log-mel spectrogram, the model's target.

    Magnitude mel spectrogram (:data:`MEL`) → dB → shifted by :data:`REF_DB` and scaled
    from [:data:`MIN_DB`, 0] dB to [0, 1] (Tacotron's normalisation, keithito/tacotron).

    Parameters
    ----------
    waveform : np.ndarray, float, shape (n_samples,)
    sample_rate : int
        Must be :data:`SAMPLE_RATE` (resample first).

    Returns
    -------
    np.ndarray, float32, shape (n_frames, 80)
        Time-major, values in [0, 1].
    """
    import librosa

    if sample_rate != SAMPLE_RATE:
        raise ValueError(f"expected {SAMPLE_RATE} Hz audio, got {sample_rate} Hz (resample first)")
    mel = librosa.feature.melspectrogram(y=np.asarray(waveform, np.float32), sr=sample_rate, power=1.0, **MEL)
    db = 20 * np.log10(np.maximum(mel, 1e-5)) - REF_DB
    return np.clip((db - MIN_DB) / -MIN_DB, 0, 1).T.astype(np.float32)


def griffin_lim(mel: np.ndarray, n_iter: int = 60, power: float = 1.5, seed: int = 0) -> np.ndarray:
    """Waveform from a normalised mel spectrogram with Griffin-Lim (Griffin & Lim 1984; librosa).

    Parameters
    ----------
    mel : np.ndarray, float, shape (n_frames, 80)
        As :func:`mel_spectrogram` returns (or the model predicts).
    n_iter : int
        Griffin-Lim iterations.
    power : float
        Magnitudes are raised to this power before phase reconstruction, which
        reduces artefacts (1.5 in Tacotron).
    seed : int
        Seed of the random initial phase (``random_state`` of ``librosa.griffinlim``), so the
        same mel spectrogram always gives the same waveform and the scores repeat.

    Returns
    -------
    np.ndarray, float32, shape (n_samples,)
        At :data:`SAMPLE_RATE`.
    """
    import librosa

    db = np.clip(np.asarray(mel, np.float32), 0, 1).T * -MIN_DB + MIN_DB + REF_DB
    magnitude = np.power(10.0, db / 20.0) ** power
    stft = librosa.feature.inverse.mel_to_stft(magnitude, sr=SAMPLE_RATE, n_fft=MEL["n_fft"], power=1.0,
                                               fmin=MEL["fmin"], fmax=MEL["fmax"])  # n_mels comes from the array
    y = librosa.griffinlim(stft, n_iter=n_iter, hop_length=MEL["hop_length"], win_length=MEL["win_length"],
                           n_fft=MEL["n_fft"], random_state=seed)
    return y.astype(np.float32)


def prepare_utterance(waveform: np.ndarray, sample_rate: int, top_db: float = 35.0) -> np.ndarray:
    """Resample to 16 kHz and trim leading/trailing silence (``librosa.effects.trim``) for training."""
    import librosa

    y = np.asarray(waveform, np.float32)
    if sample_rate != SAMPLE_RATE:
        y = librosa.resample(y, orig_sr=sample_rate, target_sr=SAMPLE_RATE)
    y, _ = librosa.effects.trim(y, top_db=top_db, frame_length=800, hop_length=200)
    return y


# ----------------------------------------------------------------------------- model

DEFAULT_HPARAMS = dict(n_mels=80, reduction=4, embed_dim=128, enc_filters=128, enc_units=64, prenet_units=128,
                       att_rnn_units=256, dec_rnn_units=256, att_dim=128, loc_filters=16, loc_kernel=31,
                       postnet_filters=128, dropout=0.5)


def guided_attention_weights(text_len, steps_len, n_text: int, n_steps: int, g: float = 0.2):
    """Penalty matrix of the guided attention loss (Tachibana et al. 2017).

    ``W[k, n] = 1 − exp(−(n / N − k / S)² / (2 g²))`` for decoder step ``k`` of ``S``
    and character ``n`` of ``N``; zero outside the valid region.

    Parameters
    ----------
    text_len, steps_len : tensor, int, shape (batch,)
        Valid characters (N) and decoder steps (S) per example.
    n_text, n_steps : int
        Padded sizes.
    g : float
        Width of the allowed band around the diagonal (0.2 in the paper).

    Returns
    -------
    tensor, float32, shape (batch, n_steps, n_text)
    """
    from keras import ops

    n = ops.cast(ops.arange(n_text), "float32")[None, None, :]
    k = ops.cast(ops.arange(n_steps), "float32")[None, :, None]
    big_n = ops.cast(text_len, "float32")[:, None, None]
    big_s = ops.cast(steps_len, "float32")[:, None, None]
    w = 1.0 - ops.exp(-ops.square(n / big_n - k / big_s) / (2 * g * g))
    valid = ops.logical_and(n < big_n, k < big_s)
    return ops.where(valid, w, 0.0)


def _tacotron_class():
    import keras
    from keras import layers, ops

    class Tacotron(keras.Model):
        """Character embedding → conv + BiLSTM encoder → location-sensitive attention →
        autoregressive LSTM decoder (prenet, reduction factor, stop token) → postnet.

        ``call((text_ids, decoder_inputs))`` runs the decoder with teacher forcing;
        :meth:`infer` runs it autoregressively. Shapes: ``text_ids`` (batch, N) int32
        (0 = padding); ``decoder_inputs`` (batch, steps, n_mels), the last true mel frame
        of the previous step (zeros for step 0).
        """

        def __init__(self, n_symbols=len(SYMBOLS), ga_weight=1.0, **hp):
            super().__init__(name="tacotron")
            self.hp = dict(DEFAULT_HPARAMS, **hp)
            h, self.ga_weight = self.hp, ga_weight
            self.n_mels, self.r = h["n_mels"], h["reduction"]
            self.embedding = layers.Embedding(n_symbols, h["embed_dim"], name="char_embedding")
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

        # --- encoder
        def encode(self, text_ids, training=False):
            mask = ops.not_equal(text_ids, 0)
            x = self.embedding(text_ids)
            for conv, bn in self.enc_convs:
                x = self.drop(ops.relu(bn(conv(x), training=training)), training=training)
            return self.enc_lstm(x, mask=mask, training=training), mask

        # --- one decoder step (shared by teacher forcing and inference)
        def _step(self, carry, frame_in, memory, memory_keys, mask):
            """One decoder step. ``carry`` holds the LSTM states, context, alignments and the
            step's outputs (frames, stop logit), so ``ops.scan`` can stack it as its output."""
            att_h, att_c, dec_h, dec_c, context, align, cum_align, _, _ = carry
            x = frame_in
            for dense in self.prenet:  # dropout on at inference too (Tacotron 2)
                x = self.drop(dense(x), training=True)
            att_h, (att_h, att_c) = self.att_rnn(ops.concatenate([x, context], -1), [att_h, att_c])
            location = self.loc_proj(self.loc_conv(ops.stack([align, cum_align], -1)))
            energies = ops.squeeze(self.energy(ops.tanh(self.query_proj(att_h)[:, None, :] + memory_keys + location)), -1)
            align = ops.softmax(ops.where(mask, energies, -1e9), axis=-1)
            context = ops.sum(align[:, :, None] * memory, axis=1)
            dec_h, (dec_h, dec_c) = self.dec_rnn(ops.concatenate([att_h, context], -1), [dec_h, dec_c])
            out = ops.concatenate([dec_h, context], -1)
            frames, stop = self.frame_proj(out), self.stop_proj(out)[:, 0]
            carry = (att_h, att_c, dec_h, dec_c, context, align, cum_align + align, frames, stop)
            return carry, carry

        def _initial(self, memory):
            b, n = ops.shape(memory)[0], ops.shape(memory)[1]
            z = lambda units: ops.zeros((b, units))  # noqa: E731
            first = ops.one_hot(ops.zeros((b,), "int32"), n)  # alignment starts on the first character
            return (z(self.hp["att_rnn_units"]), z(self.hp["att_rnn_units"]), z(self.hp["dec_rnn_units"]),
                    z(self.hp["dec_rnn_units"]), ops.zeros((b, ops.shape(memory)[2])), first, first,
                    z(self.n_mels * self.r), ops.zeros((b,)))

        @staticmethod
        def _outputs(stacked):
            """Time-major stacked carries → frames (batch, steps, n_mels·r), stop (batch, steps), align (batch, steps, N)."""
            return (ops.transpose(stacked[7], (1, 0, 2)), ops.transpose(stacked[8], (1, 0)),
                    ops.transpose(stacked[5], (1, 0, 2)))

        def postprocess(self, frames, training=False):
            """Decoder output (batch, steps, n_mels·r) → mel before and after the postnet (batch, steps·r, n_mels)."""
            mel = ops.reshape(frames, (ops.shape(frames)[0], -1, self.n_mels))
            x = mel
            for i, (conv, bn) in enumerate(self.postnet):
                x = bn(conv(x), training=training)
                x = self.drop(ops.tanh(x) if i < 4 else x, training=training)
            return mel, mel + x

        def call(self, inputs, training=False):
            text_ids, dec_inputs = inputs
            memory, mask = self.encode(text_ids, training=training)
            keys = self.memory_proj(memory)

            def step(carry, frame_in):
                return self._step(carry, frame_in, memory, keys, mask)

            _, stacked = ops.scan(step, self._initial(memory), ops.transpose(dec_inputs, (1, 0, 2)))
            frames, stop, align = self._outputs(stacked)
            mel, mel_post = self.postprocess(frames, training=training)
            return mel, mel_post, stop, align

        def infer(self, text_ids, max_steps: int):
            """Autoregressive decoding: each step's input is its previous output frame.

            Returns mel before/after postnet (1, max_steps·r, n_mels), stop logits (1, max_steps)
            and alignment (1, max_steps, N); the caller cuts at the first stop.
            """
            memory, mask = self.encode(text_ids, training=False)
            keys = self.memory_proj(memory)

            def step(carry, _):
                return self._step(carry, carry[7][:, -self.n_mels:], memory, keys, mask)

            _, stacked = ops.scan(step, self._initial(memory), length=max_steps)
            frames, stop, align = self._outputs(stacked)
            mel, mel_post = self.postprocess(frames)
            return mel, mel_post, stop, align

        def compute_losses(self, data, training=False):
            """Masked L1 mel losses (before/after postnet), stop-token BCE, guided attention loss."""
            (text_ids, dec_inputs), (mel_target, mel_len) = data
            mel, mel_post, stop, align = self((text_ids, dec_inputs), training=training)
            n_frames, n_steps = ops.shape(mel_target)[1], ops.shape(stop)[1]
            frame_mask = ops.cast(ops.arange(n_frames)[None, :] < mel_len[:, None], "float32")[:, :, None]
            denom = ops.sum(frame_mask) * self.n_mels
            l_mel = ops.sum(ops.abs(mel - mel_target) * frame_mask) / denom
            l_post = ops.sum(ops.abs(mel_post - mel_target) * frame_mask) / denom
            steps_len = (mel_len + self.r - 1) // self.r
            stop_target = ops.cast(ops.arange(n_steps)[None, :] >= steps_len[:, None] - 1, "float32")
            l_stop = ops.mean(keras.losses.binary_crossentropy(stop_target[..., None], stop[..., None],
                                                               from_logits=True))
            text_len = ops.sum(ops.cast(ops.not_equal(text_ids, 0), "int32"), axis=1)
            w = guided_attention_weights(text_len, steps_len, ops.shape(text_ids)[1], n_steps)
            l_guided = ops.sum(align * w) / ops.cast(ops.sum(steps_len), "float32")  # off-diagonal mass per step
            total = l_mel + l_post + l_stop + self.ga_weight * l_guided
            return {"loss": total, "mel": l_mel, "post": l_post, "stop": l_stop, "guided": l_guided}

        def train_step(self, data):
            import tensorflow as tf  # the TensorFlow backend's GradientTape

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

    return Tacotron


def build_tts(**hp):
    """A new Tacotron-style model (see the module docstring), built and ready to train.

    Parameters
    ----------
    **hp
        Overrides of :data:`DEFAULT_HPARAMS` (``reduction``, LSTM sizes…) and ``ga_weight``.

    Returns
    -------
    keras.Model
    """
    model = _tacotron_class()(**hp)
    dummy_text = np.ones((1, 3), np.int32)
    model((dummy_text, np.zeros((1, 2, model.n_mels), np.float32)))  # create every weight
    return model


# ----------------------------------------------------------------------------- data and training


def holdout_split(ids, n_test: int = 10):
    """Hold out the last ``n_test`` utterances (sorted ids), e.g. ``arctic_a0241``–``a0250`` of the mirror.

    Returns
    -------
    train_ids, test_ids : list of str
    """
    ids = sorted(ids)
    if len(ids) <= n_test:
        raise ValueError(f"need more than {n_test} utterances to hold out {n_test}, got {len(ids)}")
    return ids[:-n_test], ids[-n_test:]


def make_batch_arrays(texts, waveforms, sample_rate: int, reduction: int):
    """Padded training arrays from texts and waveforms (one fixed shape, so training traces once).

    Returns
    -------
    text_ids : np.ndarray, int32, (n, N)
    dec_inputs : np.ndarray, float32, (n, steps, 80)
        Teacher forcing: the last true frame of the previous decoder step.
    mels : np.ndarray, float32, (n, steps·r, 80)
    mel_len : np.ndarray, int32, (n,)
    """
    ids = [text_to_ids(t) for t in texts]
    mels = [mel_spectrogram(prepare_utterance(y, sample_rate)) for y in waveforms]
    n_text = max(len(i) for i in ids)
    n_frames = int(np.ceil(max(len(m) for m in mels) / reduction) * reduction)
    text_arr = np.zeros((len(ids), n_text), np.int32)
    mel_arr = np.zeros((len(ids), n_frames, mels[0].shape[1]), np.float32)
    for i, (t, m) in enumerate(zip(ids, mels)):
        text_arr[i, :len(t)] = t
        mel_arr[i, :len(m)] = m
    dec_in = np.concatenate([np.zeros_like(mel_arr[:, :1]), mel_arr[:, reduction - 1:-1:reduction]], axis=1)
    return text_arr, dec_in, mel_arr, np.array([len(m) for m in mels], np.int32)


def train_tts(texts, waveforms, sample_rate: int = SAMPLE_RATE, epochs: int = 100, batch_size: int = 16,
              learning_rate: float = 1e-3, model=None, seed: int = 0, minutes: float | None = None,
              checkpoint=None, verbose: int = 1, decay_epochs: int | None = None, **hp):
    """Train the TTS model with teacher forcing (Adam, learning rate decayed ×0.1 over ``decay_epochs``).

    Parameters
    ----------
    texts : sequence of str
    waveforms : sequence of np.ndarray, float32, (n_samples,)
        The recordings of ``texts`` (silence is trimmed here).
    sample_rate : int
    epochs, batch_size : int
    learning_rate : float
    model : keras.Model, optional
        Continue training this model (e.g. the shipped weights); default: :func:`build_tts` with ``**hp``.
    seed : int
    minutes : float, optional
        Stop after the first epoch that ends past this wall time.
    checkpoint : callable, optional
        ``checkpoint(model, epoch)`` after every epoch.
    verbose : int
    decay_epochs : int, optional
        Epochs over which the learning rate falls to a tenth (exponentially); default ``epochs``.
        A longer schedule than ``epochs`` replays a run that was stopped early, as in
        :data:`TRAINING_STAGES`.
    **hp
        Passed to :func:`build_tts`.

    Returns
    -------
    model : keras.Model
    history : dict of list of float
        Per-epoch losses (``loss``, ``mel``, ``post``, ``stop``, ``guided``).
    seconds : float

    Raises
    ------
    ValueError
        ``texts`` and ``waveforms`` of different lengths, or nothing to train on.
    TextError
        A text with characters the model cannot read.
    """
    import keras

    if len(texts) != len(waveforms) or not len(texts):
        raise ValueError(f"need as many texts as waveforms (got {len(texts)} and {len(waveforms)})")
    keras.utils.set_random_seed(seed)
    model = model if model is not None else build_tts(**hp)
    text_ids, dec_in, mels, mel_len = make_batch_arrays(texts, waveforms, sample_rate, model.r)
    steps = (decay_epochs or epochs) * int(np.ceil(len(texts) / batch_size))
    schedule = keras.optimizers.schedules.ExponentialDecay(learning_rate, steps, 0.1)
    model.compile(optimizer=keras.optimizers.Adam(schedule))
    history: dict = {}
    start = time.perf_counter()
    for epoch in range(epochs):
        hist = model.fit((text_ids, dec_in), (mels, mel_len), batch_size=batch_size, epochs=1, shuffle=True,
                         verbose=0)
        for key, values in hist.history.items():
            history.setdefault(key, []).append(float(values[-1]))
        if verbose:
            print(f"epoch {epoch + 1}/{epochs} ({time.perf_counter() - start:.0f} s): "
                  + " ".join(f"{k} {v[-1]:.4f}" for k, v in history.items()), flush=True)
        if checkpoint is not None:
            checkpoint(model, epoch)
        if minutes is not None and time.perf_counter() - start > 60 * minutes:
            break
    return model, history, time.perf_counter() - start


#: How the shipped weights were trained; ``benchmarks/train_synthesis.py tts`` and the notebook's
#: ``RETRAIN = True`` replay it with :func:`train_stages`. Each stage continues the previous one with
#: a fresh Adam optimiser and its own learning rate, decayed ×0.1 over ``decay_epochs``. The stages
#: were run under wall-clock budgets that ended them early, hence ``epochs`` < ``decay_epochs``.
TRAINING_STAGES = (
    dict(epochs=75, decay_epochs=100, batch_size=32, learning_rate=1e-3),
)


def train_stages(texts, waveforms, stages=TRAINING_STAGES, sample_rate: int = SAMPLE_RATE, model=None,
                 seed: int = 0, checkpoint=None, verbose: int = 1):
    """Train through several :func:`train_tts` stages, each continuing the last (stage ``i`` is seeded ``seed + i``).

    Parameters
    ----------
    texts, waveforms, sample_rate
        As :func:`train_tts`.
    stages : sequence of dict
        Keyword arguments of :func:`train_tts` per stage (``epochs``, ``decay_epochs``,
        ``batch_size``, ``learning_rate``, ``minutes``…); default :data:`TRAINING_STAGES`.
    model : keras.Model, optional
        Continue this model; default a new :func:`build_tts`.
    seed : int
    checkpoint : callable, optional
        ``checkpoint(model, stages_done)`` after every epoch, ``stages_done`` being the stages
        so far with the current one's ``epochs`` set to the epochs it has run.
    verbose : int

    Returns
    -------
    model : keras.Model
    history : dict of list of float
        Per-epoch losses over all stages.
    seconds : float
    """
    history, done, seconds = {}, [], 0.0
    for i, stage in enumerate(stages):
        def on_epoch(m, epoch, stage=stage):
            if checkpoint is not None:
                checkpoint(m, done + [dict(stage, epochs=epoch + 1)])

        model, hist, sec = train_tts(texts, waveforms, sample_rate, model=model, seed=seed + i,
                                     checkpoint=on_epoch, verbose=verbose, **stage)
        done.append(dict(stage, epochs=len(hist.get("loss", []))))
        for key, values in hist.items():
            history.setdefault(key, []).extend(values)
        seconds += sec
    return model, history, seconds


# ----------------------------------------------------------------------------- weights and inference


def weights_paths(name: str = "tts_slt", folder=None) -> dict:
    """``<folder>/<name>.npz`` (float16 weights) and ``<name>.json`` (hyper-parameters)."""
    folder = Path(folder) if folder is not None else WEIGHTS_DIR
    return {"weights": folder / f"{name}.npz", "config": folder / f"{name}.json"}


def save_tts(model, info: dict | None = None, folder=None, name: str = "tts_slt") -> dict:
    """Save the model's weights as float16 (:func:`course_utils.saving.save_weights_f16`) and its hyper-parameters.

    Both files are replaced atomically, so a training run stopped mid-checkpoint leaves the previous
    checkpoint readable.

    Parameters
    ----------
    model : keras.Model
        From :func:`build_tts` / :func:`train_tts`.
    info : dict, optional
        JSON-serialisable facts worth recording (epochs, training stages…).
    folder : path, optional
        Default: ``course_utils/weights``.
    name : str

    Returns
    -------
    dict
        The written paths (see :func:`weights_paths`).
    """
    paths = weights_paths(name, folder)
    save_weights_f16(model, paths["weights"])
    with replacing(paths["config"], ".json") as tmp:
        tmp.write_text(json.dumps(dict(info or {}, hparams=model.hp, ga_weight=model.ga_weight), indent=1))
    return paths


_LOADED: dict = {}


def load_tts(name: str = "tts_slt", folder=None):
    """Load a model saved by :func:`save_tts` (the shipped ``slt`` voice by default).

    Returns
    -------
    model : keras.Model
    info : dict

    Raises
    ------
    FileNotFoundError
        No such weights (the message says how to train them).
    ValueError
        The weights file does not match the architecture in ``<name>.json`` (the message names the file).
    """
    key = (name, str(folder))
    if key in _LOADED:
        return _LOADED[key]
    paths = weights_paths(name, folder)
    if not paths["config"].is_file():
        raise FileNotFoundError(f"{paths['config']}: no TTS weights '{name}' — train them with "
                                "`python benchmarks/train_synthesis.py tts`")
    info = json.loads(paths["config"].read_text())
    model = build_tts(ga_weight=info.get("ga_weight", 1.0), **info["hparams"])
    load_weights_f16(model, paths["weights"])
    _LOADED[key] = (model, info)
    return model, info


def teacher_forced_l1(model, texts, waveforms, sample_rate: int, mean_frame: np.ndarray) -> dict:
    """How far the model is from converged: held-out mel L1 with teacher forcing, next to the mean frame's.

    The decoder is fed the true previous frames (as in training), so this isolates what
    the model has learned from what autoregressive decoding adds. A model that has not
    yet learned to use the text predicts roughly the average frame: its L1 then sits just
    below the ``mean_frame`` baseline.

    Parameters
    ----------
    model : keras.Model
    texts : sequence of str
    waveforms : sequence of np.ndarray, float32
        The real recordings of ``texts``.
    sample_rate : int
    mean_frame : np.ndarray, float32, shape (80,)
        The average normalised mel frame of the *training* recordings (the baseline predictor).

    Returns
    -------
    dict
        ``model`` (L1 after the postnet) and ``mean_frame`` (L1 of always predicting
        ``mean_frame``): mean absolute error per mel bin and frame, normalised units in [0, 1].
        Waveforms at other rates are resampled to :data:`SAMPLE_RATE` first.

    Raises
    ------
    TextError
        A text the model cannot read (as :func:`normalize_text`).
    """
    text_ids, dec_in, mels, mel_len = make_batch_arrays(texts, waveforms, sample_rate, model.r)
    _, mel_post, _, _ = model((text_ids, dec_in), training=False)
    valid = (np.arange(mels.shape[1])[None, :] < mel_len[:, None])[..., None]
    n = valid.sum() * mels.shape[2]
    return {"model": float(np.sum(np.abs(np.asarray(mel_post) - mels) * valid) / n),
            "mean_frame": float(np.sum(np.abs(np.asarray(mean_frame)[None, None] - mels) * valid) / n)}


def synthesize_mel(model, text: str, max_steps: int | None = None, seed: int = 0):
    """Text → mel spectrogram with the model's autoregressive decoder, cut at the stop token.

    If the stop token never fires, decoding is cut two steps after the attention
    first reaches the end-of-sentence symbol (or at ``max_steps``).

    Parameters
    ----------
    model : keras.Model
    text : str
        At most :data:`MAX_CHARS` characters after normalisation.
    max_steps : int, optional
        Decoder steps allowed (default: 3 per character + 10).
    seed : int
        Seed of the prenet's dropout (kept on at inference).

    Returns
    -------
    mel : np.ndarray, float32, (n_frames, 80)
        After the postnet.
    alignment : np.ndarray, float32, (n_steps, n_characters)

    Raises
    ------
    TextError
        As :func:`normalize_text`, or text longer than :data:`MAX_CHARS`.
    """
    import keras

    ids = text_to_ids(text)
    if len(ids) - 1 > MAX_CHARS:
        raise TextError(f"text has {len(ids) - 1} characters; at most {MAX_CHARS} per pass (use synthesize)")
    keras.utils.set_random_seed(seed)
    max_steps = max_steps or 3 * len(ids) + 10
    _, mel, stop, align = model.infer(ids[None], max_steps)
    stop, align = np.asarray(stop)[0], np.asarray(align)[0]
    above = np.where(1 / (1 + np.exp(-stop)) > 0.5)[0]
    at_end = np.where(np.argmax(align, axis=1) == align.shape[1] - 1)[0]  # attention on the end symbol
    if len(above):
        n_steps = int(above[0]) + 1
    elif len(at_end):  # the stop token never fired: stop shortly after attention reached the end
        n_steps = min(max_steps, int(at_end[0]) + 3)
    else:
        n_steps = max_steps
    return np.asarray(mel)[0, :n_steps * model.r], align[:n_steps]


def synthesize(text: str, model=None, n_iter: int = 60) -> tuple[np.ndarray, int]:
    """Speak ``text`` with the shipped voice (CMU ARCTIC slt): Tacotron-style model + Griffin-Lim.

    Parameters
    ----------
    text : str
        English text. Letters, spaces and ``' . , ? ! -`` are spoken (accents are
        stripped, ``; :`` read as commas, quotes and brackets dropped). Text longer
        than :data:`MAX_CHARS` characters is split at sentence ends, commas or spaces
        and the parts joined with 0.2 s pauses.
    model : keras.Model, optional
        Default: the shipped weights (:func:`load_tts`).
    n_iter : int
        Griffin-Lim iterations.

    Returns
    -------
    waveform : np.ndarray, float32, shape (n_samples,)
        Peak-normalised to 0.9.
    sample_rate : int
        16000 Hz.

    Raises
    ------
    TextError
        Empty text, digits or characters without a symbol (listed in the message).
    """
    model = model if model is not None else load_tts()[0]
    pieces = []
    for chunk in split_text(text):
        mel, _ = synthesize_mel(model, chunk)
        pieces += [griffin_lim(mel, n_iter=n_iter), np.zeros(SAMPLE_RATE // 5, np.float32)]
    y = np.concatenate(pieces[:-1])
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak == 0.0:
        warnings.warn("the model produced silence", RuntimeWarning)
        return y, SAMPLE_RATE
    return (0.9 * y / peak).astype(np.float32), SAMPLE_RATE


# ----------------------------------------------------------------------------- exercise


def _exercise():
    from .exercises import exercise

    @exercise("05_guided_attention", "write guided_attention(n_text, n_steps, g=0.2) -> float array (n_steps, n_text): "
              "W[k, n] = 1 - exp(-(n / n_text - k / n_steps)² / (2 g²)), the penalty of the guided attention loss.")
    def _check_guided_attention(fn):
        rng = np.random.default_rng()
        for _ in range(5):
            n_text, n_steps = int(rng.integers(3, 40)), int(rng.integers(3, 60))
            g = float(rng.choice([0.2, 0.3]))
            want = np.asarray(guided_attention_weights(np.array([n_text]), np.array([n_steps]), n_text, n_steps, g))[0]
            got = np.asarray(fn(n_text, n_steps, g), dtype=np.float64)
            assert got.shape == want.shape, (f"n_text={n_text}, n_steps={n_steps}: shape {got.shape}, expected "
                                             f"{want.shape}. Hint: rows are decoder steps k, columns characters n.")
            assert abs(got[0, 0]) < 1e-6, "W[0, 0] should be 0: the first step may look at the first character."
            err = float(np.abs(got - want).max())
            assert err < 1e-4, (f"n_text={n_text}, n_steps={n_steps}, g={g}: values differ by up to {err:.3g}. "
                                "Hint: positions are normalised, n / n_text and k / n_steps, and the penalty is "
                                "1 − a Gaussian of their difference.")


_exercise()
