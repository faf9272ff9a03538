"""A speech codec at a few kbps: entropy-coded log-mel frames, decoded by a WaveNet or by Griffin-Lim.

**Encoder.** Speech at 8 kHz (the *core*, telephone band) is described by ``N_MELS`` log-mel energies (dB)
every 10 ms (``HOP`` = 80 samples, ``N_FFT`` = 256). The band the core cannot carry, 4–8 kHz, is described by
``N_HIGH`` log-mel energies of the 16 kHz input on the same 10 ms frames. Each band is quantised with a uniform
step of ``STEP_DB`` by closed-loop DPCM along time (the quantiser codes the difference to the previous *decoded*
frame, so errors do not accumulate). Neighbouring bands rise and fall together, so each residual is then
coded as its difference to the residual of the band below (lossless; it saves about 1 kbps), and these
integers are range-coded with constriction under a quantised Laplace model whose per-band scale is sent in
the header. The stream (framed by :mod:`course_utils.bitstream`, magic ``LSC1``) has its bit rate counted from
its bytes, header included.

**Decoders.**

* Griffin-Lim (Griffin & Lim 1984): :func:`griffin_lim_core` turns the decoded dB frames into mel powers and
  calls :func:`course_utils.audio.griffin_lim` (mel inversion by non-negative least squares, then
  librosa's fast Griffin-Lim with momentum, Perraudin et al. 2013).
* WaveNet (:mod:`course_utils.models.wavenet`; van den Oord et al. 2016), used as the decoder of a parametric
  codec as in Kleijn et al. 2018 ("WaveNet based low rate speech coding"), conditioned on the decoded log-mel
  frames (:func:`conditioning`) and generated incrementally (Paine et al. 2016) by :func:`wavenet_decode`.
  This module holds its training data (:func:`training_set`, :func:`wavenet_batches`), its training
  (:func:`train_wavenet`, :func:`train_shipped`) and the shipped weights (:func:`load_wavenet`).

**Post-filter.** :func:`postfilter` rescales the WaveNet's output, band by band, to the coded log-mel
energies: the decoder knows what the spectrum should be, and a sampled waveform drifts from it.

**Bandwidth extension.** Either decoder makes the 8 kHz core; :func:`widen` resamples it to 16 kHz and adds the
4–8 kHz band as white noise shaped, frame by frame, by the coded high-band energies. That is how wideband
speech codecs fill their top band for a small share of their bits (AMR-WB, ITU-T G.722.2, generates its
6.4–7 kHz band from shaped noise; Bessette et al. 2002). Speech recognisers need that band: fricatives
(/s/, /f/, /sh/) live there, and PocketSphinx's model was trained on 16 kHz speech.

The baselines are 8-bit μ-law at 8 kHz, 64 kbps (:func:`mu_law_encode`), and the classical low-rate codecs
Opus and Codec 2 (:mod:`course_utils.compression`). :func:`score_decoders` measures every version of the test
utterances the same way (its bit rate, a recogniser's CER, STOI, log-spectral distance).

The shipped WaveNet weights were trained by ``python scripts/train_compression.py wavenet``
(:func:`train_shipped`: 111 min on a 2-core CPU, about 19,000 steps of 4 × 0.3 s segments) on CMU ARCTIC
``slt`` minus the held-out utterances :func:`split_ids` returns.
"""
from __future__ import annotations

import struct
import time

import keras
import numpy as np
import tensorflow as tf

from . import audio, config, data, metrics, saving, training
from .bitstream import StreamError, pack_stream, unpack_stream
from .compression import TRAINING_MINUTES
from .models import wavenet

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
MIN_SECONDS = 0.02  # shortest input the encoder accepts: two frames
MAGIC, VERSION = b"LSC1", 2
WAVENET_WEIGHTS = saving.WEIGHTS_DIR / "wavenet.npz"
TEST_UTTERANCES = 10  # the last ids of the set are held out


