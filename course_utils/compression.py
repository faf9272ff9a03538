"""Topic 2 — compression: what a latent representation is worth, in bits.

Notebook 02 has three parts; each has a pipeline module and a model file:

* images — :mod:`course_utils.image_codec` (training, shipped weights, the ``LIC1`` and ``LHP1`` byte streams,
  :func:`~course_utils.image_codec.rate_distortion`), :mod:`course_utils.models.factorized_prior`
  (Ballé, Laparra & Simoncelli 2017, with GDN and the factorised prior of Ballé et al. 2018) and
  :mod:`course_utils.models.hyperprior` (the scale hyperprior, Ballé et al. 2018), against JPEG, WebP and AVIF
  (this module);
* faces — :mod:`course_utils.vae` and :mod:`course_utils.models.vae` (Kingma & Welling 2014), against a
  plain autoencoder;
* speech — :mod:`course_utils.speech_codec` (log-mel frames entropy-coded at a few kbps, the ``LSC1`` stream,
  μ-law, Griffin-Lim, the post-filter and the noise-excited 4–8 kHz band,
  :func:`~course_utils.speech_codec.score_decoders`) and :mod:`course_utils.models.wavenet`
  (van den Oord et al. 2016; Kleijn et al. 2018; fast incremental generation, Paine et al. 2016), against μ-law,
  Opus and Codec 2 (this module).

This module holds what they share: the training budgets of the shipped weights (:data:`TRAINING_MINUTES`),
rates counted from bytes (:func:`bpp`, :func:`kbps`), the empirical entropy of a latent, and the classical
codecs a user would otherwise pick — each a library, called with its settings fixed:

* images (Pillow): JPEG (ITU-T T.81, libjpeg-turbo), WebP (libwebp) and AVIF (libavif + libaom), one code path
  for the three (:func:`pillow_bytes`, :func:`classical_curve`, :func:`classical_at_bpp`) and the comparison with
  the learned codec (:func:`classical_comparison`: BD-rate, quality at given bpp);
* speech: Opus (RFC 6716; libopus through PyAV's FFmpeg, in an Ogg file, RFC 7845) and Codec 2 (libcodec2
  through pycodec2), each a round trip (:func:`speech_round_trip`) that returns what the listener hears and the
  bytes it cost; :func:`speech_baselines` runs the settings of :data:`SPEECH_BASELINES` over a set of utterances.

Byte-stream framing is :mod:`course_utils.bitstream`, image and speech metrics (PSNR, MS-SSIM, BD-rate, STOI,
CER, LSD) are :mod:`course_utils.metrics`, the exercise is :mod:`course_utils.exercises.nb02`.

Shipped weights
---------------
``course_utils/weights/`` holds the weights the notebook loads by default, all trained by the project's own
script with the budgets below (each part's ``train_shipped``, which the notebook's ``RETRAIN = True`` runs too)::

    COURSE_DATA_DIR=/path/to/mirror python scripts/train_compression.py all

(``image``, ``vae`` or ``wavenet`` instead of ``all`` retrains one part).
"""
from __future__ import annotations

import io
import math
import numbers
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

from . import audio, metrics
from .bitstream import StreamError
from .images import check_rgb, load_image
from .metrics.image import MS_SSIM_MIN_SIDE

#: Wall-clock training budgets (minutes on a 2-core CPU) of the shipped weights, read by the ``train_shipped``
#: functions of :mod:`~course_utils.image_codec`, :mod:`~course_utils.vae` and :mod:`~course_utils.speech_codec`
#: (called by ``scripts/train_compression.py`` and by the notebook's ``RETRAIN = True`` path alike).
#: The VAE's budget is shared 3 : 1 between the VAE and the plain autoencoder.
TRAINING_MINUTES = {"image_base": 15.0, "image_finetune": 5.0, "hyperprior_base": 60.0, "hyperprior_finetune": 12.0,
                    "hyperprior_polish": 7.0, "vae": 5.0, "wavenet": 111.0}


# ----------------------------------------------------------------------------- rates, counted from bytes


def bpp(data: bytes, image_shape) -> float:
    """Bits per pixel of a compressed image: every byte of ``data`` counted, over the image's H × W pixels.

    Parameters
    ----------
    data : bytes
        The compressed image, headers included.
    image_shape : tuple of int
        Shape of the image it codes, (H, W, …); only H and W count.

    Returns
    -------
    float
        ``len(data) * 8 / (H * W)``, bits per pixel.

    Raises
    ------
    ValueError
        ``image_shape`` without two sides of at least 1 pixel.
    """
    if len(image_shape) < 2 or min(image_shape[:2]) < 1:
        raise ValueError(f"image_shape: expected (H, W, …) with H, W ≥ 1 pixel, got {tuple(image_shape)}")
    return len(data) * 8 / (image_shape[0] * image_shape[1])


