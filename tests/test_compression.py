"""Notebook 02's shared pieces: the JPEG baseline, the latent's empirical entropy, one training recipe and budget."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from course_utils import compression, metrics
from synthetic import smooth_image

ROOT = Path(__file__).resolve().parents[1]


def test_jpeg_curve_and_metrics():
    img = smooth_image(176, 176)
    curve = compression.jpeg_curve([img], qualities=(10, 50, 90))
    assert np.all(np.diff(curve["bpp"]) > 0) and np.all(np.diff(curve["psnr"]) > 0)
    assert metrics.ms_ssim(img, img) == pytest.approx(1.0, abs=1e-5)
    data, q = compression.jpeg_at_bpp(img, curve["bpp"][1])
    assert len(data) == len(compression.jpeg_bytes(img, 50)) and compression.jpeg_decode(data).shape == img.shape
    assert metrics.interpolate_at_rate([0.1, 0.4], [20.0, 30.0], 0.2) == pytest.approx(25.0)
    assert np.isnan(metrics.interpolate_at_rate([0.1, 0.4], [20.0, 30.0], 0.5))


def test_empirical_bpp_counts_each_channel_under_its_own_histogram():
    symbols = np.zeros((4, 4, 2), np.int32)
    symbols[:2, :, 0] = 1                      # channel 0: half 0, half 1 → 1 bit each; channel 1: constant → 0
    assert compression.empirical_bpp(symbols, pixels=32) == pytest.approx(16 / 32)


def test_retrain_cells_and_the_training_script_run_the_same_recipes():
    """One function per part, one budget table: the notebook's RETRAIN path and the script cannot drift apart."""
    cells = json.loads((ROOT / "notebooks" / "02_compression.ipynb").read_text())["cells"]
    retrain = ["".join(c["source"]) for c in cells if c["cell_type"] == "code" and "if RETRAIN" in "".join(c["source"])]
    script = (ROOT / "scripts" / "train_compression.py").read_text()
    for call in ("ic.train_shipped(", "vae.train_shipped(", "sc.train_shipped("):
        assert call in script and sum(call in cell for cell in retrain) == 1, call
    for text in retrain + [script]:
        assert "TRAINING_MINUTES[" not in text and "max_seconds" not in text, "budgets are read in the library only"
    assert set(compression.TRAINING_MINUTES) == {"image_base", "image_finetune", "vae", "wavenet"}
