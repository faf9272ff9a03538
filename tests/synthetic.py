"""Generated images and sounds for notebook 02's tests (not photos, not speech): smooth, deterministic, small."""
from __future__ import annotations

import numpy as np


def smooth_image(h=48, w=80, seed=0) -> np.ndarray:
    """A smooth generated RGB image (gradients and a blob), uint8 (h, w, 3)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    chans = [np.sin(3 * xx + rng.random() * 3) + np.cos(4 * yy + rng.random() * 3) for _ in range(3)]
    img = (np.stack(chans, -1) + 2) / 4 * 255
    return np.clip(img, 0, 255).astype(np.uint8)


def speech_like(seconds=0.8, sample_rate=16000, seed=0) -> np.ndarray:
    """A harmonic tone with a moving pitch and an amplitude envelope (not speech)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    f0 = 140 + 40 * np.sin(2 * np.pi * 1.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    y = sum(np.sin(k * phase) / k for k in range(1, 12)) * np.hanning(len(t)) * 0.2
    return (y + 0.002 * rng.standard_normal(len(t))).astype(np.float32)


def fricative_like(seed=0) -> np.ndarray:
    """speech_like() with a burst of 4.5–7.5 kHz noise from 0.3 to 0.5 s, like an /s/ (16 kHz)."""
    import scipy.signal

    y = speech_like(seed=seed)
    noise = np.random.default_rng(seed).standard_normal(len(y))
    hiss = scipy.signal.sosfilt(scipy.signal.butter(8, [4500, 7500], "bandpass", fs=16000, output="sos"), noise)
    hiss[: int(0.3 * 16000)] = 0
    hiss[int(0.5 * 16000):] = 0
    return (y + 0.05 * hiss).astype(np.float32)
