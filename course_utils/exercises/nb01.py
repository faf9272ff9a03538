"""Notebook 01's exercises: model input from any image file."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from . import exercise


def _make_test_images(folder: Path) -> dict:
    """Write images in tricky modes (CMYK, greyscale, RGBA, 16-bit, EXIF-rotated) and return their paths."""
    from PIL import Image

    rng = np.random.default_rng(7)
    base = Image.fromarray(rng.integers(0, 256, (60, 90, 3), dtype=np.uint8))
    paths = {}
    for mode, ext in [("CMYK", "jpg"), ("L", "png"), ("RGBA", "png"), ("RGB", "png")]:
        paths[mode] = folder / f"test_{mode}.{ext}"
        base.convert(mode).save(paths[mode])
    paths["I;16"] = folder / "test_16bit.png"
    Image.fromarray(np.asarray(base.convert("L"), np.uint16) * 257).save(paths["I;16"])
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    paths["exif"] = folder / "test_exif.jpg"
    base.save(paths["exif"], exif=exif.tobytes(), quality=95)
    return paths


@exercise("01_model_input", "write to_model_input(path, size) -> float32 array (size, size, 3) in 0–255: "
          "an upright RGB image, resized and centre-cropped, whatever the file's mode.")
def _check_model_input(fn):
    from ..images import load_image

    with tempfile.TemporaryDirectory() as tmp:
        for kind, path in _make_test_images(Path(tmp)).items():
            for size in (32, 48):
                got = np.asarray(fn(path, size))
                want = np.asarray(load_image(path, size=size), np.float32)
                assert got.shape == want.shape, (
                    f"{kind} image, size {size}: shape {got.shape}, expected {want.shape}. "
                    "Hint: convert to RGB (to_rgb) and use resize_center_crop.")
                assert np.issubdtype(got.dtype, np.floating), f"{kind} image: dtype {got.dtype}, expected float32"
                err = float(np.abs(got - want).mean())
                assert err < 2.0, (f"{kind} image, size {size}: pixels differ from the reference by {err:.1f} "
                                   "on average. Hint: apply the EXIF orientation (ImageOps.exif_transpose) "
                                   "before resizing, and scale 16-bit images to 0–255.")
