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


@pytest.mark.filterwarnings("error")  # scikit-image: "divide by zero encountered in scalar divide"
def test_psnr_of_identical_images_is_inf_without_a_warning():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    b = a.copy()
    b[1, 0, 0, 0] ^= 1  # one image differs by one grey level in one pixel
    assert metrics.psnr(a[0], a[0].copy()) == np.inf
    assert metrics.psnr(a, a.copy(), reduction="pooled") == np.inf
    per_image = metrics.psnr(a, b, reduction="none")
    assert per_image[0] == per_image[2] == np.inf and np.isfinite(per_image[1])
    assert metrics.psnr(a, b, reduction="mean") == np.inf
