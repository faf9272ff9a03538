"""Notebook 03's exercises (conversion).

Each checker imports what it needs inside its body, so importing this file stays light.
"""
from __future__ import annotations

import numpy as np

from . import exercise


@exercise("03_f0_conversion", "write convert_f0_exercise(f0, source, target) -> np.ndarray: f0 is an F0 track in Hz "
          "with 0 in unvoiced frames; source and target are (mean, std) of each speaker's log F0; map voiced "
          "frames by log-Gaussian normalisation and keep unvoiced frames at 0.")
def _check_f0_conversion(fn):
    from ..voice_conversion import LogF0Stats, convert_f0

    rng = np.random.default_rng()
    for _ in range(20):
        n = int(rng.integers(5, 400))
        f0 = np.where(rng.random(n) < 0.3, 0.0, rng.uniform(70, 200, n))
        source = (float(rng.uniform(4.4, 5.0)), float(rng.uniform(0.1, 0.3)))
        target = (float(rng.uniform(5.0, 5.6)), float(rng.uniform(0.1, 0.3)))
        got = np.asarray(fn(f0.copy(), source, target), dtype=np.float64)
        assert got.shape == f0.shape, f"return one value per frame: shape {f0.shape}, got {got.shape}"
        want = convert_f0(f0, LogF0Stats(*source), LogF0Stats(*target))
        assert np.all(got[f0 == 0] == 0), "unvoiced frames (F0 = 0) must stay 0 — log(0) is not a pitch"
        assert np.allclose(got, want, rtol=1e-6), (
            "voiced frames are off. Hint: work on log F0: subtract the source mean, scale by target std / "
            "source std, add the target mean, then exp() back to Hz.")
