"""Notebook 05, part 3: Tacotron-style TTS on phonemes (course_utils.models.tacotron, course_utils.tacotron_tts).

Tiny models and generated inputs keep them fast; the shipped weights are loaded once.
"""
from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from course_utils import exercises, tacotron_tts, text  # noqa: E402
from course_utils.models import tacotron  # noqa: E402

TINY_TTS = dict(embed_dim=8, enc_filters=8, enc_units=4, prenet_units=8, att_rnn_units=8, dec_rnn_units=8,
                att_dim=8, loc_filters=2, loc_kernel=3, postnet_filters=8, reduction=2)


def test_the_tacotron_reads_the_phonemes_of_the_duration_models_front_end():
    ids = tacotron_tts.text_to_ids("Hi, Bob.")
    assert ids.dtype == np.int32 and [text.SYMBOLS[i] for i in ids] == text.phonemize("Hi, Bob.")
    assert text.SYMBOLS[ids[0]] == "sil" and text.SYMBOLS[ids[-1]] == "." and 0 not in ids
    assert len(tacotron_tts.text_to_ids("Call 911.")) > 8  # numbers are spelled out, not refused
    for bad, match in (("", "empty"), ("   ", "empty"), ("?!", "no letters"), ("hello 😀", "emoji")):
        with pytest.raises(text.TextError, match=match):
            tacotron_tts.text_to_ids(bad)


