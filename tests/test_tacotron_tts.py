"""Notebook 05, part 2: Tacotron-style TTS (course_utils.models.tacotron, course_utils.tacotron_tts).

Tiny models and generated inputs keep them fast; the shipped weights are loaded once.
Training steps run eagerly (direct ``train_step`` calls), so no graph is traced.
"""
from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from course_utils import exercises, tacotron_tts  # noqa: E402
from course_utils.models import tacotron  # noqa: E402

TINY_TTS = dict(embed_dim=8, enc_filters=8, enc_units=4, prenet_units=8, att_rnn_units=8, dec_rnn_units=8,
                att_dim=8, loc_filters=2, loc_kernel=3, postnet_filters=8, reduction=2)


def test_text_normalisation_and_bad_text():
    assert tacotron_tts.normalize_text("  Héllo;  WORLD! \"Quoted\" ") == "hello, world! quoted"
    ids = tacotron_tts.text_to_ids("ab")
    assert ids.dtype == np.int32 and ids[-1] == tacotron_tts.SYMBOL_ID[tacotron_tts.EOS] and len(ids) == 3
    for bad, match in (("", "empty"), ("   ", "empty"), ("()", "empty"), ("call 911", "spell numbers"),
                       ("a@b", "no symbol")):
        with pytest.raises(tacotron_tts.TextError, match=match):
            tacotron_tts.text_to_ids(bad)
    with pytest.raises(tacotron_tts.TextError):
        tacotron_tts.normalize_text(None)


def test_long_text_is_split():
    long = "This is a fairly long sentence, with a comma in it. " * 12
    chunks = tacotron_tts.split_text(long, max_chars=60)
    assert len(chunks) >= 12 and all(0 < len(c) <= 60 for c in chunks)
    assert " ".join(chunks).replace("  ", " ") == tacotron_tts.normalize_text(long)
    words = tacotron_tts.split_text("x" * 150, max_chars=60)  # no space at all: hard cut
    assert [len(c) for c in words] == [60, 60, 30]


