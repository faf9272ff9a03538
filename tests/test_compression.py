"""Notebook 02's models and codecs: byte streams round-trip, bad input fails clearly, shipped weights load."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import compression, exercises
from course_utils import image_codec as ic
from course_utils import speech_codec as sc
from course_utils import vae
from course_utils.audio import AudioError
from course_utils.compression import StreamError


def smooth_image(h=48, w=80, seed=0) -> np.ndarray:
    """A smooth generated RGB image (gradients and a blob), uint8 (h, w, 3)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    chans = [np.sin(3 * xx + rng.random() * 3) + np.cos(4 * yy + rng.random() * 3) for _ in range(3)]
    img = (np.stack(chans, -1) + 2) / 4 * 255
    return np.clip(img, 0, 255).astype(np.uint8)


def speech_like(seconds=0.8, sample_rate=16000, seed=0) -> np.ndarray:
    """A harmonic tone with a moving pitch and an amplitude envelope (not speech)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    f0 = 140 + 40 * np.sin(2 * np.pi * 1.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    y = sum(np.sin(k * phase) / k for k in range(1, 12)) * np.hanning(len(t)) * 0.2
    return (y + 0.002 * rng.standard_normal(len(t))).astype(np.float32)


# ----------------------------------------------------------------------------- shared pieces


def test_stream_framing_detects_bad_magic_version_truncation_and_corruption():
    data = compression.pack_stream(b"TEST", 1, b"\x01\x02", b"payload bytes")
    assert compression.unpack_stream(data, b"TEST", 1, "test") == (b"\x01\x02", b"payload bytes")
    with pytest.raises(StreamError, match="magic"):
        compression.unpack_stream(b"XXXX" + data[4:], b"TEST", 1, "test")
    with pytest.raises(StreamError, match="version"):
        compression.unpack_stream(data[:4] + b"\x07" + data[5:], b"TEST", 1, "test")
    with pytest.raises(StreamError, match="truncated"):
        compression.unpack_stream(data[:5], b"TEST", 1, "test")
    corrupt = bytearray(data)
    corrupt[-3] ^= 0x40
    with pytest.raises(StreamError, match="CRC"):
        compression.unpack_stream(bytes(corrupt), b"TEST", 1, "test")
    with pytest.raises(TypeError):
        compression.unpack_stream("text", b"TEST", 1, "test")


def test_bd_rate_of_known_curves():
    psnr = np.array([26.0, 29.0, 32.0, 35.0])
    rate = np.array([0.1, 0.2, 0.4, 0.8])
    assert compression.bd_rate(rate, psnr, rate, psnr) == pytest.approx(0.0, abs=1e-9)
    assert compression.bd_rate(rate, psnr, rate / 2, psnr) == pytest.approx(-50.0, abs=1e-6)
    assert compression.bd_rate(rate, psnr, rate * 1.1, psnr) == pytest.approx(10.0, abs=1e-6)
    with pytest.raises(ValueError, match="4"):
        compression.bd_rate(rate[:3], psnr[:3], rate, psnr)
    with pytest.raises(ValueError, match="overlap"):
        compression.bd_rate(rate, psnr, rate, psnr + 20)


def test_jpeg_curve_and_metrics():
    img = smooth_image(176, 176)
    curve = compression.jpeg_curve([img], qualities=(10, 50, 90))
    assert np.all(np.diff(curve["bpp"]) > 0) and np.all(np.diff(curve["psnr"]) > 0)
    assert compression.ms_ssim(img, img) == pytest.approx(1.0, abs=1e-5)
    data, q = compression.jpeg_at_bpp(img, curve["bpp"][1])
    assert len(data) == len(compression.jpeg_bytes(img, 50)) and compression.jpeg_decode(data).shape == img.shape
    assert compression.interpolate_at_rate([0.1, 0.4], [20.0, 30.0], 0.2) == pytest.approx(25.0)
    assert np.isnan(compression.interpolate_at_rate([0.1, 0.4], [20.0, 30.0], 0.5))


def test_exercise_checker_accepts_a_solution_and_rejects_a_wrong_one(capsys):
    right = lambda cdf, y: -np.sum(np.log2(cdf(y + 0.5) - cdf(y - 0.5)))  # noqa: E731
    wrong = lambda cdf, y: -np.sum(np.log(cdf(y + 0.5) - cdf(y - 0.5)))  # noqa: E731  (nats, not bits)
    assert exercises.check("02_discrete_likelihood", right)
    assert not exercises.check("02_discrete_likelihood", wrong)
    assert not exercises.check("02_discrete_likelihood", None)


# ----------------------------------------------------------------------------- image codec


@pytest.fixture(scope="module")
def small_codec():
    return ic.build_codec(0.01, filters=8, latent=6)


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
    assert ic.bpp(data, img.shape) == len(data) * 8 / (40 * 72)
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
        ic.decode(compression.jpeg_bytes(img, 50), model=small_codec)


def test_train_codec_runs_and_logs(small_codec):
    images = np.stack([smooth_image(64, 64, seed=s) for s in range(4)])
    model, history = ic.train_codec(images, 0.01, steps=4, batch_size=2, crop=32, model=small_codec, log_every=2)
    assert history["step"] == [2, 4] and np.all(np.isfinite(history["loss"]))


def test_shipped_image_codecs_load_and_compress():
    img = smooth_image(64, 96)
    rates = []
    for lambda_id in range(len(ic.LAMBDAS)):
        data = ic.encode(img, lambda_id=lambda_id)
        out = ic.decode(data)  # the model is chosen by the header's λ id
        assert out.shape == img.shape
        assert compression.psnr(img, out) > 22
        rates.append(ic.bpp(data, img.shape))
    assert rates[0] < rates[-1], "a larger λ must spend more bits"


# ----------------------------------------------------------------------------- VAE


def test_discretized_logistic_is_a_pmf_over_256_levels():
    levels = np.arange(256, dtype=np.float32) / 127.5 - 1
    for loc, log_scale in ((0.1, -3.0), (-0.95, -1.0), (0.99, -5.0)):
        logp = np.asarray(vae.discretized_logistic_log_prob(levels, np.full(256, loc, np.float32),
                                                            np.full(256, log_scale, np.float32)))
        assert np.exp(logp).sum() == pytest.approx(1.0, abs=2e-3)


def test_vae_trains_evaluates_and_samples():
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (8, 64, 64, 1), dtype=np.uint8)
    model, history = vae.train_vae(faces, epochs=1, batch_size=8)
    assert len(history["elbo"]) == 1 and np.isfinite(history["elbo"][0])
    result = vae.evaluate(model, faces[:4], samples=2)
    assert result["elbo_nats"] == pytest.approx(result["log_likelihood_nats"] - result["kl_nats"])
    assert result["bits_per_dim"] == pytest.approx(-result["elbo_nats"] / (4096 * np.log(2)))
    assert result["kl_nats"] > 0
    assert vae.sample(model, 3).shape == (3, 64, 64, 1)
    assert vae.interpolate(model, faces[0], faces[1], steps=5).shape == (5, 64, 64, 1)
    assert vae.evaluate(vae.build_vae(variational=False), faces[:4], samples=1)["kl_nats"] == 0


def test_split_subjects_holds_out_whole_people():
    labels = np.repeat(np.arange(10), 4)
    train, test = vae.split_subjects(labels, n_test=2)
    assert set(labels[test]) == {8, 9} and not set(labels[train]) & {8, 9}


def test_shipped_vae_and_autoencoder_load():
    faces = np.random.default_rng(1).integers(0, 256, (4, 64, 64, 1), dtype=np.uint8)
    for variational in (True, False):
        model = vae.load_vae(variational)
        assert np.isfinite(vae.evaluate(model, faces, samples=1)["elbo_nats"])


# ----------------------------------------------------------------------------- speech codec


def test_speech_codec_round_trips_through_bytes():
    y = speech_like()
    data = sc.encode(y, 16000)
    assert data[:4] == sc.MAGIC
    y8 = sc.check_waveform(y, 16000)
    frames = np.concatenate([sc.log_mel(y8), sc.high_band_mel(y, len(y8) // sc.HOP)], axis=1)
    core, high = sc.decode_features(data)
    assert core.shape == (len(y8) // sc.HOP, sc.N_MELS) and high.shape == (len(core), sc.N_HIGH)
    assert np.array_equal(np.concatenate([core, high], axis=1), sc.dequantize(sc.quantize(frames)))
    assert np.abs(np.concatenate([core, high], axis=1) - frames).max() <= sc.STEP_DB / 2 + 1e-4
    assert sc.kbps(data, len(y8)) == pytest.approx(len(data) * 8 / (len(y8) / 8000) / 1000)
    assert sc.kbps(data, len(y8)) < 16
    wave = sc.decode(data, "griffin_lim")
    assert wave.shape == (len(core) * sc.HIGH_HOP,) and wave.dtype == np.float32 and np.isfinite(wave).all()
    with pytest.raises(ValueError, match="decoder"):
        sc.decode(data, "vocoder")


def fricative_like(seed=0) -> np.ndarray:
    """speech_like() with a burst of 4.5–7.5 kHz noise from 0.3 to 0.5 s, like an /s/ (16 kHz)."""
    import scipy.signal

    y = speech_like(seed=seed)
    noise = np.random.default_rng(seed).standard_normal(len(y))
    hiss = scipy.signal.sosfilt(scipy.signal.butter(8, [4500, 7500], "bandpass", fs=16000, output="sos"), noise)
    hiss[: int(0.3 * 16000)] = 0
    hiss[int(0.5 * 16000):] = 0
    return (y + 0.05 * hiss).astype(np.float32)


def band_energy_db(y, sample_rate, lo, hi, start, stop):
    """Mean power (dB) of y between lo and hi Hz, from start to stop seconds."""
    spectrum = np.abs(np.fft.rfft(y[int(start * sample_rate):int(stop * sample_rate)])) ** 2
    freqs = np.fft.rfftfreq(int(stop * sample_rate) - int(start * sample_rate), 1 / sample_rate)
    return 10 * np.log10(spectrum[(freqs >= lo) & (freqs < hi)].mean() + 1e-20)


def test_bandwidth_extension_restores_the_high_band_energy_where_it_was():
    y = fricative_like()
    data = sc.encode(y, 16000)
    core, high = sc.decode_features(data)
    core_wave = sc.griffin_lim(core)
    wide = sc.widen(core_wave, high, seed=3)
    assert wide.shape == (len(high) * sc.HIGH_HOP,)
    # 4.5–7.5 kHz energy follows the original within a few dB: the burst, and the faint noise outside it
    original = band_energy_db(y, 16000, 4500, 7500, 0.32, 0.48)
    assert abs(band_energy_db(wide, 16000, 4500, 7500, 0.32, 0.48) - original) < 3.0
    quiet = band_energy_db(y, 16000, 4500, 7500, 0.6, 0.75)
    assert quiet < original - 20 and abs(band_energy_db(wide, 16000, 4500, 7500, 0.6, 0.75) - quiet) < 3.0
    # the core alone cannot carry it: 8 kHz audio has nothing above 4 kHz
    core16 = sc.widen(core_wave, np.full_like(high, sc.FLOOR_DB))
    assert band_energy_db(core16, 16000, 4500, 7500, 0.32, 0.48) < original - 30
    assert np.array_equal(sc.high_band(high, seed=3), sc.high_band(high, seed=3))
    with pytest.raises(ValueError, match="frames"):
        sc.widen(core_wave[:-1], high)


def test_postfilter_pulls_a_drifted_core_back_to_the_coded_envelope():
    y = speech_like()
    core, _ = sc.decode_features(sc.encode(y, 16000))
    clean = sc.check_waveform(y, 16000)
    rng = np.random.default_rng(0)
    drifted = (0.3 * clean + 0.01 * rng.standard_normal(len(clean))).astype(np.float32)  # too quiet, noisy
    fixed = sc.postfilter(drifted, core)
    assert fixed.shape == drifted.shape and fixed.dtype == np.float32
    active = core > sc.FLOOR_DB + 10

    def error_db(wave):
        return np.abs(sc.log_mel(wave) - core)[active].mean()

    assert error_db(fixed) < error_db(drifted) / 3, (error_db(fixed), error_db(drifted))
    with pytest.raises(ValueError, match="samples"):
        sc.postfilter(drifted[:-sc.HOP], core)


def test_speech_codec_codes_8_khz_input_with_a_silent_high_band():
    y8 = sc.check_waveform(fricative_like(), 16000)
    _, high = sc.decode_features(sc.encode(y8, 8000))
    assert np.all(high <= sc.FLOOR_DB + sc.STEP_DB)


def test_speech_codec_rejects_bad_audio_and_streams():
    y = speech_like()
    with pytest.raises(AudioError, match="mono"):
        sc.encode(np.stack([y, y]), 16000)
    with pytest.raises(AudioError, match="float"):
        sc.encode((y * 32767).astype(np.int16), 16000)
    with pytest.raises(AudioError, match="NaN"):
        sc.encode(np.r_[y, np.nan].astype(np.float32), 16000)
    with pytest.raises(AudioError, match="short"):
        sc.encode(y[:100], 16000)
    with pytest.raises(AudioError, match="sample rate"):
        sc.encode(y, 0)
    data = sc.encode(y, 16000)
    with pytest.raises(StreamError, match="CRC"):
        sc.decode_features(data[:-1])
    with pytest.raises(StreamError, match="not a speech codec stream"):
        sc.decode_features(sc.mu_law_encode(y, 16000))


def test_mu_law_baseline_is_64_kbps_and_close():
    y = speech_like()
    data = sc.mu_law_encode(y, 16000)
    y8 = sc.check_waveform(y, 16000)
    assert len(data) == len(y8)  # 8 bits per sample at 8 kHz = 64 kbps
    assert sc.kbps(data, len(y8)) == pytest.approx(64.0)
    out = sc.mu_law_decode(data)
    snr = 10 * np.log10(np.sum(y8 ** 2) / np.sum((out - y8) ** 2))
    assert snr > 30, f"8-bit μ-law should give about 38 dB SNR, got {snr:.1f} dB"
    assert np.array_equal(sc.mu_classes(sc.mu_values(np.arange(256))), np.arange(256))


def test_incremental_wavenet_matches_the_parallel_forward_pass():
    model = sc.build_wavenet(residual=8, skip=16, cond=8, dilations=(1, 2, 4, 8, 1, 2))
    rng = np.random.default_rng(0)
    n_frames, batch = 3, 2
    mel = rng.standard_normal((batch, n_frames, sc.N_MELS)).astype(np.float32)
    teacher = rng.integers(0, 256, (batch, n_frames * sc.HOP))
    previous = np.zeros((batch, n_frames * sc.HOP, 1), np.float32)
    previous[:, 1:, 0] = sc.mu_values(teacher[:, :-1])
    parallel = np.asarray(model([previous, mel]))
    _, incremental = sc.IncrementalWaveNet(model).generate(mel, teacher=teacher)
    assert np.abs(parallel - incremental).max() < 1e-4
    wave, logits = sc.IncrementalWaveNet(model).generate(mel[:, :1], seed=1)
    assert wave.shape == (batch, sc.HOP) and logits is None and np.abs(wave).max() <= 1


def test_wavenet_trains_a_few_steps():
    waves = [sc.check_waveform(speech_like(seed=s), 16000) for s in range(2)]
    frames = [sc.decode_features(sc.encode(w, 8000))[0] for w in waves]
    model = sc.build_wavenet(residual=8, skip=16, cond=8, dilations=(1, 2, 4))
    model, history = sc.train_wavenet(waves, frames, steps=2, batch_size=2, segment_frames=4, model=model)
    assert len(history["loss"]) == 2 and np.all(np.isfinite(history["loss"]))
    assert sc.receptive_field((1, 2, 4)) == 9


def test_shipped_wavenet_loads_and_decodes():
    data = sc.encode(speech_like(0.1), 16000)
    waves, rtf = sc.wavenet_decode([data], seed=0)
    assert waves[0].shape == (len(sc.decode_features(data)[0]) * sc.HOP,) and rtf > 0
    wide = sc.decode(data, "wavenet", seed=0)  # WaveNet → post-filter → high band
    assert wide.shape == (len(sc.decode_features(data)[0]) * sc.HIGH_HOP,) and np.isfinite(wide).all()
