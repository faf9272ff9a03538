"""Notebook 05 — the text front end of speech synthesis: normalisation, then phonemes.

A TTS model reads sounds, not letters ("though" and "through" share four letters and no
vowel). The front end turns any English text into the phoneme tokens the models read:

1. **normalisation** (:func:`normalize_text`): numbers become words with ``num2words``
   ("in 1984" → "in nineteen eighty four", "call 911" → "call nine one one"), a few
   abbreviations and symbols are spelt out, accents are stripped;
2. **phonemes** (:func:`phonemize`): ARPAbet from the CMU Pronouncing Dictionary that ships in
   PocketSphinx's wheel (``cmudict-en-us.dict``, the dictionary the forced aligner uses too), and for
   words not in it, eSpeak NG's letter-to-sound rules (:func:`espeak_phonemes`), mapped from IPA to the
   same 39 ARPAbet phones (:data:`IPA_TO_ARPABET`);
3. **pauses**: commas, semicolons, colons and dashes become a pause token ``","``; each sentence starts
   with ``"sil"`` and ends with its own punctuation (``"."``, ``"?"`` or ``"!"``), so the models can learn
   a question's rising pitch.

Nothing is dropped silently: text the front end cannot read raises :class:`TextError` naming the
part it cannot read.
"""
from __future__ import annotations

import ctypes
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np

#: The 39 ARPAbet phones of the CMU dictionary (stress removed), as PocketSphinx's en-us model names them.
PHONES = ("AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH", "IH", "IY",
          "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH", "UH", "UW", "V", "W", "Y",
          "Z", "ZH")
PAD, SILENCE, PAUSE = "_", "sil", ","
SENTENCE_ENDS = (".", "?", "!")
#: Every token a model reads; index 0 is padding.
SYMBOLS = (PAD, SILENCE, PAUSE) + SENTENCE_ENDS + PHONES
SYMBOL_ID = {s: i for i, s in enumerate(SYMBOLS)}
#: Longest text :func:`phonemize` accepts in one call (characters); :func:`split_sentences` first.
MAX_TEXT_CHARS = 100_000


class TextError(ValueError):
    """Text that cannot be spoken: not a str, empty, only punctuation, or characters the front end cannot read."""


# ----------------------------------------------------------------------------- normalisation

_TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": " - ",
                             "\u2014": " - ", "\u2026": ".", "\u00a0": " "})
#: Changes whenever normalisation or phonemisation changes (part of the TTS feature cache's key).
VERSION = "2"
#: Titles, spelt out; they stand before a name, so their full stop never ends a sentence.
TITLES = {"mr.": "mister", "mrs.": "missus", "ms.": "miz", "dr.": "doctor", "prof.": "professor"}
#: Other abbreviations, spelt out; their full stop also ends the sentence when a capital letter or the
#: end of the text follows ("… Smith Jr. Then …").
ABBREVIATIONS = {"jr.": "junior", "sr.": "senior", "vs.": "versus", "e.g.": "for example", "i.e.": "that is",
                 "etc.": "et cetera", "approx.": "approximately", "a.m.": "a m", "p.m.": "p m"}
#: Symbols read as words.
SYMBOL_WORDS = {"&": " and ", "+": " plus ", "=": " equals ", "@": " at ", "%": " percent ", "#": " number ",
                "/": " slash ", "*": " star "}
#: Words after which a number is read digit by digit ("call 911", "room 101").
DIGIT_CONTEXT = {"call", "dial", "phone", "number", "code", "pin", "room", "flight", "route", "extension"}
_NUMBER_PATTERN = r"\$?\d[\d,]*(?:\.\d+)*(?:(?:st|nd|rd|th|s)(?![a-z]))?%?"
_NUMBER = re.compile(_NUMBER_PATTERN)


def _digits(token: str) -> str:
    from num2words import num2words

    return " ".join(num2words(int(d)) for d in token)


