"""A bidirectional LSTM that recognises a spoken digit from its MFCC frames.

Papers: S. Hochreiter and J. Schmidhuber (1997), "Long Short-Term Memory"; M. Schuster and K. K. Paliwal
(1997), "Bidirectional Recurrent Neural Networks"; A. Graves and J. Schmidhuber (2005), "Framewise Phoneme
Classification with Bidirectional LSTM and Other Neural Network Architectures"; the MFCC front end as in
S. Davis and P. Mermelstein (1980), "Comparison of Parametric Representations for Monosyllabic Word
Recognition in Continuously Spoken Sentences".

An LSTM reads a sequence one frame at a time and keeps a cell state that gates let it write, keep and
forget, so it can carry what it heard at the start of a word to its end without the vanishing gradients
of a plain recurrent network. A bidirectional layer runs one LSTM forwards and one backwards over the
same frames and joins their final states: the classifier sees the whole word from both ends. Words have
different lengths, so batches are zero-padded after the end and a ``Masking`` layer makes the LSTMs skip
those frames; the final states go through dropout to a softmax over the ten digits. The 39 features per
10 ms frame (13 MFCCs, their Δ and ΔΔ, normalised per utterance) and the training are in
:mod:`course_utils.processing`.
"""
from __future__ import annotations

import keras
from keras import layers


def build_mfcc_lstm(n_features: int = 39, n_classes: int = 10, units: int = 64, n_layers: int = 1,
                    dropout: float = 0.3) -> keras.Model:
    """A bidirectional LSTM over MFCC frames for isolated-word recognition.

    ``Masking → BiLSTM(units) × n_layers → Dropout → Dense(softmax)``; the last
    layer returns only its final state (both directions), earlier ones whole sequences.

    Parameters
    ----------
    n_features : int
        Features per frame (39 = 13 MFCC + Δ + ΔΔ).
    n_classes : int
    units : int
        LSTM cells per direction.
    n_layers : int
        Stacked BiLSTM layers (one layer: 35–55 s per leave-one-speaker-out fold of notebook 01 — 7,500
        words × 15 epochs in length-sorted batches — on a 2-core CPU; 60–70 s with the synthetic voices added).
    dropout : float

    Returns
    -------
    keras.Model
        Input ``(batch, n_frames, n_features)`` float32, zero-padded;
        output class probabilities ``(batch, n_classes)``.
    """
    inputs = keras.Input((None, n_features), name="mfcc_frames")
    x = layers.Masking(mask_value=0.0)(inputs)
    for i in range(n_layers):
        x = layers.Bidirectional(layers.LSTM(units, return_sequences=i < n_layers - 1), name=f"bilstm{i + 1}")(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="mfcc_lstm")
