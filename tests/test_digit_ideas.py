"""The signal processing of benchmarks/digit_ideas.py (the ideas notebook 04 measured and did not keep)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import digit_ideas  # noqa: E402


def test_frequency_warp_is_the_identity_at_one_and_moves_a_peak_by_alpha():
    x = np.zeros((2, 129))
    x[:, 40] = 1.0
    np.testing.assert_allclose(digit_ideas.warp_frequency_axis(x, 1.0), x)
    for alpha in (0.85, 1.15):
        warped = digit_ideas.warp_frequency_axis(x, alpha)
        assert warped.flags["C_CONTIGUOUS"] and warped.shape == x.shape
        assert abs(np.argmax(warped[0]) - 40 * alpha) <= 1  # a formant at bin 40 moves to bin 40 α
        ramp = digit_ideas.warp_frequency_axis(np.tile(np.linspace(0, 1, 129), (2, 1)), alpha)
        assert ramp[0, 0] == 0 and ramp[0, -1] == 1 and np.all(np.diff(ramp[0]) > 0)  # monotone, the edges stay put


def test_world_voice_keeps_the_length_and_raises_the_spectral_centroid_with_alpha():
    t = np.arange(4000) / 8000
    y = (0.3 * np.sign(np.sin(2 * np.pi * 150 * t)) * np.hanning(len(t))).astype(np.float32)  # a buzzy vowel-ish tone

    def centroid(w):
        power = np.abs(np.fft.rfft(w)) ** 2
        return float((power * np.fft.rfftfreq(len(w), 1 / 8000)).sum() / power.sum())

    low, high = (digit_ideas.world_voice(y, 8000, alpha, 1.0) for alpha in (0.85, 1.15))
    assert abs(len(low) - len(y)) <= 40 and low.dtype == np.float32 and np.abs(high).max() <= 1
    assert centroid(high) > centroid(low)


def test_band_mean_normalisation_zeroes_each_bands_mean_and_keeps_the_padding():
    rng = np.random.default_rng(0)
    f = np.zeros((2, 10, 4), np.float32)
    f[:, 3:7] = rng.normal(size=(2, 4, 4)) + 5.0
    out = digit_ideas.band_mean_normalise(f)
    np.testing.assert_allclose(out[:, 3:7].mean(axis=1), 0, atol=1e-5)
    assert not out[:, :3].any() and not out[:, 7:].any()
