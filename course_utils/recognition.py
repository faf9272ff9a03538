"""Topic 4 — speech recognition: isolated digits (CNN, CRNN, Transformer) and digit strings (CTC).

Every model takes **time-major log-mel features**, shape ``(batch, n_frames, n_mels)``:
25 ms windows every 10 ms — the classic 16 kHz front end (``n_fft = 400``,
``hop = 160`` samples) adapted to FSDD's 8 kHz (``n_fft = 200``, ``hop = 80``
samples) — with 40 mel bands, normalised per utterance relative to its
loudest cell (:func:`peak_normalize_db`). The signal processing itself is
:mod:`course_utils.audio` (librosa).

Models follow the keras-io examples' shape: one short builder function per
model, trained with ``model.fit``. Public functions on raw input —
:func:`recognize` (one digit) and :func:`transcribe` (a digit string) — resample,
trim and check the audio themselves.

References
----------
* 2-D CNN on spectrograms: Sainath & Parada 2015, "Convolutional neural
  networks for small-footprint keyword spotting"; batch normalisation
  (Ioffe & Szegedy 2015).
* CRNN: Arık et al. 2017, "Convolutional recurrent neural networks for
  small-footprint keyword spotting"; GRU (Cho et al. 2014).
* Transformer encoder: Vaswani et al. 2017, "Attention is all you need"
  (sinusoidal positional encoding, multi-head self-attention), pre-norm
  residual blocks (Xiong et al. 2020).
* Per-utterance normalisation relative to the loudest cell (:func:`peak_normalize_db`).
* Augmentation: speed perturbation (Ko et al. 2015, "Audio augmentation for
  speech recognition"), SpecAugment (Park et al. 2019).
* CTC: Graves et al. 2006, "Connectionist temporal classification"; BiGRU
  acoustic model with a convolutional front end as in Deep Speech 2
  (Amodei et al. 2016).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .audio import AudioError, log_mel_spectrogram, ms_to_samples, trim_silence
from . import saving
from .exercises import exercise

#: FSDD's rate in Hz; every input is resampled to it.
SAMPLE_RATE = 8000
#: Analysis window and hop in milliseconds (the seed's 400/160 samples at 16 kHz).
WINDOW_MS, HOP_MS = 25, 10
#: The same in samples at :data:`SAMPLE_RATE`: 200 and 80.
N_FFT, HOP_LENGTH = ms_to_samples(WINDOW_MS, SAMPLE_RATE), ms_to_samples(HOP_MS, SAMPLE_RATE)
N_MELS = 40
#: Isolated-digit models see a fixed 0.8 s window (80 frames); the longest trimmed FSDD digit is ~0.75 s.
N_FRAMES = 80
#: Inputs quieter than this peak (−80 dBFS) count as silence.
SILENCE_PEAK = 1e-4
#: Longest input :func:`recognize` (one digit) and :func:`transcribe` (a string) accept, in seconds.
MAX_DIGIT_SECONDS, MAX_STRING_SECONDS = 10.0, 60.0
#: CTC: class 0 is the blank, digit ``d`` is class ``d + 1``.
BLANK = 0
#: The CTC acoustic model's convolutions reduce the frame rate by this factor (10 ms → 40 ms).
CTC_SUBSAMPLING = 4
#: Waveform and feature augmentations, in the order :func:`augment_features` applies them.
AUGMENTATIONS = ("noise", "gain", "shift", "speed", "pitch", "specaugment")
#: SpecAugment masks (Park et al. 2019, their "LB" policy scaled to 80 frames × 40 bands).
SPEC_AUGMENT = dict(freq_masks=2, freq_width=6, time_masks=2, time_width=8)


# ----------------------------------------------------------------------------- checked input


def check_waveform(waveform, sample_rate, max_seconds: float = MAX_DIGIT_SECONDS) -> np.ndarray:
    """Validate raw audio and bring it to :data:`SAMPLE_RATE`.

    Parameters
    ----------
    waveform : array-like, float, shape (n_samples,)
        Mono audio in [-1, 1].
    sample_rate : int
        Its rate in Hz; at least 8000 (lower rates lack the 2–4 kHz band the
        models use). Other rates are resampled (librosa, soxr).
    max_seconds : float
        Longest accepted duration in seconds.

    Returns
    -------
    np.ndarray, float32, shape (n_samples_8k,)
        The waveform at 8 kHz.

    Raises
    ------
    ValueError
        Not one-dimensional (stereo: average the channels first), a sample rate
        that is not an integer ≥ 8000 Hz, or longer than ``max_seconds``.
    course_utils.audio.AudioError
        Empty, NaN/inf samples, or silent (peak below :data:`SILENCE_PEAK`).
    """
    import librosa

    y = np.asarray(waveform, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"expected mono audio of shape (n_samples,), got shape {y.shape}; "
                         "average the channels first (load_audio(..., mono=True))")
    if isinstance(sample_rate, bool) or not float(sample_rate).is_integer() or sample_rate < SAMPLE_RATE:
        raise ValueError(f"sample_rate must be an integer ≥ {SAMPLE_RATE} Hz, got {sample_rate!r} "
                         "(telephone-band audio below 8 kHz lacks the frequencies the models use)")
    sample_rate = int(sample_rate)
    if y.size == 0:
        raise AudioError("the waveform is empty: nothing to recognise")
    if not np.all(np.isfinite(y)):
        raise AudioError("the waveform contains NaN or infinity")
    seconds = y.size / sample_rate
    if seconds > max_seconds:
        raise ValueError(f"the audio lasts {seconds:.1f} s, more than the {max_seconds:.0f} s accepted here; "
                         "cut it into shorter pieces (transcribe() takes digit strings up to "
                         f"{MAX_STRING_SECONDS:.0f} s)")
    if float(np.max(np.abs(y))) < SILENCE_PEAK:
        raise AudioError(f"the waveform is silent (peak {np.max(np.abs(y)):.1e} < {SILENCE_PEAK:.0e}, "
                         "below −80 dBFS): nothing to recognise")
    if sample_rate != SAMPLE_RATE:
        y = librosa.resample(y, orig_sr=sample_rate, target_sr=SAMPLE_RATE, res_type="soxr_hq")
    return np.ascontiguousarray(y, dtype=np.float32)


# ----------------------------------------------------------------------------- features


def peak_normalize_db(S: np.ndarray, offset_db: float = 40.0, scale_db: float = 20.0) -> np.ndarray:
    """Per-utterance normalisation of a dB spectrogram: level relative to its loudest cell.

    ``(S - max(S) + offset_db) / scale_db`` — the loudest cell becomes 2, a cell
    40 dB below it 0, the −80 dB floor −2. A recording's level (microphone
    gain, distance) is a constant dB offset, so it disappears; the *shape* of
    the spectrum is kept. (Per-band mean/variance normalisation would remove
    each band's average too — for a half-second word that average is the word's
    spectral shape, e.g. the hiss of "six".)

    Parameters
    ----------
    S : np.ndarray, float, shape (n_mels, n_frames)
        Log-mel spectrogram in dB.
    offset_db, scale_db : float

    Returns
    -------
    np.ndarray, float32, same shape
    """
    S = np.asarray(S, np.float32)
    return ((S - S.max() + offset_db) / scale_db).astype(np.float32)


def log_mel_frames(y: np.ndarray) -> np.ndarray:
    """Per-utterance normalised log-mel features of an 8 kHz waveform, time-major.

    Parameters
    ----------
    y : np.ndarray, float32, shape (n_samples,)
        At :data:`SAMPLE_RATE` Hz.

    Returns
    -------
    np.ndarray, float32, shape (1 + n_samples // 80, 40)
        :func:`course_utils.audio.log_mel_spectrogram` with a 25 ms window
        (200 samples) and 10 ms hop (80 samples), normalised by
        :func:`peak_normalize_db`.
    """
    S = log_mel_spectrogram(y, SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mels=N_MELS)
    return peak_normalize_db(S).T


def place_frames(frames: np.ndarray, n_frames: int = N_FRAMES, shift: int = 0) -> np.ndarray:
    """Put an utterance's frames in a fixed window: centred, moved by ``shift``, zero-padded.

    Parameters
    ----------
    frames : np.ndarray, shape (t, n_mels)
    n_frames : int
        Window length in frames.
    shift : int
        Frames to move the utterance from the centre (time-shift augmentation);
        clipped so the utterance stays inside the window.

    Returns
    -------
    np.ndarray, float32, shape (n_frames, n_mels)
        Utterances longer than the window keep their central ``n_frames``.
        Padding is 0 (40 dB below the utterance's peak after :func:`peak_normalize_db`).
    """
    t = len(frames)
    if t >= n_frames:
        start = (t - n_frames) // 2
        return np.ascontiguousarray(frames[start:start + n_frames], np.float32)
    start = int(np.clip((n_frames - t) // 2 + shift, 0, n_frames - t))
    out = np.zeros((n_frames, frames.shape[1]), np.float32)
    out[start:start + t] = frames
    return out


def digit_log_mel(waveform, sample_rate: int, shift: int = 0) -> np.ndarray:
    """The isolated-digit front end: check, resample, trim silence, log-mel, normalise, fixed window.

    Parameters
    ----------
    waveform : array-like, float, shape (n_samples,)
        Mono audio, at most :data:`MAX_DIGIT_SECONDS` long.
    sample_rate : int
        Hz, ≥ 8000 (resampled to 8 kHz).
    shift : int
        Time shift in frames (augmentation; 0 = centred).

    Returns
    -------
    np.ndarray, float32, shape (80, 40)
        ``(N_FRAMES, N_MELS)``: 0.8 s of 10 ms frames × 40 mel bands.

    Raises
    ------
    ValueError, course_utils.audio.AudioError
        As :func:`check_waveform`.
    """
    y = trim_silence(check_waveform(waveform, sample_rate), top_db=30)
    return place_frames(log_mel_frames(y), N_FRAMES, shift)


# ----------------------------------------------------------------------------- augmentation


def add_noise(y: np.ndarray, rng: np.random.Generator, snr_db=(5.0, 30.0)) -> np.ndarray:
    """Add white Gaussian noise at a random signal-to-noise ratio.

    Parameters
    ----------
    y : np.ndarray, float32, shape (n_samples,)
    rng : np.random.Generator
    snr_db : tuple of float
        SNR range in dB, relative to the clip's RMS.

    Returns
    -------
    np.ndarray, float32, shape (n_samples,)
    """
    rms = float(np.sqrt(np.mean(y ** 2))) + 1e-12
    sigma = rms / 10 ** (rng.uniform(*snr_db) / 20)
    return (y + rng.normal(0.0, sigma, size=y.shape)).astype(np.float32)


def random_gain(y: np.ndarray, rng: np.random.Generator, db=(-12.0, 12.0)) -> np.ndarray:
    """Scale by a random gain, clipped to [-1, 1] (per-utterance normalisation undoes most of it).

    Parameters
    ----------
    y : np.ndarray, float32, shape (n_samples,)
    rng : np.random.Generator
    db : tuple of float
        Gain range in dB.

    Returns
    -------
    np.ndarray, float32, shape (n_samples,)
    """
    return np.clip(y * 10 ** (rng.uniform(*db) / 20), -1.0, 1.0).astype(np.float32)


def speed_perturb(y: np.ndarray, rng: np.random.Generator, factors=(0.85, 1.15)) -> np.ndarray:
    """Speed perturbation (Ko et al. 2015): resample, so tempo, pitch and formants change together.

    Parameters
    ----------
    y : np.ndarray, float32, shape (n_samples,)
        At :data:`SAMPLE_RATE` Hz.
    rng : np.random.Generator
    factors : tuple of float
        Speed range; 1.1 plays 10 % faster (and higher).

    Returns
    -------
    np.ndarray, float32, shape (about n_samples / factor,)
    """
    import librosa

    factor = rng.uniform(*factors)
    return librosa.resample(y, orig_sr=SAMPLE_RATE, target_sr=int(round(SAMPLE_RATE / factor)),
                            res_type="soxr_hq").astype(np.float32)


def pitch_perturb(y: np.ndarray, rng: np.random.Generator, semitones=(-3.0, 3.0)) -> np.ndarray:
    """Shift pitch and formants by a random number of semitones at constant tempo (``librosa.effects.pitch_shift``).

    Parameters
    ----------
    y : np.ndarray, float32, shape (n_samples,)
        At :data:`SAMPLE_RATE` Hz.
    rng : np.random.Generator
    semitones : tuple of float
        Shift range.

    Returns
    -------
    np.ndarray, float32, shape (n_samples,)
    """
    import librosa

    return librosa.effects.pitch_shift(y, sr=SAMPLE_RATE, n_steps=float(rng.uniform(*semitones)),
                                       n_fft=512, hop_length=128).astype(np.float32)


def augment_features(waveform, sample_rate: int, kinds, rng: np.random.Generator,
                     max_shift: int = 12) -> np.ndarray:
    """One augmented copy of a clip, as :func:`digit_log_mel` features.

    Parameters
    ----------
    waveform : array-like, float, shape (n_samples,)
    sample_rate : int
        Hz.
    kinds : collection of str
        Any of ``"noise"``, ``"gain"``, ``"shift"``, ``"speed"``, ``"pitch"``
        (``"specaugment"`` is a layer inside the model, see :class:`SpecAugment`,
        and is ignored here). The waveform is trimmed first, so noise and
        speed act on the speech, not on the leading silence.
    rng : np.random.Generator
    max_shift : int
        Largest time shift in frames (±0.12 s).

    Returns
    -------
    np.ndarray, float32, shape (80, 40)

    Raises
    ------
    ValueError
        An unknown augmentation name.
    """
    unknown = set(kinds) - set(AUGMENTATIONS)
    if unknown:
        raise ValueError(f"unknown augmentation(s) {sorted(unknown)}; known: {AUGMENTATIONS}")
    y = trim_silence(check_waveform(waveform, sample_rate), top_db=30)
    if "speed" in kinds:
        y = speed_perturb(y, rng)
    if "pitch" in kinds:
        y = pitch_perturb(y, rng)
    if "gain" in kinds:
        y = random_gain(y, rng)
    if "noise" in kinds:
        y = add_noise(y, rng)
    shift = int(rng.integers(-max_shift, max_shift + 1)) if "shift" in kinds else 0
    return place_frames(log_mel_frames(y), N_FRAMES, shift)


def feature_set(waveforms, sample_rate: int, kinds=(), copies: int = 1, seed: int = 0):
    """Features of many clips plus ``copies`` augmented copies of each.

    With no waveform augmentation in ``kinds`` the copies are the original
    features repeated, so every configuration trains for the same number of steps.

    Parameters
    ----------
    waveforms : sequence of np.ndarray
    sample_rate : int
        Hz.
    kinds : collection of str
        See :func:`augment_features`.
    copies : int
        Augmented copies per clip.
    seed : int

    Returns
    -------
    features : np.ndarray, float32, shape (n * (1 + copies), 80, 40)
        Originals first, then copy 1 of every clip, copy 2, …
    source : np.ndarray, int64, shape (n * (1 + copies),)
        Index of the clip each row comes from.
    """
    rng = np.random.default_rng(seed)
    base = np.stack([digit_log_mel(y, sample_rate) for y in waveforms])
    n = len(base)
    wave_kinds = set(kinds) - {"specaugment"}
    blocks = [base]
    for _ in range(copies):
        blocks.append(np.stack([augment_features(y, sample_rate, wave_kinds, rng) for y in waveforms])
                      if wave_kinds else base)
    return np.concatenate(blocks), np.tile(np.arange(n, dtype=np.int64), copies + 1)


# ----------------------------------------------------------------------------- layers


def _keras_layers():
    """Define the course's custom Keras layers once (imported lazily so the module loads without Keras)."""
    global SpecAugment, PositionalEncoding
    if "SpecAugment" in globals():
        return
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="course")
    class SpecAugment(keras.layers.Layer):
        """SpecAugment frequency and time masks (Park et al. 2019), active only in training.

        Input and output ``(batch, n_frames, n_mels)``; masked cells become 0 (the
        padding value, 40 dB below the peak). Time warping, the paper's least useful part, is left out.
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

    globals().update(SpecAugment=SpecAugment, PositionalEncoding=PositionalEncoding)


def __getattr__(name):
    """Make ``recognition.SpecAugment`` and ``recognition.PositionalEncoding`` available on first use."""
    if name in ("SpecAugment", "PositionalEncoding"):
        _keras_layers()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _front(inputs, spec_augment: bool):
    _keras_layers()
    return SpecAugment(**SPEC_AUGMENT, name="spec_augment")(inputs) if spec_augment else inputs


# ----------------------------------------------------------------------------- isolated-digit models


def build_cnn(n_frames: int = N_FRAMES, n_mels: int = N_MELS, n_classes: int = 10, width: int = 16,
              dropout: float = 0.3, spec_augment: bool = False):
    """A 2-D CNN on the log-mel "image" (Sainath & Parada 2015).

    ``[Conv 3×3 → BatchNorm → ReLU → MaxPool 2×2] × 3`` with ``width, 2·width,
    4·width`` filters, then the whole ``(10, 5, 4·width)`` map is flattened —
    *where* in time and frequency a pattern occurs matters for a digit, so it
    is not averaged away — and fed through dropout to a softmax.

    Parameters
    ----------
    n_frames, n_mels : int
        Input ``(batch, n_frames, n_mels)`` float32 — :func:`digit_log_mel` features.
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
    import keras
    from keras import layers

    inputs = keras.Input((n_frames, n_mels), name="log_mel")
    x = layers.Reshape((n_frames, n_mels, 1))(_front(inputs, spec_augment))
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
               units: int = 48, dropout: float = 0.3, spec_augment: bool = False):
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
    import keras
    from keras import layers

    inputs = keras.Input((n_frames, n_mels), name="log_mel")
    x = layers.Reshape((n_frames, n_mels, 1))(_front(inputs, spec_augment))
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
                      spec_augment: bool = False):
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
    import keras
    from keras import layers

    _keras_layers()
    inputs = keras.Input((n_frames, n_mels), name="log_mel")
    x = layers.Conv1D(d_model, 3, strides=2, padding="same", activation="relu", name="embed")(
        _front(inputs, spec_augment))
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


