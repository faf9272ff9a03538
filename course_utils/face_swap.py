"""Notebook 03, part 2 — face identity swap with the shared-encoder, two-decoder autoencoder.

The network (:class:`course_utils.models.face_swap.SwapAutoencoder`) is the swap autoencoder of the 2017
"deepfakes" code, as described by Perov et al. (2020, DeepFaceLab): one shared encoder, one decoder
per identity, trained to rebuild each person's faces from randomly warped copies. Here: the face crops
(:func:`face_crop`), training (:func:`train_swap_autoencoder`), decoding batches (:func:`face_batches`).
Public function on raw input: :func:`swap_face` (encode a face of A, decode it with B's decoder).
"""
from __future__ import annotations

import numpy as np

from .images import ImageError
from .models.face_swap import FACE_SIZE, SwapAutoencoder


def train_swap_autoencoder(faces_a: np.ndarray, faces_b: np.ndarray, steps: int = 2000, batch_size: int = 16,
                           learning_rate: float = 5e-4, latent: int = 256, width: int = 24, seed: int = 0,
                           verbose: int = 0):
    """Train the swap autoencoder on two people's aligned face crops.

    Parameters
    ----------
    faces_a, faces_b : np.ndarray, uint8, shape (n, size, size, 3)
        Training faces of identity A and identity B (the numbers may differ: each batch
        samples both with replacement).
    steps : int
        Optimiser steps (Adam, β1 = 0.5, cosine decay).
    batch_size : int
        Faces of *each* identity per step.
    learning_rate : float
    latent, width : int
        See :func:`course_utils.models.face_swap.build_face_encoder`.
    seed : int
        Seed of initialisation, shuffling and the random warp.
    verbose : int

    Returns
    -------
    model : SwapAutoencoder
    history : keras.callbacks.History
    """
    import keras
    import tensorflow as tf

    from .config import set_seed

    set_seed(seed)
    size = faces_a.shape[1]

    def stream(faces, s):
        ds = tf.data.Dataset.from_tensor_slices(faces).shuffle(len(faces), seed=s).repeat()
        return ds.map(lambda x: tf.cast(x, tf.float32) / 255.0)

    data = tf.data.Dataset.zip((stream(faces_a, seed), stream(faces_b, seed + 1))).batch(batch_size)
    model = SwapAutoencoder(size=size, latent=latent, width=width, seed=seed)
    model(np.zeros((1, size, size, 3), np.float32))  # build the weights
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(learning_rate, steps),
                                                  beta_1=0.5))
    epochs = max(1, steps // 250)
    history = model.fit(data.prefetch(2), epochs=epochs, steps_per_epoch=steps // epochs, shuffle=False,
                        verbose=verbose)  # the tf.data pipeline shuffles
    return model, history


def face_batches(model, faces: np.ndarray, identity: str, batch_size: int = 64) -> np.ndarray:
    """Encode uint8 faces and decode them with one identity's decoder.

    Parameters
    ----------
    model : SwapAutoencoder
    faces : np.ndarray, uint8, shape (n, size, size, 3)
    identity : {"a", "b"}
        ``"a"``'s decoder on faces of A is a reconstruction; on faces of B it is a swap.
    batch_size : int

    Returns
    -------
    np.ndarray, uint8, shape (n, size, size, 3)

    Raises
    ------
    ValueError
        ``identity`` is neither ``"a"`` nor ``"b"``.
    """
    if identity not in ("a", "b"):
        raise ValueError(f"identity must be 'a' or 'b', got {identity!r}")
    out = []
    for i in range(0, len(faces), batch_size):
        x = faces[i:i + batch_size].astype(np.float32) / 255.0
        out.append(np.asarray(model.decode(model.encoder(x, training=False), identity)))
    return np.clip(np.concatenate(out) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def face_crop(image, size: int = FACE_SIZE, crop: int = 128) -> np.ndarray:
    """Bring a face photo to the swap model's input: an LFW-style 250×250 frame or a square face crop.

    Parameters
    ----------
    image : PIL.Image.Image or np.ndarray
        Either a 250×250 deep-funneled LFW frame (its central ``crop``×``crop`` square is the
        face, as :func:`course_utils.data.load_lfw_people` cuts it) or an already aligned,
        square face crop of at least ``size`` pixels. Any mode (converted to RGB).
    size : int
        Side of the returned crop, pixels.
    crop : int
        Side of the face square cut from a 250×250 LFW frame.

    Returns
    -------
    np.ndarray, uint8, shape (size, size, 3)

    Raises
    ------
    course_utils.images.ImageError
        A non-square image or one smaller than ``size`` pixels: it is not an aligned face.
    """
    from PIL import Image

    from .images import to_rgb

    img = Image.fromarray(np.asarray(image)) if not isinstance(image, Image.Image) else image
    if img.width != img.height or img.width < size:
        raise ImageError(
            f"expected an aligned face: a square crop of at least {size}×{size} pixels or a 250×250 LFW frame, "
            f"got {img.width}×{img.height}")
    img = to_rgb(img)
    if img.size == (250, 250):
        left = (250 - crop) // 2
        img = img.crop((left, left, left + crop, left + crop))
    return np.asarray(img.resize((size, size), Image.Resampling.LANCZOS), dtype=np.uint8)


def swap_face(image, model, to: str = "b"):
    """Swap the identity of one face: encode it, decode with identity ``to``'s decoder.

    Parameters
    ----------
    image : PIL.Image.Image or np.ndarray
        See :func:`face_crop`.
    model : SwapAutoencoder
    to : {"a", "b"}
        Whose decoder draws the result (``"b"`` turns a face of A into B).

    Returns
    -------
    PIL.Image.Image
        RGB, ``model.size`` pixels square.

    Raises
    ------
    course_utils.images.ImageError
        The image is not a face-sized square (see :func:`face_crop`).
    """
    from PIL import Image

    face = face_crop(image, model.size)
    return Image.fromarray(face_batches(model, face[None], to)[0])
