"""Image loading and preprocessing with Pillow, and a tf.data input pipeline.

Photos in the wild come rotated by EXIF tags, as greyscale, palette, RGBA,
CMYK or 16-bit files; :func:`load_image` turns all of them into 8-bit RGB and
raises a clear error for files it cannot decode. :func:`check_rgb` is the one
check of RGB pixels handed to a function (one image or a batch).
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError


class ImageError(ValueError):
    """An image that cannot be used: undecodable, truncated, or an unexpected size."""


def to_rgb(img: Image.Image, background=(255, 255, 255)) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB.

    * ``L``, ``P``, ``1``, ``CMYK``, ``YCbCr``, ``LAB``, ``HSV``: Pillow's conversion.
    * ``RGBA``, ``LA``, ``PA`` and palette images with transparency: composited
      over ``background``.
    * 16-bit and 32-bit greyscale (``I;16*``, ``I``): scaled from the full
      0–65535 range to 0–255 (``F``: from its own min–max range).

    Parameters
    ----------
    img : PIL.Image.Image
    background : tuple of int
        RGB colour behind transparent pixels.

    Returns
    -------
    PIL.Image.Image
        Mode ``"RGB"``.
    """
    if img.mode == "RGB":
        return img
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, tuple(background) + (255,))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    if img.mode.startswith("I") or img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        if img.mode == "F":
            lo, hi = float(arr.min()), float(arr.max())
            arr = (arr - lo) / (hi - lo if hi > lo else 1.0) * 255.0
        else:
            arr = arr / 257.0  # 0..65535 -> 0..255
        return Image.fromarray(np.clip(np.round(arr), 0, 255).astype(np.uint8)).convert("RGB")
    return img.convert("RGB")


def resize_center_crop(img: Image.Image, size) -> Image.Image:
    """Resize to fill ``size`` and crop the centre, keeping the aspect ratio (``ImageOps.fit``).

    Parameters
    ----------
    img : PIL.Image.Image
    size : int or (width, height)
        Output size in pixels.

    Returns
    -------
    PIL.Image.Image
    """
    if isinstance(size, int):
        size = (size, size)
    return ImageOps.fit(img, tuple(size), method=Image.Resampling.BICUBIC, centering=(0.5, 0.5))


def resize_photos(images: np.ndarray, size: int) -> np.ndarray:
    """A batch of square photos resized to ``size`` pixels, each by :func:`resize_center_crop` (bicubic).

    Parameters
    ----------
    images : np.ndarray, uint8, shape (n, height, width, 3)
    size : int
        Output side in pixels.

    Returns
    -------
    np.ndarray, uint8, shape (n, size, size, 3)
        ``images`` itself when it already has that size.

    Raises
    ------
    ImageError
        Not a uint8 batch of RGB photos.
    """
    images = check_rgb(images, "images", batch=True)
    if images.shape[1:3] == (size, size):
        return images
    return np.stack([np.asarray(resize_center_crop(Image.fromarray(a), size)) for a in images])


