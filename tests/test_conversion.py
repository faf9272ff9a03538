"""Notebook 03's code: voice conversion stages, face swap model, bad input."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import conversion as cv
from course_utils import exercises, speech_eval as se
from course_utils.fallback import espeak_say


@pytest.fixture(scope="module")
def parallel():
    """Two eSpeak NG voices reading the same three sentences (generated; not ARCTIC)."""
    import librosa

    texts = ["the birch canoe slid on the smooth planks", "glue the sheet to the dark blue background",
             "rice is often served in round bowls"]
    out = {}
    for name, voice, pitch in (("bdl", "en-us", 40), ("slt", "en-us+f3", 70)):
        out[name] = []
        for t in texts:
            y, rate = espeak_say(t, voice, rate_wpm=150, pitch=pitch)
            out[name].append(librosa.resample(y, orig_sr=rate, target_sr=16000).astype(np.float32))
    return out


def test_check_speech_rejects_bad_input_and_resamples():
    y = 0.3 * np.sin(2 * np.pi * 200 * np.arange(8000) / 8000).astype(np.float32)
    assert len(cv.check_speech(y, 8000)) == pytest.approx(16000, abs=600)  # 1 s at 8 kHz -> 16 kHz
    with pytest.raises(cv.ConversionError, match="mono"):
        cv.check_speech(np.stack([y, y]), 8000)
    with pytest.raises(cv.ConversionError, match="silent"):
        cv.check_speech(np.zeros(16000, np.float32), 16000)
    with pytest.raises(cv.ConversionError, match="sample rate"):
        cv.check_speech(y, 4000)
    with pytest.raises(cv.ConversionError, match="too short"):
        cv.check_speech(y[:100], 16000)


def test_deltas_context_and_f0_conversion():
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    d = cv.with_deltas(x)
    assert d.shape == (20, 6) and np.allclose(d[5:15, 2:4], 2.0) and np.allclose(d[5:15, 4:], 0.0)
    c = cv.stack_context(x, 2)
    assert c.shape == (20, 10) and np.array_equal(c[5, 4:6], x[5]) and np.array_equal(c[0, :2], x[0])
    src, tgt = cv.LogF0Stats(np.log(100.0), 0.2), cv.LogF0Stats(np.log(200.0), 0.1)
    out = cv.convert_f0(np.array([0.0, 100.0, 100 * np.exp(0.2)]), src, tgt)
    assert out[0] == 0 and out[1] == pytest.approx(200.0) and out[2] == pytest.approx(200 * np.exp(0.1))
    with pytest.raises(cv.ConversionError):
        cv.LogF0Stats.of([np.zeros(10)])


def test_voice_converter_trains_and_converts(parallel):
    sources = [cv.analyse(y, 16000) for y in parallel["bdl"]]
    targets = [cv.analyse(y, 16000) for y in parallel["slt"]]
    x, y = cv.parallel_frames(sources, targets)
    assert x.shape[1] == (2 * cv.CONTEXT + 1) * 3 * cv.MCEP_ORDER and y.shape[1] == 3 * cv.MCEP_ORDER
    converter, history = cv.train_voice_converter(sources, targets, epochs=8)
    assert history.history["loss"][-1] < history.history["loss"][0]
    before = se.mcd_frames(targets[0].mcep, sources[0].mcep)
    after = se.mcd_frames(targets[0].mcep, converter.convert_features(sources[0]).mcep)
    assert after < before  # a training sentence: the mapping moved the spectrum towards the target
    wave, rate = cv.convert_voice(parallel["bdl"][0], 16000, converter)
    assert rate == 16000 and wave.dtype == np.float32 and np.abs(wave).max() > 0.01
    f0 = se.world_features(wave, 16000).f0
    assert np.median(f0[f0 > 0]) > np.median(sources[0].f0[sources[0].f0 > 0])  # pitch moved up to the target
    with pytest.raises(cv.ConversionError, match="mono"):
        cv.convert_voice(np.stack([wave, wave]), 16000, converter)


def test_speaker_classifier_separates_voices(parallel):
    clf = cv.train_speaker_classifier(parallel["bdl"] + parallel["slt"], ["bdl"] * 3 + ["slt"] * 3, 16000)
    pred = clf.predict(np.stack([cv.speaker_features(y, 16000) for y in parallel["slt"]]))
    assert list(pred) == ["slt"] * 3


def test_swap_autoencoder_shapes_training_and_swap():
    rng = np.random.default_rng(0)
    faces_a = rng.integers(0, 255, (6, 32, 32, 3), dtype=np.uint8)
    faces_b = rng.integers(0, 255, (5, 32, 32, 3), dtype=np.uint8)
    model, history = cv.train_swap_autoencoder(faces_a, faces_b, steps=4, batch_size=2, latent=16, width=8)
    assert len(history.history["loss"]) >= 1 and np.isfinite(history.history["loss"][-1])
    rec = cv.face_batches(model, faces_a, "a")
    assert rec.shape == faces_a.shape and rec.dtype == np.uint8
    swapped = cv.swap_face(np.zeros((250, 250, 3), np.uint8), model, to="b")  # an LFW-sized frame
    assert swapped.size == (32, 32) and swapped.mode == "RGB"
    with pytest.raises(cv.ConversionError, match="square"):
        cv.swap_face(np.zeros((100, 60, 3), np.uint8), model)
    with pytest.raises(cv.ConversionError, match="at least"):
        cv.swap_face(np.zeros((16, 16, 3), np.uint8), model)
    with pytest.raises(ValueError, match="identity"):
        cv.face_batches(model, faces_a, "c")
    assert cv.psnr(faces_a, faces_a.copy()) == np.inf or cv.psnr(faces_a, faces_a.copy()) > 99


def test_f0_exercise_checker():
    def solution(f0, source, target):
        out = np.zeros_like(f0)
        v = f0 > 0
        out[v] = np.exp((np.log(f0[v]) - source[0]) * target[1] / source[1] + target[0])
        return out

    assert exercises.check("03_f0_conversion", solution)
    assert not exercises.check("03_f0_conversion", lambda f0, s, t: f0)


def test_postfilter_sharpens_and_keeps_energy():
    import pysptk

    rng = np.random.default_rng(0)
    mcep = np.concatenate([rng.normal(-3, 0.5, (10, 1)), rng.normal(0, 0.3, (10, 24))], axis=1)
    out = cv.postfilter_mcep(mcep, beta=0.3)
    assert np.allclose(out[:, 2:], 1.3 * mcep[:, 2:]) and np.allclose(out[:, 1], mcep[:, 1])
    e_in = pysptk.mc2e(np.ascontiguousarray(mcep), alpha=0.42, irlen=512)
    e_out = pysptk.mc2e(np.ascontiguousarray(out), alpha=0.42, irlen=512)
    assert np.allclose(e_in, e_out, rtol=1e-2)  # impulse-response truncation (irlen) leaves ~0.5 %
    assert np.array_equal(cv.postfilter_mcep(mcep, beta=0.0), mcep)
