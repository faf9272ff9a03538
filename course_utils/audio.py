"""Audio: loading, the one waveform check, silence trimming, log-mel spectrograms, MFCCs and vocoders.

I/O is soundfile (libsndfile), resampling and features are librosa, the WORLD vocoder is
pyworld + pysptk — the course writes none of that signal processing itself. Conventions
follow librosa: feature matrices are ``(n_features, n_frames)``; times are in seconds,
rates in Hz, window and hop lengths in samples.

* :func:`check_waveform` — the one check every public entry point that takes raw audio runs
  (one exception type, :class:`AudioError`), with optional resampling.
* :func:`load_audio`, :func:`trim_silence`, :func:`peak_normalize`, :func:`pad_or_crop`.
* :func:`log_mel_spectrogram`, :func:`mfcc`, :func:`normalize_features`.
* :func:`griffin_lim` — waveform from a mel spectrogram (mel inversion + Griffin & Lim 1984).
* :func:`world_features`, :func:`world_synthesize` — the WORLD vocoder (Morise et al. 2016).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Frame period of the WORLD analysis, in ms.
FRAME_PERIOD_MS = 5.0


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


def check_waveform(waveform, sample_rate, *, name: str = "waveform", target_rate: int | None = None,
                   min_rate: int | None = None, max_rate: int | None = None, min_seconds: float = 0.0,
                   max_seconds: float | None = None, silence_peak: float | None = None,
                   dtype=np.float32) -> np.ndarray:
    """Validate a mono waveform and optionally resample it: the one check of raw audio in the course.

    Parameters
    ----------
    waveform : array-like, float, shape (n_samples,)
        Mono audio, amplitudes in [-1, 1].
    sample_rate : int
        Its rate in Hz.
    name : str
        What to call the argument in error messages (e.g. ``"reference"``).
    target_rate : int, optional
        Resample to this rate in Hz (librosa, soxr_hq) when it differs.
    min_rate, max_rate : int, optional
        Accepted range of ``sample_rate`` in Hz (e.g. 8000: telephone-band audio lacks the
        2–4 kHz band a model uses).
    min_seconds, max_seconds : float, optional
        Accepted duration range in seconds.
    silence_peak : float, optional
        Reject audio whose peak amplitude is below this (e.g. 1e-4, −80 dBFS).
    dtype : numpy dtype
        Of the returned array (float64 for pyworld).

    Returns
    -------
    np.ndarray, shape (n_samples_out,)
        At ``target_rate`` if given, else at ``sample_rate``; C-contiguous, of ``dtype``.

    Raises
    ------
    AudioError
        Not one-dimensional (stereo: average the channels first), integer or boolean samples
        (int16 audio: divide by 32768 first), empty, NaN or infinite samples, a sample rate
        that is not a positive integer or lies outside ``min_rate``–``max_rate``, too short
        or too long, or silent. The message names ``name`` and the problem.

    Examples
    --------
    >>> y = check_waveform(np.sin(np.linspace(0, 900, 16000)) * 0.5, 16000, target_rate=8000)
    >>> y.shape, y.dtype
    ((8000,), dtype('float32'))
    """
    y = np.asarray(waveform)
    if y.ndim != 1:
        raise AudioError(f"{name}: expected mono audio of shape (n_samples,), got shape {y.shape}; "
                         "average the channels first (load_audio(..., mono=True) or y.mean(axis=0))")
    if not np.issubdtype(y.dtype, np.floating):
        raise AudioError(f"{name}: expected float samples in [-1, 1], got dtype {y.dtype}"
                         + ("; divide int16 audio by 32768" if np.issubdtype(y.dtype, np.integer) else ""))
    try:
        rate_ok = not isinstance(sample_rate, bool) and float(sample_rate).is_integer() and sample_rate > 0
    except (TypeError, ValueError):
        rate_ok = False
    if not rate_ok:
        raise AudioError(f"sample_rate must be a positive whole number of Hz, got {sample_rate!r}")
    sample_rate = int(sample_rate)
    if (min_rate is not None and sample_rate < min_rate) or (max_rate is not None and sample_rate > max_rate):
        span = f"{min_rate or 1}–{max_rate} Hz" if max_rate else f"≥ {min_rate} Hz"
        raise AudioError(f"sample_rate {sample_rate} Hz is outside the supported {span}")
    if y.size == 0:
        raise AudioError(f"{name} is empty")
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{name} contains NaN or infinite samples")
    seconds = y.size / sample_rate
    if seconds < min_seconds:
        raise AudioError(f"{name} lasts {seconds:.3f} s, too short (need ≥ {min_seconds:g} s)")
    if max_seconds is not None and seconds > max_seconds:
        raise AudioError(f"{name} lasts {seconds:.1f} s, more than the {max_seconds:g} s accepted here; "
                         "cut it into shorter pieces")
    if silence_peak is not None and float(np.max(np.abs(y))) < silence_peak:
        raise AudioError(f"{name} is silent (peak {float(np.max(np.abs(y))):.1e} < {silence_peak:.0e})")
    if target_rate is not None and sample_rate != target_rate:
        import librosa

        y = librosa.resample(y.astype(np.float32), orig_sr=sample_rate, target_sr=target_rate,
                             res_type="soxr_hq")
    return np.ascontiguousarray(y, dtype=dtype)


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
        ``n_frames = 1 + len(y) // hop_length``, also for a clip shorter than ``n_fft``.
    """
    import librosa

    y = np.asarray(y, dtype=np.float32)
    n_frames = 1 + len(y) // hop_length
    if len(y) < n_fft:
        # librosa warns on a clip shorter than one window. Its centred frames read zeros past the end
        # anyway (pad_mode="constant"), so padding the end with zeros first and keeping the clip's own
        # frames gives the same numbers without the warning.
        y = np.pad(y, (0, n_fft - len(y)))
    mel = librosa.feature.melspectrogram(y=y, sr=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels,
                                         fmin=fmin, fmax=fmax, pad_mode="constant")[:, :n_frames]
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


