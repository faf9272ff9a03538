"""Figures and media the notebooks show and save under ``build/`` (matplotlib, librosa.display)."""
from __future__ import annotations

import numpy as np

from .config import build_dir


def save_figure(fig, name: str):
    """Save ``fig`` as ``build/figures/<name>.png`` (150 dpi) and return the path."""
    path = build_dir("figures") / f"{name}.png"
    fig.savefig(path, dpi=150, bbox_inches="tight")
    return path


def image_grid(images, titles=None, columns: int = 8, size: float = 1.6):
    """Show uint8 images in a grid.

    Parameters
    ----------
    images : sequence of np.ndarray, uint8, (h, w, 3)
    titles : sequence of str, optional
    columns : int
    size : float
        Inches per cell.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    n = len(images)
    rows = max(1, int(np.ceil(n / columns)))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * size, rows * size), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, img in enumerate(images):
        ax = axes.ravel()[i]
        ax.imshow(np.asarray(img))
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    fig.tight_layout()
    return fig


def bit_maps(image, bits: dict, sigma=None, stride: int = 16, size: float = 3.2):
    """An image next to where codecs spend their bits on it (and, optionally, the σ a hyperprior predicted).

    Parameters
    ----------
    image : np.ndarray, uint8, (H, W, 3)
    bits : dict
        ``{title: np.ndarray (h, w)}``, bits per latent position (e.g. :func:`course_utils.image_codec.latent_bits`'s
        ``y``); all share one colour scale, so the panels compare.
    sigma : np.ndarray (h, w), optional
        A map in another unit (the hyperprior's mean σ), shown last with its own colour scale.
    stride : int
        Pixels per latent position along each side (the latent covers the image padded to a multiple of it).
    size : float
        Inches per panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    panels = [(title, values, "bits per position") for title, values in bits.items()]
    if sigma is not None:
        panels.append(("hyperprior: σ predicted from ẑ\n(mean over channels)", sigma, "σ"))
    fig, axes = plt.subplots(1, 1 + len(panels), figsize=((1 + len(panels)) * size * 1.1, size * 0.8))
    axes[0].imshow(image)
    axes[0].set_title("image", fontsize=9)
    top = max(float(np.max(values)) for values in bits.values())
    for ax, (title, values, unit) in zip(axes[1:], panels):
        h, w = np.shape(values)
        scale = dict(vmin=0, vmax=top) if unit == "bits per position" else {}
        shown = ax.imshow(values, cmap="magma", extent=(0, w * stride, h * stride, 0), **scale)
        ax.set(xlim=(0, image.shape[1]), ylim=(image.shape[0], 0))
        ax.set_title(title, fontsize=9)
        fig.colorbar(shown, ax=ax, fraction=0.035, label=unit)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig


def confusion(y_true, y_pred, class_names, title: str = ""):
    """Plot a confusion matrix (scikit-learn's ``ConfusionMatrixDisplay``); rows are true classes.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = plt.subplots(figsize=(0.6 * len(class_names) + 2.5, 0.6 * len(class_names) + 2))
    ConfusionMatrixDisplay.from_predictions(y_true, y_pred, labels=list(range(len(class_names))),
                                            display_labels=class_names, ax=ax, colorbar=False)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def audio_features(y, sample_rate: int, log_mel, mfcc_matrix, hop_length: int, title: str = ""):
    """Waveform, log-mel spectrogram and MFCCs of one clip, stacked on a shared time axis (seconds).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import librosa.display
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(8, 7), sharex=True)
    librosa.display.waveshow(y, sr=sample_rate, ax=axes[0])
    axes[0].set(title=f"{title} — waveform", ylabel="amplitude")
    img = librosa.display.specshow(log_mel, sr=sample_rate, hop_length=hop_length, x_axis="time",
                                   y_axis="mel", ax=axes[1])
    fig.colorbar(img, ax=axes[1], format="%+2.0f dB")
    axes[1].set(title="log-mel spectrogram")
    img = librosa.display.specshow(mfcc_matrix, sr=sample_rate, hop_length=hop_length, x_axis="time", ax=axes[2])
    fig.colorbar(img, ax=axes[2])
    axes[2].set(title="MFCC (c0–c12)", ylabel="coefficient")
    fig.tight_layout()
    return fig


