"""The TTS text front end (course_utils.text): normalisation with num2words, CMU dictionary + eSpeak NG phonemes."""
from __future__ import annotations

import pytest

from course_utils import text


@pytest.mark.parametrize("written, spoken", [
    ("Call 911 in 2024.", "call nine one one in twenty twenty four ."),
    ("In 1984, 250 cars", "in nineteen eighty four , two hundred and fifty cars"),
    ("1,000,000 people", "one million people"),
    ("He came 21st!", "he came twenty first !"),
    ("It's 3.5% off", "it's three point five percent off"),
    ("Mr. Smith & Dr. Jones", "mister smith and doctor jones"),
    ("A well-known man - really?", "a well known man , really ?"),
    ("Héllo; \u201cworld\u201d", "hello , world"),
])
def test_normalize_text(written, spoken):
    assert text.normalize_text(written) == spoken


@pytest.mark.parametrize("bad, match", [
    ("", "empty"), ("   ", "empty"), ("...!?", "no letters"), ("hello \U0001F600 world", "no English reading"),
    ("\u043f\u0440\u0438\u0432\u0435\u0442", "no English reading"), ("a ^ b", "no spoken form"), (None, "must be a str"),
    ("a" * (text.MAX_TEXT_CHARS + 1), "at most"),
])
def test_unreadable_text_raises_text_error(bad, match):
    with pytest.raises(text.TextError, match=match):
        text.phonemize(bad)


def test_phonemize_uses_the_dictionary_pauses_and_end_marks():
    assert text.phonemize("Hello, world") == ["sil", "HH", "AH", "L", "OW", ",", "W", "ER", "L", "D", "."]
    tokens = text.phonemize("Is it? Yes!")
    assert tokens == ["sil", "IH", "Z", "IH", "T", "?", "sil", "Y", "EH", "S", "!"]
    assert all(t in text.SYMBOLS for t in text.phonemize("Whittemore met zyxtrobble at 10:30."))


def test_words_outside_the_dictionary_get_espeak_phones():
    assert "zyxtrobble" not in text.cmu_dictionary()
    phones = text.pronounce("zyxtrobble")
    assert phones[:2] == ("Z", "IH") and set(phones) <= set(text.PHONES)
    assert text.pronounce("read") == text.cmu_dictionary()["read"][0]


def test_split_sentences_keeps_every_word():
    long = "One two three, four five six seven. Eight nine"
    parts = text.split_sentences(long, max_words=3)
    assert parts == ["one two three .", "four five six .", "seven .", "eight nine ."]
    paragraph = "The cat sat on the mat, and then it slept. " * 300  # about 13,000 characters
    sentences = text.split_sentences(paragraph)
    assert len(sentences) == 300
    assert sentences[0] == "the cat sat on the mat , and then it slept ."  # nine words, a pause, an end mark
    assert sum(s.count(" ") for s in sentences) == 300 * 11
    ids = text.token_ids(text.phonemize(paragraph))
    assert ids.dtype.name == "int32" and len(ids) > 6000


@pytest.mark.parametrize("written, spoken", [
    ("It's 3:30 p.m.", "it's three thirty p m ."),
    ("U.S.A.", "u s a ."),
    ("$5", "five dollars"),
    ("$3.50", "three dollars and fifty cents"),
    ("I said no.", "i said no ."),
    ("No. 5", "number five"),
    ("St. Louis", "saint louis"),
    ("Version 2.0.1", "version two point zero point one"),
    ("5stars", "five stars"),
    ("1,000th", "one thousandth"),
    ("the 1990s", "the nineteen nineties"),
    ("pages 3-5", "pages three to five"),
    ("-5 degrees", "minus five degrees"),
    ("Smith Jr. Then he left", "smith junior . then he left"),
])
def test_normalize_text_reads_what_is_written(written, spoken):
    assert text.normalize_text(written) == spoken
