"""The face VAE of notebook 02: held-out people, training, evaluation in bits, samples and interpolation.

The network — encoder q(z|x), decoder p(x|z) with a discretised logistic likelihood, the ELBO — is
:mod:`course_utils.models.vae` (Kingma & Welling 2014). This module trains it (:func:`train_vae` on
:func:`course_utils.training.train_steps`, with a KL warm-up; :func:`train_shipped`, the shipped recipe),
loads the shipped weights (:func:`load_vae`), and measures it (:func:`evaluate`: the ELBO of held-out
faces in nats and bits per dimension; :func:`reconstruct`, :func:`sample`, :func:`interpolate`).

Data: Olivetti faces (64×64 greyscale, 40 subjects × 10 images); the test set is *held-out subjects*
(:func:`split_subjects`), so the numbers are for faces of people never seen in training.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from . import config, data, saving, training
from .compression import TRAINING_MINUTES
from .images import from_tanh_range, to_tanh_range
from .models import vae as vae_model

TEST_SUBJECTS = 8   # the subjects with the highest ids are held out


def split_subjects(labels, n_test: int = TEST_SUBJECTS) -> tuple[np.ndarray, np.ndarray]:
    """Indices of train and test images: the ``n_test`` highest subject ids are the test set.

    Returns
    -------
    train_index, test_index : np.ndarray, int64
    """
    labels = np.asarray(labels)
    test_subjects = np.unique(labels)[-n_test:]
    test = np.isin(labels, test_subjects)
    return np.where(~test)[0], np.where(test)[0]


def train_vae(images, variational: bool = True, epochs: int = 200, batch_size: int = 32,
              learning_rate: float = 1e-3, model=None, seed: int = 0, log_every: int = 0,
              max_seconds: float | None = None):
    """Train the VAE (maximise the ELBO) or the plain autoencoder (maximise log p(x|z)) with Adam.

    The KL term is warmed up linearly over the first 10 % of the steps (Bowman et al. 2016) to avoid an
    early collapse of the posterior; the reported ELBO always uses the full KL. Images are flipped
    left–right at random. The loop is :func:`course_utils.training.train_steps` (one record per epoch);
    the step is :func:`course_utils.models.vae.make_train_step`.

    Parameters
    ----------
    images : np.ndarray, uint8, (N, 64, 64, 1)
    variational : bool
    epochs, batch_size : int
    learning_rate : float
    model : course_utils.models.vae.FaceVAE, optional
        Continue training it.
    seed : int
    log_every : int
        Print every this many epochs (0: silent).
    max_seconds : float, optional
        Stop after the step during which this much wall time has passed.

    Returns
    -------
    model : course_utils.models.vae.FaceVAE
    history : dict
        ``epoch`` (each completed epoch), ``elbo`` (nats per image, training set, noisy estimate: the mean
        over the epoch), ``seconds``.
    """
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = model if model is not None else vae_model.build_vae(variational)
    optimizer = keras.optimizers.Adam(learning_rate)
    x_all = to_tanh_range(images)
    per_epoch = max(1, len(x_all) // batch_size)
    warmup = max(1, int(0.1 * epochs * per_epoch))
    beta = tf.Variable(0.0 if variational else 1.0, trainable=False)
    step = vae_model.make_train_step(model, optimizer, beta)
    order = None

    def batch(i):
        nonlocal order
        b = (i - 1) % per_epoch
        if b == 0:  # a new epoch: a new order
            order = rng.permutation(len(x_all))
        x = x_all[order[b * batch_size:(b + 1) * batch_size]]
        flip = rng.random(len(x)) < 0.5
        x = np.where(flip[:, None, None, None], x[:, :, ::-1], x)
        beta.assign(min(1.0, i / warmup) if variational else 1.0)
        return (tf.constant(x),)

    history = training.train_steps(step, batch, epochs * per_epoch, max_seconds=max_seconds, record_every=per_epoch,
                                   log_every=log_every * per_epoch,
                                   describe=lambda m: f"ELBO {m['elbo']:.1f} nats/image")
    history["epoch"] = [i // per_epoch for i in history.pop("step")]
    return model, history


def train_shipped(scale: float = 1.0, log_every: int = 10):
    """The shipped VAE and autoencoder's training: what ``scripts/train_compression.py vae`` and ``RETRAIN`` run.

    Olivetti faces minus the held-out subjects (:func:`split_subjects`), seed 0; the budget
    ``TRAINING_MINUTES["vae"]`` (minutes, times ``scale``) is shared 3 : 1 between the VAE and the plain
    autoencoder.

    Parameters
    ----------
    scale : float
        Multiplies the time budget (:data:`course_utils.compression.TRAINING_MINUTES`).
    log_every : int
        Print every this many epochs.

    Returns
    -------
    face_vae, face_ae : course_utils.models.vae.FaceVAE
        Save each with ``saving.save_weights(model, weights_path(variational))``.
    """
    config.set_seed(0)
    faces = data.load_olivetti()
    train, _ = split_subjects(faces.labels)
    trained = []
    for variational, share in ((True, 0.75), (False, 0.25)):
        model, _ = train_vae(faces.images[train], variational=variational, epochs=100000, seed=0, log_every=log_every,
                             max_seconds=TRAINING_MINUTES["vae"] * 60 * scale * share)
        trained.append(model)
    return tuple(trained)


def evaluate(model, images, samples: int = 8, seed: int = 0) -> dict:
    """ELBO of held-out images, averaged over ``samples`` draws of z per image.

    Parameters
    ----------
    model : course_utils.models.vae.FaceVAE
    images : np.ndarray, uint8, (N, 64, 64, 1)
    samples : int
    seed : int

    Returns
    -------
    dict
        ``elbo_nats`` (mean nats per image), ``bits_per_dim`` (−ELBO / (4096 ln 2)),
        ``log_likelihood_nats`` and ``kl_nats`` (means per image).
    """
    keras.utils.set_random_seed(seed)
    x = to_tanh_range(images)
    lik, kl = [], []
    for _ in range(samples):
        a, b = vae_model.elbo_terms(model, x)
        lik.append(ops.convert_to_numpy(a))
        kl.append(ops.convert_to_numpy(b))
    lik, kl = float(np.mean(lik)), float(np.mean(kl))
    elbo = lik - kl
    return {"elbo_nats": elbo, "bits_per_dim": -elbo / (vae_model.SIZE * vae_model.SIZE * np.log(2)),
            "log_likelihood_nats": lik, "kl_nats": kl}


def reconstruct(model, images) -> np.ndarray:
    """Encode (μ) and decode faces: uint8 (N, 64, 64, 1) → uint8 (N, 64, 64, 1)."""
    mu, _ = model.encode(to_tanh_range(images))
    return from_tanh_range(ops.convert_to_numpy(model.decode(mu)[0]))


def sample(model, n: int, seed: int = 0) -> np.ndarray:
    """Decode ``n`` draws z ~ N(0, I) (the prior): uint8 (n, 64, 64, 1)."""
    z = np.random.default_rng(seed).standard_normal((n, model.latent)).astype(np.float32)
    return from_tanh_range(ops.convert_to_numpy(model.decode(z)[0]))


def interpolate(model, face_a, face_b, steps: int = 8) -> np.ndarray:
    """Decode the straight line between the latent means of two faces: uint8 (steps, 64, 64, 1)."""
    mu, _ = model.encode(to_tanh_range(np.stack([face_a, face_b])))
    mu = ops.convert_to_numpy(mu)
    t = np.linspace(0, 1, steps, dtype=np.float32)[:, None]
    return from_tanh_range(ops.convert_to_numpy(model.decode((1 - t) * mu[0] + t * mu[1])[0]))


def weights_path(variational: bool = True):
    """``face_vae.npz`` or ``face_ae.npz`` in :data:`course_utils.saving.WEIGHTS_DIR` (float16 weights)."""
    return saving.WEIGHTS_DIR / ("face_vae.npz" if variational else "face_ae.npz")


def load_vae(variational: bool = True):
    """The shipped face VAE (or plain autoencoder), trained by :func:`train_shipped`.

    Raises
    ------
    FileNotFoundError
        Train them with ``python scripts/train_compression.py vae``.
    """
    model = vae_model.build_vae(variational)
    saving.load_weights(model, weights_path(variational))
    return model
