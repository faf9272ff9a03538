"""Notebook 03, part 2: the face swap autoencoder (course_utils.face_swap, course_utils.models.face_swap)."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import face_swap, metrics
from course_utils.images import ImageError
from course_utils.models.face_swap import SwapAutoencoder, build_face_encoder


@pytest.mark.filterwarnings("error::UserWarning")  # Keras' "`build()` was called on layer 'swap_autoencoder' …"
def test_encoder_output_is_the_decoders_input():
    enc = build_face_encoder(32, latent=16, width=8)
    assert enc.output_shape == (None, 4, 4, 32)  # (size/8, size/8, 4·width)
    model = SwapAutoencoder(size=32, latent=16, width=8)
    rec_a, rec_b = model(np.zeros((2, 32, 32, 3), np.float32))
    assert rec_a.shape == rec_b.shape == (2, 32, 32, 3)
    assert model.get_config() == {"size": 32, "latent": 16, "width": 8, "seed": 0}


@pytest.mark.filterwarnings("error::UserWarning")  # …and "`shuffle=True` was passed, but will be ignored" from fit()
def test_swap_autoencoder_shapes_training_and_swap():
    rng = np.random.default_rng(0)
    faces_a = rng.integers(0, 255, (6, 32, 32, 3), dtype=np.uint8)
    faces_b = rng.integers(0, 255, (5, 32, 32, 3), dtype=np.uint8)
    model, history = face_swap.train_swap_autoencoder(faces_a, faces_b, steps=4, batch_size=2, latent=16, width=8)
    assert len(history.history["loss"]) >= 1 and np.isfinite(history.history["loss"][-1])
    rec = face_swap.face_batches(model, faces_a, "a")
    assert rec.shape == faces_a.shape and rec.dtype == np.uint8
    swapped = face_swap.swap_face(np.zeros((250, 250, 3), np.uint8), model, to="b")  # an LFW-sized frame
    assert swapped.size == (32, 32) and swapped.mode == "RGB"
    with pytest.raises(ImageError, match="square"):
        face_swap.swap_face(np.zeros((100, 60, 3), np.uint8), model)
    with pytest.raises(ImageError, match="at least"):
        face_swap.swap_face(np.zeros((16, 16, 3), np.uint8), model)
    with pytest.raises(ValueError, match="identity"):
        face_swap.face_batches(model, faces_a, "c")
    # notebook 03 reports the reconstruction PSNR as the mean over faces (metrics.psnr, reduction="mean")
    same = metrics.psnr(faces_a, faces_a.copy(), reduction="mean")
    assert same == np.inf or same > 99
