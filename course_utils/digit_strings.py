"""Notebook 04's digit strings: data made from FSDD clips, the CTC training loop, and :func:`transcribe`.

Real users say "four zero seven one", not one digit per file. :func:`make_digit_strings` joins one
speaker's clips with random pauses into such recordings; :func:`train_ctc` trains the CTC acoustic model
of :mod:`course_utils.models.ctc` (Graves et al. 2006) on their log-mel frames
(:func:`course_utils.digit_features.string_log_mel`) in length-sorted batches; :func:`transcribe_batch` and
:func:`transcribe` decode it greedily or by beam search. Word and character error rates are
``course_utils.metrics.error_rates(..., characters_as_words=True)``.
:func:`leave_one_speaker_out_ctc` measures all of it on every speaker in turn, next to PocketSphinx with
a digit grammar (:func:`pocketsphinx_strings`, its silence setting chosen by :func:`choose_silprob` on the
training speakers' strings, :func:`silprob_hypotheses`); :func:`ctc_table` shows the result.
"""
from __future__ import annotations

import time
from typing import NamedTuple

import keras
import numpy as np

from . import saving
from .audio import trim_silence
from .digit_features import SAMPLE_RATE, add_noise, pitch_perturb, random_gain, speed_perturb, string_log_mel
from .metrics import ErrorRates, error_rates
from .models import ctc
from .recognition import pocketsphinx_digits_batch
from .training import LengthSortedBatches, pad_batch

#: The candidates for PocketSphinx's weight of a silence between words (its ``-silprob``, a probability
#: that may exceed 1; its default is 0.005), among which :func:`choose_silprob` picks one on the training
#: speakers' strings. The pauses in a digit string otherwise come out as extra digits. Above 10 the WER
#: only rises (measured on 6 strings per FSDD speaker, pooled WER: 1.0 → 0.37, 3.0 → 0.35, 10 → 0.36,
#: 30 → 0.68, 100 → 0.91; three of the six speakers did best at 10).
SILPROBS = (0.005, 1.0, 3.0, 10.0)


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
        ``"pitch"``, ``"gain"``, ``"noise"`` (see :func:`course_utils.digit_features.augment_features`) —
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


def train_ctc(features, texts, epochs: int = 30, batch_size: int = 32, learning_rate: float = 2e-3,
              seed: int = 0, verbose: int = 1):
    """Train :func:`~course_utils.models.ctc.build_ctc_model` with CTC loss on digit strings (Adam, cosine decay).

    Batches hold strings of similar length, zero-padded to the longest
    (:class:`course_utils.training.LengthSortedBatches`).

    Parameters
    ----------
    features : list of np.ndarray, float32, (n_frames, 40)
        From :func:`course_utils.digit_features.string_log_mel`.
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
    keras.utils.set_random_seed(seed)
    data = LengthSortedBatches(features, ctc.encode_texts(texts), batch_size, np.random.default_rng(seed))
    model = ctc.build_ctc_model(features[0].shape[1])
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=max(1, (epochs - 1) * len(data)), warmup_target=learning_rate, warmup_steps=len(data),
        alpha=0.02)
    model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=5.0), loss=ctc.ctc_loss)
    losses, batches = [], data.dataset()
    start = time.perf_counter()
    for epoch in range(epochs):  # one fit() per epoch: a short, readable log line each
        loss = model.fit(batches, epochs=1, shuffle=False, verbose=0).history["loss"][0]
        losses.append(loss)
        if verbose:
            print(f"  epoch {epoch + 1:>2}/{epochs}: CTC loss {loss:.3f} ({time.perf_counter() - start:.0f} s)",
                  flush=True)
    return model, losses, time.perf_counter() - start


def transcribe_batch(model, features, strategy: str = "greedy", beam_width: int = 16,
                     batch_size: int = 64) -> list[str]:
    """Transcribe many :func:`~course_utils.digit_features.string_log_mel` feature sequences.

    Length-sorted batches, zero-padded (padding decodes as blank).

    Parameters
    ----------
    model : keras.Model
        From :func:`train_ctc`.
    features : list of np.ndarray, float32, (n_frames, 40)
    strategy, beam_width
        As :func:`course_utils.models.ctc.ctc_decode`.
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
        logits = np.asarray(model(pad_batch([features[k] for k in g]), training=False))
        for k, text in zip(g, ctc.ctc_decode(logits, strategy, beam_width)):
            out[k] = text
    return out


