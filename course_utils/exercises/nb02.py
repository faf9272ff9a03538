"""Notebook 02's exercises (compression): what a symbol costs under a discretised density.

Each checker imports what it needs inside its body, so importing this file stays light.
"""
from __future__ import annotations

import numpy as np

from . import exercise


@exercise("02_discrete_likelihood", "write bits_for(cdf, y) -> float: the number of bits an entropy coder spends "
          "on the integer array y when every element has the cumulative distribution function cdf "
          "(a vectorised callable), i.e. −Σ log2(cdf(y + ½) − cdf(y − ½)).")
def _check_bits_for(fn):
    """Compare ``fn(cdf, y)`` with the exact bit count on fresh Laplace-distributed integers, and a certain symbol."""
    from scipy import stats

    rng = np.random.default_rng()
    for scale in (0.7, 2.0, 5.0):
        y = np.round(rng.laplace(0, scale, size=rng.integers(50, 200)))
        cdf = stats.laplace(scale=scale).cdf
        want = float(-np.sum(np.log2(cdf(y + 0.5) - cdf(y - 0.5))))
        got = fn(cdf, y)
        assert np.ndim(got) == 0, f"return one number (the total), got shape {np.shape(got)}"
        got = float(got)
        assert abs(got - want) < 1e-6 * max(1.0, want), (
            f"Laplace(scale={scale}), {y.size} symbols: got {got:.2f} bits, expected {want:.2f}. "
            "Hint: the probability of the integer k is cdf(k + 0.5) − cdf(k − 0.5); bits are −log2 of it, summed.")
    y = np.zeros(10)
    cdf = stats.norm(scale=1e-3).cdf
    assert abs(float(fn(cdf, y))) < 1e-6, "a certain symbol (probability 1) costs 0 bits"
