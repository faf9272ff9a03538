"""Measuring speech the way the field does: an independent listener and distances.

Shared by the compression (02), conversion (03), recognition (04) and synthesis (05) notebooks,
so that every speech model in the course is scored by the same code:

* **Intelligibility** — :func:`transcribe_pocketsphinx` runs CMU PocketSphinx with the US-English
  acoustic model, dictionary and language model that ship inside the ``pocketsphinx`` wheel (or a
  JSGF grammar of a few words). It was trained on none of the course's data, so it is an
  independent listener; :func:`transcribe_pocketsphinx_batch` decodes many clips in parallel processes.
  :func:`error_rates` gives CER and WER (jiwer); :func:`recognizer_cer`
  scores a set of waveforms against their prompts.
* **Distances** — :func:`mel_cepstral_distortion` (MCD, Kubichek 1993, DTW-aligned),
  :func:`f0_rmse`, :func:`log_spectral_distance` and :func:`stoi` (Taal et al. 2011, via pystoi).
  The WORLD features they use are :func:`course_utils.audio.world_features`.
"""
from __future__ import annotations

import multiprocessing
import os
import re
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache, partial
from typing import NamedTuple

import numpy as np

from ..audio import WorldFeatures, check_waveform, world_features

#: PocketSphinx's acoustic model expects 16 kHz audio.
POCKETSPHINX_RATE = 16000


class ErrorRates(NamedTuple):
    """Character and word error rate of a set of hypotheses, pooled over the set.

    (substitutions + deletions + insertions) / reference length; 0 is perfect, can exceed 1.
    """

    cer: float
    wer: float


# ----------------------------------------------------------------------------- the listener


@lru_cache(maxsize=8)
def _decoder(vocabulary: tuple | None = None, sequence: bool = True, silprob: float | None = None):
    from pocketsphinx import Decoder

    settings = {} if silprob is None else {"silprob": float(silprob)}
    decoder = Decoder(samprate=POCKETSPHINX_RATE, loglevel="FATAL", **settings)
    if vocabulary is not None:
        missing = [w for w in vocabulary if decoder.lookup_word(w) is None]
        if missing or not vocabulary:
            raise ValueError(f"vocabulary words not in PocketSphinx's dictionary: {missing or '(empty)'}")
        words = "( " + " | ".join(vocabulary) + " )" + ("+" if sequence else "")
        decoder.add_jsgf_string("vocabulary", f"#JSGF V1.0;\ngrammar vocabulary;\npublic <utterance> = {words};\n")
        decoder.activate_search("vocabulary")
    return decoder


def transcribe_pocketsphinx_batch(waveforms, sample_rate: int, vocabulary=None, sequence: bool = True,
                                  silprob: float | None = None, workers: int | None = None) -> list[str]:
    """:func:`transcribe_pocketsphinx` on many clips, shared among several processes.

    PocketSphinx decodes on one CPU core and keeps Python's global interpreter lock while it does,
    so threads do not help; processes do. The pool is started on first use (``spawn``: each worker
    imports only this module, not Keras) and kept for later calls, each worker keeping its decoders
    (about 100 MB of memory each). Every clip is decoded from fresh front-end statistics, so the words
    are the same as one by one.

    Parameters
    ----------
    waveforms : sequence of np.ndarray, float, shape (n_samples,)
        Mono speech in [-1, 1], all at ``sample_rate``.
    sample_rate : int
        Hz.
    vocabulary, sequence, silprob
        As :func:`transcribe_pocketsphinx`.
    workers : int, optional
        Decoder processes. Default: the CPU cores this process may use, at most 8 — in a notebook, at
        the interactive prompt or under ``python -m package`` (e.g. ``python -m pytest``); but 1 in a
        script run by its path or as ``python -m package.module``, because ``spawn`` runs the main
        script again in every worker (pass ``workers`` there only under ``if __name__ == "__main__":``).
        1 decodes here, one clip after another, without a pool.

    Returns
    -------
    list of str
        :func:`transcribe_pocketsphinx`'s words for each clip, in input order.

    Raises
    ------
    ValueError
        ``workers`` < 1; and what :func:`transcribe_pocketsphinx` raises for any clip.
    AudioError
        As :func:`transcribe_pocketsphinx`.
    concurrent.futures.process.BrokenProcessPool
        A worker died twice (e.g. killed for memory); the next call starts a new pool.
    """
    waveforms = list(waveforms)
    workers = _default_workers() if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers!r}")
    if silprob is not None and not silprob > 0:  # here, not in each worker
        raise ValueError(f"silprob must be positive, got {silprob!r}")
    decode = partial(transcribe_pocketsphinx, sample_rate=sample_rate, vocabulary=vocabulary, sequence=sequence,
                     silprob=silprob)
    if workers == 1 or len(waveforms) < 2:
        return [decode(y) for y in waveforms]
    for attempt in range(2):
        try:  # a spawn pool starts its processes as work arrives: a 3-clip call starts at most 3
            return list(_decoder_pool(workers).map(decode, waveforms))
        except BrokenProcessPool:  # a worker died (killed for memory, or Ctrl-C while it started): a new pool
            _decoder_pool.cache_clear()
            if attempt:
                raise


