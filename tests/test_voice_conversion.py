"""Notebook 03, part 1: voice conversion (course_utils.voice_conversion, course_utils.models.voice_conversion)."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import audio, exercises, metrics
from course_utils import voice_conversion as vc
from course_utils.data.fallback import espeak_say


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
    assert len(vc.check_speech(y, 8000)) == pytest.approx(16000, abs=600)  # 1 s at 8 kHz -> 16 kHz
    with pytest.raises(audio.AudioError, match="mono"):
        vc.check_speech(np.stack([y, y]), 8000)
    with pytest.raises(audio.AudioError, match="silent"):
        vc.check_speech(np.zeros(16000, np.float32), 16000)
    with pytest.raises(audio.AudioError, match="sample_rate 4000 Hz is outside"):
        vc.check_speech(y, 4000)
    with pytest.raises(audio.AudioError, match="too short"):
        vc.check_speech(y[:100], 16000)


def test_deltas_context_and_f0_conversion():
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    d = vc.with_deltas(x)
    assert d.shape == (20, 6) and np.allclose(d[5:15, 2:4], 2.0) and np.allclose(d[5:15, 4:], 0.0)
    c = vc.stack_context(x, 2)
    assert c.shape == (20, 10) and np.array_equal(c[5, 4:6], x[5]) and np.array_equal(c[0, :2], x[0])
    src, tgt = vc.LogF0Stats(np.log(100.0), 0.2), vc.LogF0Stats(np.log(200.0), 0.1)
    out = vc.convert_f0(np.array([0.0, 100.0, 100 * np.exp(0.2)]), src, tgt)
    assert out[0] == 0 and out[1] == pytest.approx(200.0) and out[2] == pytest.approx(200 * np.exp(0.1))
    with pytest.raises(ValueError, match="no voiced frame"):
        vc.LogF0Stats.of([np.zeros(10)])


def test_vc_dnn_layers_and_shapes():
    from course_utils.models.voice_conversion import build_vc_dnn

    model = build_vc_dnn(360, 72, units=16, layers=2)
    assert [w.path for w in model.weights][:2] == ["dense_0/kernel", "dense_0/bias"]  # the names weights depend on
    assert model(np.zeros((5, 360), np.float32)).shape == (5, 72)


def test_voice_converter_trains_and_converts(parallel):
    sources = [vc.analyse(y, 16000) for y in parallel["bdl"]]
    targets = [vc.analyse(y, 16000) for y in parallel["slt"]]
    x, y = vc.parallel_frames(sources, targets)
    assert x.shape[1] == (2 * vc.CONTEXT + 1) * 3 * vc.MCEP_ORDER and y.shape[1] == 3 * vc.MCEP_ORDER
    converter, history = vc.train_voice_converter(sources, targets, epochs=8)
    assert history.history["loss"][-1] < history.history["loss"][0]
    before = metrics.mcd_frames(targets[0].mcep, sources[0].mcep)
    after = metrics.mcd_frames(targets[0].mcep, converter.convert_features(sources[0]).mcep)
    assert after < before  # a training sentence: the mapping moved the spectrum towards the target
    wave, rate = vc.convert_voice(parallel["bdl"][0], 16000, converter)
    assert rate == 16000 and wave.dtype == np.float32 and np.abs(wave).max() > 0.01
    f0 = audio.world_features(wave, 16000).f0
    assert np.median(f0[f0 > 0]) > np.median(sources[0].f0[sources[0].f0 > 0])  # pitch moved up to the target
    with pytest.raises(audio.AudioError, match="mono"):
        vc.convert_voice(np.stack([wave, wave]), 16000, converter)
    scores = vc.conversion_scores(converter, sources[:1], targets[:1])
    assert scores["mcd_converted"][0] < scores["mcd_unconverted"][0]


def test_speaker_classifier_separates_voices(parallel):
    clf = vc.train_speaker_classifier(parallel["bdl"] + parallel["slt"], ["bdl"] * 3 + ["slt"] * 3, 16000)
    pred = clf.predict(np.stack([vc.speaker_features(y, 16000) for y in parallel["slt"]]))
    assert list(pred) == ["slt"] * 3


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
    out = vc.postfilter_mcep(mcep, beta=0.3)
    assert np.allclose(out[:, 2:], 1.3 * mcep[:, 2:]) and np.allclose(out[:, 1], mcep[:, 1])
    e_in = pysptk.mc2e(np.ascontiguousarray(mcep), alpha=0.42, irlen=512)
    e_out = pysptk.mc2e(np.ascontiguousarray(out), alpha=0.42, irlen=512)
    assert np.allclose(e_in, e_out, rtol=1e-2)  # impulse-response truncation (irlen) leaves ~0.5 %
    assert np.array_equal(vc.postfilter_mcep(mcep, beta=0.0), mcep)