def transcribe(waveform, sample_rate: int, model=None, strategy: str = "greedy", beam_width: int = 16) -> str:
    """Transcribe a spoken digit string (any number of digits) from raw audio.

    Parameters
    ----------
    waveform : array-like, float, shape (n_samples,)
        Mono audio in [-1, 1], up to :data:`~course_utils.digit_features.MAX_STRING_SECONDS` (60 s).
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
    course_utils.audio.AudioError
        Not mono, empty, non-finite or silent audio, sample rate not a whole number ≥ 8000 Hz,
        or longer than 60 s.
    ValueError
        Unknown strategy.
    FileNotFoundError
        No ``model`` given and notebook 04 has not saved one.
    """
    x = string_log_mel(waveform, sample_rate)[None]
    model = saving.load_model("digits_ctc", "notebook 04", compile=False)[0] if model is None else model
    return ctc.ctc_decode(np.asarray(model(x, training=False)), strategy, beam_width)[0]


# ----------------------------------------------------------------------------- PocketSphinx on digit strings


def pocketsphinx_strings(waveforms, silprob: float | None = None) -> list[str]:
    """PocketSphinx with a grammar of digit strings (``( zero | one | … | nine )+``) on 8 kHz recordings.

    Decoded in parallel processes (:func:`~course_utils.recognition.pocketsphinx_digits_batch`).

    Parameters
    ----------
    waveforms : sequence of np.ndarray, float, shape (n_samples,)
        At :data:`SAMPLE_RATE` (resampled to PocketSphinx's 16 kHz).
    silprob : float, optional
        PocketSphinx's weight of a silence between words (see :data:`SILPROBS`).

    Returns
    -------
    list of str
        The digits heard in each recording, e.g. ``"407"``.
    """
    return pocketsphinx_digits_batch(waveforms, SAMPLE_RATE, sequence=True, silprob=silprob)


def silprob_hypotheses(waveforms, candidates=SILPROBS) -> dict:
    """PocketSphinx's digit strings for ``waveforms`` at each candidate silence weight.

    Parameters
    ----------
    waveforms : sequence of np.ndarray, float
        At :data:`SAMPLE_RATE`.
    candidates : sequence of float
        Values of PocketSphinx's ``-silprob``, each > 0.

    Returns
    -------
    dict
        Candidate → list of str (:func:`pocketsphinx_strings`), one per waveform.

    Raises
    ------
    ValueError
        No candidate, or one ≤ 0.
    """
    if not len(candidates):
        raise ValueError("need at least one silprob candidate")
    return {c: pocketsphinx_strings(waveforms, c) for c in candidates}


def choose_silprob(texts, hypotheses) -> tuple[float, dict]:
    """The silence weight with which PocketSphinx had the lowest WER on these strings.

    Pass strings of the *training* speakers only: the choice is part of training.

    Parameters
    ----------
    texts : sequence of str
        The digits said in each string.
    hypotheses : dict
        Candidate silence weight → what PocketSphinx heard in each string with it
        (:func:`silprob_hypotheses`).

    Returns
    -------
    best : float
        The candidate with the lowest WER (the first of equals).
    wer : dict
        Candidate → WER on these strings.

    Raises
    ------
    ValueError
        No candidate.
    """
    if not hypotheses:
        raise ValueError("need at least one silprob candidate")
    wer = {c: error_rates(texts, h, characters_as_words=True).wer for c, h in hypotheses.items()}
    return min(wer, key=wer.get), wer


# ----------------------------------------------------------------------------- evaluation on unseen speakers


