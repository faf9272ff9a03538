"""Notebook 04's recognisers: models build and train a step, bad input is refused clearly, CTC decodes, jiwer scores."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import tone
from course_utils import exercises
from course_utils import recognition as rec
from course_utils.audio import AudioError
from course_utils.data import SpokenDigits


def _clip(digit: int, speaker: int = 0, seconds: float = 0.35) -> np.ndarray:
    """A generated 'digit': a tone whose pitch encodes the digit, between short silences (not speech)."""
    return np.concatenate([np.zeros(400, np.float32), tone(seconds, 8000, freq=200 + 60 * digit + 7 * speaker),
                           np.zeros(400, np.float32)])


@pytest.fixture(scope="module")
def tiny_set():
    clips = [_clip(d, s) for s in range(2) for d in range(10)]
    labels = np.tile(np.arange(10), 2)
    return clips, labels, np.repeat(np.array(["a", "b"]), 10)


def test_front_end_shapes_units_and_rates():
    assert (rec.N_FFT, rec.HOP_LENGTH) == (200, 80)  # 25 ms / 10 ms at 8 kHz (400 / 160 at 16 kHz)
    y = _clip(3)
    f = rec.digit_log_mel(y, 8000)
    assert f.shape == (rec.N_FRAMES, rec.N_MELS) and f.dtype == np.float32
    speech = np.abs(f).sum(axis=1) > 0
    assert 34 <= speech.sum() <= 48  # 0.35 s of tone ≈ 36 frames (+ trim margin), silence trimmed, centred
    assert abs(np.argmax(speech) - (rec.N_FRAMES - speech.sum()) // 2) <= 1
    assert f.max() == pytest.approx(2.0) and f.min() >= -2.0 - 1e-5  # loudest cell 2, the −80 dB floor −2
    f16 = rec.digit_log_mel(np.repeat(y, 2), 16000)  # the same audio at 16 kHz is resampled
    assert abs(int((np.abs(f16).sum(axis=1) > 0).sum()) - int(speech.sum())) <= 2
    assert np.allclose(rec.digit_log_mel(y * 0.05, 8000), f, atol=1e-2)  # level does not matter
    shifted = rec.place_frames(np.ones((10, 4)), 20, shift=100)  # clipped: stays inside the window
    assert shifted.shape == (20, 4) and shifted[-10:].all() and not shifted[:10].any()


@pytest.mark.parametrize("waveform, rate, error, match", [
    (np.zeros(0, np.float32), 8000, AudioError, "empty"),
    (np.zeros(8000, np.float32), 8000, AudioError, "silent"),
    (np.full(8000, 1e-6, np.float32), 8000, AudioError, "silent"),
    (np.full(100, np.nan, np.float32), 8000, AudioError, "NaN"),
    (np.zeros((2, 8000), np.float32), 8000, ValueError, "mono"),
    (tone(0.5, 4000), 4000, ValueError, "8000"),
    (tone(0.5, 8000), 0, ValueError, "8000"),
    (tone(0.5, 8000), 8000.5, ValueError, "integer"),
    (np.tile(tone(0.5, 8000), 30), 8000, ValueError, "15.0 s"),
])
def test_bad_input_gets_a_clear_error(waveform, rate, error, match):
    with pytest.raises(error, match=match):
        rec.digit_log_mel(waveform, rate)


def test_very_long_strings_are_refused_and_long_digits_cropped():
    with pytest.raises(ValueError, match="60 s"):
        rec.string_log_mel(np.tile(tone(1.0, 8000), 61), 8000)
    assert rec.string_log_mel(np.tile(tone(1.0, 8000), 30), 8000).shape == (1 + 30 * 8000 // 80, rec.N_MELS)
    assert rec.digit_log_mel(np.tile(tone(0.5, 8000), 8), 8000).shape == (rec.N_FRAMES, rec.N_MELS)


def test_augmentations_keep_the_shape_and_change_the_features(tiny_set):
    clips, _, _ = tiny_set
    rng = np.random.default_rng(0)
    clean = rec.digit_log_mel(clips[0], 8000)
    for kind in ["noise", "shift", "speed", "pitch"]:
        copies = [rec.augment_features(clips[0], 8000, [kind], rng) for _ in range(3)]
        assert all(f.shape == clean.shape and np.isfinite(f).all() for f in copies)
        assert not all(np.allclose(f, clean) for f in copies), kind  # (a shift may draw 0 once)
    with pytest.raises(ValueError, match="unknown augmentation"):
        rec.augment_features(clips[0], 8000, ["reverb"], rng)
    X, source = rec.feature_set(clips[:3], 8000, kinds=["speed"], copies=2, seed=0)
    assert X.shape == (9, rec.N_FRAMES, rec.N_MELS) and source.tolist() == [0, 1, 2] * 3
    X0, _ = rec.feature_set(clips[:3], 8000, kinds=(), copies=1)
    np.testing.assert_array_equal(X0[:3], X0[3:])  # no augmentation: plain repeats, same number of steps


def test_spec_augment_masks_only_in_training():
    x = np.ones((4, rec.N_FRAMES, rec.N_MELS), np.float32)
    layer = rec.SpecAugment(freq_masks=2, freq_width=6, time_masks=2, time_width=8, seed=1)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    y = np.asarray(layer(x, training=True))
    assert y.shape == x.shape and set(np.unique(y)) <= {0.0, 1.0}
    assert 0 < (y == 0).mean() < 0.5  # some bands/frames masked, most kept
    bands_masked = (y == 0).all(axis=1)  # a masked band is zero in every frame
    assert bands_masked.sum(axis=1).max() <= 12


@pytest.mark.parametrize("name", sorted(rec.BUILDERS))
def test_each_model_builds_trains_and_recognizes_raw_audio(name, tiny_set, tmp_path):
    clips, labels, speakers = tiny_set
    X, source = rec.feature_set(clips, 8000, copies=0)
    model, history, seconds = rec.train_digit_model(name, X, labels[source], epochs=1, batch_size=8,
                                                    spec_augment=True)
    assert model.output_shape == (None, 10) and np.isfinite(history["loss"][0]) and seconds > 0
    assert 10_000 < model.count_params() < 300_000
    digit, probs = rec.recognize(clips[3] * 0.5, 8000, model)
    assert 0 <= digit <= 9 and probs.shape == (10,) and abs(float(probs.sum()) - 1) < 1e-4
    assert rec.latency_ms(model, X, repeats=2) > 0
    rec.save_model(model, f"test_{name}")
    loaded = rec.load_model(f"test_{name}")
    np.testing.assert_allclose(loaded.predict(X[:2], verbose=0), model.predict(X[:2], verbose=0), atol=1e-5)


def test_retraining_reuses_the_compiled_model_but_starts_afresh(tiny_set, monkeypatch):
    """train_digit_model keeps one compiled training model per architecture; each call resets it fully."""
    monkeypatch.setattr(rec, "_TRAINERS", {})
    clips, labels, _ = tiny_set
    X, source = rec.feature_set(clips, 8000, copies=0)
    first, _, _ = rec.train_digit_model("cnn", X, labels[source], epochs=2, batch_size=8)
    first_weights = [w.copy() for w in first.get_weights()]
    second, _, _ = rec.train_digit_model("cnn", X[:12], labels[source][:12], epochs=1, batch_size=8)
    assert len(rec._TRAINERS) == 1 and second is not first
    for before, after in zip(first_weights, first.get_weights()):  # a returned model never changes
        np.testing.assert_array_equal(before, after)
    trainer, schedule, _ = next(iter(rec._TRAINERS.values()))
    assert int(trainer.optimizer.iterations.numpy()) == 2  # only the second call's steps: 12 clips / 8
    assert float(schedule.warmup.numpy()) == 2 and float(schedule.decay.numpy()) == 1
    third, _, _ = rec.train_digit_model("cnn", X, labels[source], epochs=2, batch_size=8)
    for a, b in zip(first.get_weights(), third.get_weights()):  # same start, data, seed: same training
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_learning_rate_schedule_is_keras_cosine_decay_with_warmup():
    import keras

    schedule = rec._warmup_cosine(3e-3)
    schedule.warmup.assign(24.0)
    schedule.decay.assign(120.0)
    reference = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=120, warmup_target=3e-3, warmup_steps=24,
                                                       alpha=0.01)
    for step in (0, 1, 12, 24, 25, 60, 143, 144, 500):
        assert float(schedule(step)) == pytest.approx(float(reference(step)), rel=1e-5, abs=1e-9)


def test_leave_one_speaker_out_reports_every_speaker(tiny_set):
    clips, labels, speakers = tiny_set
    X, source = rec.feature_set(clips, 8000, copies=0)
    r = rec.leave_one_speaker_out("cnn", X, labels, speakers, source, epochs=1, batch_size=8, verbose=False)
    assert sorted(r["accuracy"]) == ["a", "b"] and r["pred"].shape == (20,)
    assert r["mean"] == pytest.approx(np.mean(list(r["accuracy"].values())))


def test_leave_one_speaker_out_adds_extra_rows_to_every_fold_for_training_only(tiny_set, monkeypatch):
    clips, labels, speakers = tiny_set
    X, source = rec.feature_set(clips, 8000, copies=0)
    seen = []
    real_train = rec.train_digit_model

    def spy(name, features, labels_, **kwargs):
        seen.append((len(features), len(labels_)))
        return real_train(name, features, labels_, **kwargs)

    monkeypatch.setattr(rec, "train_digit_model", spy)
    r = rec.leave_one_speaker_out("cnn", X, labels, speakers, source, extra=(X[:3], labels[:3]), epochs=1,
                                  batch_size=8, verbose=False)
    n_train = [int(np.sum(speakers != s)) for s in sorted(set(speakers))]
    assert seen == [(n + 3, n + 3) for n in n_train]
    assert r["pred"].shape == (len(labels),)


def test_recognize_without_a_saved_model_says_what_to_run():
    with pytest.raises(FileNotFoundError, match="notebook 04"):
        rec.recognize(_clip(1), 8000)
    with pytest.raises(FileNotFoundError, match="notebook 04"):
        rec.transcribe(_clip(1), 8000)


def _tone_digits(per_digit=2):
    clips = [_clip(d, s, seconds=0.2) for s in range(2) for d in range(10) for _ in range(per_digit)]
    labels = np.tile(np.repeat(np.arange(10), per_digit), 2)
    return SpokenDigits(clips, labels, np.repeat(np.array(["a", "b"]), 10 * per_digit),
                        [f"gen{i}" for i in range(len(clips))], 8000, "generated")


def test_digit_strings_are_one_speaker_and_match_their_text():
    waves, texts, who = rec.make_digit_strings(_tone_digits(), 12, seed=0)
    assert len(waves) == len(texts) == len(who) == 12
    for w, t in zip(waves, texts):
        assert 3 <= len(t) <= 7 and t.isdigit() and w.dtype == np.float32
        assert len(t) * 0.2 * 8000 < len(w) < (len(t) * 0.3 + (len(t) + 1) * 0.35) * 8000  # clips + pauses
    aug_waves, aug_texts, _ = rec.make_digit_strings(_tone_digits(), 12, augment=["speed", "pitch", "noise"], seed=0)
    assert len(aug_waves) == 12 and all(3 <= len(t) <= 7 and t.isdigit() for t in aug_texts)
    with pytest.raises(ValueError, match="unknown"):
        rec.make_digit_strings(_tone_digits(), 2, augment=["shift"])
    with pytest.raises(ValueError, match="8000"):
        d = _tone_digits()
        rec.make_digit_strings(SpokenDigits(d.waveforms, d.labels, d.speakers, d.files, 16000, "x"), 2)


def test_ctc_model_trains_a_step_and_transcribes_raw_audio():
    waves, texts, _ = rec.make_digit_strings(_tone_digits(), 8, seed=1)
    feats = [rec.string_log_mel(w, 8000) for w in waves]
    model, losses, seconds = rec.train_ctc(feats, texts, epochs=1, batch_size=4, verbose=0)
    assert len(losses) == 1 and np.isfinite(losses[0]) and seconds > 0
    x = feats[0][None]
    assert model.predict_on_batch(x).shape == (1, int(np.ceil(len(feats[0]) / rec.CTC_SUBSAMPLING)), 11)
    for strategy in ("greedy", "beam_search"):
        text = rec.transcribe(np.repeat(waves[0], 2), 16000, model, strategy=strategy)
        assert isinstance(text, str) and (text == "" or text.isdigit())
    assert len(rec.transcribe_batch(model, feats)) == 8
    rec.save_model(model, "digits_ctc")  # the default model of transcribe()
    assert rec.transcribe(waves[0], 8000) == rec.transcribe(waves[0], 8000, model)
    with pytest.raises(AudioError, match="silent"):
        rec.transcribe(np.zeros(16000, np.float32), 8000, model)
    with pytest.raises(ValueError, match="strategy"):
        rec.transcribe(waves[0], 8000, model, strategy="viterbi")


def _hand_made(path, on=0.9):
    """Probabilities (steps, 11): ``on`` on the path's class, the rest spread evenly."""
    probs = np.full((len(path), 11), (1 - on) / 10, np.float32)
    probs[np.arange(len(path)), path] = on
    return probs


