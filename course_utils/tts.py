"""Notebook 05, part 3 — the course's voice: phonemes, forced-aligned durations, a duration model, WORLD.

This is Merlin's recipe (Wu, Watts & King 2016, ``egs/slt_arctic``) with a FastSpeech 2-style network:

1. text → phoneme tokens (:mod:`course_utils.text`);
2. phone durations of every training recording by forced alignment (:mod:`course_utils.alignment`);
3. WORLD vocoder features of every recording at the aligner's 10 ms frames (:func:`acoustic_features`:
   40 mel-cepstra, interpolated log F0, voicing, band aperiodicity);
4. :class:`course_utils.models.fastspeech.DurationTTS` learns durations and features from phonemes
   (:func:`train`);
5. synthesis: predicted durations → length regulator → predicted features → WORLD (:func:`synthesize`).

Shipped weights (``course_utils/weights/tts_duration_slt.npz``, float16) were trained by::

    python scripts/train_synthesis.py tts

(resumable: run it again to continue from the last checkpoint).
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import alignment, audio, config, saving, text as text_frontend
from .text import TextError

SAMPLE_RATE = 16000
#: Milliseconds per frame: PocketSphinx's, so the aligned durations count vocoder frames directly.
FRAME_PERIOD_MS = 10.0
MCEP_ORDER = 39
#: Feature layout per frame: mel-cepstrum c0…c39, log F0 (Hz, interpolated through unvoiced frames),
#: voicing (0/1) and WORLD's band aperiodicity (one band at 16 kHz).
N_MCEP = MCEP_ORDER + 1
LF0, VUV = N_MCEP, N_MCEP + 1
N_FEATURES = N_MCEP + 3


def feature_cache() -> Path:
    """Where :func:`prepare_corpus` caches alignments and features.

    Returns
    -------
    pathlib.Path
        ``<build root>/tts`` (:func:`course_utils.config.build_root`: ``build/tts`` in full mode,
        ``build/fast/tts`` in fast mode, under ``$COURSE_BUILD_DIR`` when set). Fast runs keep their own
        cache: PocketSphinx's alignments depend on what it aligned before, so a cache a full run filled
        would change a fast run's numbers (and the regression check, ``benchmarks/fast_results.py``).
    """
    return config.build_root() / "tts"


# ----------------------------------------------------------------------------- features


def acoustic_features(waveform, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """WORLD features every 10 ms: what the duration model predicts and :func:`features_to_waveform` speaks.

    Parameters
    ----------
    waveform : np.ndarray, float, shape (n_samples,)
        Mono speech; resampled to 16 kHz.
    sample_rate : int
        Hz.

    Returns
    -------
    np.ndarray, float32, shape (n_samples // 160 + 1, :data:`N_FEATURES`)
        Mel-cepstrum (α 0.42), log F0 (linearly interpolated where unvoiced), voicing, band aperiodicity (dB).

    Raises
    ------
    course_utils.audio.AudioError
        Not a mono, finite waveform.
    """
    y = audio.check_waveform(waveform, sample_rate, name="recording", target_rate=SAMPLE_RATE, dtype=np.float64)
    w = audio.world_features(y, SAMPLE_RATE, order=MCEP_ORDER, frame_period=FRAME_PERIOD_MS)
    voiced = w.f0 > 0
    lf0 = np.zeros_like(w.f0)
    if voiced.any():
        idx = np.arange(len(w.f0))
        lf0 = np.interp(idx, idx[voiced], np.log(w.f0[voiced]))
    else:
        lf0[:] = np.log(200.0)
    return np.concatenate([w.mcep, lf0[:, None], voiced[:, None], w.bap], axis=1).astype(np.float32)


def features_to_waveform(features: np.ndarray) -> np.ndarray:
    """Speak :func:`acoustic_features`-style frames with the WORLD vocoder.

    Parameters
    ----------
    features : np.ndarray, float, shape (n_frames, :data:`N_FEATURES`)
        Voicing is read as voiced above 0.5.

    Returns
    -------
    np.ndarray, float32, shape (n_frames · 160,)
        16 kHz.
    """
    f = np.asarray(features, np.float64)
    f0 = np.where(f[:, VUV] > 0.5, np.exp(np.clip(f[:, LF0], np.log(40), np.log(800))), 0.0)
    w = audio.WorldFeatures(f0=f0, mcep=f[:, :N_MCEP], bap=f[:, VUV + 1:], sample_rate=SAMPLE_RATE, fft_size=1024,
                            frame_period=FRAME_PERIOD_MS)
    return audio.world_synthesize(w)


# ----------------------------------------------------------------------------- corpus


def holdout_split(ids):
    """Held-out sentences by a rule on the ids: every tenth ARCTIC prompt (``arctic_a0010``, ``a0020``, … ``b0010`` …).

    The rule does not depend on which files exist, so the test set of the full download (112 of its 1,132
    prompts) contains the mirror's (102 of 1,032). A corpus without ARCTIC ids (the offline stand-in)
    holds out every tenth id in sorted order.

    Returns
    -------
    train_ids, test_ids : list of str
        Sorted.

    Raises
    ------
    ValueError
        Nothing left to train on, or nothing held out.
    """
    test = sorted(i for i in ids if re.fullmatch(r"arctic_[ab]\d{3}0", i))
    if not any(str(i).startswith("arctic_") for i in ids):  # the offline stand-in (harvard_01…): every tenth
        test = sorted(ids)[9::10]
    train = sorted(i for i in ids if i not in set(test))
    if not train or not test:
        raise ValueError(f"need both training and held-out ids (got {len(train)} and {len(test)})")
    return train, test


class Utterance(NamedTuple):
    """One aligned training utterance: tokens, their frames, and the WORLD features of those frames."""

    tokens: list
    durations: np.ndarray
    features: np.ndarray


def _prepare_one(args):
    uid, txt, y, sr = args
    try:
        al = alignment.align(y, sr, txt)
    except (alignment.AlignmentError, TextError) as err:
        return uid, None, f"{type(err).__name__}: {err}"
    feats = acoustic_features(y, sr)[al.first_frame:]
    n = int(al.durations.sum())
    durations = al.durations.copy()
    if len(feats) < n:  # the recording ends before the last token: shorten the end mark
        durations[-1] -= n - len(feats)
        if durations[-1] < 0:
            return uid, None, "alignment longer than the recording"
    return uid, Utterance(al.tokens, durations, feats[:int(durations.sum())]), None


def prepare_corpus(ids, texts, waveforms, sample_rate: int, cache: Path | None = None, n_jobs: int = 2,
                   progress: bool = True):
    """Align every utterance and analyse its WORLD features, cached (``build/tts/<hash>.npz``).

    Parameters
    ----------
    ids, texts, waveforms : sequences of the same length
        As :func:`course_utils.data.load_arctic` returns them.
    sample_rate : int
    cache : path, optional
        Folder of the cache (default :func:`feature_cache`); one file per utterance id and text.
    n_jobs : int
        Processes (joblib).
    progress : bool
        A progress bar (tqdm).

    Returns
    -------
    corpus : dict of str to Utterance
        The utterances that aligned.
    failed : dict of str to str
        Utterance id → why it did not align (reported, never dropped silently).
    """
    import hashlib

    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    folder = Path(cache) if cache is not None else feature_cache()
    folder.mkdir(parents=True, exist_ok=True)
    corpus, failed, todo = {}, {}, []
    for uid, txt, y in zip(ids, texts, waveforms):
        key = hashlib.sha1(f"{uid}|{txt}|{len(y)}|{float(np.sum(np.abs(y))):.4f}|{alignment.VERSION}|{text_frontend.VERSION}".encode()
                           ).hexdigest()[:12]
        path = folder / f"{uid}-{key}.npz"
        if path.exists():
            with np.load(path, allow_pickle=False) as z:
                if "error" in z:
                    failed[uid] = str(z["error"])
                else:
                    corpus[uid] = Utterance(list(z["tokens"]), z["durations"], z["features"])
        else:
            todo.append((uid, txt, y, path))
    if todo:
        jobs = (delayed(_prepare_one)((uid, txt, y, sample_rate)) for uid, txt, y, _ in todo)
        results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
        for (uid, _, _, path), (_, utt, err) in tqdm(zip(todo, results), total=len(todo), disable=not progress,
                                                    desc="aligning + WORLD analysis"):
            tmp = path.with_suffix(".tmp.npz")
            if utt is None:
                failed[uid] = err
                np.savez(tmp, error=np.array(err))
            else:
                corpus[uid] = utt
                np.savez(tmp, tokens=np.array(utt.tokens), durations=utt.durations, features=utt.features)
            os.replace(tmp, path)
    return corpus, failed


# ----------------------------------------------------------------------------- training


def feature_statistics(corpus: dict) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of every feature over all frames (voicing left as 0/1: mean 0, std 1)."""
    frames = np.concatenate([u.features for u in corpus.values()])
    mean, std = frames.mean(0), frames.std(0) + 1e-5
    mean[VUV], std[VUV] = 0.0, 1.0
    return mean.astype(np.float32), std.astype(np.float32)


def frame_inputs(durations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The length regulator's indices: the phone of each frame, and (position in phone, log(1 + length)).

    Parameters
    ----------
    durations : np.ndarray, int, shape (n_phones,)

    Returns
    -------
    frame_phone : np.ndarray, int32, shape (durations.sum(),)
    frame_position : np.ndarray, float32, shape (durations.sum(), 2)
    """
    d = np.asarray(durations, np.int64)
    frame_phone = np.repeat(np.arange(len(d)), d).astype(np.int32)
    starts = np.repeat(np.cumsum(d) - d, d)
    inside = (np.arange(int(d.sum())) - starts + 0.5) / np.maximum(np.repeat(d, d), 1)
    return frame_phone, np.stack([inside, np.log1p(np.repeat(d, d)) / 3.0], axis=1).astype(np.float32)


def make_batches(corpus: dict, ids, mean, std, batch_frames: int = 6000, seed: int = 0):
    """Padded batches of similar-length utterances (about ``batch_frames`` frames each), shuffled.

    Returns
    -------
    list of tuple
        ``(phones, frame_phone, frame_position, targets, log_durations, frame_mask, phone_mask)`` per batch.
    """
    ids = sorted(ids, key=lambda i: len(corpus[i].features))
    groups, current = [], []
    for uid in ids:
        if current and (len(current) + 1) * len(corpus[uid].features) > batch_frames:
            groups.append(current)
            current = []
        current.append(uid)
    groups.append(current)
    batches = []
    for group in groups:
        n_ph = int(np.ceil(max(len(corpus[i].tokens) for i in group) / 16) * 16)
        n_fr = int(np.ceil(max(len(corpus[i].features) for i in group) / 64) * 64)
        b = len(group)
        phones = np.zeros((b, n_ph), np.int32)
        frame_phone = np.zeros((b, n_fr), np.int32)
        position = np.zeros((b, n_fr, 2), np.float32)
        targets = np.zeros((b, n_fr, N_FEATURES), np.float32)
        logd = np.zeros((b, n_ph), np.float32)
        fmask = np.zeros((b, n_fr), np.float32)
        pmask = np.zeros((b, n_ph), np.float32)
        for k, uid in enumerate(group):
            u = corpus[uid]
            n, m = len(u.tokens), len(u.features)
            phones[k, :n] = text_frontend.token_ids(u.tokens)
            fp, pos = frame_inputs(u.durations)
            frame_phone[k, :m], position[k, :m] = fp, pos
            targets[k, :m] = (u.features - mean) / std
            logd[k, :n] = np.log1p(u.durations)
            fmask[k, :m], pmask[k, :n] = 1, 1
        batches.append((phones, frame_phone, position, targets, logd, fmask, pmask))
    np.random.default_rng(seed).shuffle(batches)
    return batches


def losses(model, batch, training: bool = False) -> dict:
    """The training objective: L1 on normalised features (before and after the postnet), voicing
    cross-entropy, and the squared error of log(1 + duration).

    Returns
    -------
    dict of scalar tensors
        ``loss`` (their sum), ``features``, ``voicing``, ``duration``.
    """
    from keras import ops

    phones, frame_phone, position, targets, logd, fmask, pmask = batch
    y, y_post, logd_hat = model((phones, frame_phone, position), training=training)
    cont = np.ones(N_FEATURES, np.float32)
    cont[VUV] = 0.0
    n_frames = ops.sum(fmask) + 1e-6
    l1 = sum(ops.sum(ops.abs(o - targets) * cont * fmask[..., None]) for o in (y, y_post)) / (n_frames * (N_FEATURES - 1))
    bce = sum(ops.sum(ops.binary_crossentropy(targets[..., VUV], o[..., VUV], from_logits=True) * fmask)
              for o in (y, y_post)) / n_frames
    dur = ops.sum(ops.square(logd_hat - logd) * pmask) / (ops.sum(pmask) + 1e-6)
    return {"loss": l1 + 0.2 * bce + dur, "features": l1 / 2, "voicing": bce / 2, "duration": dur}


#: The shipped voice's recipe (``scripts/train_synthesis.py tts`` replays it; the notebook's RETRAIN too).
TRAINING = dict(epochs=150, batch_frames=6000, learning_rate=1e-3, final_learning_rate=1e-4, minutes=140.0)


def train(corpus: dict, train_ids, epochs: int = TRAINING["epochs"], batch_frames: int = TRAINING["batch_frames"],
          learning_rate: float = TRAINING["learning_rate"], final_learning_rate: float = TRAINING["final_learning_rate"],
          minutes: float | None = TRAINING["minutes"], model=None, stats=None, start_epoch: int = 0,
          checkpoint=None, seed: int = 0, verbose: bool = True, **hp):
    """Train a :class:`~course_utils.models.fastspeech.DurationTTS` on aligned utterances.

    Adam with the learning rate decayed exponentially from ``learning_rate`` to ``final_learning_rate``
    over ``epochs``; one pass over the batches of :func:`make_batches` per epoch.

    Parameters
    ----------
    corpus : dict of str to Utterance
        From :func:`prepare_corpus`.
    train_ids : sequence of str
    epochs, batch_frames : int
    learning_rate, final_learning_rate : float
    minutes : float, optional
        Stop after the epoch that ends past this wall time.
    model : DurationTTS, optional
        Continue training it (with ``stats`` and ``start_epoch``, as :func:`load` returns them).
    stats : tuple of np.ndarray, optional
        Feature mean and std (default: :func:`feature_statistics` of the training utterances).
    start_epoch : int
        Epochs already trained (resuming: the schedule continues from there).
    checkpoint : callable, optional
        ``checkpoint(model, stats, epochs_done, history)`` after every epoch.
    seed : int
    verbose : bool
    **hp
        Overrides of :data:`course_utils.models.fastspeech.DEFAULT_HPARAMS`.

    Returns
    -------
    model : DurationTTS
    stats : (mean, std)
    history : dict of list of float
        Per-epoch means of each loss, and ``seconds``.

    Raises
    ------
    ValueError
        No training utterances in ``corpus``.
    """
    import keras
    import tensorflow as tf
    from tqdm.auto import tqdm

    from .models import fastspeech

    train_ids = [i for i in train_ids if i in corpus]
    if not train_ids:
        raise ValueError("no aligned training utterances")
    keras.utils.set_random_seed(seed)
    stats = stats if stats is not None else feature_statistics({i: corpus[i] for i in train_ids})
    model = model if model is not None else fastspeech.build_duration_tts(len(text_frontend.SYMBOLS), N_FEATURES, **hp)
    optimizer = keras.optimizers.Adam(learning_rate, clipnorm=1.0)

    @tf.function(reduce_retracing=True)
    def step(*batch):
        with tf.GradientTape() as tape:
            out = losses(model, batch, training=True)
        grads = tape.gradient(out["loss"], model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return out

    history: dict = {"seconds": []}
    start = time.perf_counter()
    for epoch in range(start_epoch, epochs):
        optimizer.learning_rate.assign(learning_rate * (final_learning_rate / learning_rate) ** (epoch / max(1, epochs - 1)))
        batches = make_batches(corpus, train_ids, *stats, batch_frames=batch_frames, seed=seed + epoch)
        sums: dict = {}
        for batch in tqdm(batches, desc=f"epoch {epoch + 1}/{epochs}", disable=not verbose, leave=False):
            for k, v in step(*batch).items():
                sums[k] = sums.get(k, 0.0) + float(v)
        for k, v in sums.items():
            history.setdefault(k, []).append(v / len(batches))
        history["seconds"].append(time.perf_counter() - start)
        if verbose:
            print(f"epoch {epoch + 1}/{epochs}: " + ", ".join(f"{k} {v[-1]:.4f}" for k, v in history.items()
                                                            if k != "seconds") + f" ({history['seconds'][-1]:.0f} s)",
                  flush=True)
        if checkpoint is not None:
            checkpoint(model, stats, epoch + 1, history)
        if minutes is not None and time.perf_counter() - start > 60 * minutes:
            break
    return model, stats, history


# ----------------------------------------------------------------------------- weights


def weights_path(name: str = "tts_duration_slt", folder=None) -> Path:
    """``<folder>/<name>.npz`` (float16 weights, :data:`course_utils.saving.WEIGHTS_DIR` by default)."""
    return (Path(folder) if folder is not None else saving.WEIGHTS_DIR) / f"{name}.npz"


def save(model, stats, info: dict | None = None, folder=None, name: str = "tts_duration_slt") -> Path:
    """Save weights (float16), hyper-parameters and feature statistics, atomically (:func:`course_utils.saving.save_weights`)."""
    config = dict(info or {}, hparams=model.hp, mean=[float(v) for v in stats[0]], std=[float(v) for v in stats[1]])
    return saving.save_weights(model, weights_path(name, folder), config)


_LOADED: dict = {}


def load(name: str = "tts_duration_slt", folder=None):
    """Load a voice saved by :func:`save` (the shipped slt voice by default), cached.

    Returns
    -------
    model : DurationTTS
    stats : (mean, std), np.ndarray float32
    info : dict

    Raises
    ------
    FileNotFoundError
        No such weights (the message says how to train them).
    """
    from .models import fastspeech

    key = (name, str(folder))
    if key not in _LOADED:
        path = weights_path(name, folder)
        info = saving.read_config(path)
        if info is None:
            raise FileNotFoundError(f"{path.with_suffix('.json')}: no TTS voice '{name}' — train it with "
                                    "`python scripts/train_synthesis.py tts`")
        hp = dict(info["hparams"])
        model = fastspeech.build_duration_tts(hp.pop("n_symbols"), hp.pop("n_features"), **hp)
        saving.load_weights(model, path)
        stats = (np.array(info["mean"], np.float32), np.array(info["std"], np.float32))
        _LOADED[key] = (model, stats, info)
    return _LOADED[key]


# ----------------------------------------------------------------------------- synthesis


def predict_durations(model, tokens, pace: float = 1.0) -> np.ndarray:
    """Frames per token predicted by the duration model (phones at least 1 frame; pauses may be 0).

    Parameters
    ----------
    model : DurationTTS
    tokens : list of str
        From :func:`course_utils.text.phonemize`.
    pace : float
        Speaking-rate factor (2.0: twice as fast).

    Returns
    -------
    np.ndarray, int32, shape (len(tokens),)
        Frames of 10 ms.

    Raises
    ------
    ValueError
        ``pace`` is not a positive number.
    course_utils.text.TextError
        A token outside :data:`course_utils.text.SYMBOLS`.
    """
    if not np.isfinite(pace) or pace <= 0:
        raise ValueError(f"pace must be a positive number (1.0 is the voice's own rate), got {pace}")
    ids = text_frontend.token_ids(tokens)[None]
    _, logd = model.encode(ids, training=False)
    d = np.round(np.expm1(np.maximum(np.asarray(logd)[0], 0)) / pace).astype(np.int32)
    is_phone = np.isin(tokens, text_frontend.PHONES)
    return np.where(is_phone, np.maximum(d, 1), np.maximum(d, 0)).astype(np.int32)


def synthesize_features(tokens, model=None, stats=None, durations=None, pace: float = 1.0) -> np.ndarray:
    """Phoneme tokens → WORLD feature frames (denormalised), with predicted (or given) durations.

    Parameters
    ----------
    tokens : list of str
        From :func:`course_utils.text.phonemize`.
    model, stats : optional
        A voice and its feature statistics, as :func:`load` returns them (default: the shipped voice).
    durations : np.ndarray, int, shape (len(tokens),), optional
        Frames of 10 ms per token, e.g. a forced alignment's (default: :func:`predict_durations`).
    pace : float
        Speaking-rate factor for predicted durations.

    Returns
    -------
    np.ndarray, float32, shape (n_frames, :data:`N_FEATURES`)
        ``n_frames = durations.sum()``; voicing as a probability.

    Raises
    ------
    ValueError
        ``model`` without ``stats``, or ``durations`` of the wrong length or negative.
    """
    if model is None:
        model, stats, _ = load()
    if stats is None:
        raise ValueError("stats (the feature mean and std saved with the model) must be given with model")
    d = predict_durations(model, tokens, pace) if durations is None else np.asarray(durations, np.int32)
    if d.shape != (len(tokens),) or (d < 0).any():
        raise ValueError(f"durations must be {len(tokens)} non-negative frame counts, one per token, got shape "
                         f"{d.shape}")
    frame_phone, position = frame_inputs(d)
    if len(frame_phone) == 0:
        return np.zeros((0, N_FEATURES), np.float32)
    ids = text_frontend.token_ids(tokens)[None]
    h, _ = model.encode(ids, training=False)
    _, y = model.decode(h, frame_phone[None], position[None], training=False)
    y = np.asarray(y)[0]
    out = y * stats[1] + stats[0]
    out[:, VUV] = 1 / (1 + np.exp(-y[:, VUV]))
    return out.astype(np.float32)


def synthesize(text: str, model=None, stats=None, pace: float = 1.0) -> tuple[np.ndarray, int]:
    """Speak English text with the course's voice (CMU ARCTIC slt): phonemes → duration model → WORLD.

    Parameters
    ----------
    text : str
        Any English text: numbers, abbreviations and punctuation are normalised
        (:func:`course_utils.text.normalize_text`), words outside the dictionary get eSpeak NG's
        pronunciation, and long text is spoken one sentence (at most 40 words) at a time.
    model, stats : optional
        A voice from :func:`load` or :func:`train` (default: the shipped one).
    pace : float
        Speaking rate factor.

    Returns
    -------
    waveform : np.ndarray, float32, shape (n_samples,)
        Peak-normalised to 0.9.
    sample_rate : int
        16000 Hz.

    Raises
    ------
    course_utils.text.TextError
        Empty text, only punctuation, emoji or non-Latin script (named in the message).
    course_utils.audio.AudioError
        The voice produced only zeros (cannot be normalised).

    Examples
    --------
    >>> y, sr = synthesize("Call 911 in 2024.")  # doctest: +SKIP
    """
    sentences = text_frontend.split_sentences(text)  # bad text fails here, before any weights are read
    if model is None:
        model, stats, _ = load()
    pieces = [features_to_waveform(synthesize_features(text_frontend.phonemize(s), model, stats, pace=pace))
              for s in sentences]
    return audio.peak_normalize(np.concatenate(pieces), peak=0.9), SAMPLE_RATE


def phonemize(text: str) -> list[str]:
    """The phoneme tokens :func:`synthesize` speaks (:func:`course_utils.text.phonemize`)."""
    return text_frontend.phonemize(text)


def align(waveform, sample_rate: int, text: str) -> alignment.Alignment:
    """Forced alignment of a recording with its text (:func:`course_utils.alignment.align`)."""
    return alignment.align(waveform, sample_rate, text)


# ----------------------------------------------------------------------------- evaluation


def espeak_baseline(text: str, voice: str = "en-us") -> tuple[np.ndarray, int]:
    """eSpeak NG reading ``text``: the formant synthesiser a user would otherwise pick offline.

    Parameters
    ----------
    text : str
    voice : str
        eSpeak NG voice (US English by default).

    Returns
    -------
    waveform : np.ndarray, float32, shape (n_samples,)
        Resampled from eSpeak NG's 22,050 Hz to :data:`SAMPLE_RATE`.
    sample_rate : int
        16000 Hz.

    Raises
    ------
    RuntimeError
        eSpeak NG cannot be loaded, or the voice is unknown.
    """
    from .data import fallback

    y, sr = fallback.espeak_say(text, voice=voice)
    return audio.check_waveform(y, sr, name="eSpeak NG output", target_rate=SAMPLE_RATE), SAMPLE_RATE


def score_speech(waveforms, texts, sample_rate: int = SAMPLE_RATE, references=None) -> dict:
    """How intelligible and how close to the real voice: PocketSphinx CER, and MCD against real recordings.

    Parameters
    ----------
    waveforms : sequence of np.ndarray, float, shape (n_samples,)
        One per sentence, at ``sample_rate``.
    texts : sequence of str
        What each should say, as written (scored in its spoken form, :func:`course_utils.text.normalize_text`).
    sample_rate : int
        Hz, of ``waveforms`` and ``references``.
    references : sequence of np.ndarray, optional
        The real recordings of the same sentences; without them MCD is not computed.

    Returns
    -------
    dict
        ``cer`` (pooled, :func:`course_utils.metrics.recognizer_cer`), ``hypotheses`` (what PocketSphinx
        heard), ``mcd_db`` (mean over sentences of :func:`course_utils.metrics.mel_cepstral_distortion`,
        c1–c24 after DTW; ``None`` without references).

    Raises
    ------
    ValueError
        Lengths differ.
    """
    from . import metrics

    if references is not None and len(references) != len(waveforms):
        raise ValueError(f"{len(waveforms)} waveforms but {len(references)} references")
    spoken = [text_frontend.normalize_text(t) for t in texts]  # "call 911" is scored as "call nine one one"
    cer, hypotheses = metrics.recognizer_cer(list(waveforms), spoken, sample_rate)
    mcd = None
    if references is not None:
        mcd = float(np.mean([metrics.mel_cepstral_distortion(r, y, sample_rate)
                             for r, y in zip(references, waveforms)]))
    return {"cer": float(cer), "hypotheses": hypotheses, "mcd_db": mcd}


def real_time_factor(texts, model=None, stats=None) -> float:
    """Seconds of computing per second of speech, :func:`synthesize` speaking one sentence at a time.

    Parameters
    ----------
    texts : sequence of str
    model, stats : optional
        The voice (default: the shipped one, loaded before timing starts).

    Returns
    -------
    float
        Total synthesis time (text front end, duration model, WORLD) over total audio duration;
        below 1 is faster than real time.
    """
    if model is None:
        model, stats, _ = load()
    synthesize(texts[0], model, stats)  # warm-up: the first call traces the model
    seconds, spoken = 0.0, 0.0
    for sentence in texts:
        start = time.perf_counter()
        y, sr = synthesize(sentence, model, stats)
        seconds += time.perf_counter() - start
        spoken += len(y) / sr
    return seconds / spoken
