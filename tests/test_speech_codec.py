"""The speech codec: streams round-trip, bandwidth extension, post-filter, μ-law, the WaveNet decoder, scoring."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import compression
from course_utils import speech_codec as sc
from course_utils.audio import AudioError
from course_utils.bitstream import StreamError
from course_utils.models import wavenet
from synthetic import fricative_like, speech_like


def test_speech_codec_round_trips_through_bytes():
    y = speech_like()
    data = sc.encode(y, 16000)
    assert data[:4] == sc.MAGIC
    y8 = sc.core_input(y, 16000)
    frames = np.concatenate([sc.log_mel(y8), sc.high_band_mel(y, len(y8) // sc.HOP)], axis=1)
    core, high = sc.decode_features(data)
    assert core.shape == (len(y8) // sc.HOP, sc.N_MELS) and high.shape == (len(core), sc.N_HIGH)
    assert np.array_equal(np.concatenate([core, high], axis=1), sc.dequantize(sc.quantize(frames)))
    assert np.abs(np.concatenate([core, high], axis=1) - frames).max() <= sc.STEP_DB / 2 + 1e-4
    assert compression.kbps(data, len(y8), sc.SAMPLE_RATE) == pytest.approx(len(data) * 8 / (len(y8) / 8000) / 1000)
    assert compression.kbps(data, len(y8), sc.SAMPLE_RATE) < 16
    wave = sc.decode(data, "griffin_lim")
    assert wave.shape == (len(core) * sc.HIGH_HOP,) and wave.dtype == np.float32 and np.isfinite(wave).all()
    with pytest.raises(ValueError, match="decoder"):
        sc.decode(data, "vocoder")


def band_energy_db(y, sample_rate, lo, hi, start, stop):
    """Mean power (dB) of y between lo and hi Hz, from start to stop seconds."""
    spectrum = np.abs(np.fft.rfft(y[int(start * sample_rate):int(stop * sample_rate)])) ** 2
    freqs = np.fft.rfftfreq(int(stop * sample_rate) - int(start * sample_rate), 1 / sample_rate)
    return 10 * np.log10(spectrum[(freqs >= lo) & (freqs < hi)].mean() + 1e-20)


def test_bandwidth_extension_restores_the_high_band_energy_where_it_was():
    y = fricative_like()
    data = sc.encode(y, 16000)
    core, high = sc.decode_features(data)
    core_wave = sc.griffin_lim_core(core)
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
    clean = sc.core_input(y, 16000)
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
    y8 = sc.core_input(fricative_like(), 16000)
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
    with pytest.raises(AudioError, match="sample_rate"):
        sc.encode(y, 0)
    data = sc.encode(y, 16000)
    with pytest.raises(StreamError, match="CRC"):
        sc.decode_features(data[:-1])
    with pytest.raises(StreamError, match="not a speech codec stream"):
        sc.decode_features(sc.mu_law_encode(y, 16000))


def test_mu_law_baseline_is_64_kbps_and_close():
    y = speech_like()
    data = sc.mu_law_encode(y, 16000)
    y8 = sc.core_input(y, 16000)
    assert len(data) == len(y8)  # 8 bits per sample at 8 kHz = 64 kbps
    assert compression.kbps(data, len(y8), sc.SAMPLE_RATE) == pytest.approx(64.0)
    out = sc.mu_law_decode(data)
    snr = 10 * np.log10(np.sum(y8 ** 2) / np.sum((out - y8) ** 2))
    assert snr > 30, f"8-bit μ-law should give about 38 dB SNR, got {snr:.1f} dB"
    assert np.array_equal(wavenet.mu_classes(wavenet.mu_values(np.arange(256))), np.arange(256))


def test_incremental_wavenet_matches_the_parallel_forward_pass():
    model = wavenet.build_wavenet(residual=8, skip=16, cond=8, dilations=(1, 2, 4, 8, 1, 2), n_mels=sc.N_MELS,
                                  hop=sc.HOP)
    rng = np.random.default_rng(0)
    n_frames, batch = 3, 2
    mel = rng.standard_normal((batch, n_frames, sc.N_MELS)).astype(np.float32)
    teacher = rng.integers(0, 256, (batch, n_frames * sc.HOP))
    previous = np.zeros((batch, n_frames * sc.HOP, 1), np.float32)
    previous[:, 1:, 0] = wavenet.mu_values(teacher[:, :-1])
    parallel = np.asarray(model([previous, mel]))
    _, incremental = wavenet.IncrementalWaveNet(model).generate(mel, teacher=teacher)
    assert np.abs(parallel - incremental).max() < 1e-4
    wave, logits = wavenet.IncrementalWaveNet(model).generate(mel[:, :1], seed=1)
    assert wave.shape == (batch, sc.HOP) and logits is None and np.abs(wave).max() <= 1


def test_wavenet_trains_a_few_steps():
    waves = [sc.core_input(speech_like(seed=s), 16000) for s in range(2)]
    frames = [sc.decode_features(sc.encode(w, 8000))[0] for w in waves]
    model = wavenet.build_wavenet(residual=8, skip=16, cond=8, dilations=(1, 2, 4), n_mels=sc.N_MELS, hop=sc.HOP)
    model, history = sc.train_wavenet(waves, frames, steps=2, batch_size=2, segment_frames=4, model=model)
    assert len(history["loss"]) == 2 and np.all(np.isfinite(history["loss"]))
    assert wavenet.receptive_field((1, 2, 4)) == 9


def test_shipped_wavenet_loads_and_decodes():
    data = sc.encode(speech_like(0.1), 16000)
    waves, rtf = sc.wavenet_decode([data], seed=0)
    assert waves[0].shape == (len(sc.decode_features(data)[0]) * sc.HOP,) and rtf > 0
    wide = sc.decode(data, "wavenet", seed=0)  # WaveNet → post-filter → high band
    assert wide.shape == (len(sc.decode_features(data)[0]) * sc.HIGH_HOP,) and np.isfinite(wide).all()


def test_wavenet_training_records_and_decays_like_the_hand_written_loop():
    waves = [sc.core_input(speech_like(seed=s), 16000) for s in range(2)]
    frames = [sc.decode_features(sc.encode(w, 8000))[0] for w in waves]
    model = wavenet.build_wavenet(residual=4, skip=8, cond=4, dilations=(1, 2), n_mels=sc.N_MELS, hop=sc.HOP)
    _, history = sc.train_wavenet(waves, frames, steps=10, batch_size=1, segment_frames=2, model=model)
    assert history["step"] == list(range(1, 11)) and history["decayed"] == 7  # int(0.7 · 10)


def test_train_shipped_is_the_shipped_recipe_and_budget(monkeypatch):
    y = speech_like(0.3, sample_rate=sc.SAMPLE_RATE)
    ids = [f"arctic_a{i:04d}" for i in range(12)]
    arctic = type("Arctic", (), {"ids": ids, "waveforms": {"slt": [y] * 12}, "sample_rate": sc.SAMPLE_RATE,
                                 "origin": "test"})()
    calls = {}

    def load_arctic(speakers, sample_rate):
        calls["data"] = (speakers, sample_rate)
        return arctic

    def train_wavenet(waves, frames, **kwargs):
        calls.update(n=len(waves), kwargs=kwargs)
        return "model", {}

    monkeypatch.setattr(sc.data, "load_arctic", load_arctic)
    monkeypatch.setattr(sc, "train_wavenet", train_wavenet)
    assert sc.train_shipped(scale=0.5) == "model"
    assert calls["data"] == (("slt",), sc.SAMPLE_RATE) and calls["n"] == 12 - sc.TEST_UTTERANCES
    assert calls["kwargs"] == {"steps": 10 ** 6, "seed": 0, "log_every": 25,
                               "max_seconds": compression.TRAINING_MINUTES["wavenet"] * 60 * 0.5}


def test_score_decoders_scores_every_version_against_the_same_references():
    originals = [speech_like(1.0, seed=s) for s in range(2)]
    mu = [sc.mu_law_decode(sc.mu_law_encode(y, 16000)) for y in originals]
    versions = {"original": (originals, 16000), "mu-law, two draws": (mu * 2, sc.SAMPLE_RATE)}
    scores = sc.score_decoders(versions, originals, ["one", "two"])
    assert list(scores) == list(versions)
    assert scores["original"]["stoi"] == pytest.approx(1.0, abs=1e-6)
    assert scores["original"]["lsd"] == pytest.approx(0.0, abs=1e-6)  # the 8 kHz reference is the original's
    assert 0.5 < scores["mu-law, two draws"]["stoi"] < 1.0 and scores["mu-law, two draws"]["lsd"] > 0
    for row in scores.values():
        assert set(row) == {"kbps", "cer", "hypothesis", "stoi", "lsd"} and row["cer"] >= 0
        assert isinstance(row["hypothesis"], str) and np.isnan(row["kbps"])  # given no bit rate, none is reported


def test_score_decoders_reports_the_bit_rate_each_coder_measured():
    originals = [speech_like(0.6, seed=s) for s in range(2)]
    mu_streams = [sc.mu_law_encode(y, 16000) for y in originals]
    rate = compression.kbps(b"".join(mu_streams), sum(len(sc.core_input(y, 16000)) for y in originals), 8000)
    versions = {"mu-law": ([sc.mu_law_decode(s) for s in mu_streams], sc.SAMPLE_RATE, rate)}
    assert sc.score_decoders(versions, originals, ["one", "two"])["mu-law"]["kbps"] == pytest.approx(64.0)
    with pytest.raises(ValueError, match="3 waveforms for 2 utterances"):
        sc.score_decoders({"bad": (originals + originals[:1], 16000)}, originals, ["one", "two"])
