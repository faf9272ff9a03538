"""Notebook 03, part 1 — voice conversion on parallel speech (CMU ARCTIC bdl → slt).

The classic parallel pipeline of Toda, Black & Tokuda (2007) with the neural mapping of
Desai et al. (2010) / Chen et al. (2014):

1. WORLD analysis of every utterance (:func:`course_utils.audio.world_features`):
   F0, a 24th-order mel-cepstrum (α = 0.42 at 16 kHz), band aperiodicity (:func:`analyse`).
2. DTW pairs each source frame with target frames (:func:`align_pair`).
3. A DNN maps source mel-cepstra (with Δ, ΔΔ and ±2 frames of context) to the target's
   (with Δ, ΔΔ) — :func:`course_utils.models.voice_conversion.build_vc_dnn`,
   :func:`train_voice_converter`; maximum-likelihood parameter generation turns its predicted statics and
   deltas into one smooth trajectory (:class:`VoiceConverter`, as the GMM below does), and a postfilter
   sharpens the over-smoothed result (:func:`postfilter_mcep`).
4. F0 is converted by matching the mean and variance of log F0 (:func:`convert_f0`);
   the source's aperiodicity and energy (c0) are kept.
5. WORLD synthesis (:func:`course_utils.audio.world_synthesize`).

The classical baseline is Toda et al.'s own converter: a joint-density GMM on the same aligned pairs
(static + Δ, no context), converted by maximum-likelihood parameter generation —
:class:`course_utils.models.gmm_converter.JointDensityGMM`, :func:`train_gmm_converter`. Both converters share
steps 1, 2, 4 and 5, MLPG and the postfilter (:class:`SpectralConverter`), so they differ only in the mapping.

:func:`evaluate_converter` scores any converter on held-out sentences: MCD and F0 RMSE
(:func:`conversion_scores`, from :mod:`course_utils.metrics`), PocketSphinx CER of the synthesised speech, and the
share that a speaker classifier on MFCC statistics (:func:`train_speaker_classifier`) judges to be the target.
Public function on raw input: :func:`convert_voice`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import audio, metrics
from .audio import WorldFeatures

#: Sample rate of the voice converter, Hz (CMU ARCTIC's).
VC_SAMPLE_RATE = 16000
#: Mel-cepstrum order: c0 … c24.
MCEP_ORDER = 24
#: Frames of context on each side of the DNN's input frame.
CONTEXT = 2


def check_speech(waveform, sample_rate: int) -> np.ndarray:
    """Validate a speech waveform (:func:`course_utils.audio.check_waveform`), bring it to 16 kHz, trim silence.

    Parameters
    ----------
    waveform : np.ndarray, float, shape (n_samples,)
        Mono speech in [-1, 1].
    sample_rate : int
        Its rate in Hz; 8000–48000 Hz is resampled to :data:`VC_SAMPLE_RATE` (soxr).

    Returns
    -------
    np.ndarray, float32, shape (n_samples_16k,)
        Leading and trailing silence (30 dB below the peak) removed.

    Raises
    ------
    course_utils.audio.AudioError
        Stereo (2-D) or integer input, a rate outside 8000–48000 Hz, fewer than 0.1 s of audio,
        non-finite samples or silence (peak below −60 dBFS).
    """
    y = audio.check_waveform(waveform, sample_rate, name="speech", target_rate=VC_SAMPLE_RATE, min_rate=8000,
                             max_rate=48000, min_seconds=0.1, silence_peak=1e-3)
    y = audio.trim_silence(y, top_db=30, frame_length=1024, hop_length=256)
    return y.astype(np.float32)


def analyse(waveform, sample_rate: int, aperiodicity: bool = True) -> WorldFeatures:
    """:func:`check_speech`, then WORLD analysis with a :data:`MCEP_ORDER` mel-cepstrum.

    ``aperiodicity=False`` skips D4C: enough for training the mapping and for measuring.
    """
    return audio.world_features(check_speech(waveform, sample_rate), VC_SAMPLE_RATE, order=MCEP_ORDER,
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
    return metrics.dtw_path(source.mcep[:, 1:], target.mcep[:, 1:])


def parallel_frames(sources, targets, context: int = CONTEXT) -> tuple[np.ndarray, np.ndarray]:
    """Training pairs for the mapping: DTW-aligned frames of parallel utterances.

    Parameters
    ----------
    sources, targets : sequence of WorldFeatures
        The same sentences said by the source and the target speaker.
    context : int
        Source frames of context on each side (:func:`stack_context`): :data:`CONTEXT` for the DNN,
        0 for the joint-density GMM.

    Returns
    -------
    x : np.ndarray, float32, shape (n_pairs, (2·context+1) · 3 · MCEP_ORDER)
        Source c1…c24 with Δ, ΔΔ and context.
    y : np.ndarray, float32, shape (n_pairs, 3 · MCEP_ORDER)
        Target c1…c24 with Δ, ΔΔ.
    """
    xs, ys = [], []
    for s, t in zip(sources, targets):
        i_s, i_t = align_pair(s, t)
        xs.append(stack_context(with_deltas(s.mcep[:, 1:]), context)[i_s])
        ys.append(with_deltas(t.mcep[:, 1:])[i_t])
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.float32)


@dataclass
class LogF0Stats:
    """Mean and standard deviation of log F0 (natural log of Hz) over voiced frames."""

    mean: float
    std: float

    @classmethod
    def of(cls, f0s) -> "LogF0Stats":
        """Statistics of a speaker from a list of F0 tracks (Hz, 0 = unvoiced).

        Raises
        ------
        ValueError
            No voiced frame in any track.
        """
        voiced = np.concatenate([np.log(f[f > 0]) for f in f0s])
        if voiced.size == 0:
            raise ValueError("no voiced frame in the F0 tracks")
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
        Hz; sets the all-pass constant α of the mel-cepstrum (:func:`course_utils.audio.mcep_alpha`).

    Returns
    -------
    np.ndarray, float64, shape (n_frames, D + 1)
    """
    import pysptk

    mcep = np.ascontiguousarray(mcep, dtype=np.float64)
    out = mcep.copy()
    if beta == 0:
        return out
    out[:, 2:] *= 1.0 + beta
    alpha = audio.mcep_alpha(sample_rate)
    before = pysptk.mc2e(mcep, alpha=alpha, irlen=512)
    after = pysptk.mc2e(np.ascontiguousarray(out), alpha=alpha, irlen=512)
    out[:, 0] += 0.5 * np.log(before / after)
    return out


