"""Rate–distortion measures of course_utils.metrics.image: the Bjøntegaard delta rate on known curves."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import metrics


def test_bd_rate_of_known_curves():
    psnr = np.array([26.0, 29.0, 32.0, 35.0])
    rate = np.array([0.1, 0.2, 0.4, 0.8])
    assert metrics.bd_rate(rate, psnr, rate, psnr) == pytest.approx(0.0, abs=1e-9)
    assert metrics.bd_rate(rate, psnr, rate / 2, psnr) == pytest.approx(-50.0, abs=1e-6)
    assert metrics.bd_rate(rate, psnr, rate * 1.1, psnr) == pytest.approx(10.0, abs=1e-6)
    with pytest.raises(ValueError, match="4"):
        metrics.bd_rate(rate[:3], psnr[:3], rate, psnr)
    with pytest.raises(ValueError, match="overlap"):
        metrics.bd_rate(rate, psnr, rate, psnr + 20)

