"""The voice-conversion mapping: a feed-forward DNN from source to target mel-cepstral frames.

Papers: S. Desai, A. W. Black, B. Yegnanarayana and K. Prahallad (2010), "Spectral Mapping Using
Artificial Neural Networks for Voice Conversion" (IEEE Trans. Audio, Speech and Language Processing);
L.-H. Chen, Z.-H. Ling, L.-J. Liu and L.-R. Dai (2014), "Voice Conversion Using Deep Neural Networks
with Layer-Wise Generative Training" (IEEE/ACM TASLP).

With parallel recordings (two speakers reading the same sentences) and frames paired by dynamic time
warping, voice conversion becomes regression: predict the target speaker's spectral envelope frame from
the source speaker's. Desai et al. showed that a neural network does this better than the Gaussian
mixture models of the time, and Chen et al. that deeper networks help further. The network here is a
stack of ``Dense → LayerNorm → GELU → Dropout`` blocks on standardised features: the input is a source
frame's mel-cepstrum (c1…c24) with its Δ and ΔΔ and ±2 frames of context, the output the target frame's
c1…c24 with Δ and ΔΔ, trained with mean squared error; the converter turns the predicted statics and deltas
into one trajectory by maximum-likelihood parameter generation (:func:`course_utils.models.gmm_converter.mlpg`).
The features, the F0 conversion, the postfilter and the training loop are in :mod:`course_utils.voice_conversion`.
"""
from __future__ import annotations

import keras


def build_vc_dnn(n_inputs: int, n_outputs: int, units: int = 256, layers: int = 3,
                 dropout: float = 0.1) -> keras.Model:
    """The mapping network: ``[Dense(units) → LayerNorm → GELU → Dropout] × layers → Dense(n_outputs)``.

    Parameters
    ----------
    n_inputs : int
        Features per input frame: (2·CONTEXT+1) · 3 · MCEP_ORDER = 360 for the default features
        of :mod:`course_utils.voice_conversion`.
    n_outputs : int
        3 · MCEP_ORDER = 72 (statics, Δ, ΔΔ).
    units : int
        Width of the hidden layers.
    layers : int
        Hidden blocks.
    dropout : float

    Returns
    -------
    keras.Model
        Input ``(batch, n_inputs)`` float32, standardised; output ``(batch, n_outputs)``, standardised.
    """
    inputs = keras.Input((n_inputs,), name="source_mcep")
    h = inputs
    for i in range(layers):
        h = keras.layers.Dense(units, name=f"dense_{i}")(h)
        h = keras.layers.LayerNormalization(name=f"norm_{i}")(h)
        h = keras.layers.Activation("gelu")(h)
        h = keras.layers.Dropout(dropout)(h)
    outputs = keras.layers.Dense(n_outputs, name="target_mcep")(h)
    return keras.Model(inputs, outputs, name="vc_dnn")