def _say_number(token: str, previous_word: str) -> str:
    """One number token → words, with num2words (rules in :func:`normalize_text`)."""
    from num2words import num2words

    dollars = token.startswith("$")
    token = token.lstrip("$")
    percent = token.endswith("%")
    token = token.rstrip("%")
    ordinal = re.fullmatch(r"(\d{1,3}(?:,\d{3})+|\d+)(st|nd|rd|th)", token)
    if ordinal:
        return num2words(int(ordinal.group(1).replace(",", "")), to="ordinal").replace("-", " ")
    decade = re.fullmatch(r"(\d+)s", token)  # the 1990s, the 80s
    if decade:
        words = _say_number(decade.group(1), "")
        return words[:-1] + "ies" if words.endswith("y") else words + "s"
    grouped = re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", token)  # 1,000,000
    if grouped:
        token = token.replace(",", "")
    elif "," in token:  # "3,4" — two numbers in a list
        return " , ".join(_say_number(t, "") for t in token.split(",") if t)
    if dollars:
        whole, _, cents = token.partition(".")
        words = num2words(int(whole)) + (" dollar" if int(whole) == 1 else " dollars")
        if cents.strip("0"):
            words += " and " + num2words(int(cents[:2].ljust(2, "0"))) + " cents"
    elif "." in token:  # 3.50 → three point five zero; 2.0.1 → two point zero point one
        whole, *parts = token.split(".")
        words = " point ".join([num2words(int(whole))] + [_digits(p) for p in parts])
    elif grouped:
        words = num2words(int(token))
    elif previous_word in DIGIT_CONTEXT or token.startswith("0") and len(token) > 1 or len(token) >= 5:
        words = _digits(token)
    elif len(token) == 4 and 1100 <= int(token) <= 2099:
        words = num2words(int(token), to="year")
    else:
        words = num2words(int(token))
    return words.replace("-", " ").replace(",", "") + (" percent" if percent else "")


def _say_time(match) -> str:
    """"3:30" → "three thirty", "3:05" → "three oh five", "3:00" → "three o'clock"."""
    from num2words import num2words

    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes == 0:
        return f" {num2words(hours)} o'clock "
    return f" {num2words(hours)} {'oh ' if minutes < 10 else ''}{num2words(minutes).replace('-', ' ')} "


def _expand_abbreviations(text: str) -> str:
    """Spell out :data:`TITLES`, :data:`ABBREVIATIONS`, "No. 5", "St." and dotted initials ("U.S.A."), before
    lower-casing (a capital letter after an abbreviation tells that its full stop also ends the sentence)."""
    def ends_sentence(rest: str) -> bool:
        return not rest.strip() or bool(re.match(r"\s+[A-Z]", rest))

    def expand(pattern, spoken, can_end=True):
        nonlocal text
        out, last = [], 0
        for m in re.finditer(pattern, text, flags=re.IGNORECASE):
            words = spoken(m) if callable(spoken) else spoken
            out += [text[last:m.start()], f" {words} " + (". " if can_end and ends_sentence(text[m.end():]) else "")]
            last = m.end()
        text = "".join(out) + text[last:]

    for short, full in TITLES.items():
        expand(rf"(?<![a-z]){re.escape(short)}", full, can_end=False)
    for short, full in ABBREVIATIONS.items():
        expand(rf"(?<![a-z]){re.escape(short)}", full)
    expand(r"\bno\.(?=\s*\d)", "number", can_end=False)
    expand(r"\bst\.(?=\s+[A-Z])", "saint", can_end=False)  # St. Louis; "Main St." is a street
    expand(r"\bst\.", "street")
    expand(r"\b(?:[a-z]\.){2,}", lambda m: " ".join(m.group(0).replace(".", "")))  # U.S.A. → u s a
    return text