# ----------------------------------------------------------------------------- vocoders


def griffin_lim(mel: np.ndarray, sample_rate: int, n_fft: int, hop_length: int, *, win_length: int | None = None,
                fmin: float = 0.0, fmax: float | None = None, power: float = 2.0, n_iter: int = 32,
                length: int | None = None, seed: int = 0) -> np.ndarray:
    """Waveform from a mel spectrogram: mel inversion, then Griffin-Lim phase retrieval (librosa).

    Parameters
    ----------
    mel : np.ndarray, float, shape (n_mels, n_frames)
        Mel spectrogram of ``|STFT| ** power`` (librosa's ``melspectrogram`` layout, linear, not dB).
    sample_rate : int
        Hz.
    n_fft, hop_length : int
        STFT size and hop in samples, as used for the analysis.
    win_length : int, optional
        Window length in samples (default ``n_fft``).
    fmin, fmax : float
        Mel filter-bank edges in Hz (``fmax`` defaults to ``sample_rate / 2``).
    power : float
        The exponent of the magnitudes the mel spectrogram was made of (2: power, 1: magnitude).
    n_iter : int
        Griffin-Lim iterations.
    length : int, optional
        Samples of the output (default: what the frames span).
    seed : int
        Seed of the random initial phase, so the same input always gives the same waveform.

    Returns
    -------
    np.ndarray, float32, shape (n_samples,)

    Notes
    -----
    D. Griffin, J. Lim, "Signal estimation from modified short-time Fourier transform",
    IEEE Trans. ASSP 1984; mel inversion by non-negative least squares
    (``librosa.feature.inverse.mel_to_stft``).
    """
    import librosa

    magnitude = librosa.feature.inverse.mel_to_stft(np.asarray(mel), sr=sample_rate, n_fft=n_fft, power=power,
                                                    fmin=fmin, fmax=fmax)
    y = librosa.griffinlim(magnitude, n_iter=n_iter, hop_length=hop_length, win_length=win_length, n_fft=n_fft,
                           length=length, random_state=seed)
    return y.astype(np.float32)


def mcep_alpha(sample_rate: int) -> float:
    """All-pass constant α of the mel-cepstrum for ``sample_rate`` (0.42 at 16 kHz), via pysptk."""
    import pysptk

    return float(pysptk.util.mcepalpha(sample_rate))


