"""Notebook 01's pipelines (processing.py) and models (models/image_cnn.py, models/digit_lstm.py).

They build, train a step, save/load, take raw input on the public API, and leave-one-speaker-out holds
each speaker out.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import tone
from course_utils import config, processing
from course_utils.audio import AudioError
from course_utils.models import digit_lstm, image_cnn


def test_image_cnn_builds_trains_and_classifies_raw_images(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
    y = np.arange(8) % 4
    model, history, seconds = processing.train_image_classifier(x, y, 4, epochs=1, batch_size=4, verbose=0)
    assert model.output_shape == (None, 4) and np.isfinite(history["loss"][0]) and seconds > 0
    names = ["horse", "zebra", "summer", "winter"]
    # any size and mode goes in: a 16-bit greyscale image of another size
    big = Image.fromarray(rng.integers(0, 65535, (50, 70)).astype(np.uint16))
    name, probs = processing.classify_image(big, model, names)
    assert name in names and abs(sum(probs.values()) - 1) < 1e-4
    processing.save_trained(model, "cnn_test", names)
    with pytest.raises(ValueError, match="class_names"):
        processing.classify_image(big, model)
    processing.save_trained(model, "photo_domains_cnn", names)
    assert processing.classify_image(big)[0] in names  # default: the model notebook 01 saved
    loaded, loaded_names = processing.load_trained("cnn_test")
    assert loaded_names == names
    np.testing.assert_allclose(loaded.predict(x[:2].astype(np.float32), verbose=0),
                               model.predict(x[:2].astype(np.float32), verbose=0), atol=1e-5)
    (config.build_dir("models") / "cnn_test.json").unlink()  # the class names lost: a clear error, not a TypeError
    with pytest.raises(FileNotFoundError, match=r"cnn_test\.json.*class names"):
        processing.load_trained("cnn_test")


def test_image_cnn_normalises_raw_pixels_and_has_the_vgg_stages():
    model = image_cnn.build_image_cnn(32, 4, width=8)
    assert model.input_shape == (None, 32, 32, 3) and model.output_shape == (None, 4)
    convs = [layer for layer in model.layers if layer.name.startswith("conv")]
    assert [c.filters for c in convs] == [8, 16, 32, 64]  # width doubles after every pooling
    # default statistics: 127.5 ± 127.5, so mid-grey pixels become 0 after the first layer
    norm = model.get_layer("per_channel_norm")
    np.testing.assert_allclose(np.asarray(norm(np.full((1, 2, 2, 3), 127.5, np.float32))), 0.0, atol=1e-6)
    probs = np.asarray(model(np.zeros((2, 32, 32, 3), np.float32), training=False))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_load_trained_missing_model_says_what_to_run():
    with pytest.raises(FileNotFoundError, match="run notebook 01"):
        processing.load_trained("no_such_model")


def test_digit_front_end_shapes_and_bad_input():
    y = np.concatenate([np.zeros(2000, np.float32), tone(0.5, 8000), np.zeros(2000, np.float32)])
    f = processing.digit_features(y, 8000)
    assert f.dtype == np.float32 and f.shape[1] == 39 and 45 <= f.shape[0] <= 60
    f16 = processing.digit_features(np.repeat(y, 2), 16000)  # same audio at 16 kHz
    assert abs(f16.shape[0] - f.shape[0]) <= 2
    long = np.tile(tone(0.5, 8000), 20)  # 10 s of sound: cropped to MAX_FRAMES
    assert processing.digit_features(long, 8000).shape[0] == processing.MAX_FRAMES
    with pytest.raises(AudioError, match="silent"):
        processing.digit_features(np.zeros(8000, np.float32), 8000)
    with pytest.raises(AudioError):
        processing.digit_features(np.zeros(0, np.float32), 8000)
    with pytest.raises(AudioError, match="mono"):
        processing.digit_features(np.zeros((2, 8000), np.float32), 8000)


def test_mfcc_lstm_builds_trains_and_recognizes():
    rng = np.random.default_rng(0)
    clips = [tone(0.3 + 0.02 * i, 8000, freq=200 + 50 * (i % 10)) for i in range(20)]
    labels = np.arange(20) % 10
    feats, source = processing.digit_feature_set(clips, 8000, augment_copies=1, seed=0)
    assert len(feats) == 40 and source.tolist() == [i // 2 for i in range(40)]
    model, history, _ = processing.train_digit_lstm(feats, labels[source], epochs=1, batch_size=8)
    assert model.output_shape == (None, 10) and np.isfinite(history["loss"][0])
    clip = clips[3] + rng.normal(0, 1e-3, clips[3].shape)
    digit, probs = processing.recognize_digit(clip, 8000, model)
    assert probs.shape == (10,) and abs(probs.sum() - 1) < 1e-4
    # the answer is the model's most probable class on the clip's features (not any digit)
    expected = processing.predict_digits(model, [processing.digit_features(clip, 8000)])[0]
    np.testing.assert_allclose(probs, expected, atol=1e-6)
    assert digit == int(np.argmax(expected))
    rejected, same = processing.recognize_digit(clip, 8000, model, min_confidence=float(expected.max()) + 1e-3)
    assert rejected is None and np.allclose(same, probs)  # below the threshold: no digit, same probabilities
    with pytest.raises(ValueError, match="min_confidence"):
        processing.recognize_digit(clip, 8000, model, min_confidence=-0.1)


def test_mfcc_lstm_masks_the_padding():
    model = digit_lstm.build_mfcc_lstm(39, 10)
    x = np.random.default_rng(0).normal(size=(1, 12, 39)).astype(np.float32)
    padded = np.concatenate([x, np.zeros((1, 8, 39), np.float32)], axis=1)
    np.testing.assert_allclose(np.asarray(model(x, training=False)), np.asarray(model(padded, training=False)),
                               atol=1e-5)  # zero frames after the end change nothing


def test_synthetic_voices_exclude_the_stand_in_speakers_and_speak_every_digit():
    from course_utils.data import fallback

    voices = fallback.espeak_digit_voices()
    assert len(voices) == len(fallback.ESPEAK_ACCENTS) * len(fallback.ESPEAK_VARIANTS) - len(fallback.ESPEAK_VOICES)
    assert not set(voices.values()) & set(fallback.ESPEAK_VOICES.values())
    few = fallback.espeak_digit_voices(limit=3, seed=1)
    assert len(few) == 3 and set(few) <= set(voices) and few == fallback.espeak_digit_voices(limit=3, seed=1)
    synthetic = fallback.synthetic_spoken_digits(8000, per_digit_speaker=1, voices=few)
    assert len(synthetic) == 30 and sorted(set(synthetic.speakers.tolist())) == sorted(few)
    assert sorted(synthetic.labels.tolist()) == sorted(list(range(10)) * 3)
    assert all(w.dtype == np.float32 and 0.1 < len(w) / 8000 < 2.0 for w in synthetic.waveforms)
    with pytest.raises(RuntimeError, match="no voice"):
        fallback.synthetic_spoken_digits(8000, per_digit_speaker=1, voices={"x": "xx-not-a-voice"})


def test_lstm_leave_one_speaker_out_holds_each_speaker_out_and_adds_extra_data_to_training_only(monkeypatch):
    from course_utils.data import SpokenDigits

    clips = [tone(0.3 + 0.01 * i, 8000, freq=200 + 50 * (i % 10)) for i in range(30)]
    labels = np.arange(30) % 10
    speakers = np.array(["a"] * 10 + ["b"] * 10 + ["c"] * 10)
    digits = SpokenDigits(clips, labels, speakers, [f"{i}.wav" for i in range(30)], 8000, "mirror")
    features = [processing.digit_features(y, 8000) for y in clips]
    extra = (features[:5], labels[:5])
    trained_on, real_feature_set, real_train = [], processing.digit_feature_set, processing.train_digit_lstm

    def feature_set_spy(waveforms, sample_rate, **kwargs):  # which real clips each fold trains on
        trained_on.append({next(k for k, c in enumerate(clips) if c is w) for w in waveforms})
        return real_feature_set(waveforms, sample_rate, **kwargs)

    sequences = []

    def train_spy(feats, labels_, **kwargs):  # what each fold's model is fitted to
        sequences.append((feats, labels_))
        return real_train(feats, labels_, **kwargs)

    monkeypatch.setattr(processing, "digit_feature_set", feature_set_spy)
    monkeypatch.setattr(processing, "train_digit_lstm", train_spy)
    r = processing.lstm_leave_one_speaker_out(digits, features, epochs=1, augment_copies=0, extra=extra,
                                              verbose=False)
    assert sorted(r["accuracy"]) == ["a", "b", "c"] and r["pred"].shape == (30,)
    assert 0 <= r["mean"] <= 1 and r["mean"] == pytest.approx(np.mean(list(r["accuracy"].values())))
    assert r["mean"] == pytest.approx(np.mean(r["pred"] == labels))
    # each speaker held out: every fold trains on the other two speakers' 20 clips, never on its own
    for held_out, clips_seen in zip(["a", "b", "c"], trained_on):
        assert clips_seen == set(np.where(speakers != held_out)[0].tolist())
    # the extra sequences join every fold's training data (after the real ones) ...
    assert len(sequences) == 3
    for feats, labels_ in sequences:
        assert len(feats) == len(labels_) == 20 + 5
        assert all(a is b for a, b in zip(feats[-5:], extra[0]))
        np.testing.assert_array_equal(labels_[-5:], extra[1])
    # ... and are never tested on: the predictions cover the 30 real clips only, one fold each
    assert sum(np.sum(speakers == s) for s in r["accuracy"]) == len(r["pred"]) == len(clips)
