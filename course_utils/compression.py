"""Topic 2 — compression: what a latent representation is worth, in bits.

Notebook 02 has three parts; each has a pipeline module and a model file:

* images — :mod:`course_utils.image_codec` (training, shipped weights, the ``LIC1`` byte stream,
  :func:`~course_utils.image_codec.rate_distortion`) and :mod:`course_utils.models.factorized_prior`
  (the network: Ballé, Laparra & Simoncelli 2017, with GDN and the factorised prior of Ballé et al. 2018),
  against JPEG (this module);
* faces — :mod:`course_utils.vae` and :mod:`course_utils.models.vae` (Kingma & Welling 2014), against a
  plain autoencoder;
* speech — :mod:`course_utils.speech_codec` (log-mel frames entropy-coded at a few kbps, the ``LSC1`` stream,
  μ-law, Griffin-Lim, the post-filter and the noise-excited 4–8 kHz band,
  :func:`~course_utils.speech_codec.score_decoders`) and :mod:`course_utils.models.wavenet`
  (van den Oord et al. 2016; Kleijn et al. 2018; fast incremental generation, Paine et al. 2016), against μ-law.

This module holds what they share: the training budgets of the shipped weights (:data:`TRAINING_MINUTES`),
the JPEG baseline and the empirical entropy of a latent. Byte-stream framing is :mod:`course_utils.bitstream`,
image metrics (PSNR, MS-SSIM, BD-rate) are :mod:`course_utils.metrics`, the exercise is
:mod:`course_utils.exercises.nb02`.

Shipped weights
---------------
``course_utils/weights/`` holds the weights the notebook loads by default, all trained by the project's own
script with the budgets below (each part's ``train_shipped``, which the notebook's ``RETRAIN = True`` runs too)::

    COURSE_DATA_DIR=/path/to/mirror python scripts/train_compression.py all

(``image``, ``vae`` or ``wavenet`` instead of ``all`` retrains one part).
"""
from __future__ import annotations

import numpy as np

from . import metrics

#: Wall-clock training budgets (minutes on a 2-core CPU) of the shipped weights, read by the ``train_shipped``
#: functions of :mod:`~course_utils.image_codec`, :mod:`~course_utils.vae` and :mod:`~course_utils.speech_codec`
#: (called by ``scripts/train_compression.py`` and by the notebook's ``RETRAIN = True`` path alike).
#: The VAE's budget is shared 3 : 1 between the VAE and the plain autoencoder.
TRAINING_MINUTES = {"image_base": 15.0, "image_finetune": 5.0, "vae": 5.0, "wavenet": 111.0}


# ----------------------------------------------------------------------------- JPEG, the baseline


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
            rows.append((len(data) * 8 / (image.shape[0] * image.shape[1]), metrics.psnr(image, decoded),
                         metrics.ms_ssim(image, decoded)))
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


# ----------------------------------------------------------------------------- the plain autoencoder's latent


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
