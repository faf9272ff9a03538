"""Exercises with automatic checks, shared by every notebook.

A notebook's exercise cell asks the learner to write a function; ``check(name,
answer)`` runs the registered checker, prints what passed or what went wrong
with a hint, and returns True/False. Checkers test behaviour on inputs the
learner did not see (generated on the fly), never a hard-coded output.
"""
from __future__ import annotations

import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np


@dataclass
class Exercise:
    """One exercise: a prompt, a checker (raises AssertionError with a hint on failure)."""

    prompt: str
    checker: Callable


EXERCISES: dict[str, Exercise] = {}


def exercise(name: str, prompt: str):
    """Decorator registering ``checker`` under ``name`` in :data:`EXERCISES`."""
    def wrap(checker):
        EXERCISES[name] = Exercise(prompt, checker)
        return checker
    return wrap


def check(name: str, answer) -> bool:
    """Check a learner's answer to exercise ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`EXERCISES`.
    answer : object
        Usually the learner's function; ``None`` means "not attempted yet".

    Returns
    -------
    bool
        True if every check passed. Prints a ✅ summary, or ❌ with the first
        failed check and a hint. Never raises for a wrong answer.
    """
    if name not in EXERCISES:
        raise KeyError(f"unknown exercise {name!r}; known: {sorted(EXERCISES)}")
    if answer is None:
        print(f"⏳ {name}: not attempted yet — {EXERCISES[name].prompt}")
        return False
    try:
        EXERCISES[name].checker(answer)
    except AssertionError as err:
        print(f"❌ {name}: {err}")
        return False
    except Exception:  # the learner's code crashed: show where
        print(f"❌ {name}: your code raised an exception:\n{traceback.format_exc(limit=-3)}")
        return False
    print(f"✅ {name}: all checks passed.")
    return True


# ----------------------------------------------------------------------------- notebook 01


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
    from .images import load_image

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