def web_thumbnail(img: Image.Image, size, small: int = 32, quality: int = 40) -> Image.Image:
    """A photo as it comes back from the web as a thumbnail: shrunk, JPEG-coded hard, enlarged again.

    The photo is made RGB (:func:`to_rgb`), centre-cropped and resized (bicubic) to ``small`` pixels a
    side, saved as a JPEG of ``quality`` and decoded, then resized to ``size`` — fine detail (a zebra's thin
    stripes, far-off snow) is gone and JPEG's 8×8 blocks and blurred colours are in. A harder test of a
    photo classifier than its hold-out split.

    Parameters
    ----------
    img : PIL.Image.Image
        Any mode and size.
    size : int or (width, height)
        Output size in pixels.
    small : int
        Side of the thumbnail in pixels, ≥ 8.
    quality : int
        JPEG quality, 1–95 (Pillow's scale).

    Returns
    -------
    PIL.Image.Image
        Mode ``"RGB"``, ``size``.

    Raises
    ------
    ValueError
        ``small`` < 8 or ``quality`` outside 1–95.
    """
    if small < 8 or not 1 <= quality <= 95:
        raise ValueError(f"web_thumbnail: need small >= 8 and quality in 1-95, got small={small}, quality={quality}")
    buffer = io.BytesIO()
    resize_center_crop(to_rgb(img), small).save(buffer, "JPEG", quality=quality)
    return resize_center_crop(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"), size)


def center_zoom(img: Image.Image, size, fraction: float = 0.625) -> Image.Image:
    """Another framing of the same photo: its central ``fraction`` of each side, resized to ``size``.

    With the default, a 256-pixel photo keeps its central 160 × 160 pixels (39 % of its area): the
    subject fills more of the frame, and the edges the classifier may have relied on are gone.

    Parameters
    ----------
    img : PIL.Image.Image
        Any mode and size (made RGB with :func:`to_rgb`).
    size : int or (width, height)
        Output size in pixels.
    fraction : float
        Share of each side kept, in (0, 1].

    Returns
    -------
    PIL.Image.Image
        Mode ``"RGB"``, ``size`` (bicubic, :func:`resize_center_crop`).

    Raises
    ------
    ValueError
        ``fraction`` outside (0, 1].
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"center_zoom: fraction must be in (0, 1], got {fraction}")
    img = to_rgb(img)
    width, height = img.size
    w, h = max(1, round(width * fraction)), max(1, round(height * fraction))
    left, top = (width - w) // 2, (height - h) // 2
    return resize_center_crop(img.crop((left, top, left + w, top + h)), size)


def _describe(source) -> str:
    """A short name of an image source for error messages (never the bytes themselves)."""
    if isinstance(source, (str, Path)):
        return str(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<{len(source)} bytes>"
    if isinstance(source, np.ndarray):
        return f"<array {source.shape} {source.dtype}>"
    name = getattr(source, "name", None)
    return str(name) if isinstance(name, (str, Path)) else f"<{type(source).__name__}>"


def load_image(source, size=None) -> Image.Image:
    """Open an image as upright 8-bit RGB, optionally resized with a centre crop.

    Parameters
    ----------
    source : str, pathlib.Path, bytes, file object, PIL.Image.Image or np.ndarray
        A file, the encoded bytes of one (JPEG, PNG…), an open image, or a uint8 array of shape
        (H, W), (H, W, 3) or (H, W, 4).
    size : int or (width, height), optional
        If given, :func:`resize_center_crop` to this size.

    Returns
    -------
    PIL.Image.Image
        Mode ``"RGB"``, EXIF orientation applied.

    Raises
    ------
    FileNotFoundError
        No such file.
    ImageError
        Not an image, truncated/corrupt, or an array that is not uint8 (H, W[, 1|3|4]); the message
        names the file (bytes and arrays by their size, never their content).
    TypeError
        A source of another type.
    """
    name = _describe(source)
    if isinstance(source, Image.Image):
        img = source
    elif isinstance(source, np.ndarray):
        if source.dtype != np.uint8 or source.ndim not in (2, 3) or (source.ndim == 3 and source.shape[2] not in (1, 3, 4)):
            raise ImageError(f"{name}: expected a uint8 array of shape (H, W), (H, W, 3) or (H, W, 4)")
        if source.size == 0:
            raise ImageError(f"{name}: the array is empty")
        img = Image.fromarray(source[..., 0] if source.ndim == 3 and source.shape[2] == 1 else source)
    else:
        if isinstance(source, (str, Path)) and not Path(source).is_file():
            raise FileNotFoundError(f"{source}: no such image file")
        if isinstance(source, (bytes, bytearray, memoryview)):
            source = io.BytesIO(bytes(source))
        elif not isinstance(source, (str, Path)) and not hasattr(source, "read"):
            raise TypeError(f"load_image: expected a path, bytes, a file object, a PIL image or an array, "
                            f"got {type(source).__name__}")
        opened_here = isinstance(source, (str, Path))  # Pillow opens a path itself; a caller's file stays open
        img = None
        try:
            img = Image.open(source)
            img.load()  # decode now, so truncated files fail here and not later
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
            if img is not None and opened_here:
                img.close()  # the file Pillow opened and could not decode is closed now, not by the collector
            raise ImageError(f"{name}: cannot decode image ({str(err)[:200]})") from err
    img = to_rgb(ImageOps.exif_transpose(img))
    if size is not None:
        img = resize_center_crop(img, size)
    return img


def check_rgb(image, name: str = "image", *, min_side: int = 1, max_side: int | None = None,
              batch: bool = False) -> np.ndarray:
    """Validate RGB pixels: one uint8 image (an array or an RGB PIL image) or, with ``batch``, a batch of them.

    The one check of RGB input in the course: the codecs (:mod:`course_utils.compression`,
    :mod:`course_utils.image_codec`) and CycleGAN's photo batches (:mod:`course_utils.cyclegan`) use it.

    Parameters
    ----------
    image : np.ndarray, uint8, (H, W, 3) or, with ``batch``, (n, H, W, 3); or PIL.Image.Image of mode "RGB"
    name : str
        The argument's name in error messages (e.g. ``"images[2]"``).
    min_side, max_side : int, optional
        Accepted range of H and W, pixels (``max_side`` None: no upper limit).
    batch : bool
        Expect a batch of ``n ≥ 1`` images of one size, (n, H, W, 3), instead of one image.

    Returns
    -------
    np.ndarray, uint8
        ``image`` as an array (not copied).

    Raises
    ------
    ImageError
        (a ValueError) A PIL image whose mode is not RGB; an array that is not uint8, not of the expected shape, an
        empty batch, or a side outside ``min_side``–``max_side`` pixels. The message starts with ``name``.
    """
    if isinstance(image, Image.Image) and image.mode != "RGB":
        raise ImageError(f"{name}: mode {image.mode!r} is not RGB; convert it first "
                         "(course_utils.images.to_rgb handles RGBA, greyscale, CMYK, 16-bit)")
    arr = np.asarray(image)
    layout = "photos (n, H, W, 3)" if batch else "pixels (H, W, 3)"
    if arr.dtype != np.uint8 or arr.ndim != (4 if batch else 3) or arr.shape[-1] != 3 or (batch and not len(arr)):
        raise ImageError(f"{name}: expected uint8 RGB {layout}, got {arr.dtype} of shape {arr.shape}")
    height, width = arr.shape[-3:-1]
    if min(height, width) < min_side or (max_side is not None and max(height, width) > max_side):
        span = f"{min_side}–{max_side}" if max_side is not None else f"at least {min_side}"
        raise ImageError(f"{name}: size {width}×{height} is outside the supported {span} pixels per side")
    return arr


def to_tanh_range(images) -> np.ndarray:
    """uint8 pixels 0–255 → float32 in [−1, 1], the range of a generator's tanh output.

    Parameters
    ----------
    images : array-like, uint8, any shape

    Returns
    -------
    np.ndarray, float32, same shape
    """
    return np.asarray(images, np.float32) / 127.5 - 1.0


def from_tanh_range(x) -> np.ndarray:
    """Model output in [−1, 1] → uint8 pixels 0–255 (rounded, clipped); the inverse of :func:`to_tanh_range`.

    Parameters
    ----------
    x : array-like, float, any shape

    Returns
    -------
    np.ndarray, uint8, same shape
    """
    return np.clip(np.round((np.asarray(x, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def channel_stats(images: np.ndarray):
    """Per-channel mean and standard deviation of uint8 images, in [0, 1] units.

    Parameters
    ----------
    images : np.ndarray, shape (n, height, width, 3)

    Returns
    -------
    mean, std : np.ndarray, float32, shape (3,)
    """
    x = np.asarray(images, dtype=np.float32) / 255.0
    return x.mean(axis=(0, 1, 2)), x.std(axis=(0, 1, 2))


def normalize_image(images: np.ndarray, mean, std) -> np.ndarray:
    """Scale uint8 pixels to [0, 1], then standardise each channel: ``(x/255 - mean) / std``.

    Returns
    -------
    np.ndarray, float32, same shape as ``images``
    """
    return ((np.asarray(images, dtype=np.float32) / 255.0 - np.asarray(mean, np.float32))
            / np.asarray(std, np.float32))


def augmentation(seed: int = 0):
    """The course's image augmentation: horizontal flip and ±10 % translation.

    Returns
    -------
    keras.Sequential
        Works on float images of shape (batch, height, width, 3); active only with ``training=True``.
    """
    import keras

    return keras.Sequential([
        keras.layers.RandomFlip("horizontal", seed=seed),
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", seed=seed),
    ], name="augmentation")


def image_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int = 32, training: bool = False,
                  seed: int = 0):
    """A ``tf.data`` pipeline over uint8 images: shuffle and augment when training, batch, prefetch.

    Pixels stay in 0–255 float32; the model normalises them (its first layer), so
    raw images can be fed at inference time as well.

    Parameters
    ----------
    images : np.ndarray, uint8, shape (n, height, width, 3)
    labels : np.ndarray, int, shape (n,)
    batch_size : int
    training : bool
        Shuffle each epoch and apply :func:`augmentation`.
    seed : int

    Returns
    -------
    tf.data.Dataset
        Yields ``(float32 (batch, h, w, 3), int64 (batch,))``.
    """
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((np.asarray(images, np.float32), np.asarray(labels, np.int64)))
    if training:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if training:
        aug = augmentation(seed)
        ds = ds.map(lambda x, y: (aug(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
