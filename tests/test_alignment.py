"""Forced alignment (notebook 05): PocketSphinx's phone durations, in the token form the TTS reads."""
from __future__ import annotations

import contextlib

import numpy as np
import pytest

from course_utils import alignment, text
from course_utils.data import fallback

SENTENCE = "Please call Stella, and ask her to bring these things."


@pytest.fixture(scope="module")
def speech():
    """eSpeak NG saying the sentence, at the aligner's 16 kHz with half a second of silence either side."""
    import librosa

    y, sr = fallback.espeak_say(SENTENCE, rate_wpm=140)
    y = librosa.resample(y, orig_sr=sr, target_sr=alignment.SAMPLE_RATE)
    pad = np.zeros(alignment.SAMPLE_RATE // 2, np.float32)
    return np.concatenate([pad, y, pad])


def test_alignment_has_the_structure_phonemize_gives(speech):
    al = alignment.align(speech, alignment.SAMPLE_RATE, SENTENCE)
    marks = ("sil", ",", ".")
    expected = [t for t in text.phonemize(SENTENCE) if t in marks]
    assert [t for t in al.tokens if t in marks] == expected
    assert all(t in text.PHONES for t in al.tokens if t not in marks)
    assert al.durations.dtype == np.int32 and len(al.durations) == len(al.tokens)
    phones = [d for t, d in zip(al.tokens, al.durations) if t in text.PHONES]
    assert min(phones) >= 1 and al.durations.min() >= 0
    # Every frame of the recording after first_frame is accounted for, edge silence capped.
    n_frames = len(speech) // int(alignment.SAMPLE_RATE * alignment.FRAME_SECONDS)
    assert al.first_frame + al.durations.sum() <= n_frames
    assert al.durations[0] <= alignment.MAX_EDGE_SILENCE and al.durations[-1] <= alignment.MAX_EDGE_SILENCE
    # The final mark starts where the recording's trailing silence starts (the last phone ends there, wherever
    # the aligner put the word's end: eSpeak NG's audio moves by a few ms with what it said before), and it
    # covers only silent frames.
    silent = alignment.silent_frames(speech)
    final_mark_start = al.first_frame + int(al.durations[:-1].sum())
    assert silent[final_mark_start:].all() and not silent[final_mark_start - 1]
    last_word_start = round(al.words[-1][1] / alignment.FRAME_SECONDS)
    assert last_word_start < final_mark_start <= n_frames - 45  # after the last word began, before the 0.5 s pad
    # ... and every word starts where its first phone does.
    bounds = al.first_frame + np.concatenate([[0], np.cumsum(al.durations)])
    starts = {round(s / alignment.FRAME_SECONDS) for _, s, _ in al.words}
    assert starts <= set(bounds.tolist())
    assert [w for w, _, _ in al.words] == text.normalize_text(SENTENCE).replace(",", "").replace(".", "").split()


def test_alignment_of_a_recording_does_not_depend_on_what_was_aligned_before(speech):
    first = alignment.align(speech, alignment.SAMPLE_RATE, SENTENCE)
    other, sr = fallback.espeak_say("The zebra ran across the field.", rate_wpm=180)
    # eSpeak NG's audio depends on what it said before (so on test order): this one need not align, only
    # run PocketSphinx's passes in between, which it does before any AlignmentError.
    with contextlib.suppress(alignment.AlignmentError):
        alignment.align(other, sr, "The zebra ran across the field.")
    again = alignment.align(speech, alignment.SAMPLE_RATE, SENTENCE)
    assert again.tokens == first.tokens and again.first_frame == first.first_frame
    np.testing.assert_array_equal(again.durations, first.durations)


def test_alignment_finds_the_words_where_they_are_spoken(speech):
    al = alignment.align(speech, alignment.SAMPLE_RATE, SENTENCE)
    # The padding is 0.5 s of silence: the first word starts after it and the last ends before the end.
    assert 0.45 <= al.words[0][1] <= 0.8
    assert al.words[-1][2] <= len(speech) / alignment.SAMPLE_RATE - 0.45
    starts = [s for _, s, _ in al.words]
    assert starts == sorted(starts)
    # The pause at the comma is carved out of eSpeak's silence there (it pauses at commas).
    pause = al.durations[al.tokens.index(",")]
    assert pause >= 5, pause


def test_alignment_resamples_other_rates(speech):
    import librosa

    y = librosa.resample(speech, orig_sr=alignment.SAMPLE_RATE, target_sr=22050)
    a16 = alignment.align(speech, alignment.SAMPLE_RATE, SENTENCE)
    a22 = alignment.align(y, 22050, SENTENCE)
    assert [w for w, _, _ in a22.words] == [w for w, _, _ in a16.words]
    assert abs(int(a22.durations.sum()) - int(a16.durations.sum())) <= 10


def test_alignment_of_the_wrong_text_or_silence_fails_clearly(speech):
    with pytest.raises(alignment.AlignmentError, match="PocketSphinx"):
        alignment.align(np.zeros(alignment.SAMPLE_RATE, np.float32) + 1e-4, alignment.SAMPLE_RATE,
                        "a long sentence that nobody said in this recording at all")
    with pytest.raises(text.TextError, match="no English reading"):
        alignment.align(speech, alignment.SAMPLE_RATE, "😀")
