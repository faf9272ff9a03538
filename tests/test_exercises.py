"""The exercise mechanism: a right answer passes, a wrong one fails with a hint, none is 'not attempted'."""
from __future__ import annotations

import numpy as np
from PIL import Image

from course_utils import exercises, images


def test_correct_solution_passes(capsys):
    def to_model_input(path, size):
        return np.asarray(images.load_image(path, size=size), np.float32)

    assert exercises.check("01_model_input", to_model_input)
    assert "✅" in capsys.readouterr().out


def test_solution_that_ignores_exif_fails_with_hint(capsys):
    def forgets_exif(path, size):
        return np.asarray(images.resize_center_crop(images.to_rgb(Image.open(path)), size), np.float32)

    assert not exercises.check("01_model_input", forgets_exif)
    out = capsys.readouterr().out
    assert "❌" in out and "exif" in out.lower()


def test_crashing_and_missing_answers(capsys):
    assert not exercises.check("01_model_input", lambda path, size: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert not exercises.check("01_model_input", None)
    assert "not attempted" in capsys.readouterr().out