def kbps(data: bytes, n_samples: int, sample_rate: int) -> float:
    """Bit rate of compressed audio: every byte of ``data`` counted, over the duration it codes.

    Parameters
    ----------
    data : bytes
        Everything the encoder wrote (headers and container included).
    n_samples : int
        Length of the audio it codes, samples at ``sample_rate``.
    sample_rate : int
        Hz.

    Returns
    -------
    float
        ``len(data) * 8 / (n_samples / sample_rate) / 1000``, kbit/s.

    Raises
    ------
    ValueError
        ``n_samples`` or ``sample_rate`` not positive.
    """
    for name, value in (("n_samples", n_samples), ("sample_rate", sample_rate)):
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value!r}")
    return len(data) * 8 / (n_samples / sample_rate) / 1000


# ----------------------------------------------------------------------------- classical image codecs (Pillow)


class ImageCodec(NamedTuple):
    """A classical image codec as Pillow writes it."""

    pillow_format: str  #: Pillow's format name
    qualities: range    #: the quality settings accepted (Pillow's range; above 95 Pillow advises against JPEG)
    options: dict       #: further encoder settings, fixed so that every machine writes the same bytes
    label: str          #: how tables and plots name it
    name: str           #: its short name, for figure titles


#: The classical image codecs, all with 4:2:0 chroma subsampling: JPEG (ITU-T T.81; libjpeg-turbo, Pillow's
#: default settings), WebP (lossy: a VP8 key frame, RFC 6386; libwebp, its default ``method`` 4) and AVIF (an AV1
#: key frame in an AV1 Image File Format file; libavif with libaom at its default ``speed`` 6, one thread:
#: libaom's output depends on its thread count).
IMAGE_CODECS = {
    "jpeg": ImageCodec("JPEG", range(1, 96), {}, "JPEG (libjpeg-turbo, 4:2:0)", "JPEG"),
    "webp": ImageCodec("WEBP", range(0, 101), {"method": 4}, "WebP (libwebp)", "WebP"),
    "avif": ImageCodec("AVIF", range(0, 101), {"speed": 6, "max_threads": 1, "subsampling": "4:2:0"},
                       "AVIF (libaom)", "AVIF"),
}

#: The quality sweeps of notebook 02's Kodak comparison: from each codec's lowest usable setting to 1.2–1.3 bpp,
#: dense at the low rates where the learned codec's curve lies.
QUALITIES = {
    "jpeg": (3, 5, 8, 10, 15, 20, 30, 40, 50, 65),
    "webp": (0, 3, 6, 10, 15, 20, 30, 40, 50, 65, 80),
    "avif": (0, 5, 10, 15, 20, 25, 30, 40, 50, 60, 70),
}

#: Largest side the three encoders all accept (WebP's limit), pixels.
PILLOW_MAX_SIDE = 16383


def _image_codec(codec: str) -> ImageCodec:
    if codec not in IMAGE_CODECS:
        raise ValueError(f"unknown image codec {codec!r}; use one of {sorted(IMAGE_CODECS)}")
    return IMAGE_CODECS[codec]


def pillow_bytes(image, codec: str, quality: int) -> bytes:
    """Compress an RGB image with one of Pillow's encoders: JPEG, WebP or AVIF (settings in :data:`IMAGE_CODECS`).

    Parameters
    ----------
    image : np.ndarray, uint8, (H, W, 3), or an RGB PIL image
    codec : {"jpeg", "webp", "avif"}
    quality : int
        The encoder's quality setting: 1–95 for JPEG, 0–100 for WebP and AVIF (higher: more bits, less loss).

    Returns
    -------
    bytes
        The whole file (headers included); bpp = :func:`bpp` ``(data, image.shape)``.

    Raises
    ------
    course_utils.images.ImageError
        Not a uint8 RGB image, or a side over :data:`PILLOW_MAX_SIDE` (:func:`course_utils.images.check_rgb`).
    ValueError
        Unknown ``codec``, or a ``quality`` outside its range.
    """
    from PIL import Image

    spec = _image_codec(codec)
    image = check_rgb(image, max_side=PILLOW_MAX_SIDE)
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) or quality not in spec.qualities:
        raise ValueError(f"quality for {codec} must be an integer in {spec.qualities.start}–"
                         f"{spec.qualities.stop - 1}, got {quality!r}")
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format=spec.pillow_format, quality=int(quality), **spec.options)
    return buf.getvalue()


