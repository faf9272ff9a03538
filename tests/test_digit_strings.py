"""Notebook 04's digit strings (digit_strings.py): one speaker per string, CTC training, transcription, WER/CER."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import tone
from course_utils import digit_strings as ds, metrics, saving
from course_utils.audio import AudioError
from course_utils.data import SpokenDigits
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


def test_string_batches_pad_similar_lengths_and_cover_every_string_once():
    feats = [np.ones((n, 4), np.float32) for n in (5, 9, 6, 20, 7)]
    targets = ctc.encode_texts(["1", "22", "3", "4444", "5"])
    data = ds.StringBatches(feats, targets, 2, np.random.default_rng(0))
    assert len(data) == 3
    seen, batches = [], set()
    for i in range(len(data)):
        x, y = data[i]
        lengths = (x != 0).any(axis=2).sum(axis=1)  # frames of each string in the batch
        assert x.shape[0] == y.shape[0] and x.shape[1] == lengths.max()  # padded to the longest only
        seen += lengths.tolist()
        batches.add(tuple(sorted(lengths.tolist())))
    assert sorted(seen) == [5, 6, 7, 9, 20] and batches == {(5, 6), (7, 9), (20,)}  # neighbours in length


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