def test_ctc_decoding_of_a_hand_made_probability_matrix():
    # frames: blank 4 4 blank 0 0 7 blank 7 7 -> "4", "0", "7", "7" (blank splits the doubled 7)
    path = [0, 5, 5, 0, 1, 1, 8, 0, 8, 8]
    probs = _hand_made(path)
    assert rec.greedy_decode(probs) == "4077"
    for strategy in ("greedy", "beam_search"):
        assert rec.ctc_decode(np.log(probs)[None], strategy=strategy) == ["4077"]
    assert rec.ctc_decode(np.log(_hand_made([0, 0, 0]))[None]) == [""]
    # beam search sums paths: each frame prefers blank (0.52 vs 0.39 for "3"), so greedy hears nothing, but
    # P("3") = 0.39² + 2 · 0.39 · 0.52 = 0.56 beats P("") = 0.52² = 0.27
    p = np.full((2, 11), 0.01, np.float32)
    p[:, 0], p[:, 4] = 0.52, 0.39
    assert rec.ctc_decode(np.log(p)[None], "greedy") == [""]
    assert rec.ctc_decode(np.log(p)[None], "beam_search") == ["3"]
    with pytest.raises(ValueError, match="11"):
        rec.ctc_decode(np.zeros((1, 5, 10)))