#: Model name -> builder.
BUILDERS = {"cnn": build_cnn, "crnn": build_crnn, "transformer": build_transformer}


#: Compiled training models kept between calls of :func:`train_digit_model` (see its Notes).
_TRAINERS: dict = {}


def _warmup_cosine(peak: float):
    """Learning-rate schedule: linear warm-up from 0 over ``warmup`` steps, then cosine decay to 1 % of ``peak``.

    The same curve as ``keras.optimizers.schedules.CosineDecay(0.0, decay_steps, warmup_target=peak,
    warmup_steps=warmup, alpha=0.01)``, with the two step counts held in variables so one compiled
    training step serves data sets and epoch counts of any size (Loshchilov & Hutter 2017, SGDR;
    warm-up as in Goyal et al. 2017).
    """
    import keras
    from keras import ops

    class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
        def __init__(self):
            self.warmup = keras.Variable(1.0, trainable=False, name="warmup_steps")
            self.decay = keras.Variable(1.0, trainable=False, name="decay_steps")

        def __call__(self, step):
            step = ops.cast(step, "float32")
            progress = ops.clip((step - self.warmup) / ops.maximum(self.decay, 1.0), 0.0, 1.0)
            decayed = peak * (0.01 + 0.99 * 0.5 * (1.0 + ops.cos(np.pi * progress)))
            return ops.where(step < self.warmup, peak * step / ops.maximum(self.warmup, 1.0), decayed)

    return WarmupCosine()