def pillow_decode(data: bytes) -> np.ndarray:
    """Decode a compressed image (JPEG, WebP, AVIF…) to a uint8 RGB array, with Pillow.

    Parameters
    ----------
    data : bytes
        An image file, e.g. from :func:`pillow_bytes`.

    Returns
    -------
    np.ndarray, uint8, (H, W, 3)

    Raises
    ------
    course_utils.images.ImageError
        Bytes that are not an image Pillow can decode (see :func:`course_utils.images.load_image`).
    """
    return np.asarray(load_image(bytes(data)))


def classical_curve(images, codec: str, qualities=None) -> dict:
    """A classical codec's rate–distortion curve on a set of images: bpp from the files' bytes, PSNR, MS-SSIM.

    Parameters
    ----------
    images : sequence of np.ndarray, uint8, (H, W, 3)
        At least one; sides of at least :data:`~course_utils.metrics.image.MS_SSIM_MIN_SIDE` (161) pixels, MS-SSIM's
        minimum.
    codec : {"jpeg", "webp", "avif"}
    qualities : sequence of int, optional
        Encoder settings (default: ``QUALITIES[codec]``).

    Returns
    -------
    dict
        ``quality`` (list of int), ``bpp``, ``psnr`` (dB, RGB) and ``ms_ssim``: each a list with the mean over the
        images at each quality (the layout of :func:`course_utils.image_codec.rate_distortion`).

    Raises
    ------
    ValueError
        No images, an unknown ``codec`` or a quality outside its range.
    course_utils.images.ImageError
        (a ValueError) An image that is not uint8 RGB or has a side under 161 pixels; the message names its index.
    """
    _image_codec(codec)
    if not len(images):
        raise ValueError("images: empty; a rate–distortion curve needs at least one image")
    images = [check_rgb(image, f"images[{i}]", min_side=MS_SSIM_MIN_SIDE, max_side=PILLOW_MAX_SIDE)
              for i, image in enumerate(images)]
    qualities = QUALITIES[codec] if qualities is None else qualities
    out = {"quality": [int(q) for q in qualities], "bpp": [], "psnr": [], "ms_ssim": []}
    for q in qualities:
        rows = []
        for image in images:
            data = pillow_bytes(image, codec, q)
            decoded = pillow_decode(data)
            rows.append((bpp(data, image.shape), metrics.psnr(image, decoded), metrics.ms_ssim(image, decoded)))
        for key, value in zip(("bpp", "psnr", "ms_ssim"), np.mean(rows, axis=0)):
            out[key].append(float(value))
    return out


def classical_at_bpp(image, codec: str, target_bpp: float) -> tuple[bytes, int]:
    """The file of ``image`` whose bpp is closest to ``target_bpp``, among the codec's quality settings.

    A bisection on quality for the lowest setting at or above the target, then the closer of it and the setting
    below: the closest of all settings wherever bpp grows with quality (as it does for these encoders).

    Parameters
    ----------
    image : np.ndarray, uint8, (H, W, 3)
    codec : {"jpeg", "webp", "avif"}
    target_bpp : float
        Bits per pixel, finite and > 0.

    Returns
    -------
    data : bytes
    quality : int

    Raises
    ------
    ValueError
        Unknown ``codec``, or a ``target_bpp`` that is not a finite number > 0.
    course_utils.images.ImageError
        (a ValueError) An image that is not uint8 RGB.
    """
    qualities = _image_codec(codec).qualities
    image = check_rgb(image, max_side=PILLOW_MAX_SIDE)
    if not (isinstance(target_bpp, numbers.Real) and target_bpp > 0 and math.isfinite(target_bpp)):
        raise ValueError(f"target_bpp must be a finite number of bits per pixel > 0, got {target_bpp!r}")
    tried = {}

    def rate(i):
        q = qualities[i]
        if q not in tried:
            tried[q] = pillow_bytes(image, codec, q)
        return bpp(tried[q], image.shape)

    lo, hi = 0, len(qualities) - 1  # find the lowest setting at or above the target
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if rate(mid) < target_bpp else (lo, mid)
    rate(lo)
    rate(max(lo - 1, 0))  # the setting just below the target may be closer
    quality = min(tried, key=lambda q: (abs(bpp(tried[q], image.shape) - target_bpp), q))
    return tried[quality], quality


def _rate_tag(rate: float) -> str:
    return f"{rate:g}".replace(".", "_")