def _default_workers() -> int:
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None)
    if (name is None and hasattr(main, "__file__")) or (name is not None and not name.endswith("__main__")):
        return 1  # `python script.py` or `python -m package.module`: each spawned worker would run it again
    return min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


@lru_cache(maxsize=2)
def _decoder_pool(workers: int) -> ProcessPoolExecutor:
    # workers ignore Ctrl-C / Jupyter's "interrupt": it stops the caller, and the pool stays usable
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN))


def normalize_text(text: str) -> str:
    """Lower-case ``text``, keep letters, digits and apostrophes, collapse spaces.

    This is the text form both the reference prompt and the recogniser's
    hypothesis are compared in (``"Philip Steels, etc."`` → ``"philip steels etc"``).
    """
    text = text.lower().replace("-", " ")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " ".join(text.split())


def transcribe_pocketsphinx(waveform, sample_rate: int, vocabulary=None, sequence: bool = True,
                            silprob: float | None = None) -> str:
    """Transcribe English speech with PocketSphinx's bundled US-English model.

    Parameters
    ----------
    waveform : np.ndarray, float, shape (n_samples,)
        Mono speech in [-1, 1].
    sample_rate : int
        Hz; resampled to 16000 Hz (soxr) when different.
    vocabulary : sequence of str, optional
        Restrict the recogniser to these words with a JSGF grammar instead of the
        bundled language model: the classical small-vocabulary HMM recogniser
        (e.g. the ten digit names). Every word must be in the bundled dictionary.
    sequence : bool
        With ``vocabulary``: allow one or more words (``( w1 | … )+``); if False, exactly one.
    silprob : float, optional
        PocketSphinx's ``-silprob``, > 0: the weight of a silence between two words, called a
        probability though values above 1 are accepted (default: PocketSphinx's, 0.005). With a
        grammar, a higher value lets pauses between words be heard as silence rather than as extra words.

    Returns
    -------
    str
        The recognised words, normalised with :func:`normalize_text` (``""`` if nothing).

    Raises
    ------
    AudioError
        Empty, multi-channel or non-finite input, or a bad sample rate (:func:`~course_utils.audio.check_waveform`).
    ValueError
        A vocabulary word the dictionary lacks, or ``silprob`` ≤ 0.

    Notes
    -----
    PocketSphinx 5 (CMU Sphinx, Huggins-Daines et al. 2006) with the ``en-us`` model that ships
    in its wheel: about 0.25 × real time on one CPU core. The decoder is reused between calls; its
    feature extraction is reinitialised for every clip, so the same clip always gives the same words.
    """
    if silprob is not None and not silprob > 0:
        raise ValueError(f"silprob must be positive, got {silprob!r}")
    y = check_waveform(waveform, sample_rate, target_rate=POCKETSPHINX_RATE, dtype=np.float64)
    pcm = (np.clip(y, -1.0, 1.0) * 32767).astype(np.int16)
    decoder = _decoder(None if vocabulary is None else tuple(vocabulary), bool(sequence),
                       None if silprob is None else float(silprob))
    # Fresh front-end statistics (noise removal, cepstral mean): the transcript depends on this clip only,
    # not on what the decoder heard before.
    decoder.reinit_feat()
    decoder.start_utt()
    decoder.process_raw(pcm.tobytes(), full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return normalize_text(hyp.hypstr) if hyp is not None else ""


def error_rates(references, hypotheses, *, characters_as_words: bool = False) -> ErrorRates:
    """Character and word error rates of ``hypotheses`` against ``references`` (jiwer), pooled over all pairs.

    Both lists are normalised with :func:`normalize_text` first.

    Parameters
    ----------
    references, hypotheses : sequence of str
        Same length; every reference must hold at least one word.
    characters_as_words : bool
        Score every character as a word for the WER — for digit strings, ``"407"`` counts as
        ``"4 0 7"`` (three words).

    Returns
    -------
    ErrorRates
        ``(cer, wer)``, a named tuple.

    Raises
    ------
    ValueError
        Different numbers of references and hypotheses, or an empty reference.

    Examples
    --------
    >>> error_rates(["4 0 7"], ["4 7"]).wer
    0.3333333333333333
    >>> error_rates(["407"], ["47"], characters_as_words=True).wer
    0.3333333333333333
    """
    import jiwer

    refs = [normalize_text(r) for r in references]
    hyps = [normalize_text(h) for h in hypotheses]
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    if not refs or any(not r for r in refs):
        raise ValueError("every reference text must contain at least one word")
    if characters_as_words:
        words = lambda texts: [" ".join(t.replace(" ", "")) for t in texts]  # noqa: E731 - "407" -> "4 0 7"
        refs_w, hyps_w = words(refs), words(hyps)
        refs_c, hyps_c = [r.replace(" ", "") for r in refs], [h.replace(" ", "") for h in hyps]
        return ErrorRates(float(jiwer.cer(refs_c, hyps_c)), float(jiwer.wer(refs_w, hyps_w)))
    return ErrorRates(float(jiwer.cer(refs, hyps)), float(jiwer.wer(refs, hyps)))


def recognizer_cer(waveforms, texts, sample_rate: int) -> tuple[float, list]:
    """CER of PocketSphinx on ``waveforms`` against their prompt ``texts``.

    The clips are decoded in parallel processes (:func:`transcribe_pocketsphinx_batch`).

    Parameters
    ----------
    waveforms : sequence of np.ndarray, float, shape (n_samples,)
    texts : sequence of str
        The sentence each waveform should say.
    sample_rate : int
        Hz.

    Returns
    -------
    cer : float
        Pooled character error rate (0 = perfect; can exceed 1).
    hypotheses : list of str
        What the recogniser heard, one per waveform.
    """
    if len(waveforms) != len(texts):
        raise ValueError(f"{len(waveforms)} waveforms but {len(texts)} texts")
    hyps = transcribe_pocketsphinx_batch(waveforms, sample_rate)
    cer, _ = error_rates(texts, hyps)
    return cer, hyps


# ----------------------------------------------------------------------------- distances


def dtw_path(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dynamic time warping of two feature sequences (librosa, Euclidean cost).

    Parameters
    ----------
    x : np.ndarray, shape (n_frames_x, n_dims)
    y : np.ndarray, shape (n_frames_y, n_dims)

    Returns
    -------
    ix, iy : np.ndarray, int, shape (path_length,)
        Frame indices into ``x`` and ``y``, in time order.
    """
    import librosa

    _, path = librosa.sequence.dtw(X=np.asarray(x).T, Y=np.asarray(y).T, metric="euclidean")
    path = path[::-1]
    return path[:, 0], path[:, 1]


def mcd_frames(mcep_ref: np.ndarray, mcep_test: np.ndarray, align: bool = True) -> float:
    """Mean mel-cepstral distortion between two mel-cepstrum sequences, in dB.

    MCD = 10 / ln 10 · √(2 Σ_{d=1}^{D} (c_d − ĉ_d)²), averaged over frames; c0 (energy) is
    excluded. With ``align`` the frames are paired by DTW on c1…c_D first.

    Parameters
    ----------
    mcep_ref, mcep_test : np.ndarray, shape (n_frames, D + 1)
        Mel-cepstra including c0 (as :func:`world_features` returns them).
    align : bool
        DTW-align the two sequences; if False they must have the same length.

    Returns
    -------
    float
        dB.

    Notes
    -----
    R. Kubichek, "Mel-cepstral distance measure for objective speech quality assessment", 1993;
    the DTW-aligned form used in voice conversion papers (Toda et al. 2007).
    """
    a, b = np.asarray(mcep_ref)[:, 1:], np.asarray(mcep_test)[:, 1:]
    if align:
        ia, ib = dtw_path(a, b)
        a, b = a[ia], b[ib]
    elif len(a) != len(b):
        raise ValueError(f"unaligned MCD needs equal lengths, got {len(a)} and {len(b)} frames")
    return float(np.mean(10.0 / np.log(10.0) * np.sqrt(2.0 * np.sum((a - b) ** 2, axis=1))))


def voiced_frames(features: WorldFeatures, threshold_db: float = -40.0) -> np.ndarray:
    """Boolean mask of speech frames: c0 within ``threshold_db`` of the utterance's loudest frame.

    Used to drop leading and trailing silence before MCD (ARCTIC clips have both).
    """
    c0 = features.mcep[:, 0] * 20.0 / np.log(10.0)  # c0 is a natural-log amplitude -> dB
    return c0 > c0.max() + threshold_db


def mel_cepstral_distortion(reference, test, sample_rate: int, order: int = 24) -> float:
    """MCD in dB between two waveforms of the same sentence (WORLD mel-cepstra, DTW-aligned).

    Silent frames (:func:`voiced_frames`) are dropped from both before alignment.

    Parameters
    ----------
    reference, test : np.ndarray, float, shape (n_samples,)
        Mono speech at ``sample_rate`` Hz.
    sample_rate : int
        Hz.
    order : int
        Cepstral order D: the distance uses c1…c_D (24 is the convention).

    Returns
    -------
    float
        dB (identical signals give 0; different speakers typically 8–10 dB).
    """
    fr, ft = world_features(reference, sample_rate, order), world_features(test, sample_rate, order)
    return mcd_frames(fr.mcep[voiced_frames(fr)], ft.mcep[voiced_frames(ft)])


def f0_rmse(f0_ref: np.ndarray, f0_test: np.ndarray) -> float:
    """RMSE in Hz between two frame-aligned F0 tracks, over frames voiced in both.

    A frame is voiced where its F0 is above 0 (WORLD writes 0 for unvoiced frames); frames voiced in
    only one track are left out, so the value measures pitch, not voicing decisions.

    Parameters
    ----------
    f0_ref, f0_test : np.ndarray, float, shape (n_frames,)
        F0 in Hz per frame, 0 where unvoiced (e.g. the float64 ``f0`` of
        :func:`~course_utils.audio.world_features`), on the same frame grid (after any alignment).

    Returns
    -------
    float
        Hz; NaN when no frame is voiced in both.

    Raises
    ------
    ValueError
        ``f0_ref`` and ``f0_test`` differ in shape (not frame-aligned).
    """
    f0_ref, f0_test = np.asarray(f0_ref), np.asarray(f0_test)
    if f0_ref.shape != f0_test.shape:
        raise ValueError(f"F0 tracks must be aligned: shapes {f0_ref.shape} and {f0_test.shape}")
    both = (f0_ref > 0) & (f0_test > 0)
    return float(np.sqrt(np.mean((f0_ref[both] - f0_test[both]) ** 2))) if both.any() else float("nan")


def log_spectral_distance(reference, test, sample_rate: int, n_fft: int | None = None,
                          hop_length: int | None = None) -> float:
    """Log-spectral distance in dB between two time-aligned waveforms.

    LSD = mean over frames of √(mean over bins of (10 log10 P − 10 log10 P̂)²), power spectra
    floored at 1e-10. The shorter signal sets the length.

    Parameters
    ----------
    reference, test : np.ndarray, float, shape (n_samples,)
    sample_rate : int
        Hz; the defaults are a 32 ms window (``n_fft``) and an 8 ms hop.

    Returns
    -------
    float
        dB.
    """
    import librosa

    x, y = check_waveform(reference, sample_rate, name="reference", dtype=np.float64), check_waveform(test, sample_rate, name="test", dtype=np.float64)
    n = min(len(x), len(y))
    n_fft = n_fft or int(2 ** np.ceil(np.log2(0.032 * sample_rate)))
    hop_length = hop_length or n_fft // 4
    px = np.abs(librosa.stft(x[:n], n_fft=n_fft, hop_length=hop_length)) ** 2
    py = np.abs(librosa.stft(y[:n], n_fft=n_fft, hop_length=hop_length)) ** 2
    diff = 10 * np.log10(np.maximum(px, 1e-10)) - 10 * np.log10(np.maximum(py, 1e-10))
    return float(np.mean(np.sqrt(np.mean(diff ** 2, axis=0))))


def stoi(reference, test, sample_rate: int) -> float:
    """Short-time objective intelligibility (Taal et al. 2011) of ``test`` against ``reference``.

    A thin wrapper of ``pystoi.stoi``; the shorter signal sets the length. 1 is identical,
    about 0.4–0.5 is unintelligible.
    """
    from pystoi import stoi as _stoi

    x, y = check_waveform(reference, sample_rate, name="reference", dtype=np.float64), check_waveform(test, sample_rate, name="test", dtype=np.float64)
    n = min(len(x), len(y))
    return float(_stoi(x[:n], y[:n], sample_rate, extended=False))
