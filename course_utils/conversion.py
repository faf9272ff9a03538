"""Notebook 03 — conversion: voice conversion on parallel speech, face identity swap.

Voice conversion (bdl → slt, CMU ARCTIC) follows the classic parallel pipeline of
Toda, Black & Tokuda (2007) with the neural mapping of Desai et al. (2010) / Chen et al. (2014):

1. WORLD analysis of every utterance (:func:`course_utils.speech_eval.world_features`):
   F0, a 24th-order mel-cepstrum (α = 0.42 at 16 kHz), band aperiodicity.
2. DTW pairs each source frame with target frames (:func:`align_pair`).
3. A DNN maps source mel-cepstra (with Δ, ΔΔ and ±2 frames of context) to the target's
   (with Δ, ΔΔ) — :func:`build_vc_dnn`, :func:`train_voice_converter` — and a postfilter
   sharpens the over-smoothed result (:func:`postfilter_mcep`).
4. F0 is converted by matching the mean and variance of log F0 (:func:`convert_f0`);
   the source's aperiodicity and energy (c0) are kept.
5. WORLD synthesis (:func:`course_utils.speech_eval.world_synthesize`).

Face conversion is the swap autoencoder of the 2017 "deepfakes" code, as described by
Perov et al. (2020, DeepFaceLab): one shared encoder, one decoder per identity, trained to
rebuild each person's faces from randomly warped copies; a swap encodes a face of A and
decodes it with B's decoder (:class:`SwapAutoencoder`, :func:`swap_face`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .speech_eval import WorldFeatures, dtw_path, world_features

#: Sample rate of the voice converter, Hz (CMU ARCTIC's).
VC_SAMPLE_RATE = 16000
#: Mel-cepstrum order: c0 … c24.
MCEP_ORDER = 24
#: Frames of context on each side of the DNN's input frame.
CONTEXT = 2
#: Side of the face crops the swap autoencoder works on, pixels.
FACE_SIZE = 64


class ConversionError(ValueError):
    """Input a converter cannot take: wrong rate, silence, stereo, a non-face-sized image."""


# ============================================================================ voice conversion


def check_speech(waveform, sample_rate: int) -> np.ndarray:
    """Validate a speech waveform and bring it to :data:`VC_SAMPLE_RATE`.

    Parameters
    ----------
    waveform : np.ndarray, float, shape (n_samples,)
        Mono speech in [-1, 1].
    sample_rate : int
        Its rate in Hz; 8000–48000 Hz is resampled to 16000 Hz (soxr).

    Returns
    -------
    np.ndarray, float32, shape (n_samples_16k,)
        Leading and trailing silence (30 dB below the peak) removed.

    Raises
    ------
    ConversionError
        Stereo (2-D) input, a rate outside 8000–48000 Hz, fewer than 0.1 s of audio, or
        silence (peak below −60 dBFS).
    """
    import librosa

    y = np.asarray(waveform, dtype=np.float32)
    if y.ndim != 1:
        raise ConversionError(f"expected mono speech of shape (n_samples,), got shape {y.shape}; "
                              "mix it down first, e.g. y.mean(axis=0)")
    if not 8000 <= sample_rate <= 48000:
        raise ConversionError(f"sample rate {sample_rate} Hz is outside the supported 8000–48000 Hz")
    if len(y) < 0.1 * sample_rate:
        raise ConversionError(f"{len(y) / sample_rate:.3f} s of audio is too short to convert (need ≥ 0.1 s)")
    if not np.all(np.isfinite(y)) or np.max(np.abs(y)) < 1e-3:
        raise ConversionError("the waveform is silent (peak below -60 dBFS) or not finite")
    if sample_rate != VC_SAMPLE_RATE:
        y = librosa.resample(y, orig_sr=sample_rate, target_sr=VC_SAMPLE_RATE, res_type="soxr_hq")
    y, _ = librosa.effects.trim(y, top_db=30, frame_length=1024, hop_length=256)
    return y.astype(np.float32)


def analyse(waveform, sample_rate: int, aperiodicity: bool = True) -> WorldFeatures:
    """:func:`check_speech`, then WORLD analysis with a :data:`MCEP_ORDER` mel-cepstrum.

    ``aperiodicity=False`` skips D4C: enough for training the mapping and for measuring.
    """
    return world_features(check_speech(waveform, sample_rate), VC_SAMPLE_RATE, order=MCEP_ORDER,
                          aperiodicity=aperiodicity)


def analyse_many(waveforms, sample_rate: int, aperiodicity: bool = True, n_jobs: int = 2) -> list:
    """:func:`analyse` a list of utterances in ``n_jobs`` processes (joblib), with a progress bar."""
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    jobs = (delayed(analyse)(y, sample_rate, aperiodicity) for y in tqdm(waveforms, desc="WORLD analysis",
                                                                        leave=False))
    return Parallel(n_jobs=n_jobs)(jobs)


def with_deltas(x: np.ndarray) -> np.ndarray:
    """Append Δ and ΔΔ (librosa, 5-frame regression window) to frames.

    Parameters
    ----------
    x : np.ndarray, shape (n_frames, n_dims)

    Returns
    -------
    np.ndarray, float32, shape (n_frames, 3 · n_dims)
    """
    import librosa

    x = np.asarray(x, dtype=np.float32)
    d1 = librosa.feature.delta(x, width=5, order=1, axis=0, mode="nearest")
    d2 = librosa.feature.delta(x, width=5, order=2, axis=0, mode="nearest")
    return np.concatenate([x, d1, d2], axis=1).astype(np.float32)


def stack_context(x: np.ndarray, context: int = CONTEXT) -> np.ndarray:
    """Concatenate each frame with its ``context`` neighbours on each side (edges repeated).

    Returns
    -------
    np.ndarray, shape (n_frames, (2 · context + 1) · n_dims)
    """
    padded = np.pad(x, ((context, context), (0, 0)), mode="edge")
    return np.concatenate([padded[i:i + len(x)] for i in range(2 * context + 1)], axis=1)


def align_pair(source: WorldFeatures, target: WorldFeatures) -> tuple[np.ndarray, np.ndarray]:
    """DTW-align two utterances of the same sentence on mel-cepstra c1…c24.

    Returns
    -------
    source_frames, target_frames : np.ndarray, int, shape (path_length,)
        Paired frame indices (a frame may repeat).
    """
    return dtw_path(source.mcep[:, 1:], target.mcep[:, 1:])


def parallel_frames(sources, targets) -> tuple[np.ndarray, np.ndarray]:
    """Training pairs for the mapping: DTW-aligned frames of parallel utterances.

    Parameters
    ----------
    sources, targets : sequence of WorldFeatures
        The same sentences said by the source and the target speaker.

    Returns
    -------
    x : np.ndarray, float32, shape (n_pairs, (2·CONTEXT+1) · 3 · MCEP_ORDER)
        Source c1…c24 with Δ, ΔΔ and context.
    y : np.ndarray, float32, shape (n_pairs, 3 · MCEP_ORDER)
        Target c1…c24 with Δ, ΔΔ.
    """
    xs, ys = [], []
    for s, t in zip(sources, targets):
        i_s, i_t = align_pair(s, t)
        xs.append(stack_context(with_deltas(s.mcep[:, 1:]))[i_s])
        ys.append(with_deltas(t.mcep[:, 1:])[i_t])
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.float32)


@dataclass
class LogF0Stats:
    """Mean and standard deviation of log F0 (natural log of Hz) over voiced frames."""

    mean: float
    std: float

    @classmethod
    def of(cls, f0s) -> "LogF0Stats":
        """Statistics of a speaker from a list of F0 tracks (Hz, 0 = unvoiced)."""
        voiced = np.concatenate([np.log(f[f > 0]) for f in f0s])
        if voiced.size == 0:
            raise ConversionError("no voiced frame in the F0 tracks")
        return cls(float(voiced.mean()), float(voiced.std()))


def convert_f0(f0: np.ndarray, source: LogF0Stats, target: LogF0Stats) -> np.ndarray:
    """Log-Gaussian normalised F0 transformation (Liu et al. 2007).

    log F0' = (log F0 − μ_src) · σ_tgt / σ_src + μ_tgt on voiced frames; unvoiced frames stay 0.

    Parameters
    ----------
    f0 : np.ndarray, float, shape (n_frames,)
        Hz, 0 where unvoiced.

    Returns
    -------
    np.ndarray, float64, shape (n_frames,)
        Hz.
    """
    f0 = np.asarray(f0, dtype=np.float64)
    out = np.zeros_like(f0)
    voiced = f0 > 0
    out[voiced] = np.exp((np.log(f0[voiced]) - source.mean) * target.std / source.std + target.mean)
    return out


def build_vc_dnn(n_inputs: int, n_outputs: int, units: int = 256, layers: int = 3, dropout: float = 0.1):
    """The mapping network: a feed-forward DNN from source to target mel-cepstral frames.

    ``[Dense(units) → LayerNorm → GELU → Dropout] × layers → Dense(n_outputs)`` on
    standardised inputs and outputs (Desai et al. 2010, "Spectral mapping using artificial
    neural networks for voice conversion"; Chen et al. 2014).

    Parameters
    ----------
    n_inputs : int
        (2·CONTEXT+1) · 3 · MCEP_ORDER for the default features.
    n_outputs : int
        3 · MCEP_ORDER (statics, Δ, ΔΔ).

    Returns
    -------
    keras.Model
    """
    import keras

    inputs = keras.Input((n_inputs,), name="source_mcep")
    h = inputs
    for i in range(layers):
        h = keras.layers.Dense(units, name=f"dense_{i}")(h)
        h = keras.layers.LayerNormalization(name=f"norm_{i}")(h)
        h = keras.layers.Activation("gelu")(h)
        h = keras.layers.Dropout(dropout)(h)
    outputs = keras.layers.Dense(n_outputs, name="target_mcep")(h)
    return keras.Model(inputs, outputs, name="vc_dnn")


def postfilter_mcep(mcep: np.ndarray, beta: float = 0.2, sample_rate: int = VC_SAMPLE_RATE) -> np.ndarray:
    """Mel-cepstral postfilter: sharpen the formants that a regression model over-smooths.

    c2…cD are multiplied by (1 + β) and c0 is corrected so that each frame keeps its energy
    (``pysptk.mc2e``), as in the SPTK/Merlin postfilter (Yoshimura et al. 1999 / Wu et al. 2016).

    Parameters
    ----------
    mcep : np.ndarray, float, shape (n_frames, D + 1)
        Mel-cepstra including c0.
    beta : float
        Emphasis; 0 returns a copy unchanged.
    sample_rate : int
        Hz; sets the all-pass constant α of the mel-cepstrum (:func:`course_utils.speech_eval.mcep_alpha`).

    Returns
    -------
    np.ndarray, float64, shape (n_frames, D + 1)
    """
    import pysptk

    from .speech_eval import mcep_alpha

    mcep = np.ascontiguousarray(mcep, dtype=np.float64)
    out = mcep.copy()
    if beta == 0:
        return out
    out[:, 2:] *= 1.0 + beta
    alpha = mcep_alpha(sample_rate)
    before = pysptk.mc2e(mcep, alpha=alpha, irlen=512)
    after = pysptk.mc2e(np.ascontiguousarray(out), alpha=alpha, irlen=512)
    out[:, 0] += 0.5 * np.log(before / after)
    return out


@dataclass
class VoiceConverter:
    """A trained bdl → slt converter: the DNN, feature statistics and F0 statistics.

    Attributes
    ----------
    model : keras.Model
        :func:`build_vc_dnn`, on standardised features.
    x_mean, x_std, y_mean, y_std : np.ndarray, float32
        Standardisation of inputs and outputs.
    f0_source, f0_target : LogF0Stats
    postfilter : float
        β of :func:`postfilter_mcep` applied to the mapped mel-cepstrum (0 = none).
    """

    model: object
    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: np.ndarray
    y_std: np.ndarray
    f0_source: LogF0Stats
    f0_target: LogF0Stats
    postfilter: float = 0.2

    def map_mcep(self, mcep: np.ndarray) -> np.ndarray:
        """Convert a source mel-cepstrum (n_frames, 25): c1…c24 mapped, c0 kept, then postfiltered."""
        x = (stack_context(with_deltas(mcep[:, 1:])) - self.x_mean) / self.x_std
        y = np.asarray(self.model(x.astype(np.float32), training=False)) * self.y_std + self.y_mean
        mapped = np.concatenate([mcep[:, :1], y[:, :MCEP_ORDER]], axis=1).astype(np.float64)
        return postfilter_mcep(mapped, self.postfilter)

    def convert_features(self, features: WorldFeatures) -> WorldFeatures:
        """Converted WORLD parameters: mapped mel-cepstrum, converted F0, source aperiodicity."""
        return WorldFeatures(convert_f0(features.f0, self.f0_source, self.f0_target), self.map_mcep(features.mcep),
                             features.bap, features.sample_rate, features.fft_size)


def train_voice_converter(sources, targets, epochs: int = 15, batch_size: int = 256, units: int = 256,
                          learning_rate: float = 1e-3, seed: int = 0, verbose: int = 0):
    """Train the DNN mapping on DTW-aligned parallel frames (MSE on standardised features).

    Parameters
    ----------
    sources, targets : sequence of WorldFeatures
        Parallel training utterances of the source and target speakers.
    epochs, batch_size, learning_rate : training settings (Adam, cosine decay).
    units : int
        Width of the DNN's hidden layers.
    seed : int
        Seed of weight initialisation, dropout and shuffling.

    Returns
    -------
    converter : VoiceConverter
    history : keras.callbacks.History
        With a validation loss on 10 % of the frames.
    """
    import keras

    from .config import set_seed

    set_seed(seed)
    x, y = parallel_frames(sources, targets)
    x_mean, x_std = x.mean(0), x.std(0) + 1e-6
    y_mean, y_std = y.mean(0), y.std(0) + 1e-6
    model = build_vc_dnn(x.shape[1], y.shape[1], units=units)
    steps = epochs * int(np.ceil(0.9 * len(x) / batch_size))
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(learning_rate, steps)),
                  loss="mse")
    order = np.random.default_rng(seed).permutation(len(x))
    history = model.fit((x[order] - x_mean) / x_std, (y[order] - y_mean) / y_std, epochs=epochs,
                        batch_size=batch_size, validation_split=0.1, verbose=verbose)
    converter = VoiceConverter(model, x_mean, x_std, y_mean, y_std,
                               LogF0Stats.of([s.f0 for s in sources]), LogF0Stats.of([t.f0 for t in targets]))
    return converter, history


def conversion_scores(converter: VoiceConverter, sources, targets) -> dict:
    """MCD and F0 RMSE of converted and of unconverted speech against the real target, per utterance.

    The mel-cepstra are compared on speech frames (:func:`course_utils.speech_eval.voiced_frames`)
    after DTW alignment (:func:`course_utils.speech_eval.mcd_frames`); F0 along the DTW path of the
    full utterances, over frames voiced in both.

    Parameters
    ----------
    converter : VoiceConverter
    sources, targets : sequence of WorldFeatures
        Held-out parallel utterances.

    Returns
    -------
    dict of str -> list of float
        ``mcd_converted``, ``mcd_unconverted`` (dB), ``f0_rmse_converted``, ``f0_rmse_unconverted`` (Hz).
    """
    from .speech_eval import f0_rmse, mcd_frames, voiced_frames

    out = {"mcd_converted": [], "mcd_unconverted": [], "f0_rmse_converted": [], "f0_rmse_unconverted": []}
    for src, tgt in zip(sources, targets):
        conv = converter.convert_features(src)
        speech_src, speech_tgt = voiced_frames(src), voiced_frames(tgt)
        for kind, feats in (("converted", conv), ("unconverted", src)):
            out[f"mcd_{kind}"].append(mcd_frames(tgt.mcep[speech_tgt], feats.mcep[speech_src]))
            i_f, i_t = dtw_path(feats.mcep[:, 1:], tgt.mcep[:, 1:])
            out[f"f0_rmse_{kind}"].append(f0_rmse(feats.f0[i_f], tgt.f0[i_t]))
    return out


def convert_voice(waveform, sample_rate: int, converter: VoiceConverter) -> tuple[np.ndarray, int]:
    """Convert a source-speaker (bdl) utterance to the target voice (slt).

    Parameters
    ----------
    waveform : np.ndarray, float, shape (n_samples,)
        Mono speech in [-1, 1], any length from 0.1 s.
    sample_rate : int
        Hz, 8000–48000 (resampled to 16000).
    converter : VoiceConverter
        From :func:`train_voice_converter`.

    Returns
    -------
    waveform : np.ndarray, float32, shape (n_samples_out,)
    sample_rate : int
        16000 Hz.

    Raises
    ------
    ConversionError
        Stereo, silent or too short input, or an unsupported rate (see :func:`check_speech`).
    """
    from .speech_eval import world_synthesize

    return world_synthesize(converter.convert_features(analyse(waveform, sample_rate))), VC_SAMPLE_RATE


def speaker_features(waveform, sample_rate: int) -> np.ndarray:
    """Utterance-level speaker features: mean and standard deviation of 20 MFCCs over time.

    Returns
    -------
    np.ndarray, float32, shape (40,)
    """
    import librosa

    m = librosa.feature.mfcc(y=np.asarray(waveform, dtype=np.float32), sr=sample_rate, n_mfcc=20,
                             n_fft=512, hop_length=160)
    return np.concatenate([m.mean(axis=1), m.std(axis=1)]).astype(np.float32)


def train_speaker_classifier(waveforms, speakers, sample_rate: int):
    """A speaker classifier on real recordings: standardised MFCC statistics → logistic regression.

    Parameters
    ----------
    waveforms : sequence of np.ndarray
    speakers : sequence of str
        Speaker of each waveform (e.g. ``"bdl"``, ``"slt"``).

    Returns
    -------
    sklearn.pipeline.Pipeline
        ``predict`` takes :func:`speaker_features` rows and returns speaker names.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.stack([speaker_features(y, sample_rate) for y in waveforms])
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.1)).fit(x, list(speakers))


