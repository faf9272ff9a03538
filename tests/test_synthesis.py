"""Tests of notebook 05's models: CycleGAN (course_utils.cyclegan) and Tacotron-style TTS (course_utils.tts).

Tiny models and generated inputs keep them fast; the shipped weights are loaded once each.
Training steps run eagerly (``run_eagerly``-style direct ``train_step`` calls), so no graph is traced.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

keras = pytest.importorskip("keras")

from course_utils import cyclegan, exercises, tts  # noqa: E402

TINY_GAN = dict(image_size=16, gen_filters=4, res_blocks=1, disc_filters=4)
TINY_TTS = dict(embed_dim=8, enc_filters=8, enc_units=4, prenet_units=8, att_rnn_units=8, dec_rnn_units=8,
                att_dim=8, loc_filters=2, loc_kernel=3, postnet_filters=8, reduction=2)


# ----------------------------------------------------------------------------- CycleGAN


def test_generator_and_patchgan_shapes():
    gen = cyclegan.build_generator(32, filters=4, res_blocks=2)
    disc = cyclegan.build_discriminator(32, filters=4)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    y = np.asarray(gen(x))
    assert y.shape == (2, 32, 32, 3) and np.all(np.abs(y) <= 1)
    assert disc(x).shape == (2, 4, 4, 1)  # one score per patch
    with pytest.raises(ValueError, match="multiple of 4"):
        cyclegan.build_generator(30)


def test_cyclegan_train_step_updates_and_fills_history_buffer():
    model = cyclegan.build_cyclegan(pool_size=3, **TINY_GAN)
    model.compile(*[keras.optimizers.Adam(2e-4, beta_1=0.5) for _ in range(4)])
    rng = np.random.default_rng(0)
    a, b = (rng.uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32) for _ in range(2))
    before = [w.copy() for w in model.gen_a2b.get_weights()]
    for _ in range(2):
        logs = model.train_step((a, b))
    assert all(np.isfinite(float(v)) for v in logs.values())
    assert set(logs) == {"g_a2b", "g_b2a", "d_a", "d_b", "cycle_l1"}
    assert any(not np.allclose(x, y) for x, y in zip(before, model.gen_a2b.get_weights()))
    assert int(model.pool_count.numpy()) == 3  # capped at the pool size
    assert np.abs(model.pool_a.numpy()).sum() > 0


def test_linear_decay_schedule():
    sched = cyclegan.LinearDecay(1.0, total_steps=10, decay_start=5)
    assert [round(float(sched(s)), 3) for s in (0, 5, 7, 10, 12)] == [1.0, 1.0, 0.6, 0.0, 0.0]


def test_train_cyclegan_rejects_bad_images():
    good = np.zeros((2, 16, 16, 3), np.uint8)
    with pytest.raises(ValueError, match="uint8"):
        cyclegan.train_cyclegan(good.astype(np.float32), good)
    with pytest.raises(ValueError, match="sizes differ"):
        cyclegan.train_cyclegan(good, np.zeros((2, 20, 20, 3), np.uint8))


def test_shipped_cyclegan_weights_translate_any_image():
    gens = cyclegan.load_generators(("horse", "zebra"))
    size = gens["config"]["image_size"]
    rng = np.random.default_rng(1)
    grey = Image.fromarray(rng.integers(0, 256, (50, 90), dtype=np.uint8), mode="L")  # odd size, greyscale
    for image, direction in ((grey, "horse2zebra"), (grey.convert("RGBA"), "b2a"),
                             (rng.uniform(0, 1, (70, 40, 3)), "a2b")):
        out = cyclegan.translate(image, direction, generators=gens)
        assert out.shape == (size, size, 3) and out.dtype == np.uint8
    with pytest.raises(ValueError, match="unknown direction"):
        cyclegan.translate(grey, "cat2dog", generators=gens)
    with pytest.raises(ValueError, match="image array"):
        cyclegan.translate(np.zeros((4, 4, 7), np.uint8), "a2b", generators=gens)
    with pytest.raises(ValueError, match="uint8 0–255"):
        cyclegan.translate(np.full((8, 8, 3), 300.0), "a2b", generators=gens)


def test_shipped_summer_winter_generators_load_and_translate():
    gens = cyclegan.load_generators(("summer", "winter"))
    assert tuple(gens["config"]["pair"]) == ("summer", "winter")
    photo = np.random.default_rng(2).integers(0, 256, (100, 80, 3), dtype=np.uint8)
    size = gens["config"]["image_size"]
    for direction in ("summer2winter", "winter2summer"):
        out = cyclegan.translate(photo, direction, pair=("summer", "winter"), generators=gens)
        assert out.shape == (size, size, 3) and out.dtype == np.uint8


def test_metrics():
    x = np.full((2, 8, 8, 3), 100, np.uint8)
    assert abs(cyclegan.psnr(x, x + 10) - 20 * np.log10(255 / 10)) < 1e-6

    class Fixed:  # a stand-in classifier: always "class 2", then "class 1"
        input_shape = (None, 8, 8, 3)

        def predict(self, x, verbose=0):
            return np.tile([0.1, 0.3, 0.6], (len(x), 1))

    assert cyclegan.target_domain_rate(Fixed(), x, target=2) == 1.0
    assert cyclegan.target_domain_rate(Fixed(), x, target=1, among=[0, 1]) == 1.0


def test_evaluate_pair_scores_translations_round_trips_and_real_photos():
    class Brightness:  # a stand-in judge over 3 classes: dark photos are class 0, bright ones class 2
        input_shape = (None, 8, 8, 3)

        def predict(self, x, verbose=0):
            bright = (x.mean(axis=(1, 2, 3)) > 127.5).astype(np.float32)
            return np.stack([1 - bright, np.full_like(bright, 0.5), bright], axis=1)

    dark, bright = np.full((3, 8, 8, 3), 20, np.uint8), np.full((2, 8, 8, 3), 230, np.uint8)
    generators = {"a2b": lambda x, training=False: -x,  # inverts the photo: dark becomes bright
                  "b2a": lambda x, training=False: x}  # leaves it as it is
    out = cyclegan.evaluate_pair(generators, dark, bright, Brightness(), classes=(0, 2))
    assert out["rate"] == {"a2b": 1.0, "b2a": 0.0}
    assert out["real_rate"] == {"a": 1.0, "b": 1.0}
    assert np.all(out["translated"]["a2b"] == 235) and np.all(out["reconstructed"]["a2b"] == 235)
    assert np.all(out["translated"]["b2a"] == 230) and np.all(out["reconstructed"]["b2a"] == 25)
    expected = np.mean([20 * np.log10(255 / 215), 20 * np.log10(255 / 205)])
    assert abs(out["cycle_psnr_db"] - expected) < 1e-6


# ----------------------------------------------------------------------------- TTS


def test_text_normalisation_and_bad_text():
    assert tts.normalize_text("  Héllo;  WORLD! \"Quoted\" ") == "hello, world! quoted"
    ids = tts.text_to_ids("ab")
    assert ids.dtype == np.int32 and ids[-1] == tts.SYMBOL_ID[tts.EOS] and len(ids) == 3
    for bad, match in (("", "empty"), ("   ", "empty"), ("()", "empty"), ("call 911", "spell numbers"),
                       ("a@b", "no symbol")):
        with pytest.raises(tts.TextError, match=match):
            tts.text_to_ids(bad)
    with pytest.raises(tts.TextError):
        tts.normalize_text(None)


def test_long_text_is_split():
    long = "This is a fairly long sentence, with a comma in it. " * 12
    chunks = tts.split_text(long, max_chars=60)
    assert len(chunks) >= 12 and all(0 < len(c) <= 60 for c in chunks)
    assert " ".join(chunks).replace("  ", " ") == tts.normalize_text(long)
    words = tts.split_text("x" * 150, max_chars=60)  # no space at all: hard cut
    assert [len(c) for c in words] == [60, 60, 30]


def test_mel_roundtrip_and_rate_check():
    sr = tts.SAMPLE_RATE
    t = np.arange(sr // 2) / sr
    y = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    mel = tts.mel_spectrogram(y)
    assert mel.shape == (len(y) // 200 + 1, 80) and mel.min() >= 0 and mel.max() <= 1
    z = tts.griffin_lim(mel, n_iter=4)
    assert z.dtype == np.float32 and abs(len(z) - len(y)) <= 200
    np.testing.assert_array_equal(z, tts.griffin_lim(mel, n_iter=4))  # seeded phase: scores repeat
    assert not np.array_equal(z, tts.griffin_lim(mel, n_iter=4, seed=1))
    with pytest.raises(ValueError, match="16000"):
        tts.mel_spectrogram(y, 8000)


def test_guided_attention_weights():
    w = np.asarray(tts.guided_attention_weights(np.array([4, 2]), np.array([5, 3]), 4, 5))
    assert w.shape == (2, 5, 4)
    assert w[0, 0, 0] == 0 and w[0, 4, 0] > 0.9  # diagonal free, far corner penalised
    assert np.all(w[1, 3:] == 0) and np.all(w[1, :, 2:] == 0)  # padding not penalised


def test_tts_shapes_and_train_step():
    model = tts.build_tts(**TINY_TTS)
    rng = np.random.default_rng(0)
    sr = tts.SAMPLE_RATE
    waves = [rng.normal(0, 0.1, int(sr * s)).astype(np.float32) for s in (0.3, 0.5)]
    text, dec_in, mels, mel_len = tts.make_batch_arrays(["hello", "a test"], waves, sr, model.r)
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
    sr = tts.SAMPLE_RATE
    rng = np.random.default_rng(1)
    waves = [rng.normal(0, 0.1, int(sr * s)).astype(np.float32) for s in (0.3, 0.4)]
    seen = []

    def checkpoint(model, stages_done):
        seen.append([s["epochs"] for s in stages_done])
        tts.save_tts(model, {"stages": stages_done}, tmp_path)

    stages = [dict(epochs=2, batch_size=2, learning_rate=1e-3), dict(epochs=1, decay_epochs=4, batch_size=1,
                                                                     learning_rate=5e-4)]
    model, history, seconds = tts.train_stages(["ab", "a b"], waves, stages, checkpoint=checkpoint, verbose=0,
                                               model=tts.build_tts(**TINY_TTS))
    assert seen == [[1], [2], [2, 1]] and len(history["loss"]) == 3 and seconds > 0
    loaded, info = tts.load_tts(folder=tmp_path)
    assert info["stages"][1] == dict(stages[1], epochs=1) and loaded.hp["reduction"] == TINY_TTS["reduction"]
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)  # float16 on disk
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tts_slt.json", "tts_slt.npz"]  # nothing half-written


def test_teacher_forced_l1_against_the_mean_frame():
    model = tts.build_tts(**TINY_TTS)
    sr = tts.SAMPLE_RATE
    rng = np.random.default_rng(2)
    waves = [rng.normal(0, 0.1, int(sr * s)).astype(np.float32) for s in (0.3, 0.5)]
    _, _, mels, mel_len = tts.make_batch_arrays(["ab", "abc"], waves, sr, model.r)
    frames = np.concatenate([m[:n] for m, n in zip(mels, mel_len)])  # padding excluded
    l1 = tts.teacher_forced_l1(model, ["ab", "abc"], waves, sr, frames.mean(axis=0))
    assert l1["mean_frame"] == pytest.approx(np.abs(frames - frames.mean(axis=0)).mean(), rel=1e-5)
    assert np.isfinite(l1["model"]) and l1["model"] > 0


def test_shipped_tts_weights_synthesize():
    model, info = tts.load_tts()
    assert info["hparams"]["n_mels"] == 80
    assert info["stages"] == [dict(s) for s in tts.TRAINING_STAGES]  # what train_synthesis.py tts replays
    mel, align = tts.synthesize_mel(model, "Hi.", max_steps=12)
    assert mel.shape[1] == 80 and mel.shape[0] % model.r == 0 and align.shape[1] == 4
    y, sr = tts.synthesize("Hi.", model=model, n_iter=2)
    assert sr == 16000 and y.dtype == np.float32 and y.ndim == 1 and len(y) > 0
    with pytest.raises(tts.TextError, match="at most"):
        tts.synthesize_mel(model, "a" * (tts.MAX_CHARS + 1))
    with pytest.raises(tts.TextError):
        tts.synthesize("", model=model)


def test_holdout_split():
    ids = [f"arctic_a{i:04d}" for i in range(20, 0, -1)]
    train, test = tts.holdout_split(ids, n_test=3)
    assert test == ["arctic_a0018", "arctic_a0019", "arctic_a0020"] and len(train) == 17
    with pytest.raises(ValueError):
        tts.holdout_split(ids[:3], n_test=3)


def test_guided_attention_exercise():
    def solution(n_text, n_steps, g=0.2):
        n = np.arange(n_text)[None, :] / n_text
        k = np.arange(n_steps)[:, None] / n_steps
        return 1 - np.exp(-(n - k) ** 2 / (2 * g * g))

    assert exercises.check("05_guided_attention", solution)
    assert not exercises.check("05_guided_attention", lambda n_text, n_steps, g=0.2: np.zeros((n_text, n_steps)))
    assert not exercises.check("05_guided_attention", None)


def test_save_generators_round_trips_and_a_failed_save_keeps_the_old_files(tmp_path):
    model = cyclegan.build_cyclegan(pool_size=1, **TINY_GAN)
    config = dict(pair=["horse", "zebra"], image_size=16, gen_filters=4, res_blocks=1)
    paths = cyclegan.save_generators(model, config, folder=tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(p.name for p in paths.values())
    gens = cyclegan.load_generators(("horse", "zebra"), folder=tmp_path)
    x = np.random.default_rng(0).uniform(-1, 1, (1, 16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(gens["a2b"](x)), np.asarray(model.gen_a2b(x)), atol=1e-6)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken(filepath):
        with open(filepath, "wb") as f:
            f.write(b"half")
        raise OSError("disk full")

    model.gen_a2b.get_layer(index=-1).kernel.assign(np.zeros_like(model.gen_a2b.get_layer(index=-1).kernel))
    model.gen_b2a.save_weights = broken
    with pytest.raises(OSError, match="disk full"):
        cyclegan.save_generators(model, dict(config, epochs=99), folder=tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # a2b and config untouched, no temporary