def train_digit_model(name: str, features: np.ndarray, labels: np.ndarray, epochs: int = 20,
                      batch_size: int = 64, learning_rate: float = 3e-3, spec_augment: bool = False,
                      seed: int = 0, verbose: int = 0):
    """Build one of :data:`BUILDERS` and train it (Adam, 1-epoch warm-up then cosine decay).

    Parameters
    ----------
    name : {"cnn", "crnn", "transformer"}
    features : np.ndarray, float32, shape (n, 80, 40)
        From :func:`feature_set` / :func:`digit_log_mel`.
    labels : np.ndarray, int, shape (n,)
        Digits 0–9.
    epochs, batch_size : int
    learning_rate : float
        Peak learning rate.
    spec_augment : bool
        Train with SpecAugment masks.
    seed : int
        Seeds the initial weights: every call with the same seed starts from the same weights.
    verbose : int
        Keras ``fit`` verbosity.

    Returns
    -------
    model : keras.Model
        A new model holding the trained weights.
    history : dict
        Per-epoch ``loss`` and ``accuracy`` on the training batches.
    seconds : float
        Training wall time.

    Raises
    ------
    KeyError
        Unknown model name.

    Notes
    -----
    Compiling a Keras model's training step (tracing it into a TensorFlow graph) takes
    about 10 s for the transformer on a 2-core CPU, as long as several epochs, and
    leave-one-speaker-out trains the same architecture again and again. So the first
    call for an architecture compiles a training model and keeps it; later calls with
    the same architecture, seed and learning rate reset its weights and random-number
    states to the initial ones and its optimizer (moments, step count, schedule) to zero,
    and train that: the same training as a new model, about 5–10 s sooner. Each call
    returns a fresh copy, so models returned earlier never change.
    """
    import keras

    if name not in BUILDERS:
        raise KeyError(f"unknown model {name!r}; known: {sorted(BUILDERS)}")
    key = (name, features.shape[1:], spec_augment, learning_rate, seed)
    if key not in _TRAINERS:
        keras.utils.set_random_seed(seed)
        model = BUILDERS[name](n_frames=features.shape[1], n_mels=features.shape[2], spec_augment=spec_augment)
        schedule = _warmup_cosine(learning_rate)
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        _TRAINERS[key] = (model, schedule, [v.numpy() for v in model.variables])
    model, schedule, initial = _TRAINERS[key]
    keras.utils.set_random_seed(seed)  # the shuffling order
    for variable, value in zip(model.variables, initial):  # weights, and the dropout / SpecAugment RNG states
        variable.assign(value)
    for variable in model.optimizer.variables:  # Adam's moments and the step count
        variable.assign(np.zeros(variable.shape, variable.dtype))
    per_epoch = int(np.ceil(len(features) / batch_size))
    schedule.warmup.assign(float(per_epoch))
    schedule.decay.assign(float(max(1, (epochs - 1) * per_epoch)))
    start = time.perf_counter()
    history = model.fit(features, np.asarray(labels, np.int64), batch_size=batch_size, epochs=epochs,
                        shuffle=True, verbose=verbose)
    seconds = time.perf_counter() - start
    trained = BUILDERS[name](n_frames=features.shape[1], n_mels=features.shape[2], spec_augment=spec_augment)
    trained.set_weights(model.get_weights())
    return trained, history.history, seconds


