"""The learned image codec: its network's prior is a distribution, streams round-trip, bad input fails, weights load."""
from __future__ import annotations

import keras
import numpy as np
import pytest
from scipy.stats import norm

from course_utils import compression, metrics
from course_utils import image_codec as ic
from course_utils.bitstream import StreamError, pack_stream, unpack_stream
from course_utils.models import factorized_prior, hyperprior
from synthetic import smooth_image


@pytest.fixture(scope="module")
def small_codec():
    return factorized_prior.build_codec(0.01, filters=8, latent=6)


@pytest.fixture(scope="module")
def small_hyperprior():
    keras.utils.set_random_seed(0)
    return hyperprior.build_codec(0.01, filters=8, latent=6, hyper=4)


def test_factorized_prior_is_a_distribution_over_integers(small_codec):
    pmf = ic._pmf_tables(small_codec)
    assert pmf.shape == (6, 2 * ic.SUPPORT + 1)
    assert np.allclose(pmf.sum(1), 1.0, atol=1e-4)
    grid = np.linspace(-20, 20, 81, dtype=np.float32)
    logits = np.asarray(small_codec.prior.logits_cdf(np.broadcast_to(grid, (6, 1, 81)).copy()))[:, 0]
    assert np.all(np.diff(logits, axis=1) > 0), "the learned CDF must be increasing"


def test_image_codec_round_trips_through_bytes(small_codec):
    img = smooth_image(40, 72)  # not a multiple of 16: padded, then cropped back
    data = ic.encode(img, lambda_id=1, model=small_codec)
    assert isinstance(data, bytes) and data[:4] == ic.MAGIC
    out = ic.decode(data, model=small_codec)
    assert out.shape == img.shape and out.dtype == np.uint8
    y = np.round(ic.latent(small_codec, img))
    assert np.array_equal(out, ic.synthesize(small_codec, np.clip(y, -ic.SUPPORT, ic.SUPPORT), 40, 72))
    assert compression.bpp(data, img.shape) == len(data) * 8 / (40 * 72)
    assert ic.float_latent_bpp(small_codec, img) == pytest.approx(3 * 5 * 6 * 32 / (40 * 72))


