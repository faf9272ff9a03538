"""Image preprocessing: every Pillow mode to RGB, EXIF orientation, resizing, clear errors, tf.data."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from course_utils import images


def rgb_image(w=60, h=40):
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


@pytest.mark.parametrize("mode, ext", [("L", "png"), ("RGBA", "png"), ("CMYK", "jpg"), ("P", "png"),
                                       ("LA", "png"), ("1", "png"), ("RGB", "jpg")])
def test_modes_become_8bit_rgb(tmp_path, mode, ext):
    path = tmp_path / f"img.{ext}"
    rgb_image().convert(mode).save(path)
    img = images.load_image(path)
    assert img.mode == "RGB" and img.size == (60, 40)
    assert np.asarray(img).dtype == np.uint8


def test_rgba_transparent_pixels_go_on_white(tmp_path):
    arr = np.zeros((4, 4, 4), np.uint8)  # fully transparent black
    Image.fromarray(arr).save(tmp_path / "t.png")
    assert (np.asarray(images.load_image(tmp_path / "t.png")) == 255).all()


def test_16bit_png_scales_to_full_range(tmp_path):
    arr = np.array([[0, 32896, 65535]], np.uint16)
    Image.fromarray(arr).save(tmp_path / "deep.png")
    img = images.load_image(tmp_path / "deep.png")
    assert np.asarray(img)[0, :, 0].tolist() == [0, 128, 255]


def test_exif_rotation_is_applied(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90° clockwise
    rgb_image(60, 40).save(tmp_path / "rot.jpg", exif=exif.tobytes())
    assert images.load_image(tmp_path / "rot.jpg").size == (40, 60)


def test_resize_center_crop_keeps_the_middle():
    arr = np.zeros((40, 120, 3), np.uint8)
    arr[:, 40:80] = 255  # a white centre third
    out = np.asarray(images.resize_center_crop(Image.fromarray(arr), 20))
    assert out.shape == (20, 20, 3) and out[:, 8:12].min() > 200


def test_truncated_jpeg_error_names_the_file(tmp_path):
    buf = io.BytesIO()
    rgb_image(200, 200).save(buf, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(buf.getvalue()[:800])
    with pytest.raises(images.ImageError, match=r"cut\.jpg: cannot decode"):
        images.load_image(tmp_path / "cut.jpg")
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(images.ImageError, match=r"text\.png"):
        images.load_image(tmp_path / "text.png")
    with pytest.raises(FileNotFoundError, match="gone.jpg"):
        images.load_image(tmp_path / "gone.jpg")


def test_an_undecodable_file_is_closed_not_left_to_the_garbage_collector(tmp_path):
    """load_image closes the file Pillow opened when decoding fails (it raised a ResourceWarning before)."""
    import gc
    import warnings

    (tmp_path / "text.png").write_text("not an image")
    buf = io.BytesIO()
    rgb_image(200, 200).save(buf, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(buf.getvalue()[:800])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name in ("cut.jpg", "text.png"):
            try:
                images.load_image(tmp_path / name)
            except images.ImageError:
                pass
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], [str(w.message) for w in caught]
    with open(tmp_path / "cut.jpg", "rb") as f:  # a file object the caller opened is the caller's to close
        with pytest.raises(images.ImageError):
            images.load_image(f)
        assert not f.closed


def test_normalisation_and_pipeline():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (10, 16, 16, 3), dtype=np.uint8)
    mean, std = images.channel_stats(x)
    z = images.normalize_image(x, mean, std)
    assert z.dtype == np.float32 and np.allclose(z.mean(axis=(0, 1, 2)), 0, atol=1e-4)
    ds = images.image_dataset(x, np.arange(10) % 2, batch_size=4, training=True)
    batches = list(ds)
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    assert batches[0][0].shape[1:] == (16, 16, 3) and batches[0][0].dtype.name == "float32"


def test_load_image_takes_bytes_and_arrays_and_names_bad_input_briefly():
    import io

    buf = io.BytesIO()
    Image.fromarray(np.full((5, 7, 3), 200, np.uint8)).save(buf, "PNG")
    assert images.load_image(buf.getvalue()).size == (7, 5)
    assert images.load_image(np.zeros((4, 6), np.uint8)).mode == "RGB"
    with pytest.raises(images.ImageError, match=r"^<20000 bytes>: cannot decode") as err:
        images.load_image(b"x" * 20000)
    assert len(str(err.value)) < 300  # the bytes are not repeated in the message
    with pytest.raises(images.ImageError, match="uint8 array"):
        images.load_image(np.zeros((4, 4), np.float32))
    with pytest.raises(TypeError, match="got int"):
        images.load_image(3)


def test_check_rgb_is_the_one_check_of_an_image_or_a_batch():
    one = np.zeros((20, 30, 3), np.uint8)
    assert images.check_rgb(one) is one and images.check_rgb(one[None], batch=True).shape == (1, 20, 30, 3)
    assert images.check_rgb(Image.fromarray(one)).shape == (20, 30, 3)
    assert issubclass(images.ImageError, ValueError)  # callers that catch ValueError keep working
    for bad, batch, match in [(one.astype(np.float32), False, r"^photo: expected uint8 RGB pixels \(H, W, 3\)"),
                              (one[..., :2], False, "got uint8 of shape"), (one, True, r"photos \(n, H, W, 3\)"),
                              (np.zeros((0, 20, 30, 3), np.uint8), True, "photos"),
                              (Image.fromarray(one).convert("L"), False, "mode 'L'")]:
        with pytest.raises(images.ImageError, match=match):
            images.check_rgb(bad, "photo", batch=batch)
    with pytest.raises(images.ImageError, match="30×20 is outside the supported 21–100 pixels per side"):
        images.check_rgb(one, "photo", min_side=21, max_side=100)
    with pytest.raises(images.ImageError, match="at least 21 pixels"):
        images.check_rgb(one, "photo", min_side=21)