# ============================================================================ face swap


def face_warp(seed: int = 0):
    """The random warp applied to training inputs: small rotation, zoom, shift and shear.

    The decoder must rebuild the *unwarped* face, so it learns faces rather than copying pixels
    (the "random warp" of the swap autoencoder).

    Returns
    -------
    keras.Sequential
        Active only with ``training=True``; expects float images in [0, 1].
    """
    import keras

    return keras.Sequential([
        keras.layers.RandomRotation(0.03, fill_mode="reflect", seed=seed),
        keras.layers.RandomZoom((-0.08, 0.08), fill_mode="reflect", seed=seed + 1),
        keras.layers.RandomTranslation(0.05, 0.05, fill_mode="reflect", seed=seed + 2),
        keras.layers.RandomShear(0.05, 0.05, fill_mode="reflect", seed=seed + 3),
    ], name="random_warp")


def _conv(x, filters, name):
    import keras

    x = keras.layers.Conv2D(filters, 5, strides=2, padding="same", name=name)(x)
    return keras.layers.LeakyReLU(0.1)(x)


def _upscale(x, filters, name):
    import keras

    x = keras.layers.Conv2DTranspose(filters, 3, strides=2, padding="same", name=name)(x)
    return keras.layers.LeakyReLU(0.1)(x)