def save_audio(y, sample_rate: int, name: str):
    """Write ``build/audio/<name>.wav`` (PCM16) and return the path."""
    import soundfile as sf

    path = build_dir("audio") / f"{name}.wav"
    sf.write(path, np.asarray(y, np.float32), sample_rate, subtype="PCM_16")
    return path


def forced_alignment(y, sample_rate: int, alignment, title: str = "", seconds: float | None = None):
    """Waveform and log-mel spectrogram of a recording, with the aligner's phone boundaries and labels.

    Parameters
    ----------
    y : np.ndarray, float, shape (n_samples,)
    sample_rate : int
        Hz.
    alignment : course_utils.alignment.Alignment
        Of this recording: ``tokens`` lasting ``durations`` frames of 10 ms from ``first_frame``.
    title : str
    seconds : float, optional
        Show only the first ``seconds`` of the aligned part (labels stay readable).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import librosa
    import librosa.display
    import matplotlib.pyplot as plt

    frame = 0.01
    bounds = alignment.first_frame + np.concatenate([[0], np.cumsum(alignment.durations)])
    t0, t1 = bounds[0] * frame, bounds[-1] * frame
    if seconds is not None:
        t1 = min(t1, t0 + seconds)
    hop = int(sample_rate * frame)
    mel = librosa.power_to_db(librosa.feature.melspectrogram(y=np.asarray(y, np.float32), sr=sample_rate, n_fft=1024,
                                                             hop_length=hop, n_mels=80), ref=np.max)
    fig, axes = plt.subplots(2, 1, figsize=(12, 5), sharex=True)
    librosa.display.waveshow(np.asarray(y, np.float32), sr=sample_rate, ax=axes[0])
    librosa.display.specshow(mel, sr=sample_rate, hop_length=hop, x_axis="time", y_axis="mel", ax=axes[1])
    for start, end, token in zip(bounds[:-1] * frame, bounds[1:] * frame, alignment.tokens):
        if start >= t1:
            break
        for ax in axes:
            ax.axvline(start, color="tab:red" if token in ("sil", ",", ".", "?", "!") else "white", lw=0.8)
        axes[0].text((start + end) / 2, axes[0].get_ylim()[1] * 0.85, token, ha="center", fontsize=8)
    axes[0].set(title=f"{title} — forced alignment (phone boundaries; red: silence, pause, end)", ylabel="amplitude")
    axes[1].set(title="log-mel spectrogram", xlim=(t0, t1))
    fig.tight_layout()
    return fig


def attention_vs_alignment(attention, forced, tokens, title: str = "", reduction: int = 4, hop_ms: float = 12.5):
    """A Tacotron's attention (decoder steps × phoneme tokens) with the forced alignment's path drawn over it.

    Parameters
    ----------
    attention : np.ndarray, float, shape (n_steps, n_tokens)
        Attention weights, each row summing to 1.
    forced : np.ndarray, int, shape (n_steps,)
        The token the forced aligner places at each step.
    tokens : list of str
        Labels of the tokens (y axis).
    title : str
    reduction : int
        Mel frames per decoder step (the model's r).
    hop_ms : float
        Milliseconds per mel frame.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 0.12 * len(tokens) + 2))
    ax.imshow(np.asarray(attention).T, origin="lower", aspect="auto", cmap="viridis", interpolation="nearest")
    ax.step(np.arange(len(forced)), forced, where="mid", color="tab:red", lw=1.2, label="forced alignment")
    ax.set_yticks(np.arange(len(tokens)), tokens, fontsize=6)
    ax.set(xlabel=f"decoder step ({reduction} frames of {hop_ms:g} ms)", ylabel="phoneme token",
           title=f"{title} — attention (colour) and forced alignment (red)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def rate_distortion(curves: dict, title: str = "", max_bpp: float = 1.6):
    """Image codecs' rate–distortion curves: PSNR and MS-SSIM against bits per pixel, one line per codec.

    Parameters
    ----------
    curves : dict
        ``{label: curve}``; a curve has ``bpp``, ``psnr`` (dB) and ``ms_ssim`` lists (e.g.
        :func:`course_utils.compression.classical_curve`, :func:`course_utils.image_codec.rate_distortion`).
    title : str
    max_bpp : float
        Right end of the rate axis, bits per pixel; the quality axes fit the points left of it.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        No curves, a curve without ``bpp``, ``psnr`` or ``ms_ssim``, or no point at or below ``max_bpp``.
    """
    import matplotlib.pyplot as plt

    if not curves or any(not {"bpp", "psnr", "ms_ssim"} <= set(curve) for curve in curves.values()):
        raise ValueError("curves: expected {label: curve}, every curve with bpp, psnr and ms_ssim lists")
    if not any(b <= max_bpp for curve in curves.values() for b in curve["bpp"]):
        raise ValueError(f"max_bpp: no curve has a point at or below {max_bpp} bits per pixel")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, label in ((axes[0], "psnr", "PSNR (RGB), dB"), (axes[1], "ms_ssim", "MS-SSIM")):
        shown = []
        for (name, curve), marker in zip(curves.items(), "so^Dv<>px"):
            ax.plot(curve["bpp"], curve[key], marker + "-", ms=4, label=name)
            shown += [v for b, v in zip(curve["bpp"], curve[key]) if b <= max_bpp]
        pad = 0.05 * (max(shown) - min(shown))
        ax.set(xlabel="bits per pixel", ylabel=label, xlim=(0, max_bpp), ylim=(min(shown) - pad, max(shown) + pad),
               title=title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def rate_quality(scores: dict, groups: dict, reference: str | None = None):
    """Speech codecs' rate against quality: CER and STOI against kbps (log scale), one line per codec.

    Parameters
    ----------
    scores : dict
        ``{version: {"kbps", "cer", "stoi", …}}``, as :func:`course_utils.speech_codec.score_decoders` returns.
    groups : dict
        ``{legend label: [version, …]}``: the versions of one codec, joined by a line in order of bit rate.
    reference : str, optional
        A version drawn as a dashed horizontal line (e.g. the uncoded recording, which has no bit rate).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        No version in ``groups``, a version (or ``reference``) not in ``scores``, or a version whose bit rate is not
        positive (the rate axis is logarithmic).
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    drawn = [v for versions in groups.values() for v in versions]
    missing = [v for v in [*drawn, reference] if v is not None and v not in scores]
    if not drawn or missing:
        raise ValueError(f"groups: no version to draw, or versions (or reference) not in scores: {missing}")
    if any(not scores[v]["kbps"] > 0 for v in drawn):
        raise ValueError("groups: every version drawn needs a bit rate > 0 kbps (the rate axis is logarithmic)")
    rates = [scores[v]["kbps"] for v in drawn]
    ticks = [2.0 ** k for k in range(int(np.floor(np.log2(min(rates)))), int(np.ceil(np.log2(max(rates)))) + 1)]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for ax, key, label in ((axes[0], "cer", "CER of PocketSphinx (lower is better)"),
                           (axes[1], "stoi", "STOI (higher is better)")):
        for (name, versions), marker in zip(groups.items(), "so^Dv<>px"):
            points = sorted((scores[v]["kbps"], scores[v][key]) for v in versions)
            ax.plot(*zip(*points), marker + "-", ms=6, label=name)
        if reference is not None:
            ax.axhline(scores[reference][key], color="grey", ls="--", lw=1, label=reference)
        ax.set(xscale="log", xlabel="bit rate, kbps (log scale)", ylabel=label, xticks=ticks)
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
