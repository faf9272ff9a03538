"""CycleGAN: unpaired image-to-image translation between two photo domains (e.g. horse ↔ zebra).

Paper: J.-Y. Zhu, T. Park, P. Isola and A. A. Efros (2017), "Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks" (ICCV). The code follows the shape of the keras-io example
``examples/generative/cyclegan.py``: a ``keras.Model`` subclass whose ``train_step`` updates two
generators and two discriminators.

There are no photos of the same horse as a zebra, so no pixel loss can compare a translation with its
answer. CycleGAN trains two generators, G: A → B and F: B → A, each against a discriminator that tells
real photos of its domain from translated ones (a least-squares GAN, Mao et al. 2017), and ties them
together with a **cycle-consistency** loss: F(G(a)) must give back a, and G(F(b)) b (L1, weight λ = 10).
An **identity** loss (L1, 0.5 λ) asks G to leave a photo that is already in B unchanged, which keeps
colours. The generators are ResNet-block networks (Johnson et al. 2016: c7s1-k, two stride-2
downsamplings, residual blocks, two upsamplings, c7s1-3 + tanh) with instance normalisation and
reflection padding; the discriminators are 70×70-style **PatchGANs** (Isola et al. 2017) that score a
grid of patches. The discriminators see a 50-image **history buffer** of earlier translations
(Shrivastava et al. 2017), and Adam (2e-4, β₁ = 0.5) keeps its learning rate for the first half of
training, then decays it linearly to 0 (:class:`LinearDecay`).

CPU budget: the course trains at 64×64 pixels with narrow generators (16 filters in the first layer
instead of 64; 6 residual blocks as the paper's 128-px variant) and a 3-layer PatchGAN. Data, training,
the shipped weights and the evaluation are in :mod:`course_utils.cyclegan`.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf  # the TensorFlow backend's GradientTape, as in keras-io's example
from keras import layers, ops


def _reflect_pad(x, pad: int):
    return ops.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="reflect")


def _instance_norm(filters: int, name: str):
    # GroupNormalization with one group per channel is instance normalisation (Ulyanov et al. 2016).
    return layers.GroupNormalization(groups=filters, epsilon=1e-5, name=name)


def residual_block(x, filters: int, name: str):
    """Two reflection-padded 3×3 convolutions with instance norm, added to the input (He et al. 2016).

    Parameters
    ----------
    x : KerasTensor, shape (batch, h, w, filters)
    filters : int
    name : str
        Prefix of the layer names.

    Returns
    -------
    KerasTensor, same shape as ``x``.
    """
    y = layers.Lambda(lambda t: _reflect_pad(t, 1), name=f"{name}_pad1")(x)
    y = layers.Conv2D(filters, 3, use_bias=False, name=f"{name}_conv1")(y)
    y = layers.ReLU()(_instance_norm(filters, f"{name}_norm1")(y))
    y = layers.Lambda(lambda t: _reflect_pad(t, 1), name=f"{name}_pad2")(y)
    y = layers.Conv2D(filters, 3, use_bias=False, name=f"{name}_conv2")(y)
    y = _instance_norm(filters, f"{name}_norm2")(y)
    return layers.Add(name=f"{name}_add")([x, y])


def build_generator(image_size: int = 64, filters: int = 16, res_blocks: int = 6, name: str = "generator"):
    """ResNet-block generator of Zhu et al. 2017 (Johnson et al. 2016's architecture).

    ``c7s1-f, d2f, d4f, R4f × res_blocks, u2f, uf, c7s1-3`` with instance norm and
    ReLU; the output is ``tanh``.

    Parameters
    ----------
    image_size : int
        Side of the square input in pixels (a multiple of 4).
    filters : int
        Filters of the first layer (the paper uses 64).
    res_blocks : int
        Residual blocks at 1/4 resolution (the paper: 6 at 128 px, 9 at 256 px).
    name : str

    Returns
    -------
    keras.Model
        Input and output ``(batch, image_size, image_size, 3)`` float32 in [-1, 1].

    Raises
    ------
    ValueError
        ``image_size`` is not a multiple of 4.
    """
    if image_size % 4:
        raise ValueError(f"image_size must be a multiple of 4, got {image_size}")
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = layers.Lambda(lambda t: _reflect_pad(t, 3), name="pad_in")(inputs)
    x = layers.Conv2D(filters, 7, use_bias=False, name="c7s1")(x)
    x = layers.ReLU()(_instance_norm(filters, "c7s1_norm")(x))
    for i, f in enumerate((2 * filters, 4 * filters)):
        x = layers.Conv2D(f, 3, strides=2, padding="same", use_bias=False, name=f"down{i}")(x)
        x = layers.ReLU()(_instance_norm(f, f"down{i}_norm")(x))
    for i in range(res_blocks):
        x = residual_block(x, 4 * filters, f"res{i}")
    for i, f in enumerate((2 * filters, filters)):
        x = layers.Conv2DTranspose(f, 3, strides=2, padding="same", use_bias=False, name=f"up{i}")(x)
        x = layers.ReLU()(_instance_norm(f, f"up{i}_norm")(x))
    x = layers.Lambda(lambda t: _reflect_pad(t, 3), name="pad_out")(x)
    outputs = layers.Conv2D(3, 7, activation="tanh", name="c7s1_out")(x)
    return keras.Model(inputs, outputs, name=name)


def build_discriminator(image_size: int = 64, filters: int = 32, name: str = "discriminator"):
    """PatchGAN discriminator (Isola et al. 2017): a grid of real/fake scores, one per image patch.

    ``C f (no norm) → C 2f → C 4f`` (4×4 convolutions, stride 2, instance norm,
    LeakyReLU 0.2), then a stride-1 ``C 8f`` and a 1-channel 4×4 convolution.
    The scores are linear (least-squares GAN).

    Parameters
    ----------
    image_size : int
    filters : int
        Filters of the first layer (the paper uses 64).
    name : str

    Returns
    -------
    keras.Model
        Input ``(batch, image_size, image_size, 3)`` in [-1, 1]; output
        ``(batch, image_size / 8, image_size / 8, 1)`` scores.
    """
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = layers.LeakyReLU(0.2)(layers.Conv2D(filters, 4, strides=2, padding="same", name="c0")(inputs))
    for i, f in enumerate((2 * filters, 4 * filters), start=1):
        x = layers.Conv2D(f, 4, strides=2, padding="same", use_bias=False, name=f"c{i}")(x)
        x = layers.LeakyReLU(0.2)(_instance_norm(f, f"c{i}_norm")(x))
    x = layers.Conv2D(8 * filters, 4, padding="same", use_bias=False, name="c3")(x)
    x = layers.LeakyReLU(0.2)(_instance_norm(8 * filters, "c3_norm")(x))
    outputs = layers.Conv2D(1, 4, padding="same", name="patch_scores")(x)
    return keras.Model(inputs, outputs, name=name)


class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Learning rate constant for ``decay_start`` steps, then linear to 0 at ``total_steps`` (Zhu et al. 2017).

    Parameters
    ----------
    learning_rate : float
        The initial (constant) rate.
    total_steps : int
        Optimiser step at which the rate reaches 0 (and stays there).
    decay_start : int
        Step at which the linear decay begins.
    """

    def __init__(self, learning_rate: float, total_steps: int, decay_start: int):
        self.learning_rate, self.total_steps, self.decay_start = learning_rate, total_steps, decay_start

    def __call__(self, step):
        step = ops.cast(step, "float32")
        frac = (step - self.decay_start) / max(1, self.total_steps - self.decay_start)
        return self.learning_rate * ops.clip(1.0 - frac, 0.0, 1.0)

    def get_config(self):
        return dict(learning_rate=self.learning_rate, total_steps=self.total_steps, decay_start=self.decay_start)


class CycleGAN(keras.Model):
    """Two generators (G: A→B, F: B→A) and two PatchGAN discriminators trained jointly.

    ``train_step`` takes a batch ``(real_a, real_b)`` of images in [-1, 1] and
    applies one Adam update to each of the four networks, with the
    least-squares adversarial, cycle-consistency and identity losses.

    Parameters
    ----------
    gen_a2b, gen_b2a : keras.Model
        :func:`build_generator` networks.
    disc_a, disc_b : keras.Model
        :func:`build_discriminator` networks judging domain A and domain B.
    cycle_weight : float
        λ of the cycle-consistency loss.
    identity_weight : float
        Identity loss weight relative to λ.
    pool_size : int
        Images in each discriminator's history buffer.
    """

    def __init__(self, gen_a2b, gen_b2a, disc_a, disc_b, cycle_weight=10.0, identity_weight=0.5,
                 pool_size=50, **kwargs):
        super().__init__(**kwargs)
        self.gen_a2b, self.gen_b2a, self.disc_a, self.disc_b = gen_a2b, gen_b2a, disc_a, disc_b
        self.cycle_weight, self.identity_weight, self.pool_size = cycle_weight, identity_weight, pool_size
        shape = (pool_size,) + tuple(gen_a2b.input_shape[1:])
        self.pool_a = keras.Variable(np.zeros(shape, np.float32), trainable=False, name="pool_a")
        self.pool_b = keras.Variable(np.zeros(shape, np.float32), trainable=False, name="pool_b")
        self.pool_count = keras.Variable(0, dtype="int32", trainable=False, name="pool_count")
        self.seed_gen = keras.random.SeedGenerator(0)

    def compile(self, gen_a2b_optimizer, gen_b2a_optimizer, disc_a_optimizer, disc_b_optimizer):
        super().compile()
        self.opt = dict(gen_a2b=gen_a2b_optimizer, gen_b2a=gen_b2a_optimizer, disc_a=disc_a_optimizer,
                        disc_b=disc_b_optimizer)

    def call(self, inputs, training=False):
        return self.gen_a2b(inputs, training=training)

    def _from_pool(self, pool, fake):
        """History buffer: while filling, store and return ``fake``; then, with p = 0.5,
        return a stored image instead and store ``fake`` in its place."""
        batch = ops.shape(fake)[0]
        full = self.pool_count >= self.pool_size
        slot = keras.random.randint((batch,), 0, self.pool_size, seed=self.seed_gen)
        fill = (self.pool_count + ops.arange(batch, dtype="int32")) % self.pool_size
        index = ops.where(full, slot, fill)
        swap = ops.logical_and(full, keras.random.uniform((batch,), seed=self.seed_gen) < 0.5)
        stored = ops.take(pool, index, axis=0)
        out = ops.where(swap[:, None, None, None], stored, fake)
        write = ops.logical_or(ops.logical_not(full), swap)
        pool.assign(ops.scatter_update(pool, index[:, None], ops.where(write[:, None, None, None], fake, stored)))
        return out

    def train_step(self, data):
        real_a, real_b = data
        mse = lambda x, target: ops.mean(ops.square(x - target))  # noqa: E731 - least-squares GAN
        l1 = lambda x, y: ops.mean(ops.abs(x - y))  # noqa: E731
        with tf.GradientTape(persistent=True) as tape:
            fake_b = self.gen_a2b(real_a, training=True)
            fake_a = self.gen_b2a(real_b, training=True)
            cycled_a = self.gen_b2a(fake_b, training=True)
            cycled_b = self.gen_a2b(fake_a, training=True)
            same_a = self.gen_b2a(real_a, training=True)
            same_b = self.gen_a2b(real_b, training=True)
            cycle = l1(real_a, cycled_a) + l1(real_b, cycled_b)
            adv_a2b = mse(self.disc_b(fake_b, training=True), 1.0)
            adv_b2a = mse(self.disc_a(fake_a, training=True), 1.0)
            g_a2b_loss = adv_a2b + self.cycle_weight * cycle + \
                self.cycle_weight * self.identity_weight * l1(real_b, same_b)
            g_b2a_loss = adv_b2a + self.cycle_weight * cycle + \
                self.cycle_weight * self.identity_weight * l1(real_a, same_a)
            pooled_b = self._from_pool(self.pool_b, ops.stop_gradient(fake_b))
            pooled_a = self._from_pool(self.pool_a, ops.stop_gradient(fake_a))
            d_b_loss = 0.5 * (mse(self.disc_b(real_b, training=True), 1.0) +
                              mse(self.disc_b(pooled_b, training=True), 0.0))
            d_a_loss = 0.5 * (mse(self.disc_a(real_a, training=True), 1.0) +
                              mse(self.disc_a(pooled_a, training=True), 0.0))
        self.pool_count.assign(ops.minimum(self.pool_count + ops.shape(real_a)[0], self.pool_size))
        for key, loss, net in (("gen_a2b", g_a2b_loss, self.gen_a2b), ("gen_b2a", g_b2a_loss, self.gen_b2a),
                               ("disc_a", d_a_loss, self.disc_a), ("disc_b", d_b_loss, self.disc_b)):
            grads = tape.gradient(loss, net.trainable_variables)
            self.opt[key].apply_gradients(zip(grads, net.trainable_variables))
        del tape
        return {"g_a2b": g_a2b_loss, "g_b2a": g_b2a_loss, "d_a": d_a_loss, "d_b": d_b_loss, "cycle_l1": cycle}


def build_cyclegan(image_size: int = 64, gen_filters: int = 16, res_blocks: int = 6, disc_filters: int = 32,
                   cycle_weight: float = 10.0, identity_weight: float = 0.5, pool_size: int = 50) -> CycleGAN:
    """The full CycleGAN: generators G (A→B), F (B→A) and discriminators D_A, D_B.

    Parameters
    ----------
    image_size, gen_filters, res_blocks, disc_filters : int
        See :func:`build_generator` and :func:`build_discriminator`.
    cycle_weight : float
        λ of the cycle-consistency loss (10 in the paper).
    identity_weight : float
        Identity loss weight relative to λ (0.5 in the paper).
    pool_size : int
        Images in each discriminator's history buffer (50 in the paper).

    Returns
    -------
    CycleGAN
        Not compiled; ``.gen_a2b``, ``.gen_b2a``, ``.disc_a``, ``.disc_b``.
    """
    return CycleGAN(build_generator(image_size, gen_filters, res_blocks, "gen_a2b"),
                    build_generator(image_size, gen_filters, res_blocks, "gen_b2a"),
                    build_discriminator(image_size, disc_filters, "disc_a"),
                    build_discriminator(image_size, disc_filters, "disc_b"),
                    cycle_weight, identity_weight, pool_size)
