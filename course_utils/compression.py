"""Topic 2 — compression: what a latent representation is worth, in bits.

This module holds what the three parts of notebook 02 share — the byte-stream
header with its integrity check, the image quality metrics, the Bjøntegaard
delta rate and the exercise — and re-exports the three models:

* :mod:`course_utils.image_codec` — a learned image codec (Ballé, Laparra &
  Simoncelli 2017) against JPEG;
* :mod:`course_utils.vae` — a variational autoencoder on faces (Kingma &
  Welling 2014) against a plain autoencoder;
* :mod:`course_utils.speech_codec` — log-mel frames entropy-coded at a few kbps,
  decoded by a WaveNet (van den Oord et al. 2016; Kleijn et al. 2018) with fast
  incremental generation (Paine et al. 2016), or by Griffin-Lim, plus a noise-excited
  4–8 kHz band, against μ-law.

Shipped weights
---------------
``course_utils/weights/`` holds the weights the notebook loads by default, all
trained by the project's own script::

    COURSE_DATA_DIR=/path/to/mirror python benchmarks/train_compression.py all

(``image``, ``vae`` or ``wavenet`` instead of ``all`` retrains one part).
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from .exercises import exercise

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
#: Wall-clock training budgets (minutes on a 2-core CPU) of the shipped weights, used by
#: ``benchmarks/train_compression.py`` and by the notebook's ``RETRAIN = True`` path alike.
#: The VAE's budget is shared 3 : 1 between the VAE and the plain autoencoder.
TRAINING_MINUTES = {"image_base": 15.0, "image_finetune": 5.0, "vae": 5.0, "wavenet": 111.0}


class StreamError(ValueError):
    """A compressed stream is not one this codec wrote: bad magic, unknown version, truncated or corrupt."""


# ----------------------------------------------------------------------------- byte streams


def pack_stream(magic: bytes, version: int, fields: bytes, payload: bytes) -> bytes:
    """Frame a payload: ``magic | version | len(fields) | fields | crc32 | payload``.

    Parameters
    ----------
    magic : bytes
        4 bytes naming the format, e.g. ``b"LIC1"``.
    version : int
        Format version, 0–255.
    fields : bytes
        The codec's own header fields (shape, model id…), at most 255 bytes.
    payload : bytes
        The entropy-coded data.

    Returns
    -------
    bytes
        The stream; its length is what the bit rate counts (header included).
    """
    if len(magic) != 4 or len(fields) > 255:
        raise ValueError("magic must be 4 bytes and the header fields at most 255 bytes")
    crc = zlib.crc32(fields + payload)
    return magic + struct.pack(">BB", version, len(fields)) + fields + struct.pack(">I", crc) + payload


def unpack_stream(data, magic: bytes, version: int, what: str) -> tuple[bytes, bytes]:
    """Check and split a stream written by :func:`pack_stream`.

    Parameters
    ----------
    data : bytes
    magic : bytes
        The expected 4-byte magic.
    version : int
        The expected version.
    what : str
        Name of the format, for error messages (e.g. ``"learned image codec"``).

    Returns
    -------
    fields, payload : bytes

    Raises
    ------
    TypeError
        ``data`` is not bytes.
    StreamError
        Wrong magic (not this format), other version, truncated, or CRC-32 mismatch (corrupt bytes).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"a {what} stream must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < 10:
        raise StreamError(f"{what} stream truncated: {len(data)} bytes is shorter than the 10-byte header")
    if data[:4] != magic:
        raise StreamError(f"not a {what} stream: magic {data[:4]!r}, expected {magic!r}")
    got_version, n_fields = struct.unpack(">BB", data[4:6])
    if got_version != version:
        raise StreamError(f"{what} stream version {got_version} is not supported (this code reads {version})")
    if len(data) < 10 + n_fields:
        raise StreamError(f"{what} stream truncated inside its header ({len(data)} bytes)")
    fields = data[6:6 + n_fields]
    (crc,) = struct.unpack(">I", data[6 + n_fields:10 + n_fields])
    payload = data[10 + n_fields:]
    if zlib.crc32(fields + payload) != crc:
        raise StreamError(f"corrupt or truncated {what} stream: CRC-32 mismatch over {len(fields + payload)} bytes")
    return fields, payload