def test_length_batches_group_similar_lengths_and_keep_every_utterance():
    rng = np.random.default_rng(0)
    lengths = [37, 5, 90, 12, 64, 8, 41]
    mels = [rng.random((n, 80)).astype(np.float32) for n in lengths]
    ids = [np.arange(1, 2 + n // 10, dtype=np.int32) for n in lengths]
    batches = tacotron_tts.length_batches(ids, mels, reduction=2, batch_size=3, multiple=4)
    assert [len(b[1][1]) for b in batches] == [3, 2, 2]
    seen = sorted(int(n) for b in batches for n in b[1][1])
    assert seen == sorted(lengths)  # nothing dropped
    for (text_arr, dec_in), (mel_arr, mel_len) in batches:
        assert mel_arr.shape[1] % 8 == 0 and text_arr.shape[1] % 4 == 0 and dec_in.shape[1] == mel_arr.shape[1] // 2
        assert mel_arr.shape[1] - max(mel_len) < 8  # padded to the batch's own longest, not the corpus'
        for row, n in zip(mel_arr, mel_len):
            assert not row[n:].any()
    assert batches[0][1][1].max() <= batches[1][1][1].min()  # sorted by length
    (_, dec_in), (mel_arr, _) = batches[-1]
    np.testing.assert_array_equal(dec_in[:, 0], 0)  # teacher forcing: step k reads the last frame of step k − 1
    np.testing.assert_array_equal(dec_in[:, 1:], mel_arr[:, 1:-1:2][:, :dec_in.shape[1] - 1])


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
    n_hello, n_test = len(text.phonemize("hello")), len(text.phonemize("a test"))  # 6 and 7 tokens
    ids, dec_in, mels, mel_len = tacotron_tts.make_batch_arrays(["hello", "a test"], waves, sr, model.r)
    assert ids.shape == (2, n_test) and mels.shape[1] % model.r == 0 and dec_in.shape == (2, mels.shape[1] // 2, 80)
    mel, mel_post, stop, align = model((ids, dec_in))
    assert mel.shape == mels.shape and mel_post.shape == mels.shape
    assert stop.shape == (2, dec_in.shape[1]) and align.shape == (2, dec_in.shape[1], n_test)
    np.testing.assert_allclose(np.asarray(align).sum(-1), 1.0, atol=1e-5)
    assert np.asarray(align)[0, :, n_hello:].max() < 1e-6  # no attention on padding
    model.compile(optimizer=keras.optimizers.Adam(1e-2))  # 1e-3 moved the loss less than prenet dropout's noise
    first = float(model.train_step(((ids, dec_in), (mels, mel_len)))["loss"])
    for _ in range(3):
        last = float(model.train_step(((ids, dec_in), (mels, mel_len)))["loss"])
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
    model, history, seconds = tacotron_tts.train_stages(["Hi.", "Oh, no."], waves, stages, checkpoint=checkpoint, verbose=0,
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
    _, _, mels, mel_len = tacotron_tts.make_batch_arrays(["Hi.", "Hello."], waves, sr, model.r)
    frames = np.concatenate([m[:n] for m, n in zip(mels, mel_len)])  # padding excluded
    l1 = tacotron_tts.teacher_forced_l1(model, ["Hi.", "Hello."], waves, sr, frames.mean(axis=0))
    assert l1["mean_frame"] == pytest.approx(np.abs(frames - frames.mean(axis=0)).mean(), rel=1e-5)
    assert np.isfinite(l1["model"]) and l1["model"] > 0


def test_shipped_tts_weights_synthesize():
    model, info = tacotron_tts.load_tts()
    assert info["hparams"]["n_mels"] == 80
    assert info["stages"] == [dict(s) for s in tacotron_tts.TRAINING_STAGES]  # what train_synthesis.py tacotron replays
    mel, align = tacotron_tts.synthesize_mel(model, "Hi.", max_steps=12)
    assert mel.shape[1] == 80 and mel.shape[0] % model.r == 0 and align.shape[1] == 4
    y, sr = tacotron_tts.synthesize("Hi.", model=model, n_iter=2)
    assert sr == 16000 and y.dtype == np.float32 and y.ndim == 1 and len(y) > 0
    with pytest.raises(tacotron_tts.TextError, match="at most"):
        tacotron_tts.synthesize_mel(model, "a " * tacotron_tts.MAX_TOKENS)
    with pytest.raises(tacotron_tts.TextError):
        tacotron_tts.synthesize("", model=model)


def test_attention_is_set_against_the_forced_alignment_of_the_same_recording():
    from course_utils import tts

    sentence = "The zebra ran across the field."
    y, sr = tts.espeak_baseline(sentence)
    model = tacotron_tts.build_tts(**TINY_TTS)
    attention, forced, tokens = tacotron_tts.attention_and_forced_alignment(model, y, sr, sentence)
    n_steps = int(np.ceil(len(tacotron_tts.mel_spectrogram(tacotron_tts.prepare_utterance(y, sr))) / model.r))
    assert attention.shape == (n_steps, len(tokens)) and forced.shape == (n_steps,)
    np.testing.assert_allclose(attention.sum(1), 1.0, atol=1e-5)
    assert tokens[0] == "sil" and tokens[-1] == "." and set(tokens[1:-1]) <= set(text.PHONES)
    assert np.all(np.diff(forced) >= 0) and forced[0] <= 1 and forced[-1] == len(tokens) - 1  # in order, end to end
    # (the recording is trimmed, so the leading "sil" may be shorter than one decoder step)
    assert len(set(forced.tolist())) >= len(tokens) // 2  # most phones own at least one decoder step


#: Held-out ARCTIC prompts (tts.holdout_split: every tenth): the shipped Tacotron never trained on them.
HELD_OUT = ["I'm playing a single hand in what looks like a losing game.",
            "But he no longer cared quite so much for that form of diversion.",
            "He turned the map to Gregson, pointing with his finger."]


def test_shipped_tacotron_reads_unseen_prompts_in_order_and_stops_at_a_speaking_rate():
    """Quality floor: the attention walks the phonemes of a sentence it never heard to the end mark, the stop
    token ends it, and the length is slt's speaking rate (an untrained model does none of these)."""
    model, _ = tacotron_tts.load_tts()
    for sentence in HELD_OUT:
        n_tokens = len(tacotron_tts.text_to_ids(sentence))
        mel, align = tacotron_tts.synthesize_mel(model, sentence)
        peak = align.argmax(axis=1)
        assert len(align) < 3 * n_tokens + 10, "the stop token never fired"
        assert peak[-1] >= n_tokens - 2 and np.all(np.diff(peak) >= -1), peak  # forward, to the end
        ms_per_token = 1000 * len(mel) * tacotron_tts.MEL["hop_length"] / tacotron_tts.SAMPLE_RATE / n_tokens
        assert 40 < ms_per_token < 120, ms_per_token


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
    memory, mask = model.encode(tacotron_tts.text_to_ids("Hi.")[None])
    state = model.initial_state(memory)
    assert isinstance(state, tacotron.DecoderState) and state._fields == (
        "att_h", "att_c", "dec_h", "dec_c", "context", "align", "cum_align", "frames", "stop")
    new, out = model.decoder_step(state, np.zeros((1, 80), np.float32), memory, model.memory_proj(memory), mask)
    assert new is out and all(a.shape == b.shape for a, b in zip(new, state))
    np.testing.assert_allclose(np.asarray(new.align).sum(), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.asarray(new.cum_align), np.asarray(state.cum_align + new.align), atol=1e-6)


def test_forced_alignment_is_mapped_onto_decoder_steps_exactly(monkeypatch):
    from course_utils import alignment

    # 0.5 s of noise → 41 mel frames of 12.5 ms (frame j centred at 12.5·j ms) → 11 steps of r = 4 frames;
    # step k's frames are centred at 50k + 18.75 ms. Tokens from frame 1: sil 10–30 ms, HH 30–100, AY 100–460, "." 460–510.
    y = np.random.default_rng(3).normal(0, 0.1, 8000).astype(np.float32)
    fake = alignment.Alignment(["sil", "HH", "AY", "."], np.array([2, 7, 36, 5], np.int32), 1, [])
    monkeypatch.setattr(alignment, "align", lambda *a: fake)
    model = tacotron_tts.build_tts(**dict(TINY_TTS, reduction=4))
    monkeypatch.setattr(tacotron_tts, "prepare_utterance", lambda w, sr: w)
    attention, forced, tokens = tacotron_tts.attention_and_forced_alignment(model, y, 16000, "Hi.")
    # step centres 18.75, 68.75, …, 518.75 ms against token ends 30, 100, 460, 510 ms
    assert tokens == fake.tokens and attention.shape == (11, 4)
    assert forced.tolist() == [0, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3]


def test_attention_agreement_counts_steps_on_the_aligned_phone(monkeypatch):
    attention = np.eye(4, dtype=np.float32)[[0, 1, 1, 2, 3, 3]]  # peaks 0 1 1 2 3 3
    forced = np.array([0, 1, 2, 2, 3, 1])  # agree on 4 of 6 steps, within one token on 5
    monkeypatch.setattr(tacotron_tts, "attention_and_forced_alignment", lambda *a, **k: (attention, forced, ["x"] * 4))
    score = tacotron_tts.attention_agreement(None, [np.zeros(10)] * 2, 16000, ["a", "b"])
    assert score == {"exact": pytest.approx(4 / 6), "within_one": pytest.approx(5 / 6), "failed": {}}

    from course_utils.alignment import AlignmentError

    def one_fails(model, y, sr, sentence, seed=0):
        if sentence == "b":
            raise AlignmentError("no path")
        return attention, forced, ["x"] * 4

    monkeypatch.setattr(tacotron_tts, "attention_and_forced_alignment", one_fails)
    score = tacotron_tts.attention_agreement(None, [np.zeros(10)] * 2, 16000, ["a", "b"])
    assert score["exact"] == pytest.approx(4 / 6) and score["failed"] == {"b": "no path"}  # reported, not hidden
    with pytest.raises(AlignmentError, match="none of the 1"):
        tacotron_tts.attention_agreement(None, [np.zeros(10)], 16000, ["b"])
    with pytest.raises(ValueError, match="as many"):
        tacotron_tts.attention_agreement(None, [np.zeros(10)], 16000, [])


def test_attention_figure_draws_the_forced_path_over_the_attention():
    import matplotlib

    matplotlib.use("Agg")
    from course_utils import plots

    attention = np.eye(3, dtype=np.float32)[[0, 1, 1, 2]]
    fig = plots.attention_vs_alignment(attention, np.array([0, 1, 2, 2]), ["sil", "HH", "."], title="x", reduction=2)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["sil", "HH", "."]
    assert ax.images[0].get_array().shape == (3, 4) and "2 frames" in ax.get_xlabel()
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [0, 1, 2, 2])
    matplotlib.pyplot.close(fig)
