"""WaveNet: a conditional generative model of raw audio, with fast incremental generation.

Papers: A. van den Oord, S. Dieleman, H. Zen, K. Simonyan, O. Vinyals, A. Graves, N. Kalchbrenner,
A. Senior and K. Kavukcuoglu (2016), "WaveNet: A Generative Model for Raw Audio" (arXiv:1609.03499);
T. Le Paine, P. Khorrami, S. Chang, Y. Zhang, P. Ramachandran, M. A. Hasegawa-Johnson and T. S. Huang
(2016), "Fast Wavenet Generation Algorithm" (arXiv:1611.09482); W. B. Kleijn, F. S. C. Lim, A. Luebs,
J. Skoglund, F. Stimberg, Q. Wang and T. C. Walters (2018), "WaveNet Based Low Rate Speech Coding"
(ICASSP 2018).

WaveNet predicts each audio sample from the ones before it. Samples are companded with the 8-bit μ-law
of ITU-T G.711 and the network outputs a 256-way softmax over them (:func:`mu_classes`,
:func:`mu_values`). A stack of *causal dilated convolutions* (kernel 2, dilations 1, 2, 4, …, 128,
repeated) gives a receptive field of hundreds of samples with few layers; each layer has a *gated unit*
``tanh(W_f ∗ x + V_f c) ⊙ σ(W_g ∗ x + V_g c)``, a residual connection to the next layer and a skip
connection to the output. *Local conditioning* ``c`` — here the decoded log-mel frames of a speech codec,
through a 3-frame convolution and repeated to the sample rate — is projected into every layer, which
makes the model a decoder (a vocoder) of those frames, as in Kleijn et al. 2018. Training is teacher
forcing: all samples of a segment are scored in parallel by :func:`build_wavenet`'s Keras model.
Generation is sample by sample; :class:`IncrementalWaveNet` does it in NumPy with one queue of past
activations per layer (Paine et al. 2016), so each sample costs one step through the layers instead of
a pass over the whole receptive field. The codec, its frames and its training data are in
:mod:`course_utils.speech_codec`.
"""
from __future__ import annotations

import keras
import librosa
import numpy as np
import tensorflow as tf
from keras import layers, ops

#: Hyper-parameters of the shipped model (the speech codec's decoder).
RESIDUAL, SKIP, COND = 32, 64, 32
DILATIONS = (1, 2, 4, 8, 16, 32, 64, 128) * 2
#: The shipped conditioning: 32 log-mel bands every 80 samples (the speech codec's frames at 8 kHz).
N_MELS, HOP = 32, 80


def mu_classes(y: np.ndarray) -> np.ndarray:
    """Waveform in [−1, 1] → 8-bit μ-law class indices 0–255 (int32, μ = 255), the WaveNet's targets."""
    return (librosa.mu_compress(np.clip(y, -1, 1), mu=255, quantize=True) + 128).astype(np.int32)


def mu_values(classes: np.ndarray) -> np.ndarray:
    """μ-law class indices 0–255 → amplitudes in [−1, 1] (float32)."""
    return librosa.mu_expand(np.asarray(classes, np.int32) - 128, mu=255, quantize=True).astype(np.float32)


def receptive_field(dilations=DILATIONS) -> int:
    """Receptive field of the WaveNet in samples: ``2 + Σ dilations`` (input conv of width 2, then kernel-2 layers)."""
    return 2 + int(sum(dilations))


