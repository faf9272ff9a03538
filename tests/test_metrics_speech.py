"""Speech measurements (course_utils.metrics.speech) and the WORLD vocoder (course_utils.audio)."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import audio
from course_utils import metrics as se
from course_utils.audio import AudioError
from course_utils.data.fallback import espeak_say


@pytest.fixture(scope="module")
def sentence():
    import librosa

    y, rate = espeak_say("the birch canoe slid on the smooth planks", "en-us", rate_wpm=140)
    return librosa.resample(y, orig_sr=rate, target_sr=16000).astype(np.float32)


def test_normalize_text():
    assert se.normalize_text("Author of the danger-trail, Philip Steels, etc.") == \
        "author of the danger trail philip steels etc"


def test_pocketsphinx_hears_clear_speech_and_errors_are_pooled():
    y, rate = espeak_say("one two three four five", "en-us", rate_wpm=120)
    hyp = se.transcribe_pocketsphinx(y, rate)  # 22050 Hz: resampled inside
    cer, wer = se.error_rates(["one two three four five"], [hyp])
    assert cer < 0.35 and wer < 0.5, hyp  # robotic eSpeak speech: a generous bound shows the listener works
    assert se.error_rates(["a b"], ["a b"]) == (0.0, 0.0)
    rates = se.error_rates(["407", "12"], ["47", "12"], characters_as_words=True)
    assert rates.wer == pytest.approx(1 / 5) and rates.cer == pytest.approx(1 / 5)
    with pytest.raises(ValueError, match="2 references but 1"):
        se.error_rates(["a", "b"], ["a"])
    assert isinstance(se.transcribe_pocketsphinx(np.zeros(16000, np.float32), 16000), str)
    cer_noise, _ = se.recognizer_cer([np.random.default_rng(0).normal(0, 0.3, 16000)], ["hello world"], 16000)
    assert cer_noise > 0.5
    with pytest.raises(AudioError, match="mono"):
        se.transcribe_pocketsphinx(np.zeros((2, 100)), 16000)
    with pytest.raises(AudioError, match="empty"):
        se.transcribe_pocketsphinx(np.zeros(0), 16000)


def test_world_round_trip_and_distances(sentence):
    f = audio.world_features(sentence, 16000, order=24)
    assert f.mcep.shape[1] == 25 and len(f.f0) == len(f.mcep) == len(f.bap)
    assert (f.f0 > 0).mean() > 0.3  # voiced speech
    y = audio.world_synthesize(f)
    assert abs(len(y) - len(sentence)) < 0.01 * 16000 + 200
    assert se.mcd_frames(f.mcep, f.mcep) == 0.0
    assert se.mel_cepstral_distortion(sentence, y, 16000) < 5.0  # analysis/synthesis, same speaker
    louder = np.clip(sentence * 1.5, -1, 1)
    assert se.stoi(sentence, sentence, 16000) > 0.99 and se.stoi(sentence, y, 16000) > 0.8
    assert se.log_spectral_distance(sentence, sentence, 16000) == 0.0
    assert se.log_spectral_distance(sentence, louder, 16000) > 1.0
    assert se.f0_rmse(f.f0, f.f0) == 0.0
    assert abs(se.f0_rmse(f.f0, np.where(f.f0 > 0, f.f0 + 10, 0)) - 10) < 1e-9
    with pytest.raises(ValueError, match="aligned"):
        se.f0_rmse(f.f0, f.f0[:-1])
    with pytest.raises(ValueError, match="equal lengths"):
        se.mcd_frames(f.mcep, f.mcep[:-3], align=False)


def test_mcd_known_value():
    a = np.zeros((5, 25))
    b = a.copy()
    b[:, 1] = 1.0  # one coefficient off by 1 -> 10/ln10 * sqrt(2)
    assert se.mcd_frames(a, b, align=False) == pytest.approx(10 / np.log(10) * np.sqrt(2))
    b[:, 0] = 50.0  # c0 (energy) does not count
    assert se.mcd_frames(a, b, align=False) == pytest.approx(10 / np.log(10) * np.sqrt(2))


def test_pocketsphinx_vocabulary_grammar():
    from course_utils import recognition as rec

    y, rate = espeak_say("four zero seven", "en-us", rate_wpm=120)
    digits = rec.pocketsphinx_digits(y, rate)
    assert digits.isdigit() and se.error_rates(["407"], [digits], characters_as_words=True).wer <= 1 / 3, digits
    # sequence=False: exactly one word of the grammar. Which digit is not asserted: eSpeak NG's waveform for
    # "seven" depends on what the process synthesised before (15,017 samples on the first call, 15,028 after),
    # and PocketSphinx hears those as "0" and "7".
    one, rate = espeak_say("seven", "en-us", rate_wpm=120)
    heard = rec.pocketsphinx_digits(one, rate, sequence=False)
    assert len(heard) == 1 and heard.isdigit(), heard
    # the batch form (parallel processes) hears the same digits as one by one, in input order
    assert rec.pocketsphinx_digits_batch([one, y, one], rate) == [rec.pocketsphinx_digits(one, rate), digits,
                                                                 rec.pocketsphinx_digits(one, rate)]
    assert rec.pocketsphinx_digits_batch([y, one], rate, sequence=False) == [
        rec.pocketsphinx_digits(y, rate, sequence=False), heard]
    # the grammar admits nothing but its words, even for a sentence outside it
    words = se.transcribe_pocketsphinx(*espeak_say("hello world", "en-us"), vocabulary=("yes", "no"))
    assert set(words.split()) <= {"yes", "no"}
    with pytest.raises(ValueError, match="dictionary"):
        se.transcribe_pocketsphinx(y, rate, vocabulary=("seven", "qzxvbn"))


def test_pocketsphinx_hears_the_same_clip_the_same_way_whatever_it_heard_before():
    x, rate = espeak_say("the zebra ran across the field", "en-us")
    y, rate_y = espeak_say("four zero seven", "en-us", rate_wpm=120)
    first = se.transcribe_pocketsphinx(x, rate)
    se.transcribe_pocketsphinx(y, rate_y)
    se.transcribe_pocketsphinx(np.random.default_rng(0).normal(0, 0.3, rate).astype(np.float32), rate)  # loud noise
    assert se.transcribe_pocketsphinx(x, rate) == first and first  # (what it hears varies with eSpeak's history)


def test_psnr_reductions():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-9, 10, a.shape), 0, 255).astype(np.uint8)
    b[0] = a[0] // 2  # one image much worse: the mean of PSNRs and the pooled PSNR differ
    each = se.psnr(a, b, reduction="none")
    assert each.shape == (3,) and se.psnr(a[1], b[1]) == pytest.approx(each[1])
    assert se.psnr(a, b, reduction="mean") == pytest.approx(each.mean())
    mse = np.mean((a.astype(float) - b) ** 2)
    assert se.psnr(a, b, reduction="pooled") == pytest.approx(10 * np.log10(255 ** 2 / mse))
    assert se.psnr(a, b, reduction="pooled") < se.psnr(a, b, reduction="mean")
    assert se.psnr(a[0], a[0]) == float("inf")
    with pytest.raises(ValueError, match="reduction"):
        se.psnr(a, b)
    with pytest.raises(ValueError, match="shape"):
        se.psnr(a, b[:2], reduction="mean")


def test_batch_decoding_in_processes_hears_what_one_by_one_hears():
    from course_utils import recognition as rec
    from course_utils.data import DIGIT_WORDS

    said = ("four zero seven", "the zebra ran across the field", "one two")
    clips = [espeak_say(text, "en-us", rate_wpm=120) for text in said]
    rate = clips[0][1]
    clips = [y for y, _ in clips]
    one_by_one = [se.transcribe_pocketsphinx(y, rate) for y in clips]
    assert len(set(one_by_one)) == 3  # distinct, so a swapped order would show
    assert se.transcribe_pocketsphinx_batch(clips, rate, workers=2) == one_by_one
    assert se.transcribe_pocketsphinx_batch(clips, rate, workers=1) == one_by_one
    grammar = dict(vocabulary=DIGIT_WORDS, sequence=True, silprob=3.0)
    words = se.transcribe_pocketsphinx_batch(clips, rate, workers=2, **grammar)
    assert words == [se.transcribe_pocketsphinx(y, rate, **grammar) for y in clips]
    assert rec.digits_from_words(words[0]).isdigit()
    assert se.transcribe_pocketsphinx_batch([], rate) == []
    with pytest.raises(AudioError, match="mono"):  # raised in a worker, re-raised here
        se.transcribe_pocketsphinx_batch([clips[0], np.zeros((2, 100))], rate, workers=2)
    assert se.transcribe_pocketsphinx_batch(clips, rate, workers=2) == one_by_one  # the pool still works
    with pytest.raises(ValueError, match="workers"):
        se.transcribe_pocketsphinx_batch(clips, rate, workers=0)
    with pytest.raises(ValueError, match="positive"):
        se.transcribe_pocketsphinx_batch(clips, rate, silprob=0.0)


def test_digits_from_words():
    from course_utils import recognition as rec

    assert rec.digits_from_words("four zero seven") == "407" and rec.digits_from_words("") == ""
    with pytest.raises(ValueError, match="hello"):
        rec.digits_from_words("four hello")


def test_default_workers_are_one_where_spawn_would_run_the_main_script_again(monkeypatch):
    import sys
    import types

    def main(name=None, file=None):
        module = types.ModuleType("__main__")
        module.__spec__ = None if name is None else types.SimpleNamespace(name=name)
        if file is not None:
            module.__file__ = file
        monkeypatch.setitem(sys.modules, "__main__", module)
        return se.speech._default_workers()

    assert main(file="/tmp/script.py") == 1  # python script.py
    assert main(name="package.module", file="/tmp/package/module.py") == 1  # python -m package.module
    cores = main(name="pytest.__main__", file="/tmp/pytest/__main__.py")  # python -m pytest
    assert cores == main() and 1 <= cores <= 8  # also a notebook, the interactive prompt
