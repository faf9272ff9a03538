"""Notebook 05's exercises (synthesis).

Each checker imports what it needs inside its body, so importing this file stays light.
"""
from __future__ import annotations

import numpy as np

from . import exercise


@exercise("05_guided_attention", "write guided_attention(n_text, n_steps, g=0.2) -> float array (n_steps, n_text): "
          "W[k, n] = 1 - exp(-(n / n_text - k / n_steps)² / (2 g²)), the penalty of the guided attention loss.")
def _check_guided_attention(fn):
    from ..models.tacotron import guided_attention_weights

    rng = np.random.default_rng()
    for _ in range(5):
        n_text, n_steps = int(rng.integers(3, 40)), int(rng.integers(3, 60))
        g = float(rng.choice([0.2, 0.3]))
        want = np.asarray(guided_attention_weights(np.array([n_text]), np.array([n_steps]), n_text, n_steps, g))[0]
        got = np.asarray(fn(n_text, n_steps, g), dtype=np.float64)
        assert got.shape == want.shape, (f"n_text={n_text}, n_steps={n_steps}: shape {got.shape}, expected "
                                         f"{want.shape}. Hint: rows are decoder steps k, columns text tokens n.")
        assert abs(got[0, 0]) < 1e-6, "W[0, 0] should be 0: the first step may look at the first token."
        err = float(np.abs(got - want).max())
        assert err < 1e-4, (f"n_text={n_text}, n_steps={n_steps}, g={g}: values differ by up to {err:.3g}. "
                            "Hint: positions are normalised, n / n_text and k / n_steps, and the penalty is "
                            "1 − a Gaussian of their difference.")


@exercise("05_length_regulator", "write length_regulator(encodings, durations) -> array (durations.sum(), channels): "
          "row i of encodings repeated durations[i] times (FastSpeech's length regulator).")
def _check_length_regulator(fn):
    rng = np.random.default_rng()
    for _ in range(5):
        n, channels = int(rng.integers(2, 12)), int(rng.integers(1, 6))
        encodings = rng.normal(size=(n, channels)).astype(np.float32)
        durations = rng.integers(0, 6, size=n)
        durations[0] = max(durations[0], 1)
        want = np.repeat(encodings, durations, axis=0)
        got = np.asarray(fn(encodings, durations))
        assert got.shape == want.shape, (f"durations {durations.tolist()}: shape {got.shape}, expected {want.shape}. "
                                         "Hint: one row per frame, durations.sum() frames in all; a phone lasting "
                                         "0 frames adds no row.")
        assert np.allclose(got, want), ("the rows are not the phones' encodings in order. Hint: frame t belongs "
                                        "to the phone whose cumulative duration first exceeds t.")
