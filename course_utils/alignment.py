"""Notebook 05 — forced alignment: when is each phone of a known sentence spoken?

A recogniser searches over every possible sentence; a *forced aligner* is told the sentence and
only searches for where each of its phones begins and ends. Here that is PocketSphinx's own
aligner (``Decoder.set_align_text``, then ``set_alignment`` for phone-level segments, with the
US-English acoustic model in its wheel), as Merlin's ``slt`` recipe uses HTK's. The phone
durations it finds are what the duration model (:mod:`course_utils.tts`) learns to predict.

The aligner has no pause between words, so a pause at a comma is carved out of the phones around
it: the longest run of frames near the recording's noise floor next to the boundary (:func:`align`).

Frames are PocketSphinx's: 10 ms (:data:`FRAME_SECONDS`).
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import text as text_frontend
from .audio import check_waveform

SAMPLE_RATE = 16000
#: Seconds per alignment frame (PocketSphinx's frame rate, 100 frames/s).
FRAME_SECONDS = 0.01
#: Most silence kept before the first and after the last phone (frames).
MAX_EDGE_SILENCE = 20
#: A frame is silent when its energy is within this many dB of the recording's noise floor.
SILENCE_MARGIN_DB = 10.0


class AlignmentError(ValueError):
    """PocketSphinx could not align the recording with the text."""


class Alignment(NamedTuple):
    """Phone durations of one recording, in the token form :func:`course_utils.text.phonemize` writes.

    Attributes
    ----------
    tokens : list of str
        ``"sil"``, phones (the pronunciation the aligner chose, e.g. one of "read"'s two), ``","`` at
        pauses, the end mark.
    durations : np.ndarray, int32, shape (len(tokens),)
        Frames of :data:`FRAME_SECONDS` per token (a pause may last 0 frames).
    first_frame : int
        Where ``tokens[0]`` starts in the recording (leading silence beyond
        :data:`MAX_EDGE_SILENCE` is cut); ``durations.sum()`` frames follow.
    words : list of tuple
        ``(word, start_seconds, end_seconds)`` in the recording's time.
    """

    tokens: list
    durations: np.ndarray
    first_frame: int
    words: list


#: Changes when the alignment method changes (part of the TTS feature cache's key).
VERSION = "pocketsphinx-5.1.1/bestpath-off/reinit-feat/3"


@lru_cache(maxsize=1)
def _aligner():
    from pocketsphinx import Decoder

    # bestpath=False, as PocketSphinx's own command line sets for phone alignment: the best-path search
    # can end the first pass with a one-frame "</s>" that the phone pass then cannot fit, and it fails with
    # "Failed to stop utterance processing" (cmusphinx/pocketsphinx#339, #354). Measured on slt: with the
    # default, 61 of 1,032 utterances failed that way; without it, none of 40 of them.
    return Decoder(samprate=SAMPLE_RATE, loglevel="FATAL", bestpath=False)


def frame_energy_db(waveform: np.ndarray) -> np.ndarray:
    """RMS energy of 25 ms frames every 10 ms (one per alignment frame), in dB full scale.

    Parameters
    ----------
    waveform : np.ndarray, float, shape (n_samples,)
        16 kHz.

    Returns
    -------
    np.ndarray, float64, shape (n_samples // 160,)
    """
    import librosa

    hop = int(SAMPLE_RATE * FRAME_SECONDS)
    padded = np.pad(np.asarray(waveform, np.float64), (0, 400))
    rms = librosa.feature.rms(y=padded, frame_length=400, hop_length=hop, center=False)[0]
    return 20 * np.log10(np.maximum(rms[:len(waveform) // hop], 1e-8))


def silent_frames(waveform: np.ndarray) -> np.ndarray:
    """Which alignment frames are silent: energy within :data:`SILENCE_MARGIN_DB` of the noise floor.

    The noise floor is the 5th percentile of the recording's frame energies (:func:`frame_energy_db`).

    Parameters
    ----------
    waveform : np.ndarray, float, shape (n_samples,)
        16 kHz.

    Returns
    -------
    np.ndarray, bool, shape (n_samples // 160,)
        One entry per 10 ms frame.
    """
    energy = frame_energy_db(waveform)
    floor = np.percentile(energy, 5) if len(energy) else 0.0
    return energy < floor + SILENCE_MARGIN_DB


def _longest_silence(silent: np.ndarray, lo: int, hi: int, default: tuple, min_frames: int = 3) -> tuple:
    """(start, end) of the longest run of silent frames in ``[lo, hi)`` if it lasts ``min_frames``, else ``default``."""
    best, run_start = (0, 0), None
    for f in range(max(lo, 0), min(hi, len(silent)) + 1):
        if f < min(hi, len(silent)) and silent[f]:
            run_start = f if run_start is None else run_start
        elif run_start is not None:
            best = max(best, (f - run_start, run_start))
            run_start = None
    length, start = best
    return (start, start + length) if length >= min_frames else default


def _pocketsphinx_words(decoder, pcm: np.ndarray, words: list) -> list:
    """Run the two alignment passes; return ``[(word or None, start, [(phone, n_frames), …]), …]``."""
    for word in dict.fromkeys(words):
        if decoder.lookup_word(word) is None:
            decoder.add_word(word, " ".join(text_frontend.pronounce(word)), True)
    decoder.set_align_text(" ".join(words))
    # Fresh front-end statistics (noise removal, cepstral mean) for every recording: otherwise they carry
    # over from the previous one and the boundaries depend on what was aligned before.
    decoder.reinit_feat()
    for second_pass in (False, True):  # word segmentation, then (set_alignment) phones
        decoder.start_utt()
        decoder.process_raw(pcm.tobytes(), full_utt=True)
        decoder.end_utt()
        if not second_pass:
            if decoder.hyp() is None:
                raise AlignmentError("PocketSphinx found no path through the sentence")
            decoder.set_alignment()
    result = decoder.get_alignment()
    if result is None:
        raise AlignmentError("PocketSphinx returned no alignment")
    entries = []
    for w in result:
        name = w.name.split("(")[0]  # "philip(2)": the second pronunciation
        filler = name.startswith(("<", "[", "+"))
        entries.append((None if filler else name, w.start, [(p.name, p.duration) for p in w]))
    return entries


def align(waveform, sample_rate: int, text: str) -> Alignment:
    """Forced-align a recording with its text: the duration of every phone and pause.

    Parameters
    ----------
    waveform : np.ndarray, float, shape (n_samples,)
        Mono speech; resampled to 16 kHz.
    sample_rate : int
        Hz.
    text : str
        What is said (any English text: :func:`course_utils.text.normalize_text`).

    Returns
    -------
    Alignment
        Its tokens have the structure :func:`course_utils.text.phonemize` gives the same text
        (same pauses and end marks); only a word's pronunciation may differ.

    Raises
    ------
    course_utils.audio.AudioError
        Not a mono, finite waveform.
    course_utils.text.TextError
        Text the front end cannot read.
    AlignmentError
        PocketSphinx found no alignment (e.g. the recording does not say the text).

    Notes
    -----
    PocketSphinx 5's aligner (Huggins-Daines et al. 2006) with the bundled ``en-us`` model and
    dictionary; words not in the dictionary are added with :func:`course_utils.text.pronounce`.
    The decoder is reused between calls, but its feature extraction is reinitialised for every
    recording (``Decoder.reinit_feat``), so the alignment does not depend on what was aligned before.
    """
    y = check_waveform(waveform, sample_rate, name="recording", target_rate=SAMPLE_RATE, dtype=np.float64)
    pcm = (np.clip(y, -1, 1) * 32767).astype(np.int16)
    marks = text_frontend.SENTENCE_ENDS + (text_frontend.PAUSE,)
    sentence_tokens = " ".join(text_frontend.split_sentences(text, max_words=10**9)).split()
    words = [t for t in sentence_tokens if t not in marks]
    try:
        entries = _pocketsphinx_words(_aligner(), pcm, words)
    except RuntimeError as err:  # the search found no path to the sentence's end within its beams
        _aligner.cache_clear()  # a decoder that failed mid-utterance is not reused
        raise AlignmentError(f"PocketSphinx found no path through the sentence: {err}") from None
    aligned = [e for e in entries if e[0] is not None]
    if [e[0] for e in aligned] != words:
        missing = len(words) - len(aligned)
        raise AlignmentError(f"PocketSphinx's path skipped {missing} of the {len(words)} words" if missing > 0 else
                             f"aligned words {[e[0] for e in aligned][:6]} differ from the text's {words[:6]}")
    silent = silent_frames(y)

    def is_silent(frame):
        return 0 <= frame < len(silent) and bool(silent[frame])

    lead = aligned[0][1]
    first = max(0, lead - MAX_EDGE_SILENCE)
    tokens, durations, word_times = [text_frontend.SILENCE], [lead - first], []
    word_i, end, take_from_next = 0, lead, 0
    for k, token in enumerate(sentence_tokens):
        if token not in marks:
            word, start, phones = aligned[word_i]
            first_start = start + take_from_next  # after a carved pause, the word begins where the pause ends
            if first_start > end:  # a pause the aligner found where the text marks none: the previous token's
                durations[-1] += first_start - end
            for j, (phone, n) in enumerate(phones):
                tokens.append(phone)
                durations.append(n - (take_from_next if j == 0 else 0))
            take_from_next = 0
            end = start + sum(n for _, n in phones)
            word_times.append((word, first_start * FRAME_SECONDS, end * FRAME_SECONDS))
            word_i += 1
            continue
        if token == text_frontend.PAUSE and tokens[-1] in marks + (text_frontend.SILENCE,):
            continue  # as phonemize: no pause after a pause or at the start
        # The pause: the longest run of silent frames near the boundary (the aligner, which has no pause
        # between words, leaves it inside the phones either side), else the aligner's own silence.
        last_word = word_i == len(aligned)
        next_start = aligned[word_i][1] if not last_word else len(silent)
        lo = end - max(0, durations[-1] - 2)
        hi = next_start + max(0, aligned[word_i][2][0][1] - 2) if not last_word else len(silent)
        pause_start, pause_end = _longest_silence(silent, lo, hi, default=(end, next_start))
        if last_word:
            pause_end = min(len(silent), max(pause_end, next_start))
        durations[-1] += pause_start - end
        take_from_next = 0 if last_word else pause_end - next_start
        pause = pause_end - pause_start
        if last_word:
            pause = min(pause, MAX_EDGE_SILENCE)
        end = pause_end
        if token == text_frontend.PAUSE:
            tokens.append(token)
            durations.append(pause)
            continue
        if tokens[-1] == text_frontend.PAUSE:  # "word , ." → "word ." (as phonemize)
            tokens.pop()
            pause += durations.pop()
        tokens.append(token)
        if last_word:
            durations.append(pause)
        else:  # between sentences: half to the end mark, half to the next sentence's "sil"
            durations += [(pause + 1) // 2, pause // 2]
            tokens.append(text_frontend.SILENCE)
    durations = np.array(durations, np.int32)
    if (durations < 0).any():  # a guard: the carving above keeps every phone at least 2 frames
        raise AlignmentError(f"negative duration for {tokens[int(np.argmin(durations))]!r}")
    return Alignment(tokens, durations, first, word_times)
