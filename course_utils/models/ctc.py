"""A CTC acoustic model that transcribes spoken digit strings, its loss and its decoders.

Papers: A. Graves, S. Fernández, F. Gomez and J. Schmidhuber (2006), "Connectionist Temporal
Classification: Labelling Unsegmented Sequence Data with Recurrent Neural Networks"; the convolutional
front end and bidirectional GRU as in D. Amodei et al. (2016), "Deep Speech 2: End-to-End Speech
Recognition in English and Mandarin"; SpecAugment (Park et al. 2019).

A recording of "four zero seven" is 1–3 s of frames, its transcript three symbols, and nobody marked where
each digit starts. Connectionist temporal classification lets a network learn from such pairs: at every
time step it outputs a distribution over the symbols plus a *blank*; a path through the steps spells a
transcript once repeated symbols are merged and blanks dropped, and the CTC loss is minus the log of the
summed probability of every path that spells the right transcript (computed by dynamic programming).
Decoding picks the best class per step (greedy) or keeps the most probable prefixes (beam search). The
acoustic model here follows Deep Speech 2 at a small scale: two strided 2-D convolutions over the log-mel
spectrogram as an image (time × frequency; 10 ms → 80 ms steps), a bidirectional GRU, and a dense layer of
logits over blank (class 0) and the ten digits (class ``d + 1``). The digit-string data, training loop and
:func:`course_utils.digit_strings.transcribe` are in :mod:`course_utils.digit_strings`.
"""
from __future__ import annotations

import keras
import numpy as np
import scipy.special
from keras import layers, ops

from ..digit_features import N_MELS
from .digit_classifiers import spec_augment_input

#: CTC: class 0 is the blank, digit ``d`` is class ``d + 1``.
BLANK = 0
#: Output classes: the blank and the ten digits.
N_CLASSES = 11
#: The acoustic model's convolutions reduce the frame rate by this factor (10 ms → 80 ms).
CTC_SUBSAMPLING = 8


def build_ctc_model(n_mels: int = N_MELS, n_classes: int = N_CLASSES, width: int = 16, project: int = 96,
                    units: int = 64, dropout: float = 0.2, spec_augment: bool = True) -> keras.Model:
    """A convolutional + BiGRU acoustic model emitting per-frame CTC logits (Graves et al. 2006).

    Two ``Conv2D → BatchNorm → ReLU`` layers treat the log-mel spectrogram as an image, as Deep Speech 2 does: the
    first (5 frames × 3 bands) strides 4 in time and 2 in frequency, the second (3 × 3) 2 and 2, so the frame rate
    drops by :data:`CTC_SUBSAMPLING` (10 ms → 80 ms: a trimmed FSDD digit lasts 0.39 s on average, five steps, the
    shortest 0.22 s, and CTC needs one step per digit plus a blank between repeats) and 40 mel bands become 10. The
    frequency positions and channels of every step are flattened and projected, a bidirectional GRU reads the
    sequence, and a dense layer gives logits over blank (class 0) and the ten digits (class ``d + 1``).

    Why 2-D: each kernel, three bands wide, is the same at every frequency, so a formant pattern that another
    speaker's vocal tract moves up or down a band excites the same filter one position over. Measured on
    notebook 04's full-mode leave-one-speaker-out strings (six folds, beam search, scratch probes of 2026-12-06 and
    -07, training time per fold on this 2-core CPU): 1-D convolutions over all 40 bands at once (96 filters, 40 ms
    steps, 20 epochs) gave a mean WER of 0.138–0.155 in four runs (~130 s); 2-D with stride 2 and 2 (40 ms steps)
    0.110 (~147 s); this model, 80 ms steps, 0.106 after 20 epochs (~90 s), 0.109 after 14 (~64 s) and 0.122 after
    10 (~51 s) — half the steps for the second convolution and the GRU, and no loss in accuracy at equal epochs.
    Notebook 04 trains 10 epochs to stay within 30 minutes on this CPU (14 epochs: WER 0.111 in its full run of
    2026-12-07, notebook 30.6 min). SpecAugment is what keeps the models from memorising five voices: without it the
    1-D model reached a training loss of 0.015 and a WER of 0.32 and 0.33 on george and nicolas.

    Parameters
    ----------
    n_mels : int
        Input ``(batch, n_frames, n_mels)`` float32, any ``n_frames``.
    n_classes : int
        Blank + 10 digits.
    width : int
        Filters of the first convolution (the second has twice as many).
    project : int
        Features per step after flattening frequency and channels.
    units : int
        GRU cells per direction.
    dropout : float
    spec_augment : bool
        SpecAugment masks during training.

    Returns
    -------
    keras.Model
        Output logits ``(batch, ceil(n_frames / 8), n_classes)`` (not softmax-normalised).
    """
    inputs = keras.Input((None, n_mels), name="log_mel")
    x = spec_augment_input(inputs, spec_augment)
    x = layers.Reshape((-1, n_mels, 1), name="as_image")(x)  # (time, frequency, 1 channel)
    # (filters, kernel, strides), each (time, frequency): 10 ms frames → 40 ms steps → 80 ms steps
    for i, (filters, kernel, strides) in enumerate([(width, (5, 3), (4, 2)), (2 * width, (3, 3), (2, 2))]):
        x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.ReLU()(x)
    x = layers.Reshape((-1, x.shape[2] * x.shape[3]), name="collapse_frequency")(x)  # (time / 8, 10 × 32)
    x = layers.Dense(project, activation="relu", name="project")(x)
    x = layers.Bidirectional(layers.GRU(units, return_sequences=True), name="bigru")(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="ctc_acoustic_model")