def latency_ms(model, features: np.ndarray, repeats: int = 20) -> float:
    """Inference latency per clip: median wall time of ``predict_on_batch`` on one clip, after a warm-up.

    Parameters
    ----------
    model : keras.Model
    features : np.ndarray, float32, shape (n, 80, 40)
        The first row is used.
    repeats : int

    Returns
    -------
    float
        Milliseconds.
    """
    x = features[:1]
    model.predict_on_batch(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_on_batch(x)
        times.append(time.perf_counter() - start)
    return 1000.0 * float(np.median(times))


def leave_one_speaker_out(name: str, features: np.ndarray, labels: np.ndarray, speakers: np.ndarray,
                          source: np.ndarray, test_features: np.ndarray | None = None, groups=None,
                          extra=None, verbose: bool = True, **train_kwargs):
    """Leave-one-speaker-out evaluation: train on all speakers but one, test on that one, for each.

    Parameters
    ----------
    name : str
        A key of :data:`BUILDERS`.
    features : np.ndarray, float32, shape (m, 80, 40)
        Training rows (originals and augmented copies) from :func:`feature_set`.
    labels, speakers : np.ndarray, shape (n,)
        Digit and speaker of each *clip*.
    source : np.ndarray, int, shape (m,)
        Clip index of each feature row.
    test_features : np.ndarray, shape (n, 80, 40), optional
        Clean features of each clip (default: the first ``n`` rows of ``features``).
    groups : list of list of str, optional
        Speakers held out together in each fold (default: each speaker alone;
        :func:`speaker_halves` gives a cheaper two-fold split).
    extra : tuple (features, labels), optional
        Rows added to the training data of every fold and never tested on — e.g.
        synthetic speakers (:func:`course_utils.fallback.synthetic_spoken_digits`
        through :func:`digit_log_mel`): float32 ``(m, 80, 40)`` and int ``(m,)``.
    verbose : bool
        Print one line per fold.
    **train_kwargs
        Passed to :func:`train_digit_model` (epochs, spec_augment, seed…).

    Returns
    -------
    dict
        ``accuracy`` (held-out speaker(s) -> accuracy; groups are joined with
        "+"), ``mean`` (their mean), ``pred`` (the held-out prediction of every
        clip, int64 ``(n,)``) and ``seconds`` (total training time).
    """
    n = len(labels)
    test_features = features[:n] if test_features is None else test_features
    groups = [[s] for s in sorted(set(speakers))] if groups is None else groups
    pred = np.zeros(n, np.int64)
    accuracy, seconds = {}, 0.0
    for group in groups:
        key = "+".join(group)
        train_rows = ~np.isin(speakers[source], group)
        test = np.where(np.isin(speakers, group))[0]
        x, y = features[train_rows], labels[source[train_rows]]
        if extra is not None:
            x, y = np.concatenate([x, extra[0]]), np.concatenate([y, extra[1]])
        model, _, sec = train_digit_model(name, x, y, **train_kwargs)
        pred[test] = model.predict(test_features[test], batch_size=256, verbose=0).argmax(axis=1)
        accuracy[key] = float(np.mean(pred[test] == labels[test]))
        seconds += sec
        if verbose:
            print(f"  {name:>11} held out {key:>10}: accuracy {accuracy[key]:.3f} ({sec:.0f} s)", flush=True)
    return {"accuracy": accuracy, "mean": float(np.mean(list(accuracy.values()))), "pred": pred,
            "seconds": seconds}


def speaker_halves(speakers) -> list[list[str]]:
    """Two folds for quick comparisons: the first half of the (sorted) speakers held out, then the second half.

    Returns
    -------
    list of list of str
        ``[first_half, second_half]``; each model trains on one half and is tested on the other.

    Raises
    ------
    ValueError
        Fewer than two speakers.
    """
    names = sorted({str(s) for s in speakers})
    if len(names) < 2:
        raise ValueError(f"need at least two speakers, got {names}")
    half = len(names) // 2
    return [names[:half], names[half:]]


# ----------------------------------------------------------------------------- saving and the public API


def save_model(model, name: str) -> Path:
    """Save a trained model as ``<build>/models/<name>.keras`` (atomically, :func:`course_utils.saving.save_model`).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    return saving.save_model(model, name)


def load_model(name: str):
    """Load ``<build>/models/<name>.keras`` (custom layers included) for inference (not compiled).

    Parameters
    ----------
    name : str
        E.g. ``"digits_best"`` or ``"digits_ctc"``.

    Returns
    -------
    keras.Model

    Raises
    ------
    FileNotFoundError
        Naming the file and the notebook that writes it.
    """
    _keras_layers()
    return saving.load_model(name, "notebook 04", compile=False)[0]  # inference: no optimizer state or loss


def recognize(waveform, sample_rate: int, model=None) -> tuple[int, np.ndarray]:
    """Recognise one spoken digit from raw audio.

    Parameters
    ----------
    waveform : array-like, float, shape (n_samples,)
        Mono audio in [-1, 1], up to :data:`MAX_DIGIT_SECONDS` (10 s); the
        speech is found by trimming silence, and a trimmed part longer than
        0.8 s keeps its centre.
    sample_rate : int
        Hz, ≥ 8000 (resampled to 8 kHz).
    model : keras.Model, optional
        An isolated-digit model (input ``(batch, 80, 40)``); default: the best
        model notebook 04 saved (``build/models/digits_best.keras``).

    Returns
    -------
    digit : int
        0–9.
    probabilities : np.ndarray, float32, shape (10,)

    Raises
    ------
    ValueError
        Not mono, sample rate not an integer ≥ 8000 Hz, or longer than 10 s.
    course_utils.audio.AudioError
        Empty, non-finite or silent audio.
    FileNotFoundError
        No ``model`` given and notebook 04 has not saved one.
    """
    x = digit_log_mel(waveform, sample_rate)[None]
    model = load_model("digits_best") if model is None else model
    probs = np.asarray(model(x, training=False))[0]
    return int(np.argmax(probs)), probs.astype(np.float32)


# ----------------------------------------------------------------------------- digit strings (CTC)


def make_digit_strings(digits, n_strings: int, min_len: int = 3, max_len: int = 7, pause=(0.05, 0.35),
                       augment=(), seed: int = 0):
    """Digit strings: one speaker's FSDD clips, trimmed and joined with random pauses.

    Each string picks a speaker, 3–7 of that speaker's clips at random,
    trims their silence, scales each to a random peak in [0.4, 0.9], and joins
    them with pauses of ``pause`` seconds (also before and after); a faint
    noise floor (−60 dB) keeps the pauses from being digital silence.

    Parameters
    ----------
    digits : course_utils.data.SpokenDigits
        Clips at :data:`SAMPLE_RATE` (e.g. the training speakers' only).
    n_strings : int
    min_len, max_len : int
        Digits per string (inclusive).
    pause : tuple of float
        Range of each pause in seconds.
    augment : collection of str
        Perturb every clip independently before joining: any of ``"speed"``,
        ``"pitch"``, ``"gain"``, ``"noise"`` (see :func:`augment_features`) —
        for training strings only.
    seed : int

    Returns
    -------
    waveforms : list of np.ndarray, float32
        At 8 kHz.
    texts : list of str
        The digits said, e.g. ``"4071"``.
    speakers : np.ndarray of str, shape (n_strings,)

    Raises
    ------
    ValueError
        ``digits`` is not at 8 kHz or has no clips, or an unknown augmentation.
    """
    perturb = {"speed": speed_perturb, "pitch": pitch_perturb, "gain": random_gain, "noise": add_noise}
    unknown = set(augment) - set(perturb)
    if unknown:
        raise ValueError(f"unknown string augmentation(s) {sorted(unknown)}; known: {sorted(perturb)}")
    if digits.sample_rate != SAMPLE_RATE or len(digits) == 0:
        raise ValueError(f"need FSDD clips at {SAMPLE_RATE} Hz, got {len(digits)} clips at {digits.sample_rate} Hz")
    rng = np.random.default_rng(seed)
    trimmed = [trim_silence(y, top_db=30) for y in digits.waveforms]
    by_speaker = {s: np.where(digits.speakers == s)[0] for s in sorted(set(digits.speakers))}
    names = sorted(by_speaker)
    waves, texts, who = [], [], []
    for _ in range(n_strings):
        speaker = names[rng.integers(len(names))]
        picks = rng.choice(by_speaker[speaker], size=int(rng.integers(min_len, max_len + 1)))
        parts = []
        for i in picks:
            parts.append(np.zeros(int(rng.uniform(*pause) * SAMPLE_RATE), np.float32))
            y = trimmed[i]
            for kind in [k for k in perturb if k in augment]:  # a fixed order: speed, pitch, gain, noise
                y = perturb[kind](y, rng)
            parts.append(y * (rng.uniform(0.4, 0.9) / (np.max(np.abs(y)) + 1e-9)))
        parts.append(np.zeros(int(rng.uniform(*pause) * SAMPLE_RATE), np.float32))
        y = np.concatenate(parts)
        waves.append((y + rng.normal(0, 1e-3, y.shape)).astype(np.float32))
        texts.append("".join(str(digits.labels[i]) for i in picks))
        who.append(speaker)
    return waves, texts, np.asarray(who)


def string_log_mel(waveform, sample_rate: int) -> np.ndarray:
    """The CTC front end: check, resample, log-mel, per-utterance normalisation (no trimming).

    Parameters
    ----------
    waveform : array-like, float, shape (n_samples,)
        Mono, at most :data:`MAX_STRING_SECONDS` (60 s).
    sample_rate : int
        Hz, ≥ 8000.

    Returns
    -------
    np.ndarray, float32, shape (1 + n_samples_8k // 80, 40)

    Raises
    ------
    ValueError, course_utils.audio.AudioError
        As :func:`check_waveform`.
    """
    return log_mel_frames(check_waveform(waveform, sample_rate, max_seconds=MAX_STRING_SECONDS))


def build_ctc_model(n_mels: int = N_MELS, n_classes: int = 11, width: int = 96, units: int = 64,
                    dropout: float = 0.2, spec_augment: bool = True):
    """A convolutional + BiGRU acoustic model emitting per-frame CTC logits (Graves et al. 2006).

    Two strided ``Conv1D → BatchNorm → ReLU`` layers reduce the frame rate by
    :data:`CTC_SUBSAMPLING` (10 ms → 40 ms, as Deep Speech 2 does), a
    bidirectional GRU reads the sequence, and a dense layer gives logits over
    blank (class 0) and the ten digits (class ``d + 1``).

    Parameters
    ----------
    n_mels : int
        Input ``(batch, n_frames, n_mels)`` float32, any ``n_frames``.
    n_classes : int
        Blank + 10 digits.
    width : int
        Convolution filters.
    units : int
        GRU cells per direction.
    dropout : float
    spec_augment : bool
        SpecAugment masks during training.

    Returns
    -------
    keras.Model
        Output logits ``(batch, ceil(n_frames / 4), n_classes)`` (not softmax-normalised).
    """
    import keras
    from keras import layers

    inputs = keras.Input((None, n_mels), name="log_mel")
    x = _front(inputs, spec_augment)
    for i, kernel in enumerate([5, 3]):
        x = layers.Conv1D(width, kernel, strides=2, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.ReLU()(x)
    x = layers.Bidirectional(layers.GRU(units, return_sequences=True), name="bigru")(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="ctc_acoustic_model")


def ctc_loss(y_true, y_pred):
    """CTC loss for padded label rows (``keras.ops.ctc_loss``, blank = 0).

    Parameters
    ----------
    y_true : tensor, int, shape (batch, max_label_length)
        Classes ``digit + 1``, padded with -1.
    y_pred : tensor, float32, shape (batch, n_steps, 11)
        Logits; every step counts (padding frames must be predicted as blank).

    Returns
    -------
    tensor, float32, shape (batch,)
        Negative log-likelihood of each label sequence.
    """
    from keras import ops

    y_true = ops.cast(y_true, "int32")
    label_length = ops.sum(ops.cast(y_true >= 0, "int32"), axis=1)
    batch, steps = ops.shape(y_pred)[0], ops.shape(y_pred)[1]
    output_length = ops.full((batch,), steps, dtype="int32")
    return ops.ctc_loss(ops.maximum(y_true, 0), y_pred, label_length, output_length, mask_index=BLANK)


def encode_texts(texts) -> np.ndarray:
    """Digit strings to CTC targets.

    Parameters
    ----------
    texts : sequence of str
        E.g. ``["407", "12"]``.

    Returns
    -------
    np.ndarray, int32, shape (n, longest text)
        Class ``digit + 1``, padded with -1.
    """
    width = max(len(t) for t in texts)
    out = np.full((len(texts), width), -1, np.int32)
    for i, t in enumerate(texts):
        out[i, :len(t)] = [int(c) + 1 for c in t]
    return out


def _batches(features, targets, batch_size, rng):
    """Length-sorted batches (little padding), zero-padded; targets padded with -1."""
    order = np.argsort([len(f) for f in features], kind="stable")
    groups = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(groups)
    for g in groups:
        x = np.zeros((len(g), max(len(features[i]) for i in g), features[0].shape[1]), np.float32)
        for row, i in enumerate(g):
            x[row, :len(features[i])] = features[i]
        yield x, targets[g]


def train_ctc(features, texts, epochs: int = 30, batch_size: int = 32, learning_rate: float = 2e-3,
              seed: int = 0, verbose: int = 1):
    """Train :func:`build_ctc_model` with :func:`ctc_loss` on digit strings (Adam, cosine decay).

    Batches hold strings of similar length, zero-padded to the longest
    (a ``keras.utils.PyDataset``).

    Parameters
    ----------
    features : list of np.ndarray, float32, (n_frames, 40)
        From :func:`string_log_mel`.
    texts : list of str
        The digits of each string.
    epochs, batch_size : int
    learning_rate : float
    seed : int
    verbose : int
        1 prints one line per epoch.

    Returns
    -------
    model : keras.Model
    history : list of float
        Mean training loss per epoch.
    seconds : float
        Training wall time.
    """
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    targets = encode_texts(texts)

    class Strings(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epoch_batches = list(_batches(features, targets, batch_size, rng))

        def __len__(self):
            return len(self.epoch_batches)

        def __getitem__(self, i):
            return self.epoch_batches[i]

        def on_epoch_end(self):
            self.epoch_batches = list(_batches(features, targets, batch_size, rng))

    data = Strings()
    model = build_ctc_model(features[0].shape[1])
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=max(1, (epochs - 1) * len(data)), warmup_target=learning_rate, warmup_steps=len(data),
        alpha=0.02)
    model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=5.0), loss=ctc_loss)
    losses = []
    start = time.perf_counter()
    for epoch in range(epochs):  # one fit() per epoch: a short, readable log line each
        loss = model.fit(data, epochs=1, verbose=0).history["loss"][0]
        losses.append(loss)
        if verbose:
            print(f"  epoch {epoch + 1:>2}/{epochs}: CTC loss {loss:.3f} ({time.perf_counter() - start:.0f} s)",
                  flush=True)
    return model, losses, time.perf_counter() - start


def ctc_decode(logits, strategy: str = "greedy", beam_width: int = 16) -> list[str]:
    """Decode CTC logits into digit strings (``keras.ops.ctc_decode``).

    Parameters
    ----------
    logits : array-like, float, shape (batch, n_steps, 11)
        Model outputs (log-probabilities also work: decoding is invariant to
        a per-frame constant). Class 0 is the blank, class ``d + 1`` digit ``d``.
    strategy : {"greedy", "beam_search"}
        Greedy: best class per step, merge repeats, drop blanks. Beam search
        keeps the ``beam_width`` most probable prefixes (no language model).
    beam_width : int

    Returns
    -------
    list of str
        One string of digits per row (possibly empty).

    Raises
    ------
    ValueError
        Unknown strategy, or logits not of shape ``(batch, steps, 11)``.
    """
    from keras import ops

    logits = np.asarray(logits, np.float32)
    if logits.ndim != 3 or logits.shape[-1] != 11:
        raise ValueError(f"expected logits of shape (batch, steps, 11), got {logits.shape}")
    if strategy not in ("greedy", "beam_search"):
        raise ValueError(f"strategy must be 'greedy' or 'beam_search', got {strategy!r}")
    lengths = np.full(len(logits), logits.shape[1], np.int32)
    decoded, _ = ops.ctc_decode(logits, lengths, strategy=strategy, beam_width=beam_width, top_paths=1,
                                mask_index=BLANK)
    return ["".join(str(c - 1) for c in row if c > 0) for row in np.asarray(decoded)[0]]


def greedy_decode(probs: np.ndarray) -> str:
    """Greedy CTC decoding of one utterance in NumPy: best class per frame, merge repeats, drop blanks.

    Parameters
    ----------
    probs : np.ndarray, shape (n_steps, 11)
        Per-frame probabilities (or logits); class 0 is the blank.

    Returns
    -------
    str
        The digits, e.g. ``"4071"``.
    """
    best = np.argmax(np.asarray(probs), axis=-1)
    out, previous = [], BLANK
    for c in best:
        if c != previous and c != BLANK:
            out.append(str(int(c) - 1))
        previous = c
    return "".join(out)


def transcribe_batch(model, features, strategy: str = "greedy", beam_width: int = 16,
                     batch_size: int = 64) -> list[str]:
    """Transcribe many :func:`string_log_mel` feature sequences (length-sorted batches; padding decodes as blank).

    Parameters
    ----------
    model : keras.Model
        From :func:`train_ctc`.
    features : list of np.ndarray, float32, (n_frames, 40)
    strategy, beam_width
        As :func:`ctc_decode`.
    batch_size : int

    Returns
    -------
    list of str
        One digit string per input, in input order.
    """
    order = np.argsort([len(f) for f in features], kind="stable")
    out = [""] * len(features)
    for i in range(0, len(order), batch_size):
        g = order[i:i + batch_size]
        x = np.zeros((len(g), max(len(features[k]) for k in g), features[0].shape[1]), np.float32)
        for row, k in enumerate(g):
            x[row, :len(features[k])] = features[k]
        for k, text in zip(g, ctc_decode(np.asarray(model(x, training=False)), strategy, beam_width)):
            out[k] = text
    return out


def error_rates(references, hypotheses) -> dict:
    """Word and character error rates of digit strings with jiwer.

    Each digit counts as a word for the WER (``"407"`` is scored as ``"4 0 7"``).

    Parameters
    ----------
    references, hypotheses : sequence of str
        Digit strings; references must not be empty.

    Returns
    -------
    dict
        ``{"wer": float, "cer": float}``: (substitutions + deletions +
        insertions) / reference length, over the whole set.

    Raises
    ------
    ValueError
        Different numbers of references and hypotheses, or an empty reference.
    """
    import jiwer

    references, hypotheses = list(references), list(hypotheses)
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    if not references or any(len(r) == 0 for r in references):
        raise ValueError("every reference must be a non-empty digit string")
    words = lambda texts: [" ".join(t) for t in texts]  # noqa: E731 - "407" -> "4 0 7"
    return {"wer": float(jiwer.wer(words(references), words(hypotheses))),
            "cer": float(jiwer.cer(references, hypotheses))}


def pocketsphinx_digits(waveform, sample_rate: int, sequence: bool = True) -> str:
    """The classical baseline: CMU PocketSphinx's HMM recogniser restricted to the ten digit names.

    PocketSphinx's bundled US-English acoustic model was trained on many hundreds of
    speakers and none of FSDD's, so every FSDD speaker is an unseen speaker to it. A
    JSGF grammar of the words "zero" … "nine" replaces its language model — the way
    small-vocabulary recognisers were built before neural networks.

    Parameters
    ----------
    waveform : np.ndarray, float, shape (n_samples,)
        Mono speech in [-1, 1].
    sample_rate : int
        Hz; resampled to PocketSphinx's 16000 Hz (its model saw full-band 16 kHz speech,
        so FSDD's 8 kHz recordings lack its upper 4 kHz).
    sequence : bool
        True: any number of digits (a digit string); False: exactly one digit.

    Returns
    -------
    str
        The recognised digits, e.g. ``"407"`` (``""`` if nothing was recognised).

    Raises
    ------
    course_utils.speech_eval.SpeechEvalError
        Empty, multi-channel or non-finite input.
    """
    from .fallback import DIGIT_WORDS
    from .speech_eval import transcribe_pocketsphinx

    words = transcribe_pocketsphinx(waveform, sample_rate, vocabulary=DIGIT_WORDS, sequence=sequence).split()
    return "".join(str(DIGIT_WORDS.index(w)) for w in words)


def transcribe(waveform, sample_rate: int, model=None, strategy: str = "greedy", beam_width: int = 16) -> str:
    """Transcribe a spoken digit string (any number of digits) from raw audio.

    Parameters
    ----------
    waveform : array-like, float, shape (n_samples,)
        Mono audio in [-1, 1], up to :data:`MAX_STRING_SECONDS` (60 s).
    sample_rate : int
        Hz, ≥ 8000 (resampled to 8 kHz).
    model : keras.Model, optional
        From :func:`train_ctc`; default: ``build/models/digits_ctc.keras``
        saved by notebook 04.
    strategy : {"greedy", "beam_search"}
    beam_width : int

    Returns
    -------
    str
        The digits heard, e.g. ``"4071"`` (empty if none).

    Raises
    ------
    ValueError
        Not mono, sample rate not an integer ≥ 8000 Hz, longer than 60 s, unknown strategy.
    course_utils.audio.AudioError
        Empty, non-finite or silent audio.
    FileNotFoundError
        No ``model`` given and notebook 04 has not saved one.
    """
    x = string_log_mel(waveform, sample_rate)[None]
    model = load_model("digits_ctc") if model is None else model
    return ctc_decode(np.asarray(model(x, training=False)), strategy, beam_width)[0]


# ----------------------------------------------------------------------------- exercise


def _random_ctc_probs(rng: np.random.Generator, text: str, blank_runs=(0, 3), char_runs=(1, 4)) -> np.ndarray:
    """A probability matrix (steps, 11) whose best path spells ``text`` with repeats and blanks."""
    path = []
    for i, ch in enumerate(text):
        if i > 0 and ch == text[i - 1]:
            path += [BLANK] * int(rng.integers(1, 3))  # a blank must separate a doubled digit
        else:
            path += [BLANK] * int(rng.integers(*blank_runs))
        path += [int(ch) + 1] * int(rng.integers(*char_runs))
    path += [BLANK] * int(rng.integers(0, 3))
    probs = rng.dirichlet(np.ones(11), size=len(path)) * 0.4
    probs[np.arange(len(path)), path] += 0.6
    return (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)


@exercise("04_ctc_greedy", "write ctc_greedy(probs) -> str: probs is a (steps, 11) array of per-frame "
          "probabilities, class 0 the CTC blank and class d + 1 the digit d; take the best class per frame, "
          "merge repeated classes, drop blanks, and return the digits as a string such as '4071'.")
def _check_ctc_greedy(fn):
    rng = np.random.default_rng(int(time.time()) % 10_000)
    cases = ["0", "7", "11", "100", "5555", ""]
    cases += ["".join(map(str, rng.integers(0, 10, rng.integers(1, 9)))) for _ in range(20)]
    for text in cases:
        probs = _random_ctc_probs(rng, text) if text else np.eye(11, dtype=np.float32)[[0, 0, 0]]
        got = fn(probs)
        assert isinstance(got, str), f"return a str of digits, got {type(got).__name__}"
        if got != text:
            hint = ("Hint: merge repeats *before* dropping blanks — a blank between two equal digits keeps both "
                    "(e.g. '11')." if len(set(text)) < len(text) else
                    "Hint: class c stands for digit c − 1, class 0 is the blank; merge repeated frames.")
            assert False, f"for a matrix spelling {text!r} you returned {got!r}. {hint}"