def normalize_text(text: str) -> str:
    """Written English → the words a reader would say, lower case, with the punctuation that marks pauses.

    Rules, in order: typographic quotes and dashes become ASCII; accents are stripped (é → e);
    :data:`TITLES`, :data:`ABBREVIATIONS` ("No. 5", "St.", "U.S.A." too) and :data:`SYMBOL_WORDS` are spelt out; numbers become words with
    ``num2words`` (its hyphens become spaces) — times ("3:30" → "three thirty"), ranges ("3-5" → "three to
    five"), ordinals ("21st" → "twenty first"), decades ("1990s"), money ("$5.50" → "five dollars and fifty
    cents"), decimals ("3.5" → "three point five"), grouped thousands ("1,000"), years (four digits
    1100–2099: "1984" → "nineteen eighty four"), digit by digit after :data:`DIGIT_CONTEXT` words,
    with a leading zero or from five digits on ("call 911" → "call nine one one"), and other
    cardinals ("250" → "two hundred and fifty"); ``; : -`` become commas; quotes and brackets,
    which are not spoken, are removed.

    Parameters
    ----------
    text : str
        At most :data:`MAX_TEXT_CHARS` characters.

    Returns
    -------
    str
        Lower-case words (letters and apostrophes), ``, . ? !``, single spaces.

    Raises
    ------
    TextError
        ``text`` is not a str, longer than :data:`MAX_TEXT_CHARS`, has no letters or numbers,
        or has characters with no spoken form (emoji, non-Latin script, ``^ ~ |``…; the message
        lists them).

    Examples
    --------
    >>> normalize_text("Call 911 in 2024; it's 3.5% off!")
    "call nine one one in twenty twenty four , it's three point five percent off !"
    """
    if not isinstance(text, str):
        raise TextError(f"text must be a str, got {type(text).__name__}")
    if not text.strip():
        raise TextError("text is empty (nothing to speak)")
    if len(text) > MAX_TEXT_CHARS:
        raise TextError(f"text has {len(text):,} characters; at most {MAX_TEXT_CHARS:,} at once")
    typed = text.translate(_TYPOGRAPHY)
    text = "".join(c for c in unicodedata.normalize("NFKD", typed) if not unicodedata.combining(c))
    foreign = sorted({c for c in typed if ord(c) > 127 and any(ord(d) > 127 for d in
                                                                unicodedata.normalize("NFKD", c)
                                                                if not unicodedata.combining(d))})
    if foreign:
        shown = "".join(foreign[:10]) + ("…" if len(foreign) > 10 else "")
        raise TextError(f"characters with no English reading: {shown!r} (emoji, symbols or a non-Latin script)")
    text = _expand_abbreviations(text).lower()
    text = re.sub(r"\b(\d{1,2}):(\d{2})\b", _say_time, text)  # 3:30
    text = re.sub(r"(?<=\d)-(?=\d)", " to ", text)  # 3-5
    text = re.sub(r"(?<![\w.])-(?=\d)", " minus ", text)  # -5
    text = re.sub(r"(?<![\w])\.(?=\d)", " point ", text)  # .5
    words_so_far: list[str] = []
    out = []
    for piece in re.split(f"({_NUMBER_PATTERN})", text):
        if _NUMBER.fullmatch(piece or "-"):
            previous = words_so_far[-1] if words_so_far else ""
            piece = " " + _say_number(piece.rstrip(","), previous) + (" , " if piece.endswith(",") else " ")
        else:
            for symbol, word in SYMBOL_WORDS.items():
                piece = piece.replace(symbol, word)
        words_so_far += re.findall(r"[a-z']+", piece)
        out.append(piece)
    text = "".join(out)
    text = re.sub(r"[\"()\[\]{}`]", " ", text)
    text = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text)  # well-known → well known
    text = re.sub(r"[;:\-]+", ",", text)
    text = re.sub(r"([,.?!])", r" \1 ", text)
    unreadable = sorted(set(re.sub(r"[a-z', .?!\s]", "", text)))
    if unreadable:
        raise TextError(f"characters with no spoken form: {unreadable}")
    if not re.search(r"[a-z]", text):
        raise TextError(f"text has no letters, so no words to speak (got {text.strip()[:40]!r})")
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"(?<=[a-z])'(?![a-z])|(?<![a-z])'", " ", text)  # quote marks, not apostrophes
    return re.sub(r"\s+", " ", text).strip()