class SpectralConverter:
    """What every voice converter of the course shares; a subclass maps c1…c24 (:meth:`map_statics`).

    A subclass has the attributes ``f0_source``, ``f0_target`` (:class:`LogF0Stats`) and ``postfilter``
    (β of :func:`postfilter_mcep`). Anything with a ``convert_features`` method like this one can be scored by
    :func:`evaluate_converter` and used by :func:`convert_voice`.
    """

    def map_statics(self, statics: np.ndarray) -> np.ndarray:
        """Map the source speaker's static mel-cepstrum to the target speaker's (what a subclass defines).

        Parameters
        ----------
        statics : np.ndarray, float, shape (n_frames, MCEP_ORDER)
            c1…c24 of one utterance (no c0, no deltas).

        Returns
        -------
        np.ndarray, float, shape (n_frames, MCEP_ORDER)
            The converted c1…c24.
        """
        raise NotImplementedError

    def map_mcep(self, mcep: np.ndarray) -> np.ndarray:
        """Convert a source mel-cepstrum.

        Parameters
        ----------
        mcep : np.ndarray, float, shape (n_frames, MCEP_ORDER + 1)
            c0…c24 of one utterance.

        Returns
        -------
        np.ndarray, float64, shape (n_frames, MCEP_ORDER + 1)
            c1…c24 mapped (:meth:`map_statics`), c0 kept, then postfiltered (:func:`postfilter_mcep`).
        """
        mapped = np.concatenate([mcep[:, :1], self.map_statics(mcep[:, 1:])], axis=1).astype(np.float64)
        return postfilter_mcep(mapped, self.postfilter)

    def convert_features(self, features: WorldFeatures) -> WorldFeatures:
        """Convert one utterance's WORLD parameters.

        Parameters
        ----------
        features : WorldFeatures
            The source speaker's analysis (:func:`course_utils.audio.world_features`).

        Returns
        -------
        WorldFeatures
            Mapped mel-cepstrum (:meth:`map_mcep`), F0 converted (:func:`convert_f0`, Hz, 0 = unvoiced), the
            source's aperiodicity; same frames, sample rate (Hz) and frame period (ms).
        """
        return WorldFeatures(convert_f0(features.f0, self.f0_source, self.f0_target), self.map_mcep(features.mcep),
                             features.bap, features.sample_rate, features.fft_size, features.frame_period)


