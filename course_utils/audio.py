"""Audio loading and features: waveforms, silence trimming, log-mel spectrograms and MFCCs.

I/O is soundfile (libsndfile), resampling and features are librosa — the course
writes none of that signal processing itself. Conventions follow librosa:
feature matrices are ``(n_features, n_frames)``; times are in seconds, rates in
Hz, window and hop lengths in samples.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


class AudioError(ValueError):
    """Audio that cannot be used: unreadable, empty, silent, non-finite."""


def ms_to_samples(ms: float, sample_rate: int) -> int:
    """Convert a duration in milliseconds to a whole number of samples.

    Examples
    --------
    >>> ms_to_samples(25, 16000)   # the classic 25 ms window at 16 kHz
    400
    """
    return int(round(ms * sample_rate / 1000.0))


def _check_wav_complete(path: Path) -> None:
    """Raise AudioError if a RIFF/WAVE file is shorter than its header says (truncated copy)."""
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return  # not a RIFF WAVE file: let libsndfile decide
        size = path.stat().st_size
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return
            cid, clen = chunk[:4], int.from_bytes(chunk[4:], "little")
            if cid == b"data":
                if f.tell() + clen > size:
                    raise AudioError(f"{path}: truncated WAV — the data chunk declares {clen} bytes, "
                                     f"the file holds {size - f.tell()}")
                return
            f.seek(clen + (clen & 1), 1)


def load_audio(path, sample_rate: int | None = None, mono: bool = True) -> np.ndarray:
    """Read an audio file (WAV, FLAC, OGG…) as float32 samples in [-1, 1].

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    sample_rate : int, optional
        Target rate in Hz; the file is resampled (librosa, soxr) if it differs.
        None keeps the file's rate (read it with ``soundfile.info``).
    mono : bool
        Average the channels into one (stereo → mono).

    Returns
    -------
    np.ndarray, float32
        Shape ``(n_samples,)`` if ``mono`` else ``(n_channels, n_samples)``.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    AudioError
        The file is not decodable audio, is a truncated WAV, has no samples, or
        holds NaN/inf; the message names the file.
    """
    import librosa
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such audio file")
    _check_wav_complete(path)
    try:
        data, rate = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise AudioError(f"{path}: not a readable audio file ({err})") from err
    if data.shape[0] == 0:
        raise AudioError(f"{path}: the file holds no samples")
    if not np.all(np.isfinite(data)):
        raise AudioError(f"{path}: samples contain NaN or infinity")
    y = data.T  # (channels, samples), librosa's layout
    if mono:
        y = y.mean(axis=0)
    if sample_rate is not None and rate != sample_rate:
        y = librosa.resample(y, orig_sr=rate, target_sr=sample_rate, res_type="soxr_hq")
    return np.ascontiguousarray(y, dtype=np.float32)


def peak_normalize(y: np.ndarray, peak: float = 0.95) -> np.ndarray:
    """Scale a waveform so its largest absolute sample is ``peak``.

    FSDD clips differ in loudness by more than 20 dB; this removes that nuisance.

    Raises
    ------
    AudioError
        The waveform is empty or all zeros (silence cannot be normalised).
    """
    y = np.asarray(y, dtype=np.float32)
    top = float(np.max(np.abs(y))) if y.size else 0.0
    if top == 0.0:
        raise AudioError("cannot normalise silence: the waveform is empty or all zeros")
    return y * (peak / top)


def trim_silence(y: np.ndarray, top_db: float = 30.0, frame_length: int = 512, hop_length: int = 128) -> np.ndarray:
    """Remove leading and trailing silence (``librosa.effects.trim``).

    Parameters
    ----------
    y : np.ndarray, float, shape (n_samples,)
    top_db : float
        Frames more than ``top_db`` dB below the loudest frame count as silence.
    frame_length, hop_length : int
        Analysis frame and hop in samples.

    Returns
    -------
    np.ndarray, float32
        The trimmed waveform.

    Raises
    ------
    AudioError
        ``y`` is empty or entirely zero — there is nothing to keep.
    """
    import librosa

    y = np.asarray(y, dtype=np.float32)
    if y.size == 0 or not np.any(y):
        raise AudioError("the waveform is silent (empty or all zeros): nothing to trim to")
    trimmed, _ = librosa.effects.trim(y, top_db=top_db, frame_length=frame_length, hop_length=hop_length)
    return trimmed


def pad_or_crop(y: np.ndarray, length: int) -> np.ndarray:
    """Return exactly ``length`` samples: zero-pad at the end, or keep the centre part.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
    length : int
        Samples wanted (e.g. ``sample_rate * seconds``).

    Returns
    -------
    np.ndarray, float32, shape (length,)
    """
    y = np.asarray(y, dtype=np.float32)
    if len(y) >= length:
        start = (len(y) - length) // 2
        return y[start:start + length]
    return np.pad(y, (0, length - len(y)))


def log_mel_spectrogram(y: np.ndarray, sample_rate: int, n_fft: int = 256, hop_length: int = 80,
                        n_mels: int = 40, fmin: float = 20.0, fmax: float | None = None) -> np.ndarray:
    """Log-mel spectrogram in dB.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
    sample_rate : int
        Hz.
    n_fft : int
        FFT window in samples (256 at 8 kHz = 32 ms).
    hop_length : int
        Hop in samples (80 at 8 kHz = 10 ms).
    n_mels : int
        Mel bands.
    fmin, fmax : float
        Band edges in Hz (``fmax`` defaults to ``sample_rate / 2``).

    Returns
    -------
    np.ndarray, float32, shape (n_mels, n_frames)
        ``10·log10(power)`` relative to 1.0, floored 80 dB below the maximum.
        ``n_frames = 1 + len(y) // hop_length``.
    """
    import librosa

    mel = librosa.feature.melspectrogram(y=np.asarray(y, dtype=np.float32), sr=sample_rate, n_fft=n_fft,
                                         hop_length=hop_length, n_mels=n_mels, fmin=fmin, fmax=fmax)
    return librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=80.0).astype(np.float32)


def mfcc(y: np.ndarray, sample_rate: int, n_mfcc: int = 13, deltas: bool = True, n_fft: int = 256,
         hop_length: int = 80, n_mels: int = 40) -> np.ndarray:
    """MFCCs, optionally stacked with their first and second time derivatives.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
    sample_rate : int
        Hz.
    n_mfcc : int
        Cepstral coefficients (c0 included).
    deltas : bool
        Append Δ and ΔΔ (``librosa.feature.delta``, width 9 or the longest odd
        width the clip allows).
    n_fft, hop_length, n_mels : int
        As in :func:`log_mel_spectrogram`.

    Returns
    -------
    np.ndarray, float32, shape (n_mfcc * (3 if deltas else 1), n_frames)
    """
    import librosa

    S = log_mel_spectrogram(y, sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels)
    coeffs = librosa.feature.mfcc(S=S, n_mfcc=n_mfcc)
    if deltas:
        width = min(9, coeffs.shape[1] - (1 - coeffs.shape[1] % 2))
        if width >= 3:
            d1 = librosa.feature.delta(coeffs, width=width, order=1)
            d2 = librosa.feature.delta(coeffs, width=width, order=2)
        else:  # clips shorter than 3 frames have no meaningful derivative
            d1 = d2 = np.zeros_like(coeffs)
        coeffs = np.concatenate([coeffs, d1, d2], axis=0)
    return coeffs.astype(np.float32)


def normalize_features(x: np.ndarray, axis: int = -1, eps: float = 1e-5) -> np.ndarray:
    """Per-utterance mean and variance normalisation (CMVN) along ``axis`` (time by default).

    Returns
    -------
    np.ndarray, float32, same shape as ``x``
        Zero mean and unit variance per feature over the utterance.
    """
    x = np.asarray(x, dtype=np.float32)
    return (x - x.mean(axis=axis, keepdims=True)) / (x.std(axis=axis, keepdims=True) + eps)