def classical_comparison(learned: dict, images, codecs=tuple(IMAGE_CODECS), qualities=None, rates=(0.25, 0.5),
                         name: str = "image_codec", curves: dict | None = None) -> dict:
    """A learned codec's rate–distortion curve against the classical codecs on the same images.

    Each classical codec is swept over its qualities (:func:`classical_curve`). Against each, the learned codec's
    BD-rate (:func:`course_utils.metrics.bd_rate`, Bjøntegaard, VCEG-M33) is taken over the PSNR range both curves
    cover (:func:`course_utils.metrics.common_range`; NaN where they share none); every curve is read at
    ``rates`` (:func:`course_utils.metrics.interpolate_at_rate`; NaN outside the rates it measured).

    Parameters
    ----------
    learned : dict
        The learned codec's curve: ``bpp``, ``psnr`` (dB) and ``ms_ssim`` lists, at least 4 points
        (:func:`course_utils.image_codec.rate_distortion`).
    images : sequence of np.ndarray, uint8, (H, W, 3)
        The images ``learned`` was measured on.
    codecs : sequence of str
        Keys of :data:`IMAGE_CODECS`.
    qualities : dict, optional
        ``{codec: qualities}`` (default :data:`QUALITIES`).
    rates : sequence of float
        Bits per pixel at which every curve is read.
    name : str
        The learned codec's metric prefix.
    curves : dict, optional
        ``{codec: classical_curve(...)}`` already measured on ``images`` (e.g. the ``curves`` of an earlier call,
        to compare a second learned codec without encoding everything again); default: measure them.

    Returns
    -------
    dict
        ``curves``: ``{codec: classical_curve(...)}``; ``psnr_range_db``: ``{codec: (low, high)}``, the PSNR range
        (dB) of each BD-rate; ``metrics``: flat ``{key: value}`` — ``f"{name}.bd_rate_vs_{codec}"`` (percent,
        negative: the learned codec needs fewer bits), and ``f"{system}.psnr_at_{r}_bpp"`` (dB) and
        ``f"{system}.ms_ssim_at_{r}_bpp"`` for ``system`` in ``name`` and ``codecs``, ``r`` the rate with ``_`` for
        the point (``0_25``); ``rates`` and ``name``, as given (for :func:`comparison_table`).

    Raises
    ------
    ValueError
        An unknown codec in ``codecs``, one without settings in ``qualities``, and whatever
        :func:`classical_curve` raises for ``images``.
    """
    qualities = QUALITIES if qualities is None else qualities
    for codec in codecs:
        _image_codec(codec)
        if codec not in qualities:
            raise ValueError(f"qualities: no settings for {codec!r}; give {{codec: qualities}} for every codec")
    if curves is None:
        curves = {codec: classical_curve(images, codec, qualities[codec]) for codec in codecs}
    elif set(curves) != set(codecs):
        raise ValueError(f"curves: has {sorted(curves)}, the comparison needs {sorted(codecs)}")
    found, ranges = {}, {}
    for codec, curve in curves.items():
        ranges[codec] = metrics.common_range(curve["psnr"], learned["psnr"])
        found[f"{name}.bd_rate_vs_{codec}"] = (
            metrics.bd_rate(curve["bpp"], curve["psnr"], learned["bpp"], learned["psnr"])
            if ranges[codec][1] > ranges[codec][0] else float("nan"))
    for system, curve in {name: learned, **curves}.items():
        for rate in rates:
            for key in ("psnr", "ms_ssim"):
                found[f"{system}.{key}_at_{_rate_tag(rate)}_bpp"] = metrics.interpolate_at_rate(
                    curve["bpp"], curve[key], rate)
    return {"curves": curves, "psnr_range_db": ranges, "metrics": found, "rates": list(rates), "name": name}


def comparison_table(comparison: dict, label: str = "learned codec") -> str:
    """:func:`classical_comparison` as a Markdown table: one row per codec, the learned codec first.

    Parameters
    ----------
    comparison : dict
        What :func:`classical_comparison` returned.
    label : str
        The learned codec's name in the table.

    Returns
    -------
    str
        Columns: codec · the learned codec's BD-rate against it, with the PSNR range it averages over · PSNR (dB)
        and MS-SSIM at each rate (— where the curve does not reach it).
    """
    name, rates, m = comparison["name"], comparison["rates"], comparison["metrics"]

    def fmt(value, spec):
        return "—" if np.isnan(value) else format(value, spec)

    table = ["| codec | BD-rate of the learned codec against it (PSNR range) | "
             + " | ".join(f"PSNR / MS-SSIM at {r:g} bpp" for r in rates) + " |", "|---" * (2 + len(rates)) + "|"]
    for system in [name, *comparison["curves"]]:
        if system == name:
            bd = "—"
        else:
            low, high = comparison["psnr_range_db"][system]
            value = m[f"{name}.bd_rate_vs_{system}"]
            bd = "no common PSNR range" if np.isnan(value) else f"{value:+.1f} % ({low:.2f}–{high:.2f} dB)"
        cells = [f"{fmt(m[f'{system}.psnr_at_{_rate_tag(r)}_bpp'], '.2f')} / "
                 f"{fmt(m[f'{system}.ms_ssim_at_{_rate_tag(r)}_bpp'], '.4f')}" for r in rates]
        name_cell = label if system == name else IMAGE_CODECS[system].label
        table.append(f"| {name_cell} | {bd} | " + " | ".join(cells) + " |")
    return "\n".join(table)