def test_image_codec_rejects_bad_images_and_streams(small_codec):
    from PIL import Image

    img = smooth_image(32, 32)
    with pytest.raises(ValueError, match="mode 'L'"):
        ic.encode(Image.fromarray(img).convert("L"), model=small_codec)
    with pytest.raises(ValueError, match="RGBA"):
        ic.encode(Image.fromarray(img).convert("RGBA"), model=small_codec)
    with pytest.raises(ValueError, match="shape"):
        ic.encode(img[..., 0], model=small_codec)
    with pytest.raises(ValueError, match="uint8"):
        ic.encode(img.astype(np.float32), model=small_codec)
    with pytest.raises(ValueError, match="size"):
        ic.encode(img[:8, :8], model=small_codec)
    data = ic.encode(img, model=small_codec)
    with pytest.raises(StreamError, match="CRC"):
        ic.decode(data[:-4], model=small_codec)
    flipped = bytearray(data)
    flipped[len(data) // 2 + 6] ^= 0xFF
    with pytest.raises(StreamError):
        ic.decode(bytes(flipped), model=small_codec)
    with pytest.raises(StreamError, match="not a learned image codec stream"):
        ic.decode(b"\x89PNG\r\n\x1a\n" + bytes(40), model=small_codec)
    with pytest.raises(StreamError, match="not a learned image codec stream"):
        ic.decode(compression.pillow_bytes(img, "jpeg", 50), model=small_codec)


def test_train_codec_runs_and_logs(small_codec):
    images = np.stack([smooth_image(64, 64, seed=s) for s in range(4)])
    model, history = ic.train_codec(images, 0.01, steps=4, batch_size=2, crop=32, model=small_codec, log_every=2)
    assert history["step"] == [2, 4] and np.all(np.isfinite(history["loss"]))
    assert len(history["psnr"]) == 2 and "mse" not in history and history["decayed"] == 3  # int(0.8 · 4)


def test_rate_distortion_scores_every_image_with_every_codec(small_codec):
    images = [smooth_image(176, 176, seed=s) for s in range(2)]
    result = ic.rate_distortion({1: small_codec, 3: small_codec}, images, names=["a", "b"])
    assert result["lambda_id"] == [1, 3] and set(result["per_image"]) == {"a", "b"}
    stream = ic.encode(images[1], lambda_id=3, model=small_codec)
    out = ic.decode(stream, model=small_codec)
    assert result["per_image"]["b"][1] == pytest.approx(
        (compression.bpp(stream, images[1].shape), metrics.psnr(images[1], out), metrics.ms_ssim(images[1], out)))
    for col, key in enumerate(("bpp", "psnr", "ms_ssim")):
        assert result[key] == pytest.approx([np.mean([result["per_image"][n][k][col] for n in "ab"]) for k in range(2)])


class _Photos:
    """What data.load_photo_domains returns, as far as the training recipe reads it."""

    images = np.zeros((2, 64, 64, 3), np.uint8)
    origin = "test"

    def __len__(self):
        return len(self.images)


def test_train_shipped_is_the_shipped_recipe_and_budget(monkeypatch):
    calls = {}

    def load_photo_domains(**kwargs):
        calls["data"] = kwargs
        return _Photos()

    def train_family(images, base_seconds, finetune_seconds, **kwargs):
        calls.update(images=images, budget=(base_seconds, finetune_seconds), kwargs=kwargs)
        return {3: "model"}

    monkeypatch.setattr(ic.data, "load_photo_domains", load_photo_domains)
    monkeypatch.setattr(ic, "train_family", train_family)
    assert ic.train_shipped(scale=0.5) == {3: "model"}
    assert calls["data"] == {"image_size": 256, "per_domain": 250, "seed": 0}
    assert calls["images"] is _Photos.images
    minutes = compression.TRAINING_MINUTES
    assert calls["budget"] == (minutes["image_base"] * 30, minutes["image_finetune"] * 30)
    assert calls["kwargs"] == {"log_every": 50, "base": None, "only": None, "family": "factorized"}
    polished = []
    monkeypatch.setattr(ic, "polish_shipped", lambda models, scale, log_every: polished.append((models, scale))
                        or {i: "polished" for i in models})
    assert ic.train_shipped(family="hyperprior") == {3: "polished"}  # its last stage: whole photos
    assert calls["budget"] == (minutes["hyperprior_base"] * 60, minutes["hyperprior_finetune"] * 60)
    assert calls["kwargs"]["family"] == "hyperprior" and polished == [({3: "model"}, 1.0)]
    assert ic.train_shipped(family="hyperprior", polish=False) == {3: "model"} and len(polished) == 1
    assert ic.train_shipped(scale=0.5) == {3: "model"} and len(polished) == 1  # the factorised prior: no such stage
    given = object()
    monkeypatch.setattr(ic, "train_family", lambda *a, **k: {2: given, 3: "model"})
    ic.train_shipped(family="hyperprior", base=given)
    assert polished[-1] == ({3: "model"}, 1.0), "a given base is not trained again"


def test_polish_trains_on_whole_photos_at_the_models_own_lambda(monkeypatch):
    seen = {}

    def train_codec(images, lmbda, **kwargs):
        seen.update(lmbda=lmbda, **kwargs)
        return kwargs["model"], {}

    monkeypatch.setattr(ic, "train_codec", train_codec)
    model = hyperprior.build_codec(0.02, filters=8, latent=6, hyper=4)
    images = np.zeros((3, 72, 90, 3), np.uint8)
    assert ic.polish_codec(model, images, seconds=5.0, seed=3) is model
    assert seen["crop"] == 64 and seen["batch_size"] == 2 and seen["lmbda"] == 0.02  # largest multiple of 16
    assert seen["max_seconds"] == 5.0 and seen["seed"] == 3 and seen["learning_rate"] == 1e-4

    monkeypatch.setattr(ic.data, "load_photo_domains", lambda **kwargs: _Photos())
    calls = []
    monkeypatch.setattr(ic, "polish_codec", lambda m, images, seconds, seed, log_every: calls.append((m, seconds, seed))
                        or m)
    assert ic.polish_shipped({4: "b", 1: "a"}, scale=0.5) == {1: "a", 4: "b"}
    minutes = compression.TRAINING_MINUTES["hyperprior_polish"]
    assert calls == [("a", minutes * 30, 101), ("b", minutes * 30, 104)]


def test_shipped_image_codecs_load_and_compress():
    img = smooth_image(64, 96)
    rates = []
    for lambda_id in range(len(ic.LAMBDAS)):
        data = ic.encode(img, lambda_id=lambda_id)
        out = ic.decode(data)  # the model is chosen by the header's λ id
        assert out.shape == img.shape
        assert metrics.psnr(img, out) > 22
        rates.append(compression.bpp(data, img.shape))
    assert rates[0] < rates[-1], "a larger λ must spend more bits"
    with pytest.raises(ValueError, match="lambda id"):
        ic.load_codec(len(ic.LAMBDAS))


# ----------------------------------------------------------------------------- the scale hyperprior


def test_gaussian_conditional_is_the_normal_distribution_over_integer_bins():
    k = np.arange(-400, 401, dtype=np.float32)
    for sigma in (hyperprior.SCALE_MIN, 1.0, 7.5, 60.0):
        p = np.asarray(hyperprior.gaussian_likelihood(k, np.float32(sigma)))
        assert p.sum() == pytest.approx(1.0, abs=1e-3)
        assert np.array_equal(p, p[::-1]) and p.argmax() == 400  # symmetric, peaked at 0
        expected = norm.cdf(k + 0.5, scale=sigma) - norm.cdf(k - 0.5, scale=sigma)
        big = expected > 1e-6
        assert np.allclose(p[big], expected[big], rtol=1e-3)
    table = hyperprior.scale_table()
    assert table[0] == pytest.approx(hyperprior.SCALE_MIN) and table[-1] == pytest.approx(hyperprior.SCALE_MAX)
    assert len(table) == hyperprior.NUM_SCALES and np.all(np.diff(np.log(table)) > 0)


def test_rd_loss_counts_the_bits_of_both_latents(small_hyperprior):
    x = smooth_image(64, 128)[None].astype(np.float32) / 255
    _, bpp, _ = factorized_prior.rd_loss(small_hyperprior, x, training=False)
    _, (p_y, p_z) = small_hyperprior(x)
    assert p_y.shape == (1, 4, 8, 6) and p_z.shape == (1, 1, 2, 4)
    bits_y, bits_z = (float(np.sum(-np.log2(np.asarray(p)))) for p in (p_y, p_z))
    assert bits_z > 0 and float(bpp) == pytest.approx((bits_y + bits_z) / (64 * 128), rel=1e-5)


def test_hyperprior_round_trips_through_bytes_at_the_rate_its_model_predicts(small_hyperprior):
    img = smooth_image(40, 72)  # not a multiple of 16 (nor of 64, z's stride): padded, cropped back
    data = ic.encode(img, lambda_id=1, model=small_hyperprior)
    assert data[:4] == b"LHP1"
    out = ic.decode(data, model=small_hyperprior)
    y = np.round(ic.latent(small_hyperprior, img))  # |y| ≪ Y_SUPPORT: nothing clipped
    assert np.array_equal(out, ic.synthesize(small_hyperprior, y, 40, 72))
    big = smooth_image(192, 256, seed=3)
    stream = ic.encode(big, model=small_hyperprior)
    _, bpp, _ = factorized_prior.rd_loss(small_hyperprior, big[None].astype(np.float32) / 255, training=False)
    header_bits = 8 * (10 + 7) + 32  # magic, version, fields, CRC; the last 32-bit word
    assert len(stream) * 8 == pytest.approx(float(bpp) * big.shape[0] * big.shape[1] + header_bits, rel=0.05)


def test_refined_latents_cost_less_by_the_models_own_count_and_decode_as_before(small_hyperprior, small_codec):
    img = smooth_image(40, 72)  # padded to 48 × 80: the distortion counts the 40 × 72 pixels only
    model = small_hyperprior

    def cost(y, z):  # R + λ·255²·MSE of the rounded latents, with the model's own probabilities (bits per pixel)
        y_hat, z_hat = np.round(y), np.round(z)
        sigma = model.scales(z_hat, y_hat.shape)
        bits = -np.log2(np.asarray(hyperprior.gaussian_likelihood(y_hat, sigma))).sum()
        bits -= np.log2(np.asarray(model.prior(z_hat))).sum()
        out = np.asarray(model.decode_latent(y_hat))[0, :40, :72]
        return bits / (40 * 72) + model.lmbda * 255 ** 2 * np.mean((out - img / 255) ** 2)

    y0, z0 = ic.refine_latents(model, img, steps=0)
    assert np.array_equal(y0[0], ic.latent(model, img))  # 0 steps: g_a's latent
    # an untrained model's latents are ≈ 0: a large learning rate lets them cross rounding boundaries
    y, z = ic.refine_latents(model, img, steps=8, learning_rate=0.3)
    assert y.shape == y0.shape and z.shape == z0.shape
    assert np.abs(np.round(y)).sum() > 0 and cost(y, z) < cost(y0, z0) - 0.1
    stream = ic.encode(img, lambda_id=1, model=model, refine_steps=8)  # writes the refined latent; decode unchanged
    y_refined, _ = ic.refine_latents(model, img, steps=8)
    assert np.array_equal(ic.decode(stream, model=model), ic.synthesize(model, np.round(y_refined[0]), 40, 72))
    with pytest.raises(ValueError, match="hyperprior"):
        ic.encode(img, model=small_codec, refine_steps=2)
    with pytest.raises(ValueError, match="hyperprior"):
        ic.refine_latents(small_codec, img)
    with pytest.raises(ValueError, match="steps"):
        ic.refine_latents(model, img, steps=-1)
    with pytest.raises(ValueError, match="refine_steps"):
        ic.encode(img, model=model, refine_steps=-1)


def test_streams_name_their_codec_family(small_codec, small_hyperprior):
    img = smooth_image(32, 48)
    with pytest.raises(StreamError, match="a factorized stream .* cannot be decoded with a hyperprior codec"):
        ic.decode(ic.encode(img, model=small_codec), model=small_hyperprior)
    with pytest.raises(StreamError, match="a hyperprior stream .* cannot be decoded with a factorized codec"):
        ic.decode(ic.encode(img, model=small_hyperprior), model=small_codec)
    fields, payload = unpack_stream(ic.encode(img, model=small_hyperprior), b"LHP1", ic.VERSION, "test")
    longer = pack_stream(b"LHP1", ic.VERSION, fields, payload + bytes(8))  # valid CRC, two words to spare
    with pytest.raises(StreamError, match="bits left"):
        ic.decode(longer, model=small_hyperprior)
    wider = hyperprior.build_codec(0.01, filters=8, latent=5, hyper=4)
    with pytest.raises(StreamError, match="channels"):
        ic.decode(ic.encode(img, model=small_hyperprior), model=wider)
    with pytest.raises(StreamError, match="CRC"):
        ic.decode(ic.encode(img, model=small_hyperprior)[:-4], model=small_hyperprior)
    with pytest.raises(ValueError, match="unknown codec family"):
        ic.load_codec(0, family="bpg")


def test_train_codec_trains_a_hyperprior():
    images = np.stack([smooth_image(128, 128, seed=s) for s in range(2)])
    keras.utils.set_random_seed(1)
    model = hyperprior.build_codec(0.01, filters=8, latent=6, hyper=4)
    model, history = ic.train_codec(images, 0.02, steps=4, batch_size=2, model=model, log_every=2)
    assert model.lmbda == 0.02 and history["step"] == [2, 4] and np.all(np.isfinite(history["loss"]))
    fresh, _ = ic.train_codec(images, 0.02, steps=1, batch_size=1, family="hyperprior")
    assert isinstance(fresh, hyperprior.HyperpriorCodec)


def test_latent_bits_add_up_to_the_stream(small_codec, small_hyperprior):
    img = smooth_image(128, 192, seed=5)
    for model, overhead in ((small_codec, 10 + 6), (small_hyperprior, 10 + 7)):
        bits = ic.latent_bits(model, img)
        assert bits["y"].shape == (8, 12) and np.all(bits["y"] > 0)
        assert (bits["sigma"] is None) == (model is small_codec) and (bits["z"] > 0) == (model is small_hyperprior)
        stream_bits = (len(ic.encode(img, model=model)) - overhead) * 8
        assert bits["bpp"] * 128 * 192 == pytest.approx(stream_bits, rel=0.05, abs=64)


def test_shipped_hyperprior_codecs_beat_jpeg_on_a_photo_they_never_saw():
    """Quality floor of the shipped scale hyperprior on scikit-image's astronaut (not a training photo): every λ
    decodes through the magic alone, rate and PSNR rise with λ, and wherever JPEG reaches the same rate, the
    hyperprior's PSNR is at least 0.5 dB higher (measured at shipping: 1.1–5.6 dB); refining the latents at encoding
    lowers the rate–distortion cost."""
    import skimage.data

    photo = skimage.data.astronaut()
    jpeg = compression.classical_curve([photo], "jpeg")
    rates, psnrs = [], []
    for lambda_id in range(len(ic.HYPERPRIOR_LAMBDAS)):
        data = ic.encode(photo, lambda_id=lambda_id, family="hyperprior")
        out = ic.decode(data)  # the family comes from the magic, the model from the header's λ id
        rates.append(compression.bpp(data, photo.shape))
        psnrs.append(metrics.psnr(photo, out))
    assert np.all(np.diff(rates) > 0) and np.all(np.diff(psnrs) > 0)
    jpeg_at_our_rates = [metrics.interpolate_at_rate(jpeg["bpp"], jpeg["psnr"], rate) for rate in rates]
    compared = [(ours, theirs) for ours, theirs in zip(psnrs, jpeg_at_our_rates) if np.isfinite(theirs)]
    assert len(compared) >= 3  # JPEG cannot go as low as the lowest λ
    assert all(ours > theirs + 0.5 for ours, theirs in compared), (psnrs, jpeg_at_our_rates)  # dB
    # encode-time refinement (10 steps): R + λ·255²·MSE counted from the bytes and the decoded pixels falls by at
    # least 1 % (measured at shipping: 3.2 % at λ id 1)
    model = ic.load_codec(1, family="hyperprior")
    costs = []
    for steps in (0, 10):
        data = ic.encode(photo, lambda_id=1, model=model, refine_steps=steps)
        mse = np.mean((ic.decode(data, model=model) / 255.0 - photo / 255.0) ** 2)
        costs.append(compression.bpp(data, photo.shape) + model.lmbda * 255 ** 2 * mse)
    assert costs[1] < 0.99 * costs[0], costs
    with pytest.raises(ValueError, match="lambda id"):
        ic.load_codec(len(ic.HYPERPRIOR_LAMBDAS), family="hyperprior")