def build_face_encoder(size: int = FACE_SIZE, latent: int = 256, width: int = 24):
    """Shared encoder: 4 strided 5×5 convs, a dense bottleneck of ``latent`` units, back to a 4×4 map.

    Parameters
    ----------
    size : int
        Input side in pixels (a multiple of 16); input float32 in [0, 1], shape (size, size, 3).

    Returns
    -------
    keras.Model
        Output shape (size/8, size/8, 8·width) — the decoders' starting map.
    """
    import keras

    inputs = keras.Input((size, size, 3), name="face")
    x = inputs
    for i, f in enumerate([width, 2 * width, 4 * width, 8 * width]):
        x = _conv(x, f, f"enc_conv{i}")
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(latent, name="bottleneck")(x)
    s = size // 16
    x = keras.layers.Dense(s * s * 8 * width, name="expand")(x)
    x = keras.layers.Reshape((s, s, 8 * width))(x)
    x = _upscale(x, 4 * width, "enc_up")
    return keras.Model(inputs, x, name="encoder")


def build_face_decoder(size: int = FACE_SIZE, width: int = 24, name: str = "decoder"):
    """One identity's decoder: three 2× transposed-convolution (3×3) blocks and a sigmoid RGB output.

    Returns
    -------
    keras.Model
        (size/8, size/8, 4·width) → (size, size, 3), float in [0, 1].
    """
    import keras

    inputs = keras.Input((size // 8, size // 8, 4 * width))
    x = inputs
    for i, f in enumerate([4 * width, 2 * width, width]):
        x = _upscale(x, f, f"{name}_up{i}")
    outputs = keras.layers.Conv2D(3, 5, padding="same", activation="sigmoid", name=f"{name}_rgb")(x)
    return keras.Model(inputs, outputs, name=name)


def _swap_autoencoder_class():
    import keras
    import tensorflow as tf

    class SwapAutoencoder(keras.Model):
        """Shared encoder + one decoder per identity; trained on warped faces of both.

        ``model.decode(model.encoder(faces), "b")`` draws faces as identity B; calling the model
        returns both decoders' drawings. ``train_step`` takes a batch ``(faces_a, faces_b)`` of
        float32 images in [0, 1] and minimises the mean absolute error of both reconstructions
        from warped inputs.
        """

        def __init__(self, size: int = FACE_SIZE, latent: int = 256, width: int = 24, seed: int = 0, **kwargs):
            super().__init__(**kwargs)
            self.size, self.latent, self.width, self.seed = size, latent, width, seed
            self.encoder = build_face_encoder(size, latent, width)
            self.decoder_a = build_face_decoder(size, width, "decoder_a")
            self.decoder_b = build_face_decoder(size, width, "decoder_b")
            self.warp = face_warp(seed)
            self.loss_tracker = keras.metrics.Mean(name="loss")

        def decode(self, codes, identity: str):
            return (self.decoder_a if identity == "a" else self.decoder_b)(codes)

        def call(self, faces, training=False):
            codes = self.encoder(faces, training=training)
            return self.decoder_a(codes, training=training), self.decoder_b(codes, training=training)

        @property
        def metrics(self):
            return [self.loss_tracker]

        def train_step(self, data):
            faces_a, faces_b = data
            with tf.GradientTape() as tape:
                rec_a = self.decoder_a(self.encoder(self.warp(faces_a, training=True), training=True))
                rec_b = self.decoder_b(self.encoder(self.warp(faces_b, training=True), training=True))
                loss = tf.reduce_mean(tf.abs(rec_a - faces_a)) + tf.reduce_mean(tf.abs(rec_b - faces_b))
            variables = self.trainable_variables
            self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            self.loss_tracker.update_state(loss)
            return {"loss": self.loss_tracker.result()}

        def get_config(self):
            return {"size": self.size, "latent": self.latent, "width": self.width, "seed": self.seed}

    return SwapAutoencoder


def __getattr__(name):  # the Keras class is defined on first use, so importing this module stays light
    if name == "SwapAutoencoder":
        cls = _swap_autoencoder_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


def train_swap_autoencoder(faces_a: np.ndarray, faces_b: np.ndarray, steps: int = 2000, batch_size: int = 16,
                           learning_rate: float = 5e-4, latent: int = 256, width: int = 24, seed: int = 0,
                           verbose: int = 0):
    """Train the swap autoencoder on two people's aligned face crops.

    Parameters
    ----------
    faces_a, faces_b : np.ndarray, uint8, shape (n, size, size, 3)
        Training faces of identity A and identity B (the numbers may differ: each batch
        samples both with replacement).
    steps : int
        Optimiser steps (Adam, β1 = 0.5, cosine decay).
    batch_size : int
        Faces of *each* identity per step.

    Returns
    -------
    model : SwapAutoencoder
    history : keras.callbacks.History
    """
    import keras
    import tensorflow as tf

    from .config import set_seed

    set_seed(seed)
    size = faces_a.shape[1]

    def stream(faces, s):
        ds = tf.data.Dataset.from_tensor_slices(faces).shuffle(len(faces), seed=s).repeat()
        return ds.map(lambda x: tf.cast(x, tf.float32) / 255.0)

    data = tf.data.Dataset.zip((stream(faces_a, seed), stream(faces_b, seed + 1))).batch(batch_size)
    model = _swap_autoencoder_class()(size=size, latent=latent, width=width, seed=seed)
    model(np.zeros((1, size, size, 3), np.float32))  # build the weights
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(learning_rate, steps),
                                                  beta_1=0.5))
    epochs = max(1, steps // 250)
    history = model.fit(data.prefetch(2), epochs=epochs, steps_per_epoch=steps // epochs, verbose=verbose)
    return model, history


def face_batches(model, faces: np.ndarray, identity: str, batch_size: int = 64) -> np.ndarray:
    """Encode uint8 faces and decode them with one identity's decoder.

    Parameters
    ----------
    faces : np.ndarray, uint8, shape (n, size, size, 3)
    identity : {"a", "b"}
        ``"a"``'s decoder on faces of A is a reconstruction; on faces of B it is a swap.

    Returns
    -------
    np.ndarray, uint8, shape (n, size, size, 3)
    """
    if identity not in ("a", "b"):
        raise ValueError(f"identity must be 'a' or 'b', got {identity!r}")
    out = []
    for i in range(0, len(faces), batch_size):
        x = faces[i:i + batch_size].astype(np.float32) / 255.0
        out.append(np.asarray(model.decode(model.encoder(x, training=False), identity)))
    return np.clip(np.concatenate(out) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def face_crop(image, size: int = FACE_SIZE, crop: int = 128) -> np.ndarray:
    """Bring a face photo to the swap model's input: an LFW-style 250×250 frame or a square face crop.

    Parameters
    ----------
    image : PIL.Image.Image or np.ndarray
        Either a 250×250 deep-funneled LFW frame (its central ``crop``×``crop`` square is the
        face, as :func:`course_utils.data.load_lfw_people` cuts it) or an already aligned,
        square face crop of at least ``size`` pixels. Any mode (converted to RGB).

    Returns
    -------
    np.ndarray, uint8, shape (size, size, 3)

    Raises
    ------
    ConversionError
        A non-square image or one smaller than ``size`` pixels: it is not an aligned face.
    """
    from PIL import Image

    from .images import to_rgb

    img = Image.fromarray(np.asarray(image)) if not isinstance(image, Image.Image) else image
    if img.width != img.height or img.width < size:
        raise ConversionError(
            f"expected an aligned face: a square crop of at least {size}×{size} pixels or a 250×250 LFW frame, "
            f"got {img.width}×{img.height}")
    img = to_rgb(img)
    if img.size == (250, 250):
        left = (250 - crop) // 2
        img = img.crop((left, left, left + crop, left + crop))
    return np.asarray(img.resize((size, size), Image.Resampling.LANCZOS), dtype=np.uint8)


def swap_face(image, model, to: str = "b"):
    """Swap the identity of one face: encode it, decode with identity ``to``'s decoder.

    Parameters
    ----------
    image : PIL.Image.Image or np.ndarray
        See :func:`face_crop`.
    model : SwapAutoencoder
    to : {"a", "b"}
        Whose decoder draws the result (``"b"`` turns a face of A into B).

    Returns
    -------
    PIL.Image.Image
        RGB, ``model.size`` pixels square.

    Raises
    ------
    ConversionError
        The image is not a face-sized square (see :func:`face_crop`).
    """
    from PIL import Image

    face = face_crop(image, model.size)
    return Image.fromarray(face_batches(model, face[None], to)[0])


def psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """Peak signal-to-noise ratio of uint8 images in dB (scikit-image, data range 255), averaged over images."""
    from skimage.metrics import peak_signal_noise_ratio

    return float(np.mean([peak_signal_noise_ratio(r, t, data_range=255) for r, t in zip(reference, test)]))


# ============================================================================ exercise

from .exercises import exercise  # noqa: E402


@exercise("03_f0_conversion", "write convert_f0_exercise(f0, source, target) -> np.ndarray: f0 is an F0 track in Hz "
          "with 0 in unvoiced frames; source and target are (mean, std) of each speaker's log F0; map voiced "
          "frames by log-Gaussian normalisation and keep unvoiced frames at 0.")
def _check_f0_conversion(fn):
    rng = np.random.default_rng()
    for _ in range(20):
        n = int(rng.integers(5, 400))
        f0 = np.where(rng.random(n) < 0.3, 0.0, rng.uniform(70, 200, n))
        source = (float(rng.uniform(4.4, 5.0)), float(rng.uniform(0.1, 0.3)))
        target = (float(rng.uniform(5.0, 5.6)), float(rng.uniform(0.1, 0.3)))
        got = np.asarray(fn(f0.copy(), source, target), dtype=np.float64)
        assert got.shape == f0.shape, f"return one value per frame: shape {f0.shape}, got {got.shape}"
        want = convert_f0(f0, LogF0Stats(*source), LogF0Stats(*target))
        assert np.all(got[f0 == 0] == 0), "unvoiced frames (F0 = 0) must stay 0 — log(0) is not a pitch"
        assert np.allclose(got, want, rtol=1e-6), (
            "voiced frames are off. Hint: work on log F0: subtract the source mean, scale by target std / "
            "source std, add the target mean, then exp() back to Hz.")