def test_mel_roundtrip_and_rate_check():
    sr = tacotron_tts.SAMPLE_RATE
    t = np.arange(sr // 2) / sr
    y = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    mel = tacotron_tts.mel_spectrogram(y)
    assert mel.shape == (len(y) // 200 + 1, 80) and mel.min() >= 0 and mel.max() <= 1
    z = tacotron_tts.mel_to_waveform(mel, n_iter=4)
    assert z.dtype == np.float32 and abs(len(z) - len(y)) <= 200
    np.testing.assert_array_equal(z, tacotron_tts.mel_to_waveform(mel, n_iter=4))  # seeded phase: scores repeat
    assert not np.array_equal(z, tacotron_tts.mel_to_waveform(mel, n_iter=4, seed=1))
    with pytest.raises(ValueError, match="16000"):
        tacotron_tts.mel_spectrogram(y, 8000)


def test_guided_attention_weights():
    w = np.asarray(tacotron.guided_attention_weights(np.array([4, 2]), np.array([5, 3]), 4, 5))
    assert w.shape == (2, 5, 4)
    assert w[0, 0, 0] == 0 and w[0, 4, 0] > 0.9  # diagonal free, far corner penalised
    assert np.all(w[1, 3:] == 0) and np.all(w[1, :, 2:] == 0)  # padding not penalised


def test_tts_shapes_and_train_step():
    model = tacotron_tts.build_tts(**TINY_TTS)
    rng = np.random.default_rng(0)
    sr = tacotron_tts.SAMPLE_RATE
    waves = [rng.normal(0, 0.1, int(sr * s)).astype(np.float32) for s in (0.3, 0.5)]
    text, dec_in, mels, mel_len = tacotron_tts.make_batch_arrays(["hello", "a test"], waves, sr, model.r)
    assert text.shape == (2, 7) and mels.shape[1] % model.r == 0 and dec_in.shape == (2, mels.shape[1] // 2, 80)
    mel, mel_post, stop, align = model((text, dec_in))
    assert mel.shape == mels.shape and mel_post.shape == mels.shape
    assert stop.shape == (2, dec_in.shape[1]) and align.shape == (2, dec_in.shape[1], 7)
    np.testing.assert_allclose(np.asarray(align).sum(-1), 1.0, atol=1e-5)
    assert np.asarray(align)[0, :, 6:].max() < 1e-6  # "hello~" has 6 symbols: no attention on padding
    model.compile(optimizer=keras.optimizers.Adam(1e-2))  # 1e-3 moved the loss less than prenet dropout's noise
    first = float(model.train_step(((text, dec_in), (mels, mel_len)))["loss"])
    for _ in range(3):
        last = float(model.train_step(((text, dec_in), (mels, mel_len)))["loss"])
    assert np.isfinite(first) and last < first


def test_train_stages_continue_one_model_and_checkpoint_each_epoch(tmp_path):
    sr = tacotron_tts.SAMPLE_RATE
    rng = np.random.default_rng(1)
    waves = [rng.normal(0, 0.1, int(sr * s)).astype(np.float32) for s in (0.3, 0.4)]
    seen = []

    def checkpoint(model, stages_done):
        seen.append([s["epochs"] for s in stages_done])
        tacotron_tts.save_tts(model, {"stages": stages_done}, tmp_path)

    stages = [dict(epochs=2, batch_size=2, learning_rate=1e-3), dict(epochs=1, decay_epochs=4, batch_size=1,
                                                                     learning_rate=5e-4)]
    model, history, seconds = tacotron_tts.train_stages(["ab", "a b"], waves, stages, checkpoint=checkpoint, verbose=0,
                                               model=tacotron_tts.build_tts(**TINY_TTS))
    assert seen == [[1], [2], [2, 1]] and len(history["loss"]) == 3 and seconds > 0
    loaded, info = tacotron_tts.load_tts(folder=tmp_path)
    assert info["stages"][1] == dict(stages[1], epochs=1) and loaded.hp["reduction"] == TINY_TTS["reduction"]
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)  # float16 on disk
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tts_slt.json", "tts_slt.npz"]  # nothing half-written


def test_teacher_forced_l1_against_the_mean_frame():
    model = tacotron_tts.build_tts(**TINY_TTS)
    sr = tacotron_tts.SAMPLE_RATE
    rng = np.random.default_rng(2)
    waves = [rng.normal(0, 0.1, int(sr * s)).astype(np.float32) for s in (0.3, 0.5)]
    _, _, mels, mel_len = tacotron_tts.make_batch_arrays(["ab", "abc"], waves, sr, model.r)
    frames = np.concatenate([m[:n] for m, n in zip(mels, mel_len)])  # padding excluded
    l1 = tacotron_tts.teacher_forced_l1(model, ["ab", "abc"], waves, sr, frames.mean(axis=0))
    assert l1["mean_frame"] == pytest.approx(np.abs(frames - frames.mean(axis=0)).mean(), rel=1e-5)
    assert np.isfinite(l1["model"]) and l1["model"] > 0


def test_shipped_tts_weights_synthesize():
    model, info = tacotron_tts.load_tts()
    assert info["hparams"]["n_mels"] == 80
    assert info["stages"] == [dict(s) for s in tacotron_tts.TRAINING_STAGES]  # what train_synthesis.py tts replays
    mel, align = tacotron_tts.synthesize_mel(model, "Hi.", max_steps=12)
    assert mel.shape[1] == 80 and mel.shape[0] % model.r == 0 and align.shape[1] == 4
    y, sr = tacotron_tts.synthesize("Hi.", model=model, n_iter=2)
    assert sr == 16000 and y.dtype == np.float32 and y.ndim == 1 and len(y) > 0
    with pytest.raises(tacotron_tts.TextError, match="at most"):
        tacotron_tts.synthesize_mel(model, "a" * (tacotron_tts.MAX_CHARS + 1))
    with pytest.raises(tacotron_tts.TextError):
        tacotron_tts.synthesize("", model=model)


def test_holdout_split():
    ids = [f"arctic_a{i:04d}" for i in range(20, 0, -1)]
    train, test = tacotron_tts.holdout_split(ids, n_test=3)
    assert test == ["arctic_a0018", "arctic_a0019", "arctic_a0020"] and len(train) == 17
    with pytest.raises(ValueError):
        tacotron_tts.holdout_split(ids[:3], n_test=3)


def test_guided_attention_exercise():
    def solution(n_text, n_steps, g=0.2):
        n = np.arange(n_text)[None, :] / n_text
        k = np.arange(n_steps)[:, None] / n_steps
        return 1 - np.exp(-(n - k) ** 2 / (2 * g * g))

    assert exercises.check("05_guided_attention", solution)
    assert not exercises.check("05_guided_attention", lambda n_text, n_steps, g=0.2: np.zeros((n_text, n_steps)))
    assert not exercises.check("05_guided_attention", None)


def test_decoder_state_is_named_and_one_step_keeps_its_shapes():
    model = tacotron_tts.build_tts(**TINY_TTS)
    memory, mask = model.encode(tacotron_tts.text_to_ids("abc")[None])
    state = model.initial_state(memory)
    assert isinstance(state, tacotron.DecoderState) and state._fields == (
        "att_h", "att_c", "dec_h", "dec_c", "context", "align", "cum_align", "frames", "stop")
    new, out = model.decoder_step(state, np.zeros((1, 80), np.float32), memory, model.memory_proj(memory), mask)
    assert new is out and all(a.shape == b.shape for a, b in zip(new, state))
    np.testing.assert_allclose(np.asarray(new.align).sum(), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.asarray(new.cum_align), np.asarray(state.cum_align + new.align), atol=1e-6)