@dataclass
class WorldFeatures:
    """WORLD vocoder parameters of one utterance, frame period :data:`FRAME_PERIOD_MS`.

    Attributes
    ----------
    f0 : np.ndarray, float64, shape (n_frames,)
        Fundamental frequency in Hz; 0 in unvoiced frames.
    mcep : np.ndarray, float64, shape (n_frames, order + 1)
        Mel-cepstrum c0…c_order of the spectral envelope (α = :func:`mcep_alpha`).
    bap : np.ndarray, float64, shape (n_frames, n_bands), or None
        Band aperiodicity (pyworld's coded aperiodicity, dB); None if not analysed.
    sample_rate : int
        Hz.
    fft_size : int
        FFT size of the spectral envelope (samples).
    frame_period : float
        Milliseconds between frames (:data:`FRAME_PERIOD_MS` unless analysed otherwise).
    """

    f0: np.ndarray
    mcep: np.ndarray
    bap: np.ndarray
    sample_rate: int
    fft_size: int
    frame_period: float = FRAME_PERIOD_MS


def world_features(waveform, sample_rate: int, order: int = 24, aperiodicity: bool = True,
                   frame_period: float = FRAME_PERIOD_MS) -> WorldFeatures:
    """Analyse speech with WORLD (DIO + StoneMask F0, CheapTrick envelope, D4C aperiodicity).

    Parameters
    ----------
    waveform : np.ndarray, float, shape (n_samples,)
        Mono speech in [-1, 1].
    sample_rate : int
        Hz (16000 for CMU ARCTIC).
    order : int
        Mel-cepstrum order; ``mcep`` has ``order + 1`` coefficients (c0 is energy).
    aperiodicity : bool
        Also estimate band aperiodicity (D4C, about a quarter of the time). Without it
        ``bap`` is None and the features cannot be synthesised.
    frame_period : float
        Milliseconds between frames (5 by default; 10 matches PocketSphinx's frames, used by the TTS).

    Returns
    -------
    WorldFeatures

    Raises
    ------
    AudioError
        Empty, multi-channel or non-finite input (:func:`check_waveform`).

    Notes
    -----
    M. Morise, F. Yokomori, K. Ozawa, "WORLD: a vocoder-based high-quality speech synthesis
    system for real-time applications", IEICE Trans. 2016; mel-cepstrum by ``pysptk.sp2mc``.
    """
    import pysptk
    import pyworld

    y = check_waveform(waveform, sample_rate, dtype=np.float64)
    f0, t = pyworld.dio(y, sample_rate, frame_period=frame_period)
    f0 = pyworld.stonemask(y, f0, t, sample_rate)
    sp = pyworld.cheaptrick(y, f0, t, sample_rate)
    fft_size = (sp.shape[1] - 1) * 2
    mcep = pysptk.sp2mc(sp, order=order, alpha=mcep_alpha(sample_rate))
    bap = pyworld.code_aperiodicity(pyworld.d4c(y, f0, t, sample_rate), sample_rate) if aperiodicity else None
    return WorldFeatures(f0, mcep, bap, sample_rate, fft_size, frame_period)


def world_synthesize(features: WorldFeatures) -> np.ndarray:
    """Synthesise a waveform from :class:`WorldFeatures` (pysptk ``mc2sp`` + ``pyworld.synthesize``).

    Returns
    -------
    np.ndarray, float32, shape (n_samples,)
        At ``features.sample_rate`` Hz, peak-limited to [-1, 1].

    Raises
    ------
    ValueError
        The features were analysed without aperiodicity.
    """
    import pysptk
    import pyworld

    if features.bap is None:
        raise ValueError("these WORLD features have no aperiodicity (analysed with aperiodicity=False)")
    sr, fft = features.sample_rate, features.fft_size
    sp = pysptk.mc2sp(np.ascontiguousarray(features.mcep, dtype=np.float64), alpha=mcep_alpha(sr), fftlen=fft)
    ap = pyworld.decode_aperiodicity(np.ascontiguousarray(features.bap, dtype=np.float64), sr, fft)
    y = pyworld.synthesize(np.ascontiguousarray(features.f0, dtype=np.float64), sp, ap, sr,
                           frame_period=features.frame_period)
    return np.clip(y, -1.0, 1.0).astype(np.float32)