@dataclass
class VoiceConverter(SpectralConverter):
    """A trained bdl → slt converter: the DNN, feature statistics and F0 statistics.

    Attributes
    ----------
    model : keras.Model
        :func:`course_utils.models.voice_conversion.build_vc_dnn`, on standardised features.
    x_mean, x_std, y_mean, y_std : np.ndarray, float32
        Standardisation of inputs and outputs.
    f0_source, f0_target : LogF0Stats
    postfilter : float
        β of :func:`postfilter_mcep` applied to the mapped mel-cepstrum (0 = none).
    precision : np.ndarray, float64, shape (2 · MCEP_ORDER,), optional
        1 / variance of the DNN's error on [c1…c24; Δ] over its training pairs: how far to trust each
        predicted static and delta in MLPG. None: no MLPG.
    mlpg : bool
        True (and ``precision`` set): the static trajectory that best fits the predicted statics *and* deltas
        (:func:`course_utils.models.gmm_converter.mlpg`, as the JD-GMM converts); False: the predicted statics
        frame by frame.
    """

    model: object
    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: np.ndarray
    y_std: np.ndarray
    f0_source: LogF0Stats
    f0_target: LogF0Stats
    postfilter: float = 0.2
    precision: np.ndarray | None = None
    mlpg: bool = True

    def predict(self, statics: np.ndarray) -> np.ndarray:
        """The DNN on c1…c24 with Δ, ΔΔ and context: the predicted target [c1…c24; Δ; ΔΔ], float32,
        (n_frames, 3 · MCEP_ORDER)."""
        x = (stack_context(with_deltas(statics)) - self.x_mean) / self.x_std
        return np.asarray(self.model(x.astype(np.float32), training=False)) * self.y_std + self.y_mean

    def map_statics(self, statics: np.ndarray) -> np.ndarray:
        """The DNN's prediction (:meth:`predict`) smoothed by MLPG (float64), or its statics (float32);
        (n_frames, MCEP_ORDER)."""
        from .models.gmm_converter import mlpg

        y = self.predict(statics)
        if not self.mlpg or self.precision is None:
            return y[:, :MCEP_ORDER]
        n = 2 * MCEP_ORDER
        return mlpg(y[:, :n], np.broadcast_to(self.precision, (len(y), n)))


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
        With MLPG's ``precision``: 1 / variance of the trained DNN's error on each [static; Δ] target over
        all the aligned pairs (validation frames included) — one diagonal for every frame, where the JD-GMM
        has one full covariance per component (Toda et al. 2007).
    history : keras.callbacks.History
        With a validation loss on 10 % of the frames.
    """
    import keras

    from .config import set_seed
    # imported here, not at the top, so the WORLD-analysis worker processes (analyse_many) stay free of Keras
    from .models.voice_conversion import build_vc_dnn

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
    predicted = model.predict((x - x_mean) / x_std, batch_size=4096, verbose=0) * y_std + y_mean
    error_variance = np.var(y[:, :2 * MCEP_ORDER] - predicted[:, :2 * MCEP_ORDER], axis=0, dtype=np.float64)
    converter = VoiceConverter(model, x_mean, x_std, y_mean, y_std,
                               LogF0Stats.of([s.f0 for s in sources]), LogF0Stats.of([t.f0 for t in targets]),
                               precision=1.0 / (error_variance + 1e-12))
    return converter, history


@dataclass
class GMMVoiceConverter(SpectralConverter):
    """The classical baseline: a joint-density GMM mapping c1…c24 by MLPG (Toda, Black & Tokuda 2007).

    Attributes
    ----------
    model : course_utils.models.gmm_converter.JointDensityGMM
        Fitted on [static; Δ] c1…c24 of DTW-aligned source and target frames.
    f0_source, f0_target : LogF0Stats
    postfilter : float
        β of :func:`postfilter_mcep`, as for the DNN (0 = none).
    mlpg : bool
        True: the MLPG trajectory (:meth:`~course_utils.models.gmm_converter.JointDensityGMM.convert`);
        False: the per-frame conditional mean
        (:meth:`~course_utils.models.gmm_converter.JointDensityGMM.conditional_mean`).
    """

    model: object
    f0_source: LogF0Stats
    f0_target: LogF0Stats
    postfilter: float = 0.2
    mlpg: bool = True

    def map_statics(self, statics: np.ndarray) -> np.ndarray:
        """[c1…c24; Δ] (:func:`with_deltas`) through the GMM; returns the converted statics, (n_frames, 24)."""
        x = with_deltas(statics)[:, :2 * statics.shape[1]]
        return self.model.convert(x) if self.mlpg else self.model.conditional_mean(x)[:, :statics.shape[1]]


def train_gmm_converter(sources, targets, n_components: int = 32, max_pairs: int | None = None,
                        max_iter: int = 100, seed: int = 0) -> GMMVoiceConverter:
    """Fit the joint-density GMM on the DNN's training pairs: the same DTW path, static + Δ, no context.

    Parameters
    ----------
    sources, targets : sequence of WorldFeatures
        Parallel training utterances of the source and target speakers.
    n_components : int
        Gaussian components (full covariances).
    max_pairs : int, optional
        Fit on this many aligned pairs drawn at random (seeded) when there are more: neighbouring 5 ms frames
        are nearly copies of each other, and EM's cost grows with the pairs. None: all of them.
    max_iter : int
        EM iterations at most.
    seed : int
        Seed of the draw and of the k-means initialisation.

    Returns
    -------
    GMMVoiceConverter
        With :func:`convert_f0`'s statistics of the training utterances; ``model.fit_seconds`` is the EM time.

    Raises
    ------
    ValueError
        ``sources`` and ``targets`` differ in length or are empty, ``max_pairs`` is below 1, or the pairs are too few
        for ``n_components`` (:meth:`~course_utils.models.gmm_converter.JointDensityGMM.fit`).
    """
    from .models.gmm_converter import JointDensityGMM

    if len(sources) != len(targets) or not len(sources):
        raise ValueError(f"sources and targets must be parallel and non-empty, got {len(sources)} and {len(targets)}")
    if max_pairs is not None and max_pairs < 1:
        raise ValueError(f"max_pairs must be at least 1 or None, got {max_pairs}")
    x, y = parallel_frames(sources, targets, context=0)
    if max_pairs is not None and len(x) > max_pairs:
        keep = np.sort(np.random.default_rng(seed).choice(len(x), max_pairs, replace=False))
        x, y = x[keep], y[keep]
    static_delta = slice(0, 2 * MCEP_ORDER)
    model = JointDensityGMM(n_components, max_iter=max_iter, seed=seed).fit(x[:, static_delta], y[:, static_delta])
    return GMMVoiceConverter(model, LogF0Stats.of([s.f0 for s in sources]), LogF0Stats.of([t.f0 for t in targets]))


def conversion_scores(converter: SpectralConverter, sources, targets, converted=None) -> dict:
    """MCD and F0 RMSE of converted and of unconverted speech against the real target, per utterance.

    The mel-cepstra are compared on speech frames (:func:`course_utils.metrics.voiced_frames`)
    after DTW alignment (:func:`course_utils.metrics.mcd_frames`); F0 along the DTW path of the
    full utterances, over frames voiced in both (:func:`course_utils.metrics.f0_rmse`).

    Parameters
    ----------
    converter : SpectralConverter
        Any converter with ``convert_features`` (:class:`VoiceConverter`, :class:`GMMVoiceConverter`).
    sources, targets : sequence of WorldFeatures
        Held-out parallel utterances.
    converted : sequence of WorldFeatures, optional
        ``converter.convert_features`` of each source when already computed (:func:`evaluate_converter`
        synthesises them too); None converts here.

    Returns
    -------
    dict of str -> list of float
        ``mcd_converted``, ``mcd_unconverted`` (dB), ``f0_rmse_converted``, ``f0_rmse_unconverted`` (Hz).
    """
    out = {"mcd_converted": [], "mcd_unconverted": [], "f0_rmse_converted": [], "f0_rmse_unconverted": []}
    if converted is None:
        converted = [converter.convert_features(src) for src in sources]
    for src, tgt, conv in zip(sources, targets, converted):
        speech_src, speech_tgt = metrics.voiced_frames(src), metrics.voiced_frames(tgt)
        for kind, feats in (("converted", conv), ("unconverted", src)):
            out[f"mcd_{kind}"].append(metrics.mcd_frames(tgt.mcep[speech_tgt], feats.mcep[speech_src]))
            i_f, i_t = metrics.dtw_path(feats.mcep[:, 1:], tgt.mcep[:, 1:])
            out[f"f0_rmse_{kind}"].append(metrics.f0_rmse(feats.f0[i_f], tgt.f0[i_t]))
    return out


@dataclass
class ConverterEvaluation:
    """What :func:`evaluate_converter` measured for one converter on held-out sentences.

    Attributes
    ----------
    mcd_db : float
        Mean MCD of the converted mel-cepstra against the target's, dB.
    f0_rmse_hz : float
        Mean F0 RMSE over the utterances that have frames voiced in both, Hz.
    cer : float
        PocketSphinx character error rate of the synthesised speech, pooled.
    target_speaker_rate : float
        Share of the synthesised utterances the speaker classifier judges to be the target speaker.
    scores : dict of str -> list of float
        Per utterance, :func:`conversion_scores` (converted and unconverted).
    waveforms : list of np.ndarray, float32
        The synthesised utterances, :data:`VC_SAMPLE_RATE` Hz.
    hypotheses : list of str
        What PocketSphinx heard in each.
    """

    mcd_db: float
    f0_rmse_hz: float
    cer: float
    target_speaker_rate: float
    scores: dict
    waveforms: list
    hypotheses: list


def evaluate_converter(converter: SpectralConverter, sources, targets, texts, judge,
                       target_speaker: str = "slt") -> ConverterEvaluation:
    """Score a converter on held-out parallel sentences, the same way for every converter.

    MCD and F0 RMSE against the real target (:func:`conversion_scores`); then each source utterance is converted
    and synthesised with WORLD, PocketSphinx transcribes it (:func:`course_utils.metrics.recognizer_cer`) and the
    speaker classifier judges whose voice it is.

    Parameters
    ----------
    converter : SpectralConverter
        Anything with ``convert_features`` (:class:`VoiceConverter`, :class:`GMMVoiceConverter`).
    sources : sequence of WorldFeatures
        Source utterances, analysed with aperiodicity (they are synthesised).
    targets : sequence of WorldFeatures
        The target speaker's recordings of the same sentences.
    texts : sequence of str
        What each sentence says.
    judge : sklearn classifier
        From :func:`train_speaker_classifier`: ``predict`` on :func:`speaker_features` rows.
    target_speaker : str
        The label the judge should give converted speech.

    Returns
    -------
    ConverterEvaluation
        Means over the sentences; F0 RMSE over the sentences that have voiced frames in both (NaN if none).

    Raises
    ------
    ValueError
        ``sources``, ``targets`` and ``texts`` differ in length or are empty; a source has no aperiodicity.
    """
    if not len(sources) or not len(sources) == len(targets) == len(texts):
        raise ValueError(f"sources, targets and texts must be parallel and non-empty, got {len(sources)}, "
                         f"{len(targets)} and {len(texts)}")
    converted = [converter.convert_features(f) for f in sources]
    scores = conversion_scores(converter, sources, targets, converted)
    waveforms = [audio.world_synthesize(f) for f in converted]
    cer, hypotheses = metrics.recognizer_cer(waveforms, texts, VC_SAMPLE_RATE)
    judged = judge.predict(np.stack([speaker_features(y, VC_SAMPLE_RATE) for y in waveforms]))
    f0_rmse = np.asarray(scores["f0_rmse_converted"], float)
    f0_rmse = float(np.mean(f0_rmse[~np.isnan(f0_rmse)])) if (~np.isnan(f0_rmse)).any() else float("nan")
    return ConverterEvaluation(float(np.mean(scores["mcd_converted"])), f0_rmse, float(cer),
                               float(np.mean(judged == target_speaker)), scores, waveforms, hypotheses)


def convert_voice(waveform, sample_rate: int, converter: SpectralConverter) -> tuple[np.ndarray, int]:
    """Convert a source-speaker (bdl) utterance to the target voice (slt).

    Parameters
    ----------
    waveform : np.ndarray, float, shape (n_samples,)
        Mono speech in [-1, 1], any length from 0.1 s.
    sample_rate : int
        Hz, 8000–48000 (resampled to 16000).
    converter : SpectralConverter
        From :func:`train_voice_converter` (the DNN) or :func:`train_gmm_converter`.

    Returns
    -------
    waveform : np.ndarray, float32, shape (n_samples_out,)
    sample_rate : int
        16000 Hz.

    Raises
    ------
    course_utils.audio.AudioError
        Stereo, silent or too short input, or an unsupported rate (see :func:`check_speech`).
    """
    return audio.world_synthesize(converter.convert_features(analyse(waveform, sample_rate))), VC_SAMPLE_RATE


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
