"""Notebook 04's digit strings (digit_strings.py): one speaker per string, CTC training, transcription, WER/CER."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import tone
from course_utils import digit_strings as ds, metrics, recognition, saving
from course_utils.audio import AudioError
from course_utils.data import DIGIT_WORDS, SpokenDigits
from course_utils.digit_features import string_log_mel
from course_utils.models import ctc


def _clip(digit: int, speaker: int = 0, seconds: float = 0.2) -> np.ndarray:
    return np.concatenate([np.zeros(400, np.float32), tone(seconds, 8000, freq=200 + 60 * digit + 7 * speaker),
                           np.zeros(400, np.float32)])


def _tone_digits(per_digit=2):
    clips = [_clip(d, s) for s in range(2) for d in range(10) for _ in range(per_digit)]
    labels = np.tile(np.repeat(np.arange(10), per_digit), 2)
    return SpokenDigits(clips, labels, np.repeat(np.array(["a", "b"]), 10 * per_digit),
                        [f"gen{i}" for i in range(len(clips))], 8000, "generated")


def test_digit_strings_are_one_speaker_and_match_their_text():
    digits = _tone_digits()
    waves, texts, who = ds.make_digit_strings(digits, 12, seed=0)
    assert len(waves) == len(texts) == len(who) == 12
    for w, t in zip(waves, texts):
        assert 3 <= len(t) <= 7 and t.isdigit() and w.dtype == np.float32
        assert len(t) * 0.2 * 8000 < len(w) < (len(t) * 0.3 + (len(t) + 1) * 0.35) * 8000  # clips + pauses
    aug_waves, aug_texts, _ = ds.make_digit_strings(digits, 12, augment=["speed", "pitch", "noise"], seed=0)
    assert len(aug_waves) == 12 and all(3 <= len(t) <= 7 and t.isdigit() for t in aug_texts)
    with pytest.raises(ValueError, match="unknown"):
        ds.make_digit_strings(digits, 2, augment=["shift"])
    with pytest.raises(ValueError, match="8000"):
        ds.make_digit_strings(SpokenDigits(digits.waveforms, digits.labels, digits.speakers, digits.files, 16000,
                                           "x"), 2)


def test_ctc_model_trains_a_step_and_transcribes_raw_audio():
    waves, texts, _ = ds.make_digit_strings(_tone_digits(), 8, seed=1)
    feats = [string_log_mel(w, 8000) for w in waves]
    model, losses, seconds = ds.train_ctc(feats, texts, epochs=1, batch_size=4, verbose=0)
    assert len(losses) == 1 and np.isfinite(losses[0]) and seconds > 0
    x = feats[0][None]
    assert model.predict_on_batch(x).shape == (1, int(np.ceil(len(feats[0]) / ctc.CTC_SUBSAMPLING)), 11)
    for strategy in ("greedy", "beam_search"):
        text = ds.transcribe(np.repeat(waves[0], 2), 16000, model, strategy=strategy)
        assert isinstance(text, str) and (text == "" or text.isdigit())
    batch = ds.transcribe_batch(model, feats)
    assert len(batch) == 8 and all(t == "" or t.isdigit() for t in batch)
    saving.save_model(model, "digits_ctc")  # the default model of transcribe()
    assert ds.transcribe(waves[0], 8000) == ds.transcribe(waves[0], 8000, model)
    with pytest.raises(AudioError, match="silent"):
        ds.transcribe(np.zeros(16000, np.float32), 8000, model)
    with pytest.raises(ValueError, match="strategy"):
        ds.transcribe(waves[0], 8000, model, strategy="viterbi")


def test_error_rates_of_digit_strings_with_jiwer():
    r = metrics.error_rates(["407", "12"], ["407", "12"], characters_as_words=True)
    assert r == (0.0, 0.0) and (r.wer, r.cer) == (0.0, 0.0)
    # 1 substitution + 1 deletion + 1 insertion over 7
    r = metrics.error_rates(["4071", "555"], ["481", "5565"], characters_as_words=True)
    assert r.wer == pytest.approx(3 / 7) and r.cer == pytest.approx(3 / 7)
    assert metrics.error_rates(["12"], [""], characters_as_words=True).wer == 1.0
    with pytest.raises(ValueError, match="at least one word"):
        metrics.error_rates([""], ["1"], characters_as_words=True)
    with pytest.raises(ValueError, match="hypotheses"):
        metrics.error_rates(["1"], [], characters_as_words=True)


def _three_speaker_digits(names=("a", "b", "c")):
    clips = [_clip(d, s) for s in range(len(names)) for d in range(10)]
    return SpokenDigits(clips, np.tile(np.arange(10), len(names)), np.repeat(np.array(names), 10),
                        [f"gen{i}" for i in range(len(clips))], 8000, "generated")


def _stub_folds(monkeypatch, best_silprob):
    """Stubs for train_ctc, transcribe_batch and PocketSphinx; records who every set of strings was made from.

    The stub PocketSphinx hears a string perfectly only with its speaker's ``best_silprob``, else nothing.
    """
    made, trained, truth = [], [], {}
    real_make = ds.make_digit_strings

    def make(digits, n_strings, **kw):
        waves, texts, who = real_make(digits, n_strings, **kw)
        made.append((set(digits.speakers.tolist()), n_strings, texts))
        truth.update({id(w): (t, s) for w, t, s in zip(waves, texts, who)})
        return waves, texts, who

    def train(features, texts, epochs, seed, verbose):
        trained.append(list(texts))
        return None, [1.0], 0.5

    def pocketsphinx(waveforms, sample_rate, vocabulary, sequence, silprob):  # PocketSphinx's words
        heard = []
        for y in waveforms:
            text, speaker = truth[id(y)]
            heard.append(" ".join(DIGIT_WORDS[int(c)] for c in text) if silprob == best_silprob[speaker] else "")
        return heard

    monkeypatch.setattr(ds, "make_digit_strings", make)
    monkeypatch.setattr(ds, "train_ctc", train)
    monkeypatch.setattr(ds, "transcribe_batch", lambda model, features, *a: ["1"] * len(features))
    monkeypatch.setattr(recognition, "transcribe_pocketsphinx_batch", pocketsphinx)
    return made, trained


def test_every_speaker_is_held_out_once_and_never_trains(monkeypatch):
    made, trained = _stub_folds(monkeypatch, {"a": 0.3, "b": 0.3, "c": 0.3})
    result = ds.leave_one_speaker_out_ctc(_three_speaker_digits(), n_train=5, n_test=3, n_tune=2, epochs=1,
                                          silprobs=(0.005, 0.3), verbose=False)
    assert list(result["folds"]) == ["a", "b", "c"] and len(trained) == 3
    # PocketSphinx's tuning strings first, n_tune by each speaker alone, made once for every fold
    assert [(who, n) for who, n, _ in made[:3]] == [({"a"}, 2), ({"b"}, 2), ({"c"}, 2)]
    for fold, (speaker, f) in enumerate(result["folds"].items()):
        others = {"a", "b", "c"} - {speaker}
        train_set, test_set = made[3 + 2 * fold: 5 + 2 * fold]  # training, test strings
        assert (train_set[0], train_set[1]) == (others, 5) and trained[fold] == train_set[2]
        assert (test_set[0], test_set[1]) == ({speaker}, 3) and f.test_texts == test_set[2]
        assert f.silprob == 0.3 and f.scores["pocketsphinx"].wer == 0.0
    assert len(made) == 3 + 2 * 3
    assert result["mean"]["pocketsphinx"].wer == 0.0 and result["seconds"] == 1.5
    assert set(result["mean"]) == set(result["worst"]) == {"greedy", "beam_search", "pocketsphinx"}


def test_tuning_strings_are_decoded_once_and_differ_between_speakers(monkeypatch):
    made, _ = _stub_folds(monkeypatch, {"a": 0.3, "b": 0.3, "c": 0.3})
    stub, calls = recognition.transcribe_pocketsphinx_batch, []
    monkeypatch.setattr(recognition, "transcribe_pocketsphinx_batch",
                        lambda waveforms, *a, **k: calls.append(len(waveforms)) or stub(waveforms, *a, **k))
    ds.leave_one_speaker_out_ctc(_three_speaker_digits(), n_train=5, n_test=3, n_tune=2, epochs=1,
                                 silprobs=(0.005, 0.3), verbose=False)
    assert calls == [3 * 2, 3 * 2, 3, 3, 3]  # every speaker's tuning strings at once per silprob, then each fold's tests
    tuning_texts = [texts for _, _, texts in made[:3]]
    assert len({tuple(t) for t in tuning_texts}) == 3  # every speaker's own draw


def test_extra_strings_train_every_fold_in_their_own_number(monkeypatch):
    made, trained = _stub_folds(monkeypatch, {"a": 0.3, "b": 0.3, "voice": 0.3})
    ds.leave_one_speaker_out_ctc(_three_speaker_digits(("a", "b")), n_train=5, n_test=3, n_tune=2, epochs=1,
                                 extra=_three_speaker_digits(("voice",)), n_extra=4, silprobs=(0.3,),
                                 verbose=False)
    assert made[0][:2] == ({"voice"}, 4)  # made once, before the folds
    assert [len(t) for t in trained] == [5 + 4, 5 + 4] and trained[0][5:] == trained[1][5:] == made[0][2]


def test_choose_silprob_takes_the_lowest_wer_first_of_equals():
    texts = ["12", "345"]
    best, wer = ds.choose_silprob(texts, {0.005: ["12", "3445"], 1.0: ["12", "345"], 3.0: ["12", "345"]})
    assert best == 1.0 and wer == {0.005: pytest.approx(1 / 5), 1.0: 0.0, 3.0: 0.0}


def test_pocketsphinx_silence_setting_is_chosen_on_the_training_speakers_only(monkeypatch):
    # each speaker is heard only with their own setting: a choice made on the held-out speaker would score 0
    _stub_folds(monkeypatch, {"a": 0.005, "b": 3.0})
    result = ds.leave_one_speaker_out_ctc(_three_speaker_digits(("a", "b")), n_train=2, n_test=3, n_tune=2,
                                          epochs=1, silprobs=(0.005, 3.0), verbose=False)
    assert {s: f.silprob for s, f in result["folds"].items()} == {"a": 3.0, "b": 0.005}
    assert result["mean"]["pocketsphinx"].wer == result["worst"]["pocketsphinx"] == 1.0


def test_leave_one_speaker_out_ctc_end_to_end_on_tones():
    digits = _three_speaker_digits(("a", "b"))
    extra = _three_speaker_digits(("voice",))
    result = ds.leave_one_speaker_out_ctc(digits, n_train=4, n_test=2, n_tune=1, epochs=1, extra=extra,
                                          silprobs=(0.005, 1.0), verbose=True)
    for speaker, f in result["folds"].items():
        assert f.speaker == speaker and len(f.test_texts) == len(f.test_features) == 2
        assert f.silprob in (0.005, 1.0) and f.seconds > 0 and len(f.losses) == 1
        assert all(len(h) == 2 and all(t == "" or t.isdigit() for t in h) for h in f.hypotheses.values())
        assert f.scores["beam_search"] == metrics.error_rates(f.test_texts, f.hypotheses["beam_search"],
                                                              characters_as_words=True)
    table = ds.ctc_table(result)
    assert table.count("\n") == 4 and "| a |" in table and "**mean**" in table
    with pytest.raises(ValueError, match="two speakers"):
        ds.leave_one_speaker_out_ctc(digits.subset(digits.speakers == "a"), 4, 2, 1, 1)
    with pytest.raises(ValueError, match="at least one string"):
        ds.leave_one_speaker_out_ctc(digits, 4, 0, 1, 1)
    with pytest.raises(ValueError, match="candidate"):
        ds.choose_silprob(f.test_texts, {})
    with pytest.raises(ValueError, match="candidate"):
        ds.silprob_hypotheses(f.test_waveforms, ())
    with pytest.raises(ValueError, match="from extra"):
        ds.leave_one_speaker_out_ctc(digits, 4, 2, 1, 1, extra=extra, n_extra=0)
    with pytest.raises(ValueError, match="positive"):
        ds.pocketsphinx_strings(f.test_waveforms, silprob=0.0)