# ----------------------------------------------------------------------------- classical speech codecs

#: Rate at which Opus is fed and its decoded speech is returned, Hz (Opus's wideband).
OPUS_RATE = 16000
#: The bit rates Opus supports (RFC 6716, section 2), bit/s.
OPUS_BIT_RATES = range(6000, 510001)
#: libopus's application setting: "voip" tunes the encoder for speech intelligibility.
OPUS_APPLICATION = "voip"
#: Codec 2's only sample rate, Hz.
CODEC2_RATE = 8000
#: The Codec 2 modes used, bit/s (pycodec2 4.1.1 also offers 700, the 700C mode, with another delay).
CODEC2_MODES = (3200, 2400, 1600, 1400, 1300, 1200)
#: Samples (8 kHz) by which Codec 2's decoded speech lags its input: 20 ms, the same in every mode above. Measured:
#: the lag that maximises STOI between input and output on CMU ARCTIC utterances.
CODEC2_DELAY = 160
#: Largest peak amplitude Opus and Codec 2 accept: full scale (1.0) + 1 dB. Audio normalised to full scale and then
#: resampled overshoots 1.0 a little between the old samples (the course's eSpeak NG stand-in for ARCTIC peaks at
#: 1.01); that much is clipped to ±1, as both coders must. Louder input is refused rather than clipped.
MAX_PEAK = 10 ** (1 / 20)


def _speech_input(waveform, sample_rate, rate: int) -> np.ndarray:
    """A classical speech coder's input: a valid waveform that peaks at most at :data:`MAX_PEAK`, at ``rate`` Hz.

    :func:`course_utils.audio.check_waveform`, then the peak, then resampling and clipping to [−1, 1] (the
    overshoot ``MAX_PEAK`` lets through). libopus, through FFmpeg, clips what lies beyond full scale, and Codec 2
    takes int16 samples: neither can carry louder audio, where the course's own codec
    (:func:`course_utils.speech_codec.encode`) codes it at its level. So louder input (int16-scale floats, a gain
    gone wrong) is an error here, not a silently clipped copy.

    Returns
    -------
    np.ndarray, float32, (n_samples_out,)
        At ``rate`` Hz, within [−1, 1].

    Raises
    ------
    course_utils.audio.AudioError
        Not a valid waveform or sample rate, or a peak above :data:`MAX_PEAK`, which the message names.
    """
    y = audio.check_waveform(waveform, sample_rate)
    peak = float(np.max(np.abs(y)))
    if peak > MAX_PEAK:
        raise audio.AudioError(f"waveform peaks at {peak:.4g}, beyond the full scale of [−1, 1] that Opus and "
                               "Codec 2 code: scale it down (int16-scale samples: divide by 32768)")
    return np.clip(audio.check_waveform(y, sample_rate, target_rate=rate), -1.0, 1.0)


class SpeechBaseline(NamedTuple):
    """One classical speech codec setting of notebook 02."""

    codec: str     #: "opus" or "codec2"
    bit_rate: int  #: what the encoder is asked for, bit/s
    label: str     #: how tables and plots name it


#: The classical speech codecs notebook 02 measures, by metric prefix.
SPEECH_BASELINES = {
    "opus_6kbps": SpeechBaseline("opus", 6000, "Opus 6 kbps"),
    "opus_8kbps": SpeechBaseline("opus", 8000, "Opus 8 kbps"),
    "opus_12kbps": SpeechBaseline("opus", 12000, "Opus 12 kbps"),
    "codec2_1200": SpeechBaseline("codec2", 1200, "Codec 2 1.2 kbps (8 kHz)"),
    "codec2_2400": SpeechBaseline("codec2", 2400, "Codec 2 2.4 kbps (8 kHz)"),
    "codec2_3200": SpeechBaseline("codec2", 3200, "Codec 2 3.2 kbps (8 kHz)"),
}


