"""Image quality and rate–distortion measures: PSNR, MS-SSIM, the Bjøntegaard delta rate and reading RD curves.

Used by the compression (02), conversion (03) and synthesis (05) notebooks. PSNR is
scikit-image's, MS-SSIM TensorFlow's; BD-rate follows Bjøntegaard (VCEG-M33, 2001).
"""
from __future__ import annotations

import numpy as np

REDUCTIONS = ("mean", "pooled", "none")
#: Smallest side MS-SSIM accepts, pixels: its 11-tap window must fit the fifth scale, 2⁴ times smaller:
#: (11 − 1) · 2⁴ + 1 (``tf.image.ssim_multiscale`` with its default filter size and five power factors).
MS_SSIM_MIN_SIDE = 161


def psnr(reference, test, reduction: str | None = None):
    """Peak signal-to-noise ratio of uint8 images in dB (scikit-image, data range 255, all channels).

    Parameters
    ----------
    reference, test : np.ndarray, uint8, shape (H, W[, C]) or a batch (N, H, W, C)
        Same shape.
    reduction : {None, "mean", "pooled", "none"}
        How a batch is reduced; required for a batch (4-D input), ignored for one image:

        * ``"mean"`` — the mean of the per-image PSNRs (what image-translation papers report);
        * ``"pooled"`` — one PSNR of the squared error pooled over every pixel of the batch;
        * ``"none"`` — the per-image PSNRs, an array of shape (N,).

    Returns
    -------
    float, or np.ndarray of float, shape (N,), for ``reduction="none"``
        dB; ``inf`` for identical images.

    Raises
    ------
    ValueError
        Shapes differ, a batch without a ``reduction``, or an unknown ``reduction``.

    Examples
    --------
    >>> a = np.zeros((2, 4, 4, 3), np.uint8); b = a.copy(); b[0] = 16
    >>> round(psnr(a, b, reduction="pooled"), 2)
    27.06
    """
    from skimage.metrics import peak_signal_noise_ratio

    reference, test = np.asarray(reference), np.asarray(test)
    if reference.shape != test.shape:
        raise ValueError(f"psnr: reference shape {reference.shape} differs from test shape {test.shape}")
    if reduction is not None and reduction not in REDUCTIONS:
        raise ValueError(f"psnr: reduction must be one of {REDUCTIONS} (or None for one image), got {reduction!r}")

    def one(r, t):
        if np.array_equal(r, t):
            return float("inf")
        return float(peak_signal_noise_ratio(r, t, data_range=255))

    if reference.ndim < 4:
        return one(reference, test)
    if reduction is None:
        raise ValueError(f"psnr: a batch of shape {reference.shape} needs reduction='mean', 'pooled' or 'none'")
    if reduction == "pooled":
        return one(reference, test)
    values = np.array([one(r, t) for r, t in zip(reference, test)])
    return values if reduction == "none" else float(np.mean(values))


def ms_ssim(reference: np.ndarray, test: np.ndarray) -> float:
    """Multi-scale SSIM (Wang, Simoncelli & Bovik 2003) of two uint8 RGB images, via ``tf.image.ssim_multiscale``.

    Parameters
    ----------
    reference, test : np.ndarray, uint8, (H, W, 3)
        Same shape; both sides at least :data:`MS_SSIM_MIN_SIDE` (161) pixels (five scales of an 11-tap window).

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
    low, high = common_range(curves[0][1], curves[1][1])
    if high <= low:
        raise ValueError(f"the PSNR ranges do not overlap (anchor {curves[0][1].min():.2f}–{curves[0][1].max():.2f}"
                         f" dB, test {curves[1][1].min():.2f}–{curves[1][1].max():.2f} dB)")
    integrals = []
    for log_rate, quality in curves:
        poly = np.polyint(np.polyfit(quality, log_rate, 3))
        integrals.append((np.polyval(poly, high) - np.polyval(poly, low)) / (high - low))
    return float((10 ** (integrals[1] - integrals[0]) - 1) * 100)


def common_range(values_a, values_b) -> tuple[float, float]:
    """The interval two curves both cover along one axis (e.g. the PSNR range of a BD-rate), ``(low, high)``.

    Parameters
    ----------
    values_a, values_b : sequence of float
        Each curve's values along the axis, any unit (e.g. PSNR in dB); at least one each.

    Returns
    -------
    low, high : float
        In the unit of the values: ``low`` is the larger of the two minima, ``high`` the smaller of the maxima;
        ``high <= low`` means the curves share no range.

    Raises
    ------
    ValueError
        ``values_a`` or ``values_b`` is empty.

    Examples
    --------
    >>> common_range([24.0, 27.0], [26.0, 31.0])
    (26.0, 27.0)
    """
    a, b = np.asarray(values_a, float), np.asarray(values_b, float)
    for name, values in (("values_a", a), ("values_b", b)):
        if not values.size:
            raise ValueError(f"common_range: {name} is empty")
    return float(max(a.min(), b.min())), float(min(a.max(), b.max()))


def interpolate_at_rate(rates, values, rate: float) -> float:
    """Value of an RD curve at ``rate``, linear in log-rate between measured points (NaN outside their range)."""
    rates, values = np.asarray(rates, float), np.asarray(values, float)
    order = np.argsort(rates)
    rates, values = rates[order], values[order]
    if rate < rates[0] or rate > rates[-1]:
        return float("nan")
    return float(np.interp(np.log(rate), np.log(rates), values))