def split_ids(ids, n_test: int = TEST_UTTERANCES) -> tuple[list, list]:
    """Held-out split by utterance id: the last ``n_test`` ids (sorted) are the test set, the rest train.

    Returns
    -------
    train_ids, test_ids : list of str
    """
    ids = sorted(ids)
    return ids[:-n_test], ids[-n_test:]


def core_input(waveform, sample_rate) -> np.ndarray:
    """The codec's 8 kHz input: :func:`course_utils.audio.check_waveform`, then cut to whole 10 ms frames.

    Parameters
    ----------
    waveform : array-like, float, (n_samples,)
        Mono speech, amplitudes in [−1, 1].
    sample_rate : int
        Hz.

    Returns
    -------
    np.ndarray, float32, (n,)
        At :data:`SAMPLE_RATE` (8 kHz, resampled with soxr_hq), ``n`` a multiple of :data:`HOP`.

    Raises
    ------
    AudioError
        Not 1-D, not float, empty or shorter than 20 ms, not finite, or a sample rate that is not a
        positive whole number.
    """
    y = audio.check_waveform(waveform, sample_rate, target_rate=SAMPLE_RATE, min_seconds=MIN_SECONDS)
    return y[: len(y) // HOP * HOP]


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
        and payload. Bit rate = ``len(bytes) * 8 / duration``; see :func:`course_utils.compression.kbps`.

    Raises
    ------
    AudioError
        Bad waveform or sample rate (see :func:`core_input`).
    """
    import constriction
    import librosa

    y = core_input(waveform, sample_rate)
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


def griffin_lim_core(frames: np.ndarray, n_iter: int = 64, seed: int = 0) -> np.ndarray:
    """The 8 kHz core from decoded log-mel frames by Griffin-Lim (:func:`course_utils.audio.griffin_lim`).

    Parameters
    ----------
    frames : np.ndarray, float32, (n_frames, N_MELS)
        dB, as from :func:`decode_features`.
    n_iter : int
        Griffin-Lim iterations.
    seed : int
        Seed of the initial phase.

    Returns
    -------
    np.ndarray, float32, (n_frames * HOP,)
        8 kHz.
    """
    power = _power(frames)
    power = np.concatenate([power, power[:, -1:]], axis=1)  # n + 1 centred frames span n hops
    return audio.griffin_lim(power, SAMPLE_RATE, N_FFT, HOP, fmin=0.0, fmax=SAMPLE_RATE / 2, power=2.0,
                             n_iter=n_iter, length=len(frames) * HOP, seed=seed)


def mu_law_encode(waveform, sample_rate: int) -> bytes:
    """The baseline: 8-bit μ-law samples at 8 kHz (ITU-T G.711's companding law, μ = 255), i.e. 64 kbps.

    The same companding as the WaveNet's classes (:func:`course_utils.models.wavenet.mu_classes`).

    Returns
    -------
    bytes
        One byte per sample (no header).

    Raises
    ------
    AudioError
        Bad waveform or sample rate (see :func:`core_input`).
    """
    return wavenet.mu_classes(core_input(waveform, sample_rate)).astype(np.uint8).tobytes()


def mu_law_decode(data: bytes) -> np.ndarray:
    """Invert :func:`mu_law_encode`: float32 waveform at 8 kHz."""
    return wavenet.mu_values(np.frombuffer(bytes(data), np.uint8))


def conditioning(frames: np.ndarray) -> np.ndarray:
    """Scale decoded log-mel dB to roughly [−1, 1] for the WaveNet: ``(dB + 35) / 35``."""
    return ((np.asarray(frames, np.float32) + 35.0) / 35.0).astype(np.float32)


# ----------------------------------------------------------------------------- the WaveNet decoder


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
    waves = [core_input(y, arctic.sample_rate) for i, y in zip(arctic.ids, arctic.waveforms[speaker])
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
        classes = wavenet.mu_classes(waveforms[i][start * HOP:start * HOP + T])
        targets[b, :len(classes)] = classes
        values = wavenet.mu_values(classes)
        previous[b, 1:len(values), 0] = values[:-1]
        if start > 0:
            previous[b, 0, 0] = wavenet.mu_values(wavenet.mu_classes(waveforms[i][start * HOP - 1:start * HOP]))[0]
    return (previous, mel), targets


def train_wavenet(waveforms, frames, steps: int = 2000, batch_size: int = 4, segment_frames: int = 30,
                  learning_rate: float = 1e-3, model=None, seed: int = 0, log_every: int = 0,
                  max_seconds: float | None = None):
    """Train the WaveNet decoder by teacher forcing (cross-entropy over μ-law classes, Adam).

    The loop is :func:`course_utils.training.train_steps`; the step is
    :func:`course_utils.models.wavenet.make_train_step`.

    Parameters
    ----------
    waveforms : list of np.ndarray, float32
        8 kHz training speech (lengths multiples of HOP, e.g. from :func:`core_input`).
    frames : list of np.ndarray
        Decoded log-mel frames of each, ``decode_features(encode(y, 8000))[0]``.
    steps, batch_size, segment_frames : int
    learning_rate : float
    model : keras.Model, optional
        Continue training this model (default: a fresh :func:`course_utils.models.wavenet.build_wavenet`).
    seed : int
    log_every : int
        Print every this many steps (0: silent).
    max_seconds : float, optional
        Stop after this much wall time.

    Returns
    -------
    model : keras.Model
    history : dict
        ``step``, ``loss`` (nats per sample, averaged between records), ``seconds`` and ``decayed`` (the step
        where the learning rate dropped to a third: at 70 % of the steps or of ``max_seconds``).
    """
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = model if model is not None else wavenet.build_wavenet(n_mels=N_MELS, hop=HOP)
    optimizer = keras.optimizers.Adam(learning_rate, clipnorm=1.0)
    step = wavenet.make_train_step(model, optimizer)

    def batch(i):
        (previous, mel), targets = wavenet_batches(waveforms, frames, segment_frames, batch_size, rng)
        return tf.constant(previous), tf.constant(mel), tf.constant(targets)

    history = training.train_steps(step, batch, steps, max_seconds=max_seconds,
                                   record_every=max(1, min(steps // 50, 50)), log_every=log_every,
                                   describe=lambda m: f"loss {m['loss']:.3f} nats/sample", optimizer=optimizer,
                                   learning_rate=learning_rate, decay_at=0.7, decay_by=1 / 3)
    return model, history


def train_shipped(scale: float = 1.0, log_every: int = 25):
    """The shipped WaveNet's training: what ``scripts/train_compression.py wavenet`` and notebook 02's ``RETRAIN`` run.

    CMU ARCTIC ``slt`` loaded at :data:`SAMPLE_RATE`, its training utterances (:func:`training_set`),
    seed 0, ``TRAINING_MINUTES["wavenet"] · scale`` minutes of :func:`train_wavenet`.

    Parameters
    ----------
    scale : float
        Multiplies the time budget (:data:`course_utils.compression.TRAINING_MINUTES`).
    log_every : int
        Print every this many steps.

    Returns
    -------
    keras.Model
        Save it with ``saving.save_weights(model, WAVENET_WEIGHTS)``.
    """
    config.set_seed(0)
    arctic = data.load_arctic(("slt",), sample_rate=SAMPLE_RATE)
    waves, frames = training_set(arctic)
    print(f"WaveNet: {len(waves)} utterances, {sum(map(len, waves)) / SAMPLE_RATE / 60:.1f} min of speech "
          f"({arctic.origin})", flush=True)
    model, _ = train_wavenet(waves, frames, steps=10 ** 6, seed=0, log_every=log_every,
                             max_seconds=TRAINING_MINUTES["wavenet"] * 60 * scale)
    return model


def load_wavenet() -> keras.Model:
    """The shipped WaveNet (:data:`WAVENET_WEIGHTS`, float16 weights; trained by :func:`train_shipped`).

    Raises
    ------
    FileNotFoundError
        Weights missing — train them with ``python scripts/train_compression.py wavenet``.
    """
    model = wavenet.build_wavenet(n_mels=N_MELS, hop=HOP)
    saving.load_weights(model, WAVENET_WEIGHTS)
    return model


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
    gen = wavenet.IncrementalWaveNet(model if model is not None else load_wavenet())
    longest = max(len(f) for f in frames)
    mel = np.full((len(frames), longest, N_MELS), conditioning(np.full(1, FLOOR_DB))[0], np.float32)
    for i, f in enumerate(frames):
        mel[i, :len(f)] = conditioning(f)
    start = time.perf_counter()
    cores, _ = gen.generate(mel, temperature=temperature, seed=seed)
    seconds = time.perf_counter() - start
    out = [cores[i, :len(f) * HOP] for i, f in enumerate(frames)]
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
        core = griffin_lim_core(core_frames, seed=seed)
    else:
        core = postfilter(wavenet_decode([data], model=model, seed=seed)[0][0], core_frames)
    return widen(core, high_frames, seed=seed)


def score_decoders(versions: dict, originals, texts) -> dict:
    """Score decoded versions of the same utterances the way notebook 02 does: a recogniser, STOI, LSD.

    For each version: the character error rate of PocketSphinx (:func:`course_utils.metrics.recognizer_cer`,
    pooled over the utterances and draws), STOI (:func:`course_utils.metrics.stoi`) against the 16 kHz
    recording (the version resampled to 16 kHz), and the log-spectral distance of the 0–4 kHz band
    (:func:`course_utils.metrics.log_spectral_distance`) against the codec's 8 kHz input (the version
    through :func:`core_input`). The course's codec, μ-law and the classical codecs
    (:func:`course_utils.compression.speech_baselines`) are all scored here, by the same code.

    Parameters
    ----------
    versions : dict
        ``{name: (waveforms, sample_rate)}`` or ``{name: (waveforms, sample_rate, kbps)}``; ``waveforms`` is a
        list of ``k · len(originals)`` float32 waveforms: ``k`` draws of every utterance, one draw after the other
        (``streams * k``); ``kbps`` is the bit rate (kbit/s) that version cost, measured from its bytes by whoever
        coded it.
    originals : list of np.ndarray, float32
        The recordings at :data:`WIDEBAND_RATE` (16 kHz).
    texts : list of str
        Their prompts.

    Returns
    -------
    dict
        ``{name: {"kbps", "cer", "hypothesis" (the first utterance as recognised), "stoi", "lsd" (dB)}}``, in the
        order of ``versions``; ``kbps`` is NaN for a version given without one (an uncoded recording).

    Raises
    ------
    AudioError
        A waveform that is not valid audio.
    ValueError
        A version whose number of waveforms is not a multiple of ``len(originals)``, or a tuple of another length.
    """
    reference = [core_input(y, WIDEBAND_RATE) for y in originals]  # the codec's 8 kHz input
    scores = {}
    for name, version in versions.items():
        if len(version) not in (2, 3):
            raise ValueError(f"version {name!r}: expected (waveforms, sample_rate[, kbps]), got {len(version)} items")
        waves, rate = version[:2]
        if not waves or len(waves) % len(originals):
            raise ValueError(f"version {name!r}: {len(waves)} waveforms for {len(originals)} utterances")
        draws = len(waves) // len(originals)
        cer, hyps = metrics.recognizer_cer(waves, list(texts) * draws, rate)
        wide = [audio.check_waveform(w, rate, target_rate=WIDEBAND_RATE) for w in waves]
        narrow = [core_input(w, rate) for w in waves]
        scores[name] = {
            "kbps": float(version[2]) if len(version) == 3 else float("nan"),
            "cer": cer, "hypothesis": hyps[0],
            "stoi": float(np.mean([metrics.stoi(r, w, WIDEBAND_RATE) for r, w in zip(list(originals) * draws, wide)])),
            "lsd": float(np.mean([metrics.log_spectral_distance(r, w, SAMPLE_RATE)
                                  for r, w in zip(reference * draws, narrow)]))}
    return scores
