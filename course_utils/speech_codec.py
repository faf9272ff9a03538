"""A speech codec at a few kbps: entropy-coded log-mel frames, decoded by a WaveNet or by Griffin-Lim.

**Encoder.** Speech at 8 kHz is described by ``N_MELS`` log-mel energies (dB) every 10 ms
(``HOP`` = 80 samples, ``N_FFT`` = 256). Each band is quantised with a uniform step of ``STEP_DB``
by closed-loop DPCM along time (the quantiser codes the difference to the previous *decoded*
frame, so errors do not accumulate), and the integer residuals are range-coded with constriction
under a quantised Laplace model whose per-band scale is sent in the header. The stream's bit rate is
counted from its bytes, header included.

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
MAGIC, VERSION = b"LSC1", 1
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


def quantize(frames: np.ndarray) -> np.ndarray:
    """Closed-loop DPCM along time: integer residuals, (n_frames, N_MELS) int32, clipped to ±MAX_SYMBOL."""
    symbols = np.empty(frames.shape, np.int32)
    previous = np.full(frames.shape[1], FLOOR_DB)
    for t, frame in enumerate(frames):
        q = np.clip(np.round((frame - previous) / STEP_DB), -MAX_SYMBOL, MAX_SYMBOL).astype(np.int32)
        symbols[t] = q
        previous = previous + q * STEP_DB
    return symbols


def dequantize(symbols: np.ndarray) -> np.ndarray:
    """Invert :func:`quantize`: decoded log-mel energies (n_frames, N_MELS), float32 dB."""
    return (FLOOR_DB + np.cumsum(symbols * STEP_DB, axis=0)).astype(np.float32)


def _scale_codes(symbols: np.ndarray) -> np.ndarray:
    b = np.mean(np.abs(symbols), axis=0)  # maximum-likelihood Laplace scale per band
    return np.clip(np.round(b * 20) - 1, 0, 255).astype(np.uint8)


def _laplace(codes: np.ndarray, n_frames: int):
    import constriction

    family = constriction.stream.model.QuantizedLaplace(-MAX_SYMBOL, MAX_SYMBOL)
    scales = np.tile((codes.astype(np.float64) + 1) / 20, n_frames)
    return family, np.zeros(scales.size), scales


def encode(waveform, sample_rate: int) -> bytes:
    """Compress speech to a ``LSC1`` byte stream (log-mel frames, DPCM, range coding).

    Parameters
    ----------
    waveform : np.ndarray, float, (n_samples,)
        Mono speech in [−1, 1].
    sample_rate : int
        Hz; resampled to 8 kHz.

    Returns
    -------
    bytes
        Header (magic, version, number of frames, bands, per-band Laplace scales, CRC-32) and payload.
        Bit rate = ``len(bytes) * 8 / duration``; see :func:`kbps`.

    Raises
    ------
    AudioError
        Bad waveform or sample rate (see :func:`check_waveform`).
    """
    import constriction

    y = check_waveform(waveform, sample_rate)
    symbols = quantize(log_mel(y))
    codes = _scale_codes(symbols)
    family, means, scales = _laplace(codes, len(symbols))
    encoder = constriction.stream.queue.RangeEncoder()
    encoder.encode(symbols.ravel().astype(np.int32), family, means, scales)
    fields = struct.pack(">IB", len(symbols), N_MELS) + codes.tobytes()
    return pack_stream(MAGIC, VERSION, fields, encoder.get_compressed().astype("<u4").tobytes())


def decode_features(data: bytes) -> np.ndarray:
    """Decode a ``LSC1`` stream to its log-mel frames.

    Returns
    -------
    np.ndarray, float32, (n_frames, N_MELS)
        Decoded energies in dB.

    Raises
    ------
    StreamError
        Bad magic or version, truncated or corrupt bytes, or a header this codec cannot read.
    """
    import constriction

    fields, payload = unpack_stream(data, MAGIC, VERSION, "speech codec")
    if len(fields) < 5:
        raise StreamError("speech codec header too short")
    n_frames, n_mels = struct.unpack(">IB", fields[:5])
    if n_mels != N_MELS or len(fields) != 5 + n_mels:
        raise StreamError(f"speech codec header describes {n_mels} bands; this decoder reads {N_MELS}")
    if n_frames == 0 or n_frames > 100 * 3600 or len(payload) % 4:
        raise StreamError(f"speech codec stream with {n_frames} frames / {len(payload)} payload bytes is invalid")
    codes = np.frombuffer(fields[5:], np.uint8)
    family, means, scales = _laplace(codes, n_frames)
    decoder = constriction.stream.queue.RangeDecoder(np.frombuffer(payload, "<u4").astype(np.uint32))
    symbols = decoder.decode(family, means, scales).reshape(n_frames, N_MELS)
    return dequantize(symbols)


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

    power = 10 ** (np.asarray(frames, np.float64).T / 10)
    power[frames.T <= FLOOR_DB] = 0.0
    magnitude = librosa.feature.inverse.mel_to_stft(power, sr=SAMPLE_RATE, n_fft=N_FFT, power=2.0, fmin=0.0,
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
        ``decode_features(encode(y))`` — what the decoder sees at test time.
    """
    keep = set(split_ids(arctic.ids)[0] if ids is None else ids)
    speaker = next(iter(arctic.waveforms))
    waves = [check_waveform(y, arctic.sample_rate) for i, y in zip(arctic.ids, arctic.waveforms[speaker])
             if i in keep]
    return waves, [decode_features(encode(y, SAMPLE_RATE)) for y in waves]


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
        Decoded log-mel frames of each, ``decode_features(encode(y, 8000))``.
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
    """Decode ``LSC1`` streams with the WaveNet (batched incremental generation).

    Parameters
    ----------
    streams : bytes or list of bytes
    model : keras.Model, optional
        Defaults to the shipped WaveNet.
    temperature : float
    seed : int

    Returns
    -------
    waveforms : list of np.ndarray, float32, 8 kHz
    real_time_factor : float
        Generation wall time / duration of the generated audio (< 1 is faster than real time).
    """
    if isinstance(streams, (bytes, bytearray)):
        streams = [streams]
    frames = [decode_features(s) for s in streams]
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
    """Decompress one ``LSC1`` stream to an 8 kHz waveform.

    Parameters
    ----------
    data : bytes
    method : {"griffin_lim", "wavenet"}
    model : keras.Model, optional
        The WaveNet (default: shipped weights).
    seed : int

    Returns
    -------
    np.ndarray, float32, (n_frames * HOP,)

    Raises
    ------
    StreamError
        Corrupt or foreign stream.
    ValueError
        Unknown ``method``.
    """
    if method == "griffin_lim":
        return griffin_lim(decode_features(data), seed=seed)
    if method == "wavenet":
        return wavenet_decode([data], model=model, seed=seed)[0][0]
    raise ValueError(f"unknown decoder {method!r}; use 'griffin_lim' or 'wavenet'")
