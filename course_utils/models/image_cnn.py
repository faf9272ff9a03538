"""A small VGG-style CNN that tells which photo domain (horse, zebra, summer, winter) a picture comes from.

Papers: Y. LeCun, L. Bottou, Y. Bengio and P. Haffner (1998), "Gradient-Based Learning Applied to Document
Recognition" (convolutional networks); K. Simonyan and A. Zisserman (2015), "Very Deep Convolutional Networks
for Large-Scale Image Recognition" (the VGG stack); S. Ioffe and C. Szegedy (2015), "Batch Normalization:
Accelerating Deep Network Training by Reducing Internal Covariate Shift"; M. Lin, Q. Chen and S. Yan (2014),
"Network In Network" (global average pooling).

VGG showed that a deep stack of small 3×3 convolutions — two of them see as far as one 5×5, with fewer weights
and one more non-linearity — with the resolution halved by max pooling and the number of filters doubled after
each stage, makes a strong image classifier. This model keeps that recipe at a size a 2-core CPU trains in
minutes: four stages of ``Conv 3×3 → BatchNorm → ReLU`` (batch normalisation makes the stack train quickly at
a high learning rate) and max pooling, then global average pooling instead of VGG's large fully connected
layers — one number per feature map, so the classifier cannot memorise *where* in the photo a texture is —
dropout and a softmax. A ``Normalization`` layer in front standardises raw 0–255 pixels per channel, so the
model takes images as :func:`course_utils.images.load_image` returns them. Training is in
:mod:`course_utils.processing`.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers


def build_image_cnn(image_size: int, n_classes: int, mean=None, variance=None, width: int = 32,
                    convs_per_block: int = 1, dropout: float = 0.3) -> keras.Model:
    """A small VGG-style CNN for RGB photos.

    Four blocks of ``[Conv 3×3 → BatchNorm → ReLU] × convs_per_block → MaxPool 2×2`` with
    ``width, 2·width, 4·width, 8·width`` filters, global average pooling,
    dropout and a softmax layer. The first layer normalises raw 0–255 pixels
    per channel, so the model takes images as they come from :func:`course_utils.images.load_image`.

    Parameters
    ----------
    image_size : int
        Input side in pixels (input shape ``(image_size, image_size, 3)``, float32 0–255).
    n_classes : int
    mean, variance : array-like, shape (3,), optional
        Per-channel statistics of the training pixels in 0–255 units
        (default: 127.5 and 127.5²).
    width : int
        Filters in the first block.
    convs_per_block : int
        Convolutions before each pooling (1 keeps training within minutes on a 2-core CPU).
    dropout : float

    Returns
    -------
    keras.Model
        Outputs class probabilities, shape ``(batch, n_classes)``.
    """
    mean = np.full(3, 127.5) if mean is None else np.asarray(mean)
    variance = np.full(3, 127.5 ** 2) if variance is None else np.asarray(variance)
    inputs = keras.Input((image_size, image_size, 3), name="pixels")
    x = layers.Normalization(mean=mean, variance=variance, name="per_channel_norm")(inputs)
    for block, filters in enumerate([width, 2 * width, 4 * width, 8 * width]):
        for conv in range(convs_per_block):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{block}_{conv}")(x)
            x = layers.BatchNormalization(name=f"bn{block}_{conv}")(x)
            x = layers.ReLU()(x)
        x = layers.MaxPooling2D(name=f"pool{block}")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="photo_domain_cnn")