def opus_encode(waveform, sample_rate: int, bit_rate: int = 8000) -> bytes:
    """Compress speech with Opus (RFC 6716) in an Ogg file (RFC 7845): libopus through PyAV's FFmpeg.

    The waveform is resampled to :data:`OPUS_RATE` (16 kHz) and coded mono, in 20 ms frames, with libopus's
    defaults (variable bit rate, complexity 10, the audio bandwidth chosen by the encoder for the bit rate) and
    :data:`OPUS_APPLICATION` ``"voip"``. The Ogg muxer runs bit-exact (no version string, a fixed stream serial),
    so the same input gives the same bytes.

    Parameters
    ----------
    waveform : array-like, float, (n_samples,)
        Mono speech in [−1, 1] (peaks up to :data:`MAX_PEAK` are clipped to it).
    sample_rate : int
        Hz.
    bit_rate : int
        Target bit rate of the Opus packets, bit/s, 6000–510000 (the Ogg pages add to it).

    Returns
    -------
    bytes
        The whole .ogg file (Ogg pages, the OpusHead and OpusTags headers, the packets): kbps is
        :func:`kbps` of these bytes, container included.

    Raises
    ------
    course_utils.audio.AudioError
        Not a valid waveform or sample rate (:func:`course_utils.audio.check_waveform`), or a peak above
        :data:`MAX_PEAK`.
    ValueError
        ``bit_rate`` outside 6000–510000 bit/s.
    """
    import av

    if isinstance(bit_rate, bool) or not isinstance(bit_rate, (int, np.integer)) or bit_rate not in OPUS_BIT_RATES:
        raise ValueError(f"bit_rate must be a whole number of bit/s in 6000–510000 (RFC 6716), got {bit_rate!r}")
    y = _speech_input(waveform, sample_rate, OPUS_RATE)
    buf = io.BytesIO()
    with av.open(buf, "w", format="ogg", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libopus", rate=OPUS_RATE, layout="mono",
                                      options={"application": OPUS_APPLICATION})
        stream.bit_rate = int(bit_rate)
        frame = av.AudioFrame.from_ndarray(y[None], format="flt", layout="mono")
        frame.sample_rate = OPUS_RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return buf.getvalue()


@contextmanager
def _ogg_opus(data: bytes):
    """Open an Ogg Opus file: ``(container, stream)``; any FFmpeg error inside becomes a StreamError."""
    import av

    try:
        with av.open(io.BytesIO(bytes(data)), "r", format="ogg") as container:
            streams = container.streams.audio
            if not streams or streams[0].codec_context.name != "opus":
                raise StreamError("not an Ogg Opus file: no Opus stream")
            yield container, streams[0]
    except av.FFmpegError as err:
        raise StreamError(f"not an Ogg Opus file ({str(err)[:120]})") from err


def opus_decode(data: bytes) -> np.ndarray:
    """Decode an Ogg Opus file (e.g. from :func:`opus_encode`) to mono speech at :data:`OPUS_RATE`.

    FFmpeg's Opus decoder (48 kHz) drops the encoder's look-ahead (the header's pre-skip) and the padding of the
    last page, so the output is time-aligned with the input and as long; channels are averaged and the result is
    resampled to 16 kHz (soxr_hq, :func:`course_utils.audio.check_waveform`).

    Parameters
    ----------
    data : bytes
        A whole Ogg Opus file (Ogg pages, OpusHead and OpusTags headers, packets), e.g. from :func:`opus_encode`.

    Returns
    -------
    np.ndarray, float32, (n_samples,)
        At :data:`OPUS_RATE` (16 kHz).

    Raises
    ------
    course_utils.bitstream.StreamError
        Bytes that are not an Ogg file with an Opus stream, or a stream with no audio.
    """
    import av

    with _ogg_opus(data) as (container, stream):
        rate = stream.codec_context.sample_rate
        mono = av.AudioResampler(format="flt", layout="mono", rate=rate)
        frames = [f for frame in container.decode(stream) for f in mono.resample(frame)]
        frames += mono.resample(None)
    if not frames:
        raise StreamError("the Ogg Opus file holds no audio")
    y = np.concatenate([f.to_ndarray().reshape(-1) for f in frames])
    return audio.check_waveform(y, rate, name="decoded Opus", target_rate=OPUS_RATE)