def build_wavenet(residual: int = RESIDUAL, skip: int = SKIP, cond: int = COND, dilations=DILATIONS,
                  n_mels: int = N_MELS, hop: int = HOP) -> keras.Model:
    """The WaveNet (Keras functional model, parallel / teacher-forced form).

    Parameters
    ----------
    residual, skip, cond : int
        Channels of the residual stream, the skip sum and the conditioning features.
    dilations : sequence of int
        One gated layer per dilation (kernel 2, causal).
    n_mels : int
        Conditioning features per frame.
    hop : int
        Samples per conditioning frame (the frames are repeated ``hop`` times).

    Returns
    -------
    keras.Model
        Inputs ``previous`` (batch, T, 1) float32: the μ-law-decoded previous sample (the target shifted
        right by one), and ``mel`` (batch, T / hop, n_mels) float32: the conditioning frames. Output: logits
        (batch, T, 256) over the μ-law classes of each sample.
    """
    previous = keras.Input((None, 1), name="previous")
    mel = keras.Input((None, n_mels), name="mel")
    c = layers.Conv1D(cond, 3, padding="same", activation="tanh", name="cond_conv")(mel)
    c = layers.UpSampling1D(hop, name="cond_upsample")(c)
    h = layers.Conv1D(residual, 2, padding="causal", name="input_conv")(previous)
    skips = []
    for i, d in enumerate(dilations):
        z = layers.Add(name=f"gate_in_{i}")([
            layers.Conv1D(2 * residual, 2, dilation_rate=d, padding="causal", name=f"dilated_{i}")(h),
            layers.Conv1D(2 * residual, 1, name=f"cond_{i}")(c)])
        g = layers.Lambda(lambda z: ops.tanh(z[..., :residual]) * ops.sigmoid(z[..., residual:]),
                          output_shape=lambda s: s[:-1] + (residual,), name=f"gate_{i}")(z)
        skips.append(layers.Conv1D(skip, 1, name=f"skip_{i}")(g))
        if i < len(dilations) - 1:  # the last layer's residual output would feed nothing
            h = layers.Add(name=f"residual_{i}")([h, layers.Conv1D(residual, 1, name=f"res_{i}")(g)])
    out = layers.Activation("relu")(layers.Add(name="skip_sum")(skips))
    out = layers.Conv1D(skip, 1, activation="relu", name="post")(out)
    logits = layers.Conv1D(256, 1, name="logits")(out)
    return keras.Model([previous, mel], logits, name="wavenet")


