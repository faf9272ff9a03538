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
