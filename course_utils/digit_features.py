"""Notebook 04's front end: checked 8 kHz audio → per-utterance normalised log-mel frames, and augmentation.

Every recogniser of notebook 04 takes **time-major log-mel features**, shape ``(n_frames, n_mels)``:
25 ms windows every 10 ms — the classic 16 kHz front end (``n_fft = 400``, ``hop = 160`` samples)
adapted to FSDD's 8 kHz (``n_fft = 200``, ``hop = 80`` samples) — with 40 mel bands, normalised per
utterance relative to its loudest cell (:func:`peak_normalize_db`). Isolated digits are placed in a fixed
0.8 s window (:func:`digit_log_mel`), digit strings keep their length (:func:`string_log_mel`). Raw audio is
checked and resampled by :func:`course_utils.audio.check_waveform`; the signal processing itself is
librosa, through :mod:`course_utils.audio`. Nothing here imports Keras.

* Features: :func:`peak_normalize_db`, :func:`log_mel_frames`, :func:`place_frames`, :func:`digit_log_mel`,
  :func:`string_log_mel`.
* Augmentation of training clips: :func:`add_noise`, :func:`random_gain`, :func:`speed_perturb`
  (Ko et al. 2015, "Audio augmentation for speech recognition"), :func:`pitch_perturb`,
  :func:`augment_features`, :func:`feature_set`. SpecAugment (Park et al. 2019) is a layer of the models,
  :class:`course_utils.models.digit_classifiers.SpecAugment`.
"""
from __future__ import annotations

import numpy as np

from .audio import check_waveform, log_mel_spectrogram, ms_to_samples, trim_silence

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
#: Longest input in seconds: an isolated digit (:func:`digit_log_mel`), a digit string (:func:`string_log_mel`).
MAX_DIGIT_SECONDS, MAX_STRING_SECONDS = 10.0, 60.0
#: Waveform and feature augmentations, in the order :func:`augment_features` applies them.
AUGMENTATIONS = ("noise", "gain", "shift", "speed", "pitch", "specaugment")


def _at_8k(waveform, sample_rate, max_seconds: float = MAX_DIGIT_SECONDS) -> np.ndarray:
    """:func:`course_utils.audio.check_waveform` with the recognisers' limits: float32 at :data:`SAMPLE_RATE`."""
    return check_waveform(waveform, sample_rate, target_rate=SAMPLE_RATE, min_rate=SAMPLE_RATE,
                          max_seconds=max_seconds, silence_peak=SILENCE_PEAK)


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
    course_utils.audio.AudioError
        Not mono, empty, non-finite or silent audio, a sample rate that is not a whole number
        ≥ 8000 Hz, or longer than :data:`MAX_DIGIT_SECONDS` (:func:`course_utils.audio.check_waveform`).
    """
    y = trim_silence(_at_8k(waveform, sample_rate), top_db=30)
    return place_frames(log_mel_frames(y), N_FRAMES, shift)


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
    course_utils.audio.AudioError
        As :func:`digit_log_mel`, with :data:`MAX_STRING_SECONDS` as the longest duration.
    """
    return log_mel_frames(_at_8k(waveform, sample_rate, max_seconds=MAX_STRING_SECONDS))


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
        (``"specaugment"`` is a layer inside the model,
        :class:`course_utils.models.digit_classifiers.SpecAugment`,
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
    course_utils.audio.AudioError
        As :func:`digit_log_mel`.
    """
    unknown = set(kinds) - set(AUGMENTATIONS)
    if unknown:
        raise ValueError(f"unknown augmentation(s) {sorted(unknown)}; known: {AUGMENTATIONS}")
    y = trim_silence(_at_8k(waveform, sample_rate), top_db=30)
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