def split_sentences(text: str, max_words: int = 40) -> list[str]:
    """Split text into sentences of at most ``max_words`` words (long ones at commas, then anywhere).

    Parameters
    ----------
    text : str
        Any English text (at most :data:`MAX_TEXT_CHARS` characters).
    max_words : int
        Longest sentence, in words; a longer one is cut at its last comma within the limit, else after
        ``max_words`` words (each piece ends with ``.``).

    Returns
    -------
    list of str
        Normalised (:func:`normalize_text`) sentences, each ending in ``. ? !``.

    Raises
    ------
    TextError
        As :func:`normalize_text`.
    """
    tokens = normalize_text(text).split()
    sentences, current = [], []
    for token in tokens:
        current.append(token)
        if token in SENTENCE_ENDS:
            sentences.append(current)
            current = []
    if current:
        sentences.append(current + ["."])
    out = []
    for sentence in sentences:
        while sum(t[0].isalpha() or t[0] == "'" for t in sentence) > max_words:
            words = [i for i, t in enumerate(sentence) if t not in SENTENCE_ENDS + (PAUSE,)]
            limit = words[max_words - 1]
            commas = [i for i, t in enumerate(sentence[:limit + 1]) if t == PAUSE and i > 0]
            cut = commas[-1] if commas else limit + 1
            out.append(sentence[:cut] + ["."])
            sentence = sentence[cut:]
            while sentence and sentence[0] == PAUSE:
                sentence = sentence[1:]
        if any(t not in SENTENCE_ENDS + (PAUSE,) for t in sentence):
            out.append(sentence)
    return [" ".join(s) for s in out]


# ----------------------------------------------------------------------------- phonemes


@lru_cache(maxsize=1)
def cmu_dictionary() -> dict:
    """The CMU Pronouncing Dictionary shipped in PocketSphinx's wheel: word → list of pronunciations.

    Returns
    -------
    dict of str to list of tuple of str
        ``{"read": [("R", "IY", "D"), ("R", "EH", "D")], …}`` (about 134,000 words), ARPAbet
        without stress marks, the first pronunciation first.
    """
    import pocketsphinx

    path = Path(pocketsphinx.get_model_path()) / "en-us" / "cmudict-en-us.dict"
    if not path.exists():
        path = Path(pocketsphinx.get_model_path()) / "cmudict-en-us.dict"
    words: dict = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) > 1:
                words.setdefault(re.sub(r"\(\d+\)$", "", parts[0]), []).append(tuple(parts[1:]))
    return words


#: eSpeak NG's US-English IPA → ARPAbet, longest symbol first (Wikipedia's ARPAbet table).
IPA_TO_ARPABET = {
    "aɪ": "AY", "aʊ": "AW", "eɪ": "EY", "oʊ": "OW", "əʊ": "OW", "ɔɪ": "OY", "tʃ": "CH", "dʒ": "JH", "ɜː": "ER",
    "ɚ": "ER", "ɝ": "ER", "ɜ": "ER", "ə": "AH", "ɐ": "AH", "ʌ": "AH", "æ": "AE", "ɑ": "AA", "ɒ": "AA", "a": "AA",
    "ɔ": "AO", "ɛ": "EH", "e": "EH", "ɪ": "IH", "ᵻ": "IH", "i": "IY", "ʊ": "UH", "u": "UW", "o": "OW",
    "b": "B", "d": "D", "f": "F", "ɡ": "G", "g": "G", "h": "HH", "k": "K", "l": "L", "m": "M", "n": "N",
    "ŋ": "NG", "p": "P", "ɹ": "R", "r": "R", "s": "S", "ʃ": "SH", "t": "T", "θ": "TH", "ð": "DH", "v": "V",
    "w": "W", "j": "Y", "z": "Z", "ʒ": "ZH", "ɾ": "T", "ʔ": "T", "x": "HH", "ç": "HH", "ɬ": "L", "ɫ": "L",
}
_IGNORED_IPA = set("ˈˌː̩ ‿-")