#: Opus's coding modes and audio bands by the configuration number in a packet's first (TOC) byte (RFC 6716,
#: section 3.1, table 2): SILK (linear prediction, speech), CELT (transform) or both (hybrid); NB is 4 kHz of
#: audio band, MB 6, WB 8, SWB 12, FB 20.
OPUS_CONFIGS = (["SILK NB"] * 4 + ["SILK MB"] * 4 + ["SILK WB"] * 4 + ["Hybrid SWB"] * 2 + ["Hybrid FB"] * 2
                + ["CELT NB"] * 4 + ["CELT WB"] * 4 + ["CELT SWB"] * 4 + ["CELT FB"] * 4)


def ogg_opus_summary(data: bytes) -> dict:
    """What an Ogg Opus file spends its bytes on: the Opus packets, the Ogg container, and the coding modes.

    Parameters
    ----------
    data : bytes
        An Ogg Opus file (e.g. from :func:`opus_encode`).

    Returns
    -------
    dict
        ``file_bytes``; ``packet_bytes``, the Opus packets (what an RTP call would carry, less RTP's own headers);
        ``container_bytes``, the rest (Ogg page headers, the OpusHead and OpusTags headers); ``modes``,
        ``{mode: number of packets}`` from each packet's TOC byte (:data:`OPUS_CONFIGS`, e.g. ``"SILK NB"``).

    Raises
    ------
    course_utils.bitstream.StreamError
        Bytes that are not an Ogg file with an Opus stream.
    """
    with _ogg_opus(data) as (container, stream):
        packets = [bytes(p) for p in container.demux(stream) if p.size]
    modes = {}
    for packet in packets:
        mode = OPUS_CONFIGS[packet[0] >> 3]
        modes[mode] = modes.get(mode, 0) + 1
    size = sum(map(len, packets))
    return {"file_bytes": len(data), "packet_bytes": size, "container_bytes": len(data) - size, "modes": modes}


def _codec2(mode: int):
    import pycodec2

    if mode not in CODEC2_MODES:
        raise ValueError(f"mode must be a Codec 2 bit rate in bit/s, one of {CODEC2_MODES}, got {mode!r}")
    return pycodec2.Codec2(int(mode))


