"""Notebook 04's front end (digit_features.py): shapes, units, rates, clear errors, augmentation."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import tone
from course_utils import digit_features as df
from course_utils.audio import AudioError


def _clip(digit: int, speaker: int = 0, seconds: float = 0.35) -> np.ndarray:
    """A generated 'digit': a tone whose pitch encodes the digit, between short silences (not speech)."""
    return np.concatenate([np.zeros(400, np.float32), tone(seconds, 8000, freq=200 + 60 * digit + 7 * speaker),
                           np.zeros(400, np.float32)])


def test_front_end_shapes_units_and_rates():
    assert (df.N_FFT, df.HOP_LENGTH) == (200, 80)  # 25 ms / 10 ms at 8 kHz (400 / 160 at 16 kHz)
    y = _clip(3)
    f = df.digit_log_mel(y, 8000)
    assert f.shape == (df.N_FRAMES, df.N_MELS) and f.dtype == np.float32
    speech = np.abs(f).sum(axis=1) > 0
    assert 34 <= speech.sum() <= 48  # 0.35 s of tone ≈ 36 frames (+ trim margin), silence trimmed, centred
    assert abs(np.argmax(speech) - (df.N_FRAMES - speech.sum()) // 2) <= 1
    assert f.max() == pytest.approx(2.0) and f.min() >= -2.0 - 1e-5  # loudest cell 2, the −80 dB floor −2
    f16 = df.digit_log_mel(np.repeat(y, 2), 16000)  # the same audio at 16 kHz is resampled
    assert abs(int((np.abs(f16).sum(axis=1) > 0).sum()) - int(speech.sum())) <= 2
    assert np.allclose(df.digit_log_mel(y * 0.05, 8000), f, atol=1e-2)  # level does not matter
    shifted = df.place_frames(np.ones((10, 4)), 20, shift=100)  # clipped: stays inside the window
    assert shifted.shape == (20, 4) and shifted[-10:].all() and not shifted[:10].any()


@pytest.mark.parametrize("waveform, rate, error, match", [
    (np.zeros(0, np.float32), 8000, AudioError, "empty"),
    (np.zeros(8000, np.float32), 8000, AudioError, "silent"),
    (np.full(8000, 1e-6, np.float32), 8000, AudioError, "silent"),
    (np.full(100, np.nan, np.float32), 8000, AudioError, "NaN"),
    (np.zeros((2, 8000), np.float32), 8000, AudioError, "mono"),
    (tone(0.5, 4000), 4000, AudioError, "8000"),
    (tone(0.5, 8000), 0, AudioError, "positive whole number"),
    (tone(0.5, 8000), 8000.5, AudioError, "whole number"),
    (np.tile(tone(0.5, 8000), 30), 8000, AudioError, "15.0 s"),
])
def test_bad_input_gets_a_clear_error(waveform, rate, error, match):
    with pytest.raises(error, match=match):
        df.digit_log_mel(waveform, rate)


def test_very_long_strings_are_refused_and_long_digits_cropped():
    with pytest.raises(AudioError, match="60 s"):
        df.string_log_mel(np.tile(tone(1.0, 8000), 61), 8000)
    assert df.string_log_mel(np.tile(tone(1.0, 8000), 30), 8000).shape == (1 + 30 * 8000 // 80, df.N_MELS)
    assert df.digit_log_mel(np.tile(tone(0.5, 8000), 8), 8000).shape == (df.N_FRAMES, df.N_MELS)


def test_augmentations_keep_the_shape_and_change_the_features():
    clips = [_clip(d) for d in range(3)]
    rng = np.random.default_rng(0)
    clean = df.digit_log_mel(clips[0], 8000)
    for kind in ["noise", "shift", "speed", "pitch"]:
        copies = [df.augment_features(clips[0], 8000, [kind], rng) for _ in range(3)]
        assert all(f.shape == clean.shape and np.isfinite(f).all() for f in copies)
        assert not all(np.allclose(f, clean) for f in copies), kind  # (a shift may draw 0 once)
    with pytest.raises(ValueError, match="unknown augmentation"):
        df.augment_features(clips[0], 8000, ["reverb"], rng)
    X, source = df.feature_set(clips, 8000, kinds=["speed"], copies=2, seed=0)
    assert X.shape == (9, df.N_FRAMES, df.N_MELS) and source.tolist() == [0, 1, 2] * 3
    X0, _ = df.feature_set(clips, 8000, kinds=(), copies=1)
    np.testing.assert_array_equal(X0[:3], X0[3:])  # no augmentation: plain repeats, same number of steps
