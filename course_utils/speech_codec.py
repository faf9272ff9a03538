"""A speech codec at a few kbps: entropy-coded log-mel frames, decoded by a WaveNet or by Griffin-Lim.

**Encoder.** Speech at 8 kHz (the *core*, telephone band) is described by ``N_MELS`` log-mel energies (dB)
every 10 ms (``HOP`` = 80 samples, ``N_FFT`` = 256). The band the core cannot carry, 4–8 kHz, is described by
``N_HIGH`` log-mel energies of the 16 kHz input on the same 10 ms frames. Each band is quantised with a uniform
step of ``STEP_DB`` by closed-loop DPCM along time (the quantiser codes the difference to the previous *decoded*
frame, so errors do not accumulate). Neighbouring bands rise and fall together, so each residual is then
coded as its difference to the residual of the band below (lossless; it saves about 1 kbps), and these
integers are range-coded with constriction under a quantised Laplace model whose per-band scale is sent in
the header. The stream's bit rate is counted from its bytes, header included.

**Decoders.**

* Griffin-Lim (Griffin & Lim 1984): mel → linear power by librosa's non-negative least squares
  pseudo-inverse, then phase retrieval (librosa's fast Griffin-Lim with momentum, Perraudin et al. 2013).
* WaveNet (van den Oord et al. 2016, "WaveNet: a generative model for raw audio"), used as the
  decoder of a parametric codec as in Kleijn et al. 2018 ("WaveNet based low rate speech coding"):
  causal dilated convolutions, gated ``tanh · sigmoid`` units, residual and skip connections, a
  256-way softmax over 8-bit μ-law samples, and *local conditioning* on the decoded log-mel frames
  (a 3-frame convolution, repeated to the sample rate, projected into every layer).
  Generation is autoregressive; :class:`IncrementalWaveNet` does it in NumPy with one queue of past
  activations per layer (Paine et al. 2016, "Fast WaveNet generation algorithm"), so each sample costs
  one step through the layers instead of a pass over the whole receptive field.

**Post-filter.** :func:`postfilter` rescales the WaveNet's output, band by band, to the coded log-mel
energies: the decoder knows what the spectrum should be, and a sampled waveform drifts from it.

**Bandwidth extension.** Either decoder makes the 8 kHz core; :func:`widen` resamples it to 16 kHz and adds the
4–8 kHz band as white noise shaped, frame by frame, by the coded high-band energies. That is how wideband
speech codecs fill their top band for a small share of their bits (AMR-WB, ITU-T G.722.2, generates its
6.4–7 kHz band from shaped noise; Bessette et al. 2002). Speech recognisers need that band: fricatives
(/s/, /f/, /sh/) live there, and PocketSphinx's model was trained on 16 kHz speech.

The baseline is 8-bit μ-law at 8 kHz: 64 kbps (:func:`mu_law_encode`).

The shipped WaveNet weights were trained by ``python benchmarks/train_compression.py wavenet``
(111 min on a 2-core CPU: about 19,000 steps of 4 × 0.3 s segments) on CMU ARCTIC ``slt`` minus the
held-out utterances :func:`split_ids` returns.
"""
from __future__ import annotations

import struct
import time

import numpy as np

from .audio import AudioError
from .compression import WEIGHTS_DIR, StreamError, pack_stream, unpack_stream
from .saving import load_weights_f16

SAMPLE_RATE = 8000
HOP = 80            # samples per frame: 10 ms
N_FFT = 256         # 32 ms analysis window
N_MELS = 32
STEP_DB = 5.0       # quantiser step of the log-mel energies, dB
FLOOR_DB = -70.0    # energies below this are coded as the floor (silence costs almost nothing)
MAX_SYMBOL = 40     # DPCM residuals are clipped to ±MAX_SYMBOL steps
N_HIGH = 8          # log-mel bands for 4–8 kHz, coded on the same 10 ms frames
WIDEBAND_RATE = 16000  # the decoders' output rate, Hz
HIGH_FMIN = SAMPLE_RATE / 2  # Hz: the high band starts where the core's band ends
HIGH_N_FFT = 512    # 32 ms at 16 kHz
HIGH_HOP = HOP * WIDEBAND_RATE // SAMPLE_RATE  # 160 samples: 10 ms at 16 kHz
MAGIC, VERSION = b"LSC1", 2
WAVENET_WEIGHTS = WEIGHTS_DIR / "wavenet.npz"
#: WaveNet hyper-parameters of the shipped model.
WAVENET = dict(residual=32, skip=64, cond=32, dilations=(1, 2, 4, 8, 16, 32, 64, 128) * 2)
TEST_UTTERANCES = 10  # the last ids of the set are held out


def split_ids(ids, n_test: int = TEST_UTTERANCES) -> tuple[list, list]:
    """Held-out split by utterance id: the last ``n_test`` ids (sorted) are the test set, the rest train.

    Returns
    -------
    train_ids, test_ids : list of str
    """
    ids = sorted(ids)
    return ids[:-n_test], ids[-n_test:]