def make_train_step(model: keras.Model, optimizer):
    """One teacher-forced optimisation step: cross-entropy over the μ-law classes (a ``tf.function``).

    Each call of the returned step scores every sample of the batch in parallel (training mode),
    takes the gradient of the mean cross-entropy with respect to ``model.trainable_variables`` and
    applies it with ``optimizer``.

    Parameters
    ----------
    model : keras.Model
        A model from :func:`build_wavenet` (inputs ``previous`` and ``mel``, 256 logits per sample);
        its trainable variables are collected when the step is made.
    optimizer : keras.optimizers.Optimizer

    Returns
    -------
    callable
        ``step(previous, mel, targets) -> {"loss": tensor}``: the cross-entropy averaged over the
        batch's samples (a float32 scalar tensor, nats per sample); ``previous`` (B, T, 1) float32,
        the μ-law-decoded targets (:func:`mu_values`) shifted right by one; ``mel`` (B, T / hop,
        n_mels) float32, the conditioning frames (T a multiple of ``hop``); ``targets`` (B, T) int32
        classes 0–255 (:func:`mu_classes`).
    """
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    weights = model.trainable_variables

    @tf.function
    def step(previous, mel, targets):
        with tf.GradientTape() as tape:
            loss = loss_fn(targets, model([previous, mel], training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return {"loss": loss}

    return step


class IncrementalWaveNet:
    """Fast autoregressive generation with the weights of :func:`build_wavenet` (Paine et al. 2016).

    Each layer keeps a queue (a ring buffer) of its last ``dilation`` inputs, so generating one sample
    costs one matrix product per layer instead of recomputing the receptive field. Plain NumPy (float64),
    batched over utterances.

    Parameters
    ----------
    model : keras.Model
        A model from :func:`build_wavenet` (trained).
    """

    def __init__(self, model):
        get = lambda name: [np.asarray(w, np.float64) for w in model.get_layer(name).get_weights()]
        self.model = model
        self.hop = int(model.get_layer("cond_upsample").size)
        n_layers = sum(1 for layer in model.layers if layer.name.startswith("dilated_"))
        self.dilations = [model.get_layer(f"dilated_{i}").dilation_rate[0] for i in range(n_layers)]
        self.input_w, self.input_b = get("input_conv")        # (2, 1, R), (R,)
        self.layers = []
        for i, d in enumerate(self.dilations):
            w, b = get(f"dilated_{i}")                          # (2, R, 2R)
            sw, sb = get(f"skip_{i}")
            r = w.shape[-1] // 2
            rw, rb = get(f"res_{i}") if i < len(self.dilations) - 1 else (np.zeros((1, r, r)), np.zeros(r))
            self.layers.append(dict(d=d, w_past=w[0], w_now=w[1], b=b, out_w=np.concatenate([rw[0], sw[0]], 1),
                                    out_b=np.concatenate([rb, sb]), residual=rw.shape[-1]))
        self.post_w, self.post_b = get("post")
        self.logit_w, self.logit_b = get("logits")

    def layer_conditioning(self, mel: np.ndarray) -> np.ndarray:
        """Per-layer conditioning at frame rate: (batch, n_frames, n_mels) → (n_layers, batch, n_frames, 2R)."""
        conv = self.model.get_layer("cond_conv")
        c = np.asarray(ops.convert_to_numpy(conv(np.asarray(mel, np.float32))), np.float64)
        out = []
        for i in range(len(self.layers)):
            w, b = [np.asarray(v, np.float64) for v in self.model.get_layer(f"cond_{i}").get_weights()]
            out.append(c @ w[0] + b)
        return np.stack(out)

    def generate(self, mel: np.ndarray, n_samples: int | None = None, temperature: float = 1.0, seed: int = 0,
                 teacher: np.ndarray | None = None):
        """Generate μ-law samples autoregressively.

        Parameters
        ----------
        mel : np.ndarray, float32, (batch, n_frames, n_mels)
            Conditioning frames (pad shorter utterances; cut their output afterwards).
        n_samples : int, optional
            Samples to generate (default ``n_frames * hop``).
        temperature : float
            Softmax temperature of the sampling (1 = the model's distribution).
        seed : int
        teacher : np.ndarray, int, (batch, n_samples), optional
            Teacher forcing: feed these μ-law classes instead of the sampled ones (used to check that the
            incremental pass equals the parallel one).

        Returns
        -------
        waveform : np.ndarray, float32, (batch, n_samples)
            Amplitudes in [−1, 1].
        logits : np.ndarray or None
            (batch, n_samples, 256) float32 when ``teacher`` is given, else None.
        """
        rng = np.random.default_rng(seed)
        mel = np.asarray(mel, np.float32)
        batch = mel.shape[0]
        n_samples = n_samples or mel.shape[1] * self.hop
        cond = self.layer_conditioning(mel)
        queues = [np.zeros((L["d"], batch, L["residual"])) for L in self.layers]
        x_prev, x_now = np.zeros((batch, 1)), np.zeros((batch, 1))
        out = np.zeros((batch, n_samples), np.float32)
        all_logits = np.zeros((batch, n_samples, 256), np.float32) if teacher is not None else None
        values = mu_values(np.arange(256))
        for t in range(n_samples):
            h = x_prev @ self.input_w[0] + x_now @ self.input_w[1] + self.input_b
            skip = 0.0
            frame = t // self.hop
            for i, L in enumerate(self.layers):
                q = queues[i]
                slot = t % L["d"]
                z = q[slot] @ L["w_past"] + h @ L["w_now"] + L["b"] + cond[i, :, frame]
                q[slot] = h
                r = L["residual"]
                g = np.tanh(z[:, :r]) / (1 + np.exp(-z[:, r:]))
                o = g @ L["out_w"] + L["out_b"]
                h = h + o[:, :r]
                skip = skip + o[:, r:]
            a = np.maximum(np.maximum(skip, 0) @ self.post_w[0] + self.post_b, 0)
            logits = a @ self.logit_w[0] + self.logit_b
            if teacher is not None:
                all_logits[:, t] = logits
                cls = np.asarray(teacher)[:, t]
            else:
                p = np.exp((logits - logits.max(1, keepdims=True)) / temperature)
                cdf = np.cumsum(p, 1)
                cls = (cdf < rng.random((batch, 1)) * cdf[:, -1:]).sum(1)
            out[:, t] = values[cls]
            x_prev, x_now = x_now, values[cls][:, None].astype(np.float64)
        return out, all_logits