# ----------------------------------------------------------------------------- image quality


def psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 images, in dB (scikit-image, data range 255, all channels)."""
    from skimage.metrics import peak_signal_noise_ratio

    return float(peak_signal_noise_ratio(np.asarray(reference), np.asarray(test), data_range=255))


def ms_ssim(reference: np.ndarray, test: np.ndarray) -> float:
    """Multi-scale SSIM (Wang, Simoncelli & Bovik 2003) of two uint8 RGB images, via ``tf.image.ssim_multiscale``.

    Parameters
    ----------
    reference, test : np.ndarray, uint8, (H, W, 3)
        Same shape; both sides at least 161 pixels (five scales of an 11-tap window).

    Returns
    -------
    float
        In [0, 1]; 1 means identical. Channels are averaged.
    """
    import tensorflow as tf

    a = tf.convert_to_tensor(np.asarray(reference, np.float32)[None])
    b = tf.convert_to_tensor(np.asarray(test, np.float32)[None])
    return float(tf.image.ssim_multiscale(a, b, max_val=255.0)[0])


def bd_rate(rate_anchor, psnr_anchor, rate_test, psnr_test) -> float:
    """Bjøntegaard delta rate: the average bit-rate change of ``test`` against ``anchor`` at equal PSNR, in percent.

    Follows G. Bjøntegaard, "Calculation of average PSNR differences between RD-curves",
    ITU-T VCEG-M33 (2001): fit log10(rate) as a cubic polynomial of PSNR for each
    curve (least squares), integrate both fits over the PSNR interval the two
    curves share, and turn the mean log-rate difference into a percentage.

    Parameters
    ----------
    rate_anchor, psnr_anchor : sequence of float
        The reference codec's points (e.g. JPEG), rate in bpp (or kbps), PSNR in dB; at least 4 points.
    rate_test, psnr_test : sequence of float
        The tested codec's points, same units; at least 4 points.

    Returns
    -------
    float
        Negative means the tested codec needs fewer bits for the same quality
        (−10 means 10 % fewer bits).

    Raises
    ------
    ValueError
        Fewer than 4 points on a curve, non-positive rates, or PSNR ranges that do not overlap.
    """
    curves = []
    for rate, quality in ((rate_anchor, psnr_anchor), (rate_test, psnr_test)):
        rate, quality = np.asarray(rate, float), np.asarray(quality, float)
        if rate.shape != quality.shape or rate.size < 4:
            raise ValueError(f"a BD-rate curve needs ≥ 4 (rate, PSNR) points of equal count, got {rate.size}")
        if np.any(rate <= 0):
            raise ValueError("rates must be positive")
        curves.append((np.log10(rate), quality))
    low = max(curves[0][1].min(), curves[1][1].min())
    high = min(curves[0][1].max(), curves[1][1].max())
    if high <= low:
        raise ValueError(f"the PSNR ranges do not overlap (anchor {curves[0][1].min():.2f}–{curves[0][1].max():.2f}"
                         f" dB, test {curves[1][1].min():.2f}–{curves[1][1].max():.2f} dB)")
    integrals = []
    for log_rate, quality in curves:
        poly = np.polyint(np.polyfit(quality, log_rate, 3))
        integrals.append((np.polyval(poly, high) - np.polyval(poly, low)) / (high - low))
    return float((10 ** (integrals[1] - integrals[0]) - 1) * 100)


def jpeg_bytes(image: np.ndarray, quality: int) -> bytes:
    """Compress a uint8 RGB image with Pillow's JPEG encoder (4:2:0 chroma subsampling, the default).

    Parameters
    ----------
    image : np.ndarray, uint8, (H, W, 3)
    quality : int
        1–95.

    Returns
    -------
    bytes
        The JPEG file; bpp = ``len(bytes) * 8 / (H * W)``.
    """
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(buf, format="JPEG", quality=int(quality))
    return buf.getvalue()


def jpeg_decode(data: bytes) -> np.ndarray:
    """Decode JPEG bytes to a uint8 RGB array (H, W, 3)."""
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def jpeg_curve(images, qualities=(5, 10, 15, 20, 30, 40, 50, 65, 80)) -> dict:
    """JPEG's rate–distortion curve on a set of images.

    Parameters
    ----------
    images : sequence of np.ndarray, uint8, (H, W, 3)
    qualities : sequence of int

    Returns
    -------
    dict
        ``quality`` (list of int), ``bpp``, ``psnr`` (dB) and ``ms_ssim``: each a
        list with the mean over the images at each quality, bpp from the JPEG bytes.
    """
    out = {"quality": list(qualities), "bpp": [], "psnr": [], "ms_ssim": []}
    for q in qualities:
        rows = []
        for image in images:
            data = jpeg_bytes(image, q)
            decoded = jpeg_decode(data)
            rows.append((len(data) * 8 / (image.shape[0] * image.shape[1]), psnr(image, decoded),
                         ms_ssim(image, decoded)))
        for key, value in zip(("bpp", "psnr", "ms_ssim"), np.mean(rows, axis=0)):
            out[key].append(float(value))
    return out


def jpeg_at_bpp(image: np.ndarray, target_bpp: float) -> tuple[bytes, int]:
    """The JPEG of ``image`` whose bpp is closest to ``target_bpp`` (searching quality 1–95).

    Returns
    -------
    data : bytes
    quality : int
    """
    best = None
    for q in range(1, 96):
        data = jpeg_bytes(image, q)
        gap = abs(len(data) * 8 / (image.shape[0] * image.shape[1]) - target_bpp)
        if best is None or gap < best[0]:
            best = (gap, data, q)
    return best[1], best[2]


def interpolate_at_rate(rates, values, rate: float) -> float:
    """Value of an RD curve at ``rate``, linear in log-rate between measured points (NaN outside their range)."""
    rates, values = np.asarray(rates, float), np.asarray(values, float)
    order = np.argsort(rates)
    rates, values = rates[order], values[order]
    if rate < rates[0] or rate > rates[-1]:
        return float("nan")
    return float(np.interp(np.log(rate), np.log(rates), values))


def empirical_bpp(symbols: np.ndarray, pixels: int) -> float:
    """Bits per pixel of integer symbols under their own per-channel histogram (zeroth-order entropy).

    An optimistic figure for a latent without an entropy model: the histogram itself is not
    counted, and a real coder could only approach it.

    Parameters
    ----------
    symbols : np.ndarray, int, (..., C)
        E.g. a rounded latent (H', W', C).
    pixels : int
        Pixels of the image the symbols describe.

    Returns
    -------
    float
        ``Σ_c Σ_k −n_ck · log2(n_ck / N) / pixels``.
    """
    symbols = np.asarray(symbols).reshape(-1, np.asarray(symbols).shape[-1])
    bits = 0.0
    for column in symbols.T:
        _, counts = np.unique(column, return_counts=True)
        p = counts / counts.sum()
        bits += float(-(counts * np.log2(p)).sum())
    return bits / pixels


# ----------------------------------------------------------------------------- exercise


@exercise("02_discrete_likelihood", "write bits_for(cdf, y) -> float: the number of bits an entropy coder spends "
          "on the integer array y when every element has the cumulative distribution function cdf "
          "(a vectorised callable), i.e. −Σ log2(cdf(y + ½) − cdf(y − ½)).")
def _check_bits_for(fn):
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