def test_ctc_loss_prefers_the_right_transcript():
    probs = _hand_made([0, 5, 5, 0, 1, 0, 8, 8, 0])
    targets = rec.encode_texts(["407", "41"])
    np.testing.assert_array_equal(targets, [[5, 1, 8], [5, 2, -1]])
    logits = np.log(np.stack([probs, probs]))
    loss = np.asarray(rec.ctc_loss(targets, logits))
    assert loss.shape == (2,) and loss[0] < 2.0 < loss[1]


def test_error_rates_with_jiwer():
    r = rec.error_rates(["407", "12"], ["407", "12"])
    assert r == {"wer": 0.0, "cer": 0.0}
    r = rec.error_rates(["4071", "555"], ["481", "5565"])  # 1 substitution + 1 deletion + 1 insertion over 7
    assert r["wer"] == pytest.approx(3 / 7) and r["cer"] == pytest.approx(3 / 7)
    assert rec.error_rates(["12"], [""])["wer"] == 1.0
    with pytest.raises(ValueError, match="non-empty"):
        rec.error_rates([""], ["1"])
    with pytest.raises(ValueError, match="hypotheses"):
        rec.error_rates(["1"], [])


def test_exercise_checker_accepts_a_right_answer_and_rejects_wrong_ones(capsys):
    def right(probs):
        best = np.argmax(probs, axis=1)
        keep = (best != 0) & np.r_[True, best[1:] != best[:-1]]
        return "".join(str(c - 1) for c in best[keep])

    def drops_blanks_first(probs):  # merges "1 blank 1" into one "1"
        best = [c for c in np.argmax(probs, axis=1) if c != 0]
        return "".join(str(c - 1) for i, c in enumerate(best) if i == 0 or c != best[i - 1])

    assert exercises.check("04_ctc_greedy", right)
    assert "✅" in capsys.readouterr().out
    assert not exercises.check("04_ctc_greedy", drops_blanks_first)
    out = capsys.readouterr().out
    assert "❌" in out and "Hint" in out
    assert not exercises.check("04_ctc_greedy", lambda probs: "".join(map(str, np.argmax(probs, axis=1))))
    assert not exercises.check("04_ctc_greedy", None)
    assert "not attempted" in capsys.readouterr().out