def espeak_phonemes(word: str) -> tuple:
    """ARPAbet for a word not in the dictionary, by eSpeak NG's letter-to-sound rules (voice ``en-us``).

    Parameters
    ----------
    word : str
        Lower-case letters and apostrophes.

    Returns
    -------
    tuple of str
        Phones of :data:`PHONES`.

    Raises
    ------
    TextError
        eSpeak NG gave IPA this table cannot map (the message names the symbol and the word).
    """
    from .data import fallback

    lib, _, _ = fallback._espeak()
    lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
    lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int]
    lib.espeak_SetVoiceByName(b"en-us")
    ipa = lib.espeak_TextToPhonemes(ctypes.byref(ctypes.c_char_p(word.encode())), 1, 0x02).decode()
    phones, i = [], 0
    while i < len(ipa):
        if ipa[i] in _IGNORED_IPA:
            i += 1
            continue
        for size in (2, 1):
            if ipa[i:i + size] in IPA_TO_ARPABET:
                phones.append(IPA_TO_ARPABET[ipa[i:i + size]])
                i += size
                break
        else:
            raise TextError(f"eSpeak NG read {word!r} as {ipa!r}; no ARPAbet phone for {ipa[i]!r}")
    return tuple(phones)


@lru_cache(maxsize=20000)
def pronounce(word: str) -> tuple:
    """ARPAbet phones of one word: the CMU dictionary's first pronunciation, else eSpeak NG's rules.

    Parameters
    ----------
    word : str
        Lower case (as :func:`normalize_text` writes it).

    Returns
    -------
    tuple of str

    Raises
    ------
    TextError
        Not a word of letters and apostrophes.
    """
    if not re.fullmatch(r"[a-z']*[a-z][a-z']*", word):
        raise TextError(f"not a word: {word!r}")
    entries = cmu_dictionary().get(word)
    return entries[0] if entries else espeak_phonemes(word.strip("'"))


def phonemize(text: str) -> list[str]:
    """English text → the phoneme tokens the TTS models read.

    Parameters
    ----------
    text : str
        Any English text (:func:`normalize_text`); split long text with :func:`split_sentences` first
        to synthesise it one sentence at a time.

    Returns
    -------
    list of str
        Tokens of :data:`SYMBOLS`: each sentence is ``"sil"``, the ARPAbet phones of its words with ``","``
        at pauses, and its end mark (``"."`` when the text has none).

    Raises
    ------
    TextError
        As :func:`normalize_text`.

    Examples
    --------
    >>> phonemize("Hello, world")
    ['sil', 'HH', 'AH', 'L', 'OW', ',', 'W', 'ER', 'L', 'D', '.']
    """
    tokens = []
    for sentence in split_sentences(text, max_words=10**9):
        tokens.append(SILENCE)
        for word in sentence.split():
            if word in SENTENCE_ENDS:
                tokens.append(word)
            elif word == PAUSE:
                if tokens[-1] != PAUSE and tokens[-1] != SILENCE:
                    tokens.append(PAUSE)
            else:
                tokens.extend(pronounce(word))
        if tokens[-2] == PAUSE:  # "word, ." → "word ."
            del tokens[-2]
    return tokens


def token_ids(tokens) -> np.ndarray:
    """Tokens (:func:`phonemize`) → int32 ids of :data:`SYMBOLS`.

    Parameters
    ----------
    tokens : sequence of str

    Returns
    -------
    np.ndarray, int32, shape (len(tokens),)
        Index into :data:`SYMBOLS` (0 is padding, never produced).

    Raises
    ------
    TextError
        A token not in :data:`SYMBOLS` (named in the message).
    """
    unknown = [t for t in tokens if t not in SYMBOL_ID]
    if unknown:
        raise TextError(f"tokens not in the phoneme set: {sorted(set(unknown))[:10]}")
    return np.array([SYMBOL_ID[t] for t in tokens], np.int32)