def ctc_loss(y_true, y_pred):
    """CTC loss for padded label rows (``keras.ops.ctc_loss``, blank = 0).

    Parameters
    ----------
    y_true : tensor, int, shape (batch, max_label_length)
        Classes ``digit + 1``, padded with -1 (see :func:`encode_texts`).
    y_pred : tensor, float32, shape (batch, n_steps, 11)
        Logits; every step counts (padding frames must be predicted as blank).

    Returns
    -------
    tensor, float32, shape (batch,)
        Negative log-likelihood of each label sequence.
    """
    y_true = ops.cast(y_true, "int32")
    label_length = ops.sum(ops.cast(y_true >= 0, "int32"), axis=1)
    batch, steps = ops.shape(y_pred)[0], ops.shape(y_pred)[1]
    output_length = ops.full((batch,), steps, dtype="int32")
    return ops.ctc_loss(ops.maximum(y_true, 0), y_pred, label_length, output_length, mask_index=BLANK)


def encode_texts(texts) -> np.ndarray:
    """Digit strings to CTC targets.

    Parameters
    ----------
    texts : sequence of str
        E.g. ``["407", "12"]``.

    Returns
    -------
    np.ndarray, int32, shape (n, longest text)
        Class ``digit + 1``, padded with -1.
    """
    width = max(len(t) for t in texts)
    out = np.full((len(texts), width), -1, np.int32)
    for i, t in enumerate(texts):
        out[i, :len(t)] = [int(c) + 1 for c in t]
    return out


def posteriors(logits) -> np.ndarray:
    """Per-step class probabilities from the model's logits: a softmax over the last axis.

    Parameters
    ----------
    logits : array-like, float, shape (..., n_steps, 11)
        :func:`build_ctc_model` outputs.

    Returns
    -------
    np.ndarray, float32, same shape
        Non-negative, summing to 1 over the 11 classes (blank, digits 0–9) at every step; the most
        probable class of each step is that of ``logits``.
    """
    return scipy.special.softmax(np.asarray(logits, np.float64), axis=-1).astype(np.float32)


def ctc_decode(logits, strategy: str = "greedy", beam_width: int = 16) -> list[str]:
    """Decode CTC logits into digit strings (``keras.ops.ctc_decode``).

    Parameters
    ----------
    logits : array-like, float, shape (batch, n_steps, 11)
        Model outputs (log-probabilities also work: decoding is invariant to
        a per-frame constant). Class 0 is the blank, class ``d + 1`` digit ``d``.
    strategy : {"greedy", "beam_search"}
        Greedy: best class per step, merge repeats, drop blanks. Beam search
        keeps the ``beam_width`` most probable prefixes (no language model).
    beam_width : int

    Returns
    -------
    list of str
        One string of digits per row (possibly empty).

    Raises
    ------
    ValueError
        Unknown strategy, or logits not of shape ``(batch, steps, 11)``.
    """
    logits = np.asarray(logits, np.float32)
    if logits.ndim != 3 or logits.shape[-1] != N_CLASSES:
        raise ValueError(f"expected logits of shape (batch, steps, {N_CLASSES}), got {logits.shape}")
    if strategy not in ("greedy", "beam_search"):
        raise ValueError(f"strategy must be 'greedy' or 'beam_search', got {strategy!r}")
    lengths = np.full(len(logits), logits.shape[1], np.int32)
    decoded, _ = ops.ctc_decode(logits, lengths, strategy=strategy, beam_width=beam_width, top_paths=1,
                                mask_index=BLANK)
    return ["".join(str(c - 1) for c in row if c > 0) for row in np.asarray(decoded)[0]]


def greedy_decode(probs: np.ndarray) -> str:
    """Greedy CTC decoding of one utterance in NumPy: best class per frame, merge repeats, drop blanks.

    Parameters
    ----------
    probs : np.ndarray, shape (n_steps, 11)
        Per-frame probabilities (or logits); class 0 is the blank.

    Returns
    -------
    str
        The digits, e.g. ``"4071"``.
    """
    best = np.argmax(np.asarray(probs), axis=-1)
    out, previous = [], BLANK
    for c in best:
        if c != previous and c != BLANK:
            out.append(str(int(c) - 1))
        previous = c
    return "".join(out)