def check_waveform(waveform, sample_rate) -> np.ndarray:
    """Validate a mono waveform and resample it to :data:`SAMPLE_RATE`.

    Parameters
    ----------
    waveform : array-like, float, (n_samples,)
        Amplitudes in [−1, 1].
    sample_rate : int
        Hz.

    Returns
    -------
    np.ndarray, float32, (n,)
        At 8 kHz, cut to a whole number of 10 ms frames.

    Raises
    ------
    AudioError
        Not 1-D, empty or shorter than 20 ms, not finite, or a non-positive sample rate.
    """
    y = np.asarray(waveform)
    if y.ndim != 1:
        raise AudioError(f"expected a mono waveform of shape (n_samples,), got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.floating):
        raise AudioError(f"expected float samples in [-1, 1], got dtype {y.dtype}")
    if not np.isfinite(y).all():
        raise AudioError("waveform contains NaN or infinite samples")
    if not sample_rate or sample_rate <= 0:
        raise AudioError(f"sample rate must be a positive number of Hz, got {sample_rate}")
    if len(y) < 0.02 * sample_rate:
        raise AudioError(f"waveform too short: {len(y)} samples at {sample_rate} Hz (need ≥ 20 ms)")
    if sample_rate != SAMPLE_RATE:
        import librosa

        y = librosa.resample(y.astype(np.float32), orig_sr=sample_rate, target_sr=SAMPLE_RATE)
    y = y[: len(y) // HOP * HOP]
    return y.astype(np.float32)


def log_mel(y: np.ndarray) -> np.ndarray:
    """Log-mel energies of an 8 kHz waveform, dB (power), floored at ``FLOOR_DB``.

    Returns
    -------
    np.ndarray, float32, (len(y) // HOP, N_MELS)
        One row per 10 ms frame (frame f is centred on sample f·HOP).
    """
    import librosa

    S = librosa.feature.melspectrogram(y=y, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS,
                                       fmin=0.0, fmax=SAMPLE_RATE / 2, power=2.0)
    db = 10 * np.log10(np.maximum(S, 1e-12))
    return np.maximum(db, FLOOR_DB).T[: len(y) // HOP].astype(np.float32)


def high_band_mel(y16: np.ndarray, n_frames: int) -> np.ndarray:
    """Log-mel energies of the 4–8 kHz band of a 16 kHz waveform, dB (power), floored at ``FLOOR_DB``.

    Parameters
    ----------
    y16 : np.ndarray, float32, (n_samples,)
        Speech at :data:`WIDEBAND_RATE` (16 kHz).
    n_frames : int
        Number of 10 ms frames to return (the core's count); missing frames are padded with the floor.

    Returns
    -------
    np.ndarray, float32, (n_frames, N_HIGH)
        ``N_HIGH`` mel bands between 4000 and 8000 Hz; frame f is centred on sample f·``HIGH_HOP``.
    """
    import librosa

    S = librosa.feature.melspectrogram(y=y16, sr=WIDEBAND_RATE, n_fft=HIGH_N_FFT, hop_length=HIGH_HOP,
                                       n_mels=N_HIGH, fmin=HIGH_FMIN, fmax=WIDEBAND_RATE / 2, power=2.0)
    db = np.maximum(10 * np.log10(np.maximum(S, 1e-12)), FLOOR_DB).T[:n_frames]
    db = np.concatenate([db, np.full((n_frames - len(db), N_HIGH), FLOOR_DB)])
    return db.astype(np.float32)


def high_band(frames: np.ndarray, seed: int = 0) -> np.ndarray:
    """Synthesise the 4–8 kHz band from its coded energies: white noise shaped frame by frame.

    The mel energies are mapped back to a magnitude per STFT bin (librosa's non-negative least-squares
    inverse of the mel filterbank), bins below 4 kHz are zeroed, and the magnitudes are given the random
    phases of a white-noise STFT; the inverse STFT overlap-adds the frames.

    Parameters
    ----------
    frames : np.ndarray, float32, (n_frames, N_HIGH)
        Decoded high-band energies, dB (as from :func:`decode_features`).
    seed : int
        Seed of the noise.

    Returns
    -------
    np.ndarray, float32, (n_frames * HIGH_HOP,)
        The high band at 16 kHz (nothing below 4 kHz).
    """
    import librosa

    magnitude = librosa.feature.inverse.mel_to_stft(_power(frames), sr=WIDEBAND_RATE, n_fft=HIGH_N_FFT, power=2.0,
                                                    fmin=HIGH_FMIN, fmax=WIDEBAND_RATE / 2)
    magnitude[librosa.fft_frequencies(sr=WIDEBAND_RATE, n_fft=HIGH_N_FFT) < HIGH_FMIN] = 0.0
    n_samples = len(frames) * HIGH_HOP
    noise = np.random.default_rng(seed).standard_normal(n_samples + HIGH_N_FFT)
    phase = librosa.stft(noise, n_fft=HIGH_N_FFT, hop_length=HIGH_HOP)[:, :magnitude.shape[1]]
    phase /= np.maximum(np.abs(phase), 1e-12)
    y = librosa.istft(magnitude * phase, hop_length=HIGH_HOP, n_fft=HIGH_N_FFT, length=n_samples)
    return y.astype(np.float32)


def postfilter(core: np.ndarray, frames: np.ndarray, max_gain_db: float = 20.0) -> np.ndarray:
    """Pull a decoded 8 kHz core's spectral envelope back to the coded log-mel energies.

    A sampled WaveNet output drifts from the spectrum it was asked for (noise between formants,
    energy in the wrong band). The decoder knows the spectrum it should have — the stream's log-mel
    frames — so each STFT frame is rescaled by the gain, per mel band, that brings its energy to the
    coded value; the band gains (dB) are spread over the FFT bins by the filterbank's weights. The
    WaveNet's phase and fine structure are kept. Like the adaptive post-filters of CELP coders
    (Chen & Gersho 1995), it shapes decoded speech towards what the bitstream says.

    Parameters
    ----------
    core : np.ndarray, float32, (n_frames * HOP,)
        A decoder's 8 kHz output.
    frames : np.ndarray, float32, (n_frames, N_MELS)
        The stream's decoded core energies, dB.
    max_gain_db : float
        Band gains are clipped to ±``max_gain_db`` dB.

    Returns
    -------
    np.ndarray, float32, (n_frames * HOP,)

    Raises
    ------
    ValueError
        ``core`` and ``frames`` describe different numbers of frames.
    """
    import librosa

    core = np.asarray(core, np.float32)
    if len(core) != len(frames) * HOP:
        raise ValueError(f"the core has {len(core)} samples but the frames describe {len(frames) * HOP}")
    fb = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=0.0, fmax=SAMPLE_RATE / 2)
    D = librosa.stft(core, n_fft=N_FFT, hop_length=HOP)[:, :len(frames)]
    have = np.maximum(fb @ np.abs(D) ** 2, 1e-12)  # (N_MELS, n_frames), as log_mel measures it
    want = np.maximum(_power(frames), 1e-12)
    gain_db = np.clip(10 * np.log10(want / have), -max_gain_db, max_gain_db)
    share = fb / np.maximum(fb.sum(axis=0, keepdims=True), 1e-12)  # each bin's weights over the bands
    gain = 10 ** ((share.T @ gain_db) / 20)  # (bins, n_frames)
    return librosa.istft(D * gain, hop_length=HOP, n_fft=N_FFT, length=len(core)).astype(np.float32)


def widen(core: np.ndarray, high_frames: np.ndarray, seed: int = 0) -> np.ndarray:
    """Bandwidth extension: the 8 kHz core resampled to 16 kHz plus the noise-excited high band.

    Parameters
    ----------
    core : np.ndarray, float32, (n_frames * HOP,)
        A decoder's 8 kHz output (Griffin-Lim or WaveNet).
    high_frames : np.ndarray, float32, (n_frames, N_HIGH)
        The stream's decoded high-band energies, dB.
    seed : int
        Seed of the high band's noise.

    Returns
    -------
    np.ndarray, float32, (n_frames * HIGH_HOP,)
        Wideband speech at :data:`WIDEBAND_RATE` (16 kHz).

    Raises
    ------
    ValueError
        ``core`` and ``high_frames`` describe different numbers of frames.
    """
    import librosa

    core = np.asarray(core, np.float32)
    n_samples = len(high_frames) * HIGH_HOP
    if len(core) != len(high_frames) * HOP:
        raise ValueError(f"the core has {len(core)} samples at 8 kHz but the high band {len(high_frames)} frames "
                         f"({len(high_frames) * HOP} samples expected)")
    up = librosa.resample(core, orig_sr=SAMPLE_RATE, target_sr=WIDEBAND_RATE, res_type="soxr_hq")
    up = np.pad(up, (0, max(0, n_samples - len(up))))[:n_samples]
    return (up + high_band(high_frames, seed=seed)).astype(np.float32)


def quantize(frames: np.ndarray) -> np.ndarray:
    """Closed-loop DPCM along time: integer residuals, (n_frames, n_bands) int32, clipped to ±MAX_SYMBOL."""
    symbols = np.empty(frames.shape, np.int32)
    previous = np.full(frames.shape[1], FLOOR_DB)
    for t, frame in enumerate(frames):
        q = np.clip(np.round((frame - previous) / STEP_DB), -MAX_SYMBOL, MAX_SYMBOL).astype(np.int32)
        symbols[t] = q
        previous = previous + q * STEP_DB
    return symbols


def dequantize(symbols: np.ndarray) -> np.ndarray:
    """Invert :func:`quantize`: decoded log-mel energies (n_frames, n_bands), float32 dB."""
    return (FLOOR_DB + np.cumsum(symbols * STEP_DB, axis=0)).astype(np.float32)


def _power(frames: np.ndarray) -> np.ndarray:
    """Decoded dB frames (n_frames, n_bands) → band powers (n_bands, n_frames), float64; floor cells are 0."""
    frames = np.asarray(frames, np.float64).T
    return np.where(frames <= FLOOR_DB, 0.0, 10 ** (frames / 10))


def _scale_codes(symbols: np.ndarray) -> np.ndarray:
    b = np.mean(np.abs(symbols), axis=0)  # maximum-likelihood Laplace scale per band
    return np.clip(np.round(b * 20) - 1, 0, 255).astype(np.uint8)


def _laplace(codes: np.ndarray, n_frames: int):
    import constriction

    # across-band differences of residuals in ±MAX_SYMBOL lie in ±2·MAX_SYMBOL
    family = constriction.stream.model.QuantizedLaplace(-2 * MAX_SYMBOL, 2 * MAX_SYMBOL)
    scales = np.tile((codes.astype(np.float64) + 1) / 20, n_frames)
    return family, np.zeros(scales.size), scales


def encode(waveform, sample_rate: int) -> bytes:
    """Compress speech to a ``LSC1`` byte stream (log-mel frames of the core and the high band, DPCM, range coding).

    Parameters
    ----------
    waveform : np.ndarray, float, (n_samples,)
        Mono speech in [−1, 1].
    sample_rate : int
        Hz. The core is coded from the waveform resampled to 8 kHz, the 4–8 kHz band from it at 16 kHz
        (input at 8 kHz or less has no high band: it is coded as silence, which costs little).

    Returns
    -------
    bytes
        Header (magic, version, number of frames, core and high bands, per-band Laplace scales, CRC-32)
        and payload. Bit rate = ``len(bytes) * 8 / duration``; see :func:`kbps`.

    Raises
    ------
    AudioError
        Bad waveform or sample rate (see :func:`check_waveform`).
    """
    import constriction
    import librosa

    y = check_waveform(waveform, sample_rate)
    y16 = np.asarray(waveform, np.float32)
    if sample_rate != WIDEBAND_RATE:
        y16 = librosa.resample(y16, orig_sr=sample_rate, target_sr=WIDEBAND_RATE)
    n_frames = len(y) // HOP
    residuals = quantize(np.concatenate([log_mel(y), high_band_mel(y16, n_frames)], axis=1))
    symbols = np.diff(residuals, axis=1, prepend=0)  # difference to the band below
    codes = _scale_codes(symbols)
    family, means, scales = _laplace(codes, len(symbols))
    encoder = constriction.stream.queue.RangeEncoder()
    encoder.encode(symbols.ravel().astype(np.int32), family, means, scales)
    fields = struct.pack(">IBB", len(symbols), N_MELS, N_HIGH) + codes.tobytes()
    return pack_stream(MAGIC, VERSION, fields, encoder.get_compressed().astype("<u4").tobytes())


def decode_features(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Decode a ``LSC1`` stream to its log-mel frames.

    Returns
    -------
    core : np.ndarray, float32, (n_frames, N_MELS)
        Decoded energies of the 8 kHz core, dB: what the decoders (Griffin-Lim, WaveNet) read.
    high : np.ndarray, float32, (n_frames, N_HIGH)
        Decoded 4–8 kHz energies, dB: what :func:`widen` reads.

    Raises
    ------
    StreamError
        Bad magic or version, truncated or corrupt bytes, or a header this codec cannot read.
    """
    import constriction

    fields, payload = unpack_stream(data, MAGIC, VERSION, "speech codec")
    if len(fields) < 6:
        raise StreamError("speech codec header too short")
    n_frames, n_mels, n_high = struct.unpack(">IBB", fields[:6])
    if (n_mels, n_high) != (N_MELS, N_HIGH) or len(fields) != 6 + n_mels + n_high:
        raise StreamError(f"speech codec header describes {n_mels} + {n_high} bands; this decoder reads "
                          f"{N_MELS} + {N_HIGH}")
    if n_frames == 0 or n_frames > 100 * 3600 or len(payload) % 4:
        raise StreamError(f"speech codec stream with {n_frames} frames / {len(payload)} payload bytes is invalid")
    codes = np.frombuffer(fields[6:], np.uint8)
    family, means, scales = _laplace(codes, n_frames)
    decoder = constriction.stream.queue.RangeDecoder(np.frombuffer(payload, "<u4").astype(np.uint32))
    symbols = decoder.decode(family, means, scales).reshape(n_frames, N_MELS + N_HIGH)
    frames = dequantize(np.cumsum(symbols, axis=1))
    return frames[:, :N_MELS], frames[:, N_MELS:]


def kbps(data: bytes, n_samples: int, sample_rate: int = SAMPLE_RATE) -> float:
    """Bit rate of a stream for ``n_samples`` of audio at ``sample_rate``, in kbit/s (header included)."""
    return len(data) * 8 / (n_samples / sample_rate) / 1000


def griffin_lim(frames: np.ndarray, n_iter: int = 64, seed: int = 0) -> np.ndarray:
    """Waveform from log-mel frames by mel inversion + Griffin-Lim phase retrieval (librosa).

    Parameters
    ----------
    frames : np.ndarray, float32, (n_frames, N_MELS)
        dB, as from :func:`decode_features`.
    n_iter : int
        Griffin-Lim iterations.

    Returns
    -------
    np.ndarray, float32, (n_frames * HOP,)
        8 kHz.
    """
    import librosa

    magnitude = librosa.feature.inverse.mel_to_stft(_power(frames), sr=SAMPLE_RATE, n_fft=N_FFT, power=2.0, fmin=0.0,
                                                    fmax=SAMPLE_RATE / 2)
    magnitude = np.concatenate([magnitude, magnitude[:, -1:]], axis=1)  # n + 1 centred frames span n hops
    y = librosa.griffinlim(magnitude, n_iter=n_iter, hop_length=HOP, n_fft=N_FFT, length=len(frames) * HOP,
                           random_state=seed)
    return y.astype(np.float32)


def mu_law_encode(waveform, sample_rate: int) -> bytes:
    """The baseline: 8-bit μ-law samples at 8 kHz (ITU-T G.711's companding law, μ = 255), i.e. 64 kbps.

    Returns
    -------
    bytes
        One byte per sample (no header).
    """
    import librosa

    y = check_waveform(waveform, sample_rate)
    q = librosa.mu_compress(np.clip(y, -1, 1), mu=255, quantize=True)
    return (q + 128).astype(np.uint8).tobytes()


def mu_law_decode(data: bytes) -> np.ndarray:
    """Invert :func:`mu_law_encode`: float32 waveform at 8 kHz."""
    import librosa

    q = np.frombuffer(bytes(data), np.uint8).astype(np.int32) - 128
    return librosa.mu_expand(q, mu=255, quantize=True).astype(np.float32)


def mu_classes(y: np.ndarray) -> np.ndarray:
    """Waveform → 8-bit μ-law class indices 0–255 (int32), the WaveNet's targets."""
    import librosa

    return (librosa.mu_compress(np.clip(y, -1, 1), mu=255, quantize=True) + 128).astype(np.int32)


def mu_values(classes: np.ndarray) -> np.ndarray:
    """μ-law class indices 0–255 → amplitudes in [−1, 1] (float32)."""
    import librosa

    return librosa.mu_expand(np.asarray(classes, np.int32) - 128, mu=255, quantize=True).astype(np.float32)


def conditioning(frames: np.ndarray) -> np.ndarray:
    """Scale decoded log-mel dB to roughly [−1, 1] for the WaveNet: ``(dB + 35) / 35``."""
    return ((np.asarray(frames, np.float32) + 35.0) / 35.0).astype(np.float32)


# ----------------------------------------------------------------------------- WaveNet


def receptive_field(dilations=WAVENET["dilations"]) -> int:
    """Receptive field of the WaveNet in samples: ``2 + Σ dilations`` (input conv of width 2, then kernel-2 layers)."""
    return 2 + int(sum(dilations))


def build_wavenet(residual: int = WAVENET["residual"], skip: int = WAVENET["skip"], cond: int = WAVENET["cond"],
                  dilations=WAVENET["dilations"], n_mels: int = N_MELS):
    """The WaveNet decoder (Keras functional model, parallel / teacher-forced form).

    Parameters
    ----------
    residual, skip, cond : int
        Channels of the residual stream, the skip sum and the conditioning features.
    dilations : sequence of int
        One gated layer per dilation (kernel 2, causal).
    n_mels : int

    Returns
    -------
    keras.Model
        Inputs ``previous`` (batch, T, 1): the μ-law-decoded previous sample (the target shifted right by one)
        and ``mel`` (batch, T / HOP, n_mels): :func:`conditioning` of the frames. Output: logits
        (batch, T, 256) over the μ-law classes of each sample.
    """
    import keras
    from keras import layers, ops

    previous = keras.Input((None, 1), name="previous")
    mel = keras.Input((None, n_mels), name="mel")
    c = layers.Conv1D(cond, 3, padding="same", activation="tanh", name="cond_conv")(mel)
    c = layers.UpSampling1D(HOP, name="cond_upsample")(c)
    h = layers.Conv1D(residual, 2, padding="causal", name="input_conv")(previous)
    skips = []
    for i, d in enumerate(dilations):
        z = layers.Add(name=f"gate_in_{i}")([
            layers.Conv1D(2 * residual, 2, dilation_rate=d, padding="causal", name=f"dilated_{i}")(h),
            layers.Conv1D(2 * residual, 1, name=f"cond_{i}")(c)])
        g = layers.Lambda(lambda z: ops.tanh(z[..., :residual]) * ops.sigmoid(z[..., residual:]),
                          output_shape=lambda s: s[:-1] + (residual,), name=f"gate_{i}")(z)
        skips.append(layers.Conv1D(skip, 1, name=f"skip_{i}")(g))
        if i < len(dilations) - 1:  # the last layer's residual output would feed nothing
            h = layers.Add(name=f"residual_{i}")([h, layers.Conv1D(residual, 1, name=f"res_{i}")(g)])
    out = layers.Activation("relu")(layers.Add(name="skip_sum")(skips))
    out = layers.Conv1D(skip, 1, activation="relu", name="post")(out)
    logits = layers.Conv1D(256, 1, name="logits")(out)
    return keras.Model([previous, mel], logits, name="wavenet")


def training_set(arctic, ids=None) -> tuple[list, list]:
    """8 kHz waveforms and their *decoded* log-mel frames, as the WaveNet is trained on them.

    Parameters
    ----------
    arctic : course_utils.data.ArcticSpeech
        One speaker (the first of ``arctic.waveforms``).
    ids : sequence of str, optional
        Utterances to keep (default: the training ids of :func:`split_ids`).

    Returns
    -------
    waveforms : list of np.ndarray, float32, 8 kHz
    frames : list of np.ndarray, float32, (n_frames, N_MELS)
        ``decode_features(encode(y))[0]`` — what the decoder sees at test time.
    """
    keep = set(split_ids(arctic.ids)[0] if ids is None else ids)
    speaker = next(iter(arctic.waveforms))
    waves = [check_waveform(y, arctic.sample_rate) for i, y in zip(arctic.ids, arctic.waveforms[speaker])
             if i in keep]
    return waves, [decode_features(encode(y, SAMPLE_RATE))[0] for y in waves]


def wavenet_batches(waveforms, frames, segment_frames: int, batch_size: int, rng: np.random.Generator):
    """One random training batch: aligned segments of audio and decoded log-mel frames.

    Parameters
    ----------
    waveforms : list of np.ndarray, float32, 8 kHz, length a multiple of HOP
    frames : list of np.ndarray, float32, (len / HOP, N_MELS)
        The *decoded* (quantised) frames of each waveform — what the decoder will see.
    segment_frames : int
        Segment length in frames (× HOP samples).
    batch_size : int
    rng : np.random.Generator

    Returns
    -------
    (previous, mel), targets
        previous (B, T, 1) float32, mel (B, segment_frames, N_MELS) float32, targets (B, T) int32 μ-law classes.
    """
    T = segment_frames * HOP
    previous = np.zeros((batch_size, T, 1), np.float32)
    mel = np.zeros((batch_size, segment_frames, N_MELS), np.float32)
    targets = np.zeros((batch_size, T), np.int32)
    for b in range(batch_size):
        i = rng.integers(len(waveforms))
        start = rng.integers(0, max(1, len(frames[i]) - segment_frames + 1))
        seg = frames[i][start:start + segment_frames]
        mel[b, :len(seg)] = conditioning(seg)
        classes = mu_classes(waveforms[i][start * HOP:start * HOP + T])
        targets[b, :len(classes)] = classes
        values = mu_values(classes)
        previous[b, 1:len(values), 0] = values[:-1]
        if start > 0:
            previous[b, 0, 0] = mu_values(mu_classes(waveforms[i][start * HOP - 1:start * HOP]))[0]
    return (previous, mel), targets


def train_wavenet(waveforms, frames, steps: int = 2000, batch_size: int = 4, segment_frames: int = 30,
                  learning_rate: float = 1e-3, model=None, seed: int = 0, log_every: int = 0,
                  max_seconds: float | None = None):
    """Train the WaveNet decoder by teacher forcing (cross-entropy over μ-law classes, Adam).

    Parameters
    ----------
    waveforms : list of np.ndarray, float32
        8 kHz training speech (lengths multiples of HOP, e.g. from :func:`check_waveform`).
    frames : list of np.ndarray
        Decoded log-mel frames of each, ``decode_features(encode(y, 8000))[0]``.
    steps, batch_size, segment_frames : int
    learning_rate : float
    model : keras.Model, optional
        Continue training this model.
    seed : int
    log_every : int
        Print every this many steps (0: silent).
    max_seconds : float, optional
        Stop after this much wall time.

    Returns
    -------
    model : keras.Model
    history : dict
        ``step``, ``loss`` (nats per sample, averaged between logs), ``seconds`` and ``decayed`` (the step where
        the learning rate dropped to a third: at 70 % of the steps or of ``max_seconds``).
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = model if model is not None else build_wavenet()
    optimizer = keras.optimizers.Adam(learning_rate, clipnorm=1.0)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    weights = model.trainable_variables

    @tf.function
    def step(previous, mel, targets):
        with tf.GradientTape() as tape:
            loss = loss_fn(targets, model([previous, mel], training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return loss

    history = {"step": [], "loss": []}
    every = max(1, min(steps // 50, 50))
    acc, start = [], time.perf_counter()
    for i in range(1, steps + 1):
        late = i == int(0.7 * steps) or (max_seconds and time.perf_counter() - start > 0.7 * max_seconds)
        if late and "decayed" not in history:
            optimizer.learning_rate.assign(learning_rate / 3)  # a last, quieter phase
            history["decayed"] = i
        (previous, mel), targets = wavenet_batches(waveforms, frames, segment_frames, batch_size, rng)
        acc.append(float(step(tf.constant(previous), tf.constant(mel), tf.constant(targets))))
        if i % every == 0 or i == steps:
            history["step"].append(i)
            history["loss"].append(float(np.mean(acc)))
            acc = []
            if log_every and (i % log_every == 0 or i == steps):
                print(f"  step {i:>5}/{steps}: loss {history['loss'][-1]:.3f} nats/sample "
                      f"({time.perf_counter() - start:.0f} s)", flush=True)
        if max_seconds is not None and time.perf_counter() - start > max_seconds:
            break
    history["seconds"] = time.perf_counter() - start
    return model, history


def load_wavenet():
    """The shipped WaveNet (``course_utils/weights/wavenet.npz``, float16 weights).

    Raises
    ------
    FileNotFoundError
        Weights missing — train them with ``python benchmarks/train_compression.py wavenet``.
    """
    if not WAVENET_WEIGHTS.is_file():
        raise FileNotFoundError(f"{WAVENET_WEIGHTS}: missing — run `python benchmarks/train_compression.py wavenet`")
    model = build_wavenet()
    load_weights_f16(model, WAVENET_WEIGHTS)
    return model


class IncrementalWaveNet:
    """Fast autoregressive generation with the weights of :func:`build_wavenet` (Paine et al. 2016).

    Each layer keeps a queue (a ring buffer) of its last ``dilation`` inputs, so generating one sample
    costs one matrix product per layer instead of recomputing the receptive field. Plain NumPy, batched
    over utterances.

    Parameters
    ----------
    model : keras.Model
        A model from :func:`build_wavenet` (trained).
    """

    def __init__(self, model):
        get = lambda name: [np.asarray(w, np.float64) for w in model.get_layer(name).get_weights()]
        self.model = model
        self.dilations = [model.get_layer(f"dilated_{i}").dilation_rate[0] for i in range(self._n_layers(model))]
        self.input_w, self.input_b = get("input_conv")        # (2, 1, R), (R,)
        self.layers = []
        for i, d in enumerate(self.dilations):
            w, b = get(f"dilated_{i}")                          # (2, R, 2R)
            sw, sb = get(f"skip_{i}")
            r = w.shape[-1] // 2
            rw, rb = get(f"res_{i}") if i < len(self.dilations) - 1 else (np.zeros((1, r, r)), np.zeros(r))
            self.layers.append(dict(d=d, w_past=w[0], w_now=w[1], b=b, out_w=np.concatenate([rw[0], sw[0]], 1),
                                    out_b=np.concatenate([rb, sb]), residual=rw.shape[-1]))
        self.post_w, self.post_b = get("post")
        self.logit_w, self.logit_b = get("logits")

    @staticmethod
    def _n_layers(model) -> int:
        return sum(1 for layer in model.layers if layer.name.startswith("dilated_"))

    def layer_conditioning(self, mel: np.ndarray) -> np.ndarray:
        """Per-layer conditioning inputs at frame rate, (n_layers, batch, n_frames, 2R), from (batch, n_frames, N_MELS)."""
        from keras import ops

        conv = self.model.get_layer("cond_conv")
        c = np.asarray(ops.convert_to_numpy(conv(np.asarray(mel, np.float32))), np.float64)
        out = []
        for i in range(len(self.layers)):
            w, b = [np.asarray(v, np.float64) for v in self.model.get_layer(f"cond_{i}").get_weights()]
            out.append(c @ w[0] + b)
        return np.stack(out)

    def generate(self, mel: np.ndarray, n_samples: int | None = None, temperature: float = 1.0, seed: int = 0,
                 teacher: np.ndarray | None = None):
        """Generate μ-law samples autoregressively.

        Parameters
        ----------
        mel : np.ndarray, float32, (batch, n_frames, N_MELS)
            :func:`conditioning` of decoded frames (pad shorter utterances; cut their output afterwards).
        n_samples : int, optional
            Samples to generate (default ``n_frames * HOP``).
        temperature : float
            Softmax temperature of the sampling (1 = the model's distribution).
        seed : int
        teacher : np.ndarray, int, (batch, n_samples), optional
            Teacher forcing: feed these μ-law classes instead of the sampled ones (used to check that the
            incremental pass equals the parallel one).

        Returns
        -------
        waveform : np.ndarray, float32, (batch, n_samples)
            8 kHz.
        logits : np.ndarray or None
            (batch, n_samples, 256) float32 when ``teacher`` is given, else None.
        """
        rng = np.random.default_rng(seed)
        mel = np.asarray(mel, np.float32)
        batch = mel.shape[0]
        n_samples = n_samples or mel.shape[1] * HOP
        cond = self.layer_conditioning(mel)
        queues = [np.zeros((L["d"], batch, L["residual"])) for L in self.layers]
        x_prev, x_now = np.zeros((batch, 1)), np.zeros((batch, 1))
        out = np.zeros((batch, n_samples), np.float32)
        all_logits = np.zeros((batch, n_samples, 256), np.float32) if teacher is not None else None
        values = mu_values(np.arange(256))
        for t in range(n_samples):
            h = x_prev @ self.input_w[0] + x_now @ self.input_w[1] + self.input_b
            skip = 0.0
            frame = t // HOP
            for i, L in enumerate(self.layers):
                q = queues[i]
                slot = t % L["d"]
                z = q[slot] @ L["w_past"] + h @ L["w_now"] + L["b"] + cond[i, :, frame]
                q[slot] = h
                r = L["residual"]
                g = np.tanh(z[:, :r]) / (1 + np.exp(-z[:, r:]))
                o = g @ L["out_w"] + L["out_b"]
                h = h + o[:, :r]
                skip = skip + o[:, r:]
            a = np.maximum(np.maximum(skip, 0) @ self.post_w[0] + self.post_b, 0)
            logits = a @ self.logit_w[0] + self.logit_b
            if teacher is not None:
                all_logits[:, t] = logits
                cls = np.asarray(teacher)[:, t]
            else:
                p = np.exp((logits - logits.max(1, keepdims=True)) / temperature)
                cdf = np.cumsum(p, 1)
                cls = (cdf < rng.random((batch, 1)) * cdf[:, -1:]).sum(1)
            out[:, t] = values[cls]
            x_prev, x_now = x_now, values[cls][:, None].astype(np.float64)
        return out, all_logits


def wavenet_decode(streams, model=None, temperature: float = 1.0, seed: int = 0) -> tuple[list, float]:
    """Decode the 8 kHz core of ``LSC1`` streams with the WaveNet (batched incremental generation).

    :func:`widen` adds the high band; :func:`decode` does both for one stream.

    Parameters
    ----------
    streams : bytes or list of bytes
    model : keras.Model, optional
        Defaults to the shipped WaveNet.
    temperature : float
    seed : int

    Returns
    -------
    waveforms : list of np.ndarray, float32, (n_frames * HOP,)
        The cores, 8 kHz.
    real_time_factor : float
        Generation wall time / duration of the generated audio (< 1 is faster than real time).
    """
    if isinstance(streams, (bytes, bytearray)):
        streams = [streams]
    frames = [decode_features(s)[0] for s in streams]
    gen = IncrementalWaveNet(model if model is not None else load_wavenet())
    longest = max(len(f) for f in frames)
    mel = np.full((len(frames), longest, N_MELS), conditioning(np.full(1, FLOOR_DB))[0], np.float32)
    for i, f in enumerate(frames):
        mel[i, :len(f)] = conditioning(f)
    start = time.perf_counter()
    audio, _ = gen.generate(mel, temperature=temperature, seed=seed)
    seconds = time.perf_counter() - start
    out = [audio[i, :len(f) * HOP] for i, f in enumerate(frames)]
    return out, seconds / (sum(len(y) for y in out) / SAMPLE_RATE)


def decode(data: bytes, method: str = "griffin_lim", model=None, seed: int = 0) -> np.ndarray:
    """Decompress one ``LSC1`` stream to wideband (16 kHz) speech.

    The chosen decoder makes the 8 kHz core from the core's log-mel frames (the WaveNet's output then
    goes through :func:`postfilter`); :func:`widen` adds the 4–8 kHz band.

    Parameters
    ----------
    data : bytes
    method : {"griffin_lim", "wavenet"}
        The core's decoder.
    model : keras.Model, optional
        The WaveNet (default: shipped weights).
    seed : int
        Seeds Griffin-Lim's initial phase or the WaveNet's sampling, and the high band's noise.

    Returns
    -------
    np.ndarray, float32, (n_frames * HIGH_HOP,)
        At :data:`WIDEBAND_RATE` (16 kHz).

    Raises
    ------
    StreamError
        Corrupt or foreign stream.
    ValueError
        Unknown ``method``.
    """
    if method not in ("griffin_lim", "wavenet"):
        raise ValueError(f"unknown decoder {method!r}; use 'griffin_lim' or 'wavenet'")
    core_frames, high_frames = decode_features(data)
    if method == "griffin_lim":
        core = griffin_lim(core_frames, seed=seed)
    else:
        core = postfilter(wavenet_decode([data], model=model, seed=seed)[0][0], core_frames)
    return widen(core, high_frames, seed=seed)
