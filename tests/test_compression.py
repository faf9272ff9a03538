"""Notebook 02's shared pieces: the classical codecs (JPEG, WebP, AVIF; Opus, Codec 2), rates from bytes, the latent's
empirical entropy, one training recipe and budget."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from course_utils import audio, compression, metrics
from course_utils.audio import AudioError
from course_utils.bitstream import StreamError
from course_utils.images import ImageError
from synthetic import smooth_image

ROOT = Path(__file__).resolve().parents[1]


def test_jpeg_webp_and_avif_share_one_code_path_and_bpp_grows_with_quality():
    img = smooth_image(176, 176)
    for codec, qualities in (("jpeg", (10, 50, 90)), ("webp", (5, 50, 95)), ("avif", (5, 50, 95))):
        curve = compression.classical_curve([img], codec, qualities=qualities)
        assert curve["quality"] == list(qualities)
        assert np.all(np.diff(curve["bpp"]) > 0) and np.all(np.diff(curve["psnr"]) > 0), (codec, curve)
        data = compression.pillow_bytes(img, codec, qualities[1])
        assert compression.bpp(data, img.shape) == pytest.approx(curve["bpp"][1]) == len(data) * 8 / (176 * 176)
        decoded = compression.pillow_decode(data)
        assert decoded.shape == img.shape and decoded.dtype == np.uint8
        assert metrics.psnr(img, decoded) == pytest.approx(curve["psnr"][1])
    assert compression.pillow_bytes(img, "avif", 30) == compression.pillow_bytes(img, "avif", 30)  # one thread
    assert metrics.ms_ssim(img, img) == pytest.approx(1.0, abs=1e-5)
    assert metrics.interpolate_at_rate([0.1, 0.4], [20.0, 30.0], 0.2) == pytest.approx(25.0)
    assert np.isnan(metrics.interpolate_at_rate([0.1, 0.4], [20.0, 30.0], 0.5))
    assert metrics.common_range([24.0, 27.0], [26.0, 31.0]) == (26.0, 27.0)


def test_classical_at_bpp_finds_the_closest_quality_setting():
    img = smooth_image(64, 96)
    for codec in ("jpeg", "webp"):
        target = compression.bpp(compression.pillow_bytes(img, codec, 40), img.shape) * 1.03
        data, quality = compression.classical_at_bpp(img, codec, target)
        assert data == compression.pillow_bytes(img, codec, quality)
        gaps = {q: abs(compression.bpp(compression.pillow_bytes(img, codec, q), img.shape) - target)
                for q in compression.IMAGE_CODECS[codec].qualities}
        assert gaps[quality] == min(gaps.values()), (codec, quality, min(gaps, key=gaps.get))


def test_classical_comparison_of_a_codec_with_itself_is_a_zero_bd_rate():
    img = smooth_image(176, 176)
    qualities = {"jpeg": (10, 20, 40, 70), "webp": (10, 20, 40, 70)}
    jpeg = compression.classical_curve([img], "jpeg", qualities["jpeg"])
    found = compression.classical_comparison(jpeg, [img], codecs=("jpeg", "webp"), qualities=qualities,
                                             rates=(jpeg["bpp"][1], 100.0), name="mine")
    assert set(found["curves"]) == {"jpeg", "webp"} and found["curves"]["jpeg"] == jpeg
    m = found["metrics"]
    assert m["mine.bd_rate_vs_jpeg"] == pytest.approx(0.0, abs=1e-6)
    assert found["psnr_range_db"]["jpeg"] == (min(jpeg["psnr"]), max(jpeg["psnr"]))
    tag = f"{jpeg['bpp'][1]:g}".replace(".", "_")
    assert m[f"mine.psnr_at_{tag}_bpp"] == pytest.approx(jpeg["psnr"][1]) == pytest.approx(m[f"jpeg.psnr_at_{tag}_bpp"])
    assert np.isnan(m["webp.ms_ssim_at_100_bpp"])  # outside the measured rates: no value, no extrapolation
    assert set(m) == {f"{s}.{k}_at_{r}_bpp" for s in ("mine", "jpeg", "webp") for k in ("psnr", "ms_ssim")
                      for r in (tag, "100")} | {"mine.bd_rate_vs_jpeg", "mine.bd_rate_vs_webp"}
    table = compression.comparison_table(found, label="ours").splitlines()
    assert len(table) == 2 + 3 and table[2].startswith("| ours | — | ") and table[3].startswith("| JPEG (libjpeg")
    assert "+0.0 % (" in table[3] or "-0.0 % (" in table[3]
    assert table[4].endswith("| — / — |")  # WebP has no value at 100 bpp
    far = {"bpp": [0.1, 0.2, 0.3, 0.4], "psnr": [90.0, 91.0, 92.0, 93.0], "ms_ssim": [1.0] * 4}
    apart = compression.classical_comparison(far, [img], codecs=("jpeg",), qualities=qualities)
    assert np.isnan(apart["metrics"]["image_codec.bd_rate_vs_jpeg"])  # no common PSNR range
    assert "no common PSNR range" in compression.comparison_table(apart)


def test_image_codecs_reject_bad_input():
    img = smooth_image(32, 32)
    with pytest.raises(ImageError, match="uint8"):
        compression.pillow_bytes(img.astype(np.float32), "webp", 50)
    with pytest.raises(ImageError, match="(H, W, 3)"):
        compression.pillow_bytes(img[..., 0], "avif", 50)
    with pytest.raises(ValueError, match="unknown image codec 'jpeg2000'"):
        compression.pillow_bytes(img, "jpeg2000", 50)
    with pytest.raises(ValueError, match="quality for jpeg must be an integer in 1–95"):
        compression.pillow_bytes(img, "jpeg", 100)
    with pytest.raises(ValueError, match="quality"):
        compression.pillow_bytes(img, "webp", 50.5)
    with pytest.raises(ImageError, match="cannot decode"):
        compression.pillow_decode(b"RIFF not really a webp")


# ----------------------------------------------------------------------------- speech: Opus and Codec 2


@pytest.fixture(scope="module")
def spoken():
    """eSpeak NG reading a Harvard sentence (22.05 kHz): speech-like enough for codecs made for speech."""
    from course_utils.data.fallback import espeak_say

    return espeak_say("the birch canoe slid on the smooth planks", "en-us", rate_wpm=140)


def envelope_lag(reference, test, hop=80, max_lag=4) -> int:
    """Lag (in hops of 10 ms at 8 kHz) at which the log-energy envelopes of two 8 kHz waveforms agree best."""
    env = []
    for y in (reference, test):
        frames = np.asarray(y[: len(y) // hop * hop], float).reshape(-1, hop)
        env.append(np.log10((frames ** 2).sum(axis=1) + 1e-8))
    n = min(map(len, env)) - 2 * max_lag
    corr = {lag: np.corrcoef(env[0][max_lag:max_lag + n], env[1][max_lag + lag:max_lag + lag + n])[0, 1]
            for lag in range(-max_lag, max_lag + 1)}
    return max(corr, key=corr.get)


def test_opus_round_trip_keeps_length_rate_and_quality(spoken):
    y, rate = spoken
    y16 = audio.check_waveform(y, rate, target_rate=16000)
    seconds = len(y) / rate
    for bit_rate in (6000, 12000):
        decoded, out_rate, data = compression.speech_round_trip(y, rate, "opus", bit_rate)
        assert out_rate == compression.OPUS_RATE == 16000 and decoded.dtype == np.float32
        assert len(decoded) == round(len(y) * 16000 / rate)
        assert data[:4] == b"OggS" and data == compression.opus_encode(y, rate, bit_rate)  # bit-exact, repeatable
        measured = compression.kbps(data, len(y), rate)
        summary = compression.ogg_opus_summary(data)
        assert summary["packet_bytes"] + summary["container_bytes"] == len(data) and summary["container_bytes"] > 50
        packets_kbps = summary["packet_bytes"] * 8 / seconds / 1000
        assert 0.6 * bit_rate / 1000 < packets_kbps < 1.15 * bit_rate / 1000, packets_kbps  # VBR around the target
        assert measured > packets_kbps  # the .ogg file's rate counts the container too
        if bit_rate == 12000:
            assert set(summary["modes"]) == {"SILK WB"}
            assert metrics.stoi(y16, decoded, 16000) > 0.8  # measured 0.98 on ARCTIC speech


def test_codec2_round_trip_keeps_length_rate_and_time_alignment(spoken):
    y, rate = spoken
    y8 = audio.check_waveform(y, rate, target_rate=8000)
    for mode in (1200, 3200):
        decoded, out_rate, data = compression.speech_round_trip(y, rate, "codec2", mode)
        assert out_rate == compression.CODEC2_RATE == 8000 and decoded.dtype == np.float32
        assert len(decoded) == round(len(y) * 8000 / rate)
        frame = 160 if mode == 3200 else 320
        frames = -(-(len(y8) + compression.CODEC2_DELAY) // frame)
        assert len(data) == frames * mode * frame // 8000 // 8  # raw frames only: 8 bytes / 20 ms, 6 bytes / 40 ms
        assert mode / 1000 <= compression.kbps(data, len(y), rate) < 1.06 * mode / 1000
        assert envelope_lag(y8, decoded) == 0  # the decoder's 20 ms delay is taken out
        assert metrics.stoi(y8, decoded, 8000) > (0.7 if mode == 3200 else 0.6)
    assert len(compression.codec2_decode(data, 3200)) == len(data) // 8 * 160 - compression.CODEC2_DELAY


def test_speech_baselines_code_every_utterance_and_count_every_byte(spoken):
    y, rate = spoken
    clips = [y[: rate], y[rate // 2: 2 * rate]]
    out, data = compression.speech_baselines(clips, rate, keys=("opus_8kbps", "codec2_2400"))
    assert list(out) == list(data) == ["Opus 8 kbps", "Codec 2 2.4 kbps (8 kHz)"]
    waves, out_rate, kbps = out["Codec 2 2.4 kbps (8 kHz)"]
    assert out_rate == 8000 and [len(w) for w in waves] == [round(len(c) * 8000 / rate) for c in clips]
    assert data["Codec 2 2.4 kbps (8 kHz)"] == [compression.codec2_encode(c, rate, 2400) for c in clips]
    total = sum(map(len, clips))
    assert kbps == pytest.approx(compression.kbps(b"".join(data["Codec 2 2.4 kbps (8 kHz)"]), total, rate))
    assert out["Opus 8 kbps"][1] == 16000 and 7 < out["Opus 8 kbps"][2] < 12
    summary = compression.ogg_opus_summary(data["Opus 8 kbps"][0])  # the bytes that were decoded, not a re-encoding
    assert summary["file_bytes"] == len(data["Opus 8 kbps"][0]) and summary["packet_bytes"] > 0


def test_speech_codecs_refuse_audio_they_would_clip(spoken):
    y, rate = spoken
    y = y / np.abs(y).max()
    for encode in (compression.opus_encode, compression.codec2_encode):
        with pytest.raises(AudioError, match="peaks at 2"):
            encode(2 * y, rate)
        assert encode(1.01 * y, rate)  # a resampler's overshoot of full-scale audio is clipped, not refused


def test_speech_codecs_reject_bad_input(spoken):
    y, rate = spoken
    with pytest.raises(ValueError, match="bit_rate must be a whole number of bit/s in 6000–510000"):
        compression.opus_encode(y, rate, 5000)
    with pytest.raises(AudioError, match="NaN"):
        compression.opus_encode(np.r_[y, np.nan].astype(np.float32), rate)
    with pytest.raises(AudioError, match="sample_rate"):
        compression.codec2_encode(y, 0)
    with pytest.raises(ValueError, match="mode must be a Codec 2 bit rate"):
        compression.codec2_encode(y, rate, 700)
    with pytest.raises(StreamError, match="not an Ogg Opus file"):
        compression.opus_decode(b"garbage" * 10)
    with pytest.raises(StreamError, match="not an Ogg Opus file"):
        compression.ogg_opus_summary(compression.codec2_encode(y, rate))
    with pytest.raises(StreamError, match="not whole Codec 2 3200 frames"):
        compression.codec2_decode(b"\x00" * 7, 3200)
    with pytest.raises(ValueError, match="unknown speech codec 'mp3'"):
        compression.speech_round_trip(y, rate, "mp3", 8000)


def test_empirical_bpp_counts_each_channel_under_its_own_histogram():
    symbols = np.zeros((4, 4, 2), np.int32)
    symbols[:2, :, 0] = 1                      # channel 0: half 0, half 1 → 1 bit each; channel 1: constant → 0
    assert compression.empirical_bpp(symbols, pixels=32) == pytest.approx(16 / 32)


def test_retrain_cells_and_the_training_script_run_the_same_recipes():
    """One function per part, one budget table: the notebook's RETRAIN path and the script cannot drift apart."""
    cells = json.loads((ROOT / "notebooks" / "02_compression.ipynb").read_text())["cells"]
    retrain = ["".join(c["source"]) for c in cells if c["cell_type"] == "code" and "if RETRAIN" in "".join(c["source"])]
    script = (ROOT / "scripts" / "train_compression.py").read_text()
    for call in ("ic.train_shipped(", "vae.train_shipped(", "sc.train_shipped("):
        assert call in script and sum(call in cell for cell in retrain) == 1, call
    for text in retrain + [script]:
        assert "TRAINING_MINUTES[" not in text and "max_seconds" not in text, "budgets are read in the library only"
    assert 'ic.train_shipped(family="hyperprior")' in "".join(retrain) and '"hyperprior": train_hyperprior' in script
    assert set(compression.TRAINING_MINUTES) == {"image_base", "image_finetune", "hyperprior_base", "hyperprior_finetune",
                                                 "hyperprior_polish", "vae", "wavenet"}
    assert '"hyperprior_polish": polish_hyperprior' in script and "ic.polish_shipped(" in script