class CtcFold(NamedTuple):
    """One fold of :func:`leave_one_speaker_out_ctc`: the model trained without ``speaker``, tested on them.

    Attributes
    ----------
    speaker : str
        The held-out speaker.
    model : keras.Model
        Trained by :func:`train_ctc` on the other speakers' strings.
    losses : list of float
        Mean CTC loss per epoch.
    seconds : float
        CTC training wall time.
    test_waveforms : list of np.ndarray, float32
        The held-out speaker's strings at :data:`SAMPLE_RATE`.
    test_texts : list of str
        The digits said in each.
    test_features : list of np.ndarray, float32, (n_frames, 40)
        Their :func:`~course_utils.digit_features.string_log_mel`.
    hypotheses : dict
        ``"greedy"``, ``"beam_search"`` (CTC) and ``"pocketsphinx"`` → list of str, one per test string.
    scores : dict
        The same keys → :class:`~course_utils.metrics.ErrorRates` on the test strings.
    silprob : float
        PocketSphinx's silence weight, chosen on the training speakers' strings.
    """

    speaker: str
    model: keras.Model
    losses: list
    seconds: float
    test_waveforms: list
    test_texts: list
    test_features: list
    hypotheses: dict
    scores: dict
    silprob: float


def leave_one_speaker_out_ctc(digits, n_train: int, n_test: int, n_tune: int, epochs: int, extra=None,
                              n_extra: int | None = None, silprobs=SILPROBS, beam_width: int = 16, seed: int = 0,
                              verbose: bool = True) -> dict:
    """CTC digit strings on every speaker in turn: train without them, test on their strings, next to PocketSphinx.

    For each speaker found in ``digits`` (sorted): ``n_train`` training strings from the other speakers'
    clips (plus ``n_extra`` from ``extra``, the same in every fold), ``n_test`` test strings from the
    held-out speaker's clips (:func:`make_digit_strings`); :func:`train_ctc`; greedy and beam-search
    decoding (:func:`transcribe_batch`); PocketSphinx with a digit-string grammar on the same test strings,
    its silence weight chosen by :func:`choose_silprob` on the training speakers' tuning strings: ``n_tune``
    strings per speaker, decoded once at every weight (:func:`silprob_hypotheses`), each fold pooling
    those of its training speakers.
    Every score is :func:`course_utils.metrics.error_rates` (jiwer), each digit a word.

    Parameters
    ----------
    digits : course_utils.data.SpokenDigits
        Real recordings at :data:`SAMPLE_RATE`, at least two speakers.
    n_train, n_test : int
        Strings per fold: training (real speakers), test (held-out speaker).
    n_tune : int
        PocketSphinx tuning strings per speaker (a fold tunes on its training speakers' strings).
    epochs : int
        CTC training epochs per fold.
    extra : course_utils.data.SpokenDigits, optional
        Clips that only ever train (e.g. synthetic voices).
    n_extra : int, optional
        Training strings from ``extra`` (default ``n_train``).
    silprobs : sequence of float
        The candidates of :func:`choose_silprob`.
    beam_width : int
    seed : int
        The same in every fold: folds differ only in who is held out.
    verbose : bool
        Print one line per fold.

    Returns
    -------
    dict
        ``folds`` (speaker → :class:`CtcFold`, in order), ``mean`` (decoder → ErrorRates, the mean of the
        folds' WERs and CERs; decoders ``"greedy"``, ``"beam_search"``, ``"pocketsphinx"``), ``worst``
        (decoder → the highest fold WER), ``seconds`` (CTC training, all folds).

    Raises
    ------
    ValueError
        Fewer than two speakers, or fewer than one string of a kind (``n_extra`` counts when ``extra`` is given).
    """
    speakers = sorted({str(s) for s in digits.speakers})
    if len(speakers) < 2:
        raise ValueError(f"leave-one-speaker-out needs at least two speakers, got {speakers}")
    if min(n_train, n_test, n_tune) < 1:
        raise ValueError(f"need at least one string of each kind, got n_train={n_train}, n_test={n_test}, "
                         f"n_tune={n_tune}")
    n_extra = n_train if n_extra is None else n_extra
    if extra is not None and n_extra < 1:
        raise ValueError(f"need at least one string from extra, got n_extra={n_extra}")
    extra_w, extra_t = make_digit_strings(extra, n_extra, seed=seed + 2)[:2] if extra is not None else ([], [])
    extra_f = [string_log_mel(w, SAMPLE_RATE) for w in extra_w]
    tune_w, tune_t, tune_speaker = [], [], []  # PocketSphinx's tuning strings, n_tune by each speaker
    for i, speaker in enumerate(speakers):  # a seed per speaker: their strings must not share digits and pauses
        w, t, _ = make_digit_strings(digits.subset(digits.speakers.astype(str) == speaker), n_tune,
                                     seed=seed + 3 + 1000 * (i + 1))
        tune_w, tune_t, tune_speaker = tune_w + w, tune_t + t, tune_speaker + [speaker] * len(t)
    tune_heard = silprob_hypotheses(tune_w, silprobs)  # decoded once, for every fold
    folds = {}
    for speaker in speakers:
        held_out = digits.speakers.astype(str) == speaker
        train_clips, test_clips = digits.subset(~held_out), digits.subset(held_out)
        train_w, train_t, _ = make_digit_strings(train_clips, n_train, seed=seed)
        test_w, test_t, _ = make_digit_strings(test_clips, n_test, seed=seed + 1)
        train_f = [string_log_mel(w, SAMPLE_RATE) for w in train_w] + extra_f
        test_f = [string_log_mel(w, SAMPLE_RATE) for w in test_w]
        model, losses, seconds = train_ctc(train_f, train_t + extra_t, epochs=epochs, seed=seed, verbose=0)

        others = [k for k, s in enumerate(tune_speaker) if s != speaker]  # the training speakers' strings
        silprob, _ = choose_silprob([tune_t[k] for k in others],
                                    {c: [heard[k] for k in others] for c, heard in tune_heard.items()})
        hyps = {"greedy": transcribe_batch(model, test_f, "greedy"),
                "beam_search": transcribe_batch(model, test_f, "beam_search", beam_width),
                "pocketsphinx": pocketsphinx_strings(test_w, silprob)}
        scores = {k: error_rates(test_t, h, characters_as_words=True) for k, h in hyps.items()}
        folds[speaker] = CtcFold(speaker, model, losses, seconds, test_w, test_t, test_f, hyps, scores, silprob)
        if verbose:
            print(f"  held out {speaker:>10}: CTC WER {scores['beam_search'].wer:.3f} (greedy "
                  f"{scores['greedy'].wer:.3f}), PocketSphinx WER {scores['pocketsphinx'].wer:.3f} "
                  f"(silprob {silprob:g}); {len(test_w)} strings, trained in {seconds:.0f} s", flush=True)
    decoders = ("greedy", "beam_search", "pocketsphinx")
    mean = {k: ErrorRates(float(np.mean([f.scores[k].cer for f in folds.values()])),
                          float(np.mean([f.scores[k].wer for f in folds.values()]))) for k in decoders}
    worst = {k: max(f.scores[k].wer for f in folds.values()) for k in decoders}
    return {"folds": folds, "mean": mean, "worst": worst, "seconds": sum(f.seconds for f in folds.values())}


def ctc_table(result: dict) -> str:
    """A Markdown table of :func:`leave_one_speaker_out_ctc`: WER and CER per held-out speaker and their mean.

    Parameters
    ----------
    result : dict
        From :func:`leave_one_speaker_out_ctc`.

    Returns
    -------
    str
        One row per speaker, then the mean; columns CTC beam search, CTC greedy, PocketSphinx (WER / CER)
        and PocketSphinx's chosen silence weight.
    """
    def cells(scores):
        return " | ".join(f"{scores[k].wer:.3f} / {scores[k].cer:.3f}"
                          for k in ("beam_search", "greedy", "pocketsphinx"))

    rows = [f"| {f.speaker} | {len(f.test_texts)} | {cells(f.scores)} | {f.silprob:g} |"
            for f in result["folds"].values()]
    return ("| held-out speaker | test strings | CTC, beam search: WER / CER | CTC, greedy: WER / CER | "
            "PocketSphinx, digit grammar: WER / CER | PocketSphinx silprob |\n|---|---|---|---|---|---|\n"
            + "\n".join(rows) + f"\n| **mean** | | {cells(result['mean'])} | |")