def codec2_encode(waveform, sample_rate: int, mode: int = 3200) -> bytes:
    """Compress speech with Codec 2 (D. Rowe's open-source low-rate vocoder; libcodec2 through pycodec2).

    The waveform is resampled to 8 kHz, rounded to int16 (full scale: 32767), padded with :data:`CODEC2_DELAY` zeros
    (so that the decoder, which lags by that much, reaches the input's last sample) and to a whole number of frames,
    then coded frame by frame (20 ms frames at 3200 and 2400 bit/s, 40 ms below).

    Parameters
    ----------
    waveform : array-like, float, (n_samples,)
        Mono speech in [−1, 1] (peaks up to :data:`MAX_PEAK` are clipped to it).
    sample_rate : int
        Hz.
    mode : int
        Bit rate, bit/s: one of :data:`CODEC2_MODES`.

    Returns
    -------
    bytes
        The raw Codec 2 frames, no container (a receiver must know the mode); kbps is :func:`kbps` of these bytes.

    Raises
    ------
    course_utils.audio.AudioError
        Not a valid waveform or sample rate (:func:`course_utils.audio.check_waveform`), or a peak above
        :data:`MAX_PEAK`.
    ValueError
        ``mode`` not in :data:`CODEC2_MODES`.
    """
    codec = _codec2(mode)
    y = _speech_input(waveform, sample_rate, CODEC2_RATE)
    n = codec.samples_per_frame()
    pcm = np.round(y * 32767).astype(np.int16)
    pcm = np.pad(pcm, (0, -(-(len(pcm) + CODEC2_DELAY) // n) * n - len(pcm)))
    return b"".join(codec.encode(pcm[i:i + n]) for i in range(0, len(pcm), n))  # pycodec2 codes one frame a call


def codec2_decode(data: bytes, mode: int = 3200) -> np.ndarray:
    """Decode raw Codec 2 frames (from :func:`codec2_encode`) to speech at 8 kHz, time-aligned with the input.

    Parameters
    ----------
    data : bytes
        Whole frames of the given mode.
    mode : int
        The bit rate they were coded at, bit/s (:data:`CODEC2_MODES`).

    Returns
    -------
    np.ndarray, float32, (n_frames * samples_per_frame − CODEC2_DELAY,)
        At :data:`CODEC2_RATE` (8 kHz), the decoder's :data:`CODEC2_DELAY` first samples dropped; it ends with
        the encoder's padding (cut it to the input's length).

    Raises
    ------
    ValueError
        ``mode`` not in :data:`CODEC2_MODES`.
    course_utils.bitstream.StreamError
        ``data`` is empty or not a whole number of frames of that mode.
    """
    codec = _codec2(mode)
    size = codec.bytes_per_frame()
    if not data or len(data) % size:
        raise StreamError(f"{len(data)} bytes are not whole Codec 2 {mode} frames of {size} bytes")
    pcm = np.concatenate([codec.decode(bytes(data[i:i + size])) for i in range(0, len(data), size)])
    return (pcm[CODEC2_DELAY:] / 32768).astype(np.float32)


def speech_round_trip(waveform, sample_rate: int, codec: str, bit_rate: int) -> tuple[np.ndarray, int, bytes]:
    """Code and decode speech with a classical codec: what the listener gets, and the bytes it cost.

    Parameters
    ----------
    waveform : array-like, float, (n_samples,)
        Mono speech in [−1, 1].
    sample_rate : int
        Hz.
    codec : {"opus", "codec2"}
        :func:`opus_encode` (in Ogg) or :func:`codec2_encode` (raw frames).
    bit_rate : int
        bit/s: Opus's target, or the Codec 2 mode.

    Returns
    -------
    decoded : np.ndarray, float32
        Time-aligned with the input and as long: at 16 kHz (:data:`OPUS_RATE`) for Opus, 8 kHz for Codec 2.
    rate : int
        Its sample rate, Hz.
    data : bytes
        Everything the encoder wrote (for Opus the whole Ogg file).

    Raises
    ------
    course_utils.audio.AudioError
        Not a valid waveform or sample rate, or a peak above :data:`MAX_PEAK`.
    ValueError
        Unknown ``codec``, or a ``bit_rate`` it does not support.
    """
    if codec == "opus":
        data, rate = opus_encode(waveform, sample_rate, bit_rate), OPUS_RATE
        decoded = opus_decode(data)
    elif codec == "codec2":
        data, rate = codec2_encode(waveform, sample_rate, bit_rate), CODEC2_RATE
        decoded = codec2_decode(data, bit_rate)
    else:
        raise ValueError(f"unknown speech codec {codec!r}; use 'opus' or 'codec2'")
    n = int(round(len(np.asarray(waveform)) * rate / sample_rate))
    return np.pad(decoded[:n], (0, max(0, n - len(decoded)))), rate, data


class CodedSpeech(NamedTuple):
    """What :func:`speech_baselines` returns: the decoded versions, and the bytes they cost."""

    versions: dict  #: ``{label: (decoded waveforms, rate, kbps)}``, the layout ``score_decoders`` reads
    data: dict      #: ``{label: [bytes, one file or frame sequence per utterance]}``


def speech_baselines(waveforms, sample_rate: int, keys=tuple(SPEECH_BASELINES)) -> CodedSpeech:
    """Every utterance through every classical speech codec setting of :data:`SPEECH_BASELINES`.

    Parameters
    ----------
    waveforms : sequence of np.ndarray, float
        Mono speech in [−1, 1] (e.g. the held-out recordings).
    sample_rate : int
        Their rate, Hz.
    keys : sequence of str
        Keys of :data:`SPEECH_BASELINES`.

    Returns
    -------
    CodedSpeech
        ``versions``: ``{label: (decoded, rate, kbps)}``, the decoded waveforms (a list, float32), their rate (Hz)
        and the bit rate in kbit/s over all of them, from every byte the encoder wrote — the layout
        :func:`course_utils.speech_codec.score_decoders` reads; ``data``: ``{label: [bytes of each utterance]}``,
        what the encoder wrote (for Opus an Ogg file: :func:`ogg_opus_summary` reads it).

    Raises
    ------
    ValueError
        No waveforms, or a key that is not in :data:`SPEECH_BASELINES` (the message lists the known ones).
    course_utils.audio.AudioError
        A waveform that is not valid audio, a bad ``sample_rate``, or a peak above :data:`MAX_PEAK`.
    """
    if not len(waveforms):
        raise ValueError("waveforms is empty: nothing to code")
    unknown = [key for key in keys if key not in SPEECH_BASELINES]
    if unknown:
        raise ValueError(f"keys: unknown speech baseline(s) {unknown}; known: {list(SPEECH_BASELINES)}")
    total = sum(len(np.asarray(y)) for y in waveforms)
    versions, data = {}, {}
    for key in keys:
        baseline = SPEECH_BASELINES[key]
        trips = [speech_round_trip(y, sample_rate, baseline.codec, baseline.bit_rate) for y in waveforms]
        data[baseline.label] = [t[2] for t in trips]
        versions[baseline.label] = ([t[0] for t in trips], trips[0][1],
                                    kbps(b"".join(data[baseline.label]), total, sample_rate))
    return CodedSpeech(versions, data)


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
