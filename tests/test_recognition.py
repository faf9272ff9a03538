"""Notebook 04's isolated-digit pipeline (recognition.py): training, unseen-speaker evaluation, the
augmentation ablation and recipe, and recognize() on raw audio."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import digit_features as df, evaluation, recognition as rec, saving
from course_utils.data import SpokenDigits
from course_utils.models.digit_classifiers import BUILDERS


def _clip(digit: int, speaker: int = 0, seconds: float = 0.35) -> np.ndarray:
    """A generated 'digit': a tone whose pitch encodes the digit, between short silences (not speech)."""
    from conftest import tone

    return np.concatenate([np.zeros(400, np.float32), tone(seconds, 8000, freq=200 + 60 * digit + 7 * speaker),
                           np.zeros(400, np.float32)])


@pytest.fixture(scope="module")
def tiny_set():
    clips = [_clip(d, s) for s in range(2) for d in range(10)]
    labels = np.tile(np.arange(10), 2)
    return clips, labels, np.repeat(np.array(["a", "b"]), 10)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_each_model_builds_trains_and_recognizes_raw_audio(name, tiny_set, tmp_path):
    clips, labels, speakers = tiny_set
    X, source = df.feature_set(clips, 8000, copies=0)
    model, history, seconds = rec.train_digit_model(name, X, labels[source], epochs=1, batch_size=8,
                                                    spec_augment=True)
    assert model.output_shape == (None, 10) and np.isfinite(history["loss"][0]) and seconds > 0
    assert 10_000 < model.count_params() < 300_000
    digit, probs = rec.recognize(clips[3] * 0.5, 8000, model)
    assert probs.shape == (10,) and abs(float(probs.sum()) - 1) < 1e-4
    # the answer is the model's most probable class on the clip's own features (not just any digit)
    expected = model.predict(df.digit_log_mel(clips[3] * 0.5, 8000)[None], verbose=0)[0]
    np.testing.assert_allclose(probs, expected, atol=1e-5)
    assert digit == int(np.argmax(expected))
    assert rec.latency_ms(model, X, repeats=2) > 0
    saving.save_model(model, f"test_{name}")
    loaded = saving.load_model(f"test_{name}", "notebook 04", compile=False)[0]
    np.testing.assert_allclose(loaded.predict(X[:2], verbose=0), model.predict(X[:2], verbose=0), atol=1e-5)
    saving.save_model(model, "digits_best")  # the default model of recognize()
    assert rec.recognize(clips[3] * 0.5, 8000)[0] == digit


def test_retraining_reuses_the_compiled_model_but_starts_afresh(tiny_set, monkeypatch):
    """train_digit_model keeps one compiled training model per architecture; each call resets it fully."""
    monkeypatch.setattr(rec, "_TRAINERS", {})
    clips, labels, _ = tiny_set
    X, source = df.feature_set(clips, 8000, copies=0)
    first, _, _ = rec.train_digit_model("cnn", X, labels[source], epochs=2, batch_size=8)
    first_weights = [w.copy() for w in first.get_weights()]
    second, _, _ = rec.train_digit_model("cnn", X[:12], labels[source][:12], epochs=1, batch_size=8)
    assert len(rec._TRAINERS) == 1 and second is not first
    for before, after in zip(first_weights, first.get_weights()):  # a returned model never changes
        np.testing.assert_array_equal(before, after)
    trainer, schedule, _ = next(iter(rec._TRAINERS.values()))
    assert int(trainer.optimizer.iterations.numpy()) == 2  # only the second call's steps: 12 clips / 8
    assert float(schedule.warmup.numpy()) == 2 and float(schedule.decay.numpy()) == 1
    third, _, _ = rec.train_digit_model("cnn", X, labels[source], epochs=2, batch_size=8)
    for a, b in zip(first.get_weights(), third.get_weights()):  # same start, data, seed: same training
        np.testing.assert_allclose(a, b, atol=1e-5)
    with pytest.raises(KeyError, match="unknown model"):
        rec.train_digit_model("rnn", X, labels[source])


def test_learning_rate_schedule_is_keras_cosine_decay_with_warmup():
    import keras

    schedule = rec.WarmupCosine(3e-3)
    schedule.warmup.assign(24.0)
    schedule.decay.assign(120.0)
    reference = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=120, warmup_target=3e-3, warmup_steps=24,
                                                       alpha=0.01)
    for step in (0, 1, 12, 24, 25, 60, 143, 144, 500):
        assert float(schedule(step)) == pytest.approx(float(reference(step)), rel=1e-5, abs=1e-9)


def test_evaluate_unseen_speakers_reports_every_speaker(tiny_set):
    clips, labels, speakers = tiny_set
    X, source = df.feature_set(clips, 8000, copies=0)
    r = rec.evaluate_unseen_speakers("cnn", X, labels, speakers, source, epochs=1, batch_size=8, verbose=False)
    assert sorted(r["accuracy"]) == ["a", "b"] and r["pred"].shape == (20,)
    assert r["mean"] == pytest.approx(np.mean(list(r["accuracy"].values())))
    assert r["mean"] == pytest.approx(np.mean(r["pred"] == labels))


def test_evaluate_unseen_speakers_adds_extra_rows_to_every_fold_for_training_only(tiny_set, monkeypatch):
    clips, labels, speakers = tiny_set
    X, source = df.feature_set(clips, 8000, copies=0)
    seen = []
    real_train = rec.train_digit_model

    def spy(name, features, labels_, **kwargs):
        seen.append((len(features), len(labels_), features[-3:].copy()))
        return real_train(name, features, labels_, **kwargs)

    monkeypatch.setattr(rec, "train_digit_model", spy)
    extra = (X[:3] + 1.0, labels[:3])
    r = rec.evaluate_unseen_speakers("cnn", X, labels, speakers, source, extra=extra, epochs=1, batch_size=8,
                                     verbose=False)
    n_train = [int(np.sum(speakers != s)) for s in sorted(set(speakers))]
    assert [(a, b) for a, b, _ in seen] == [(n + 3, n + 3) for n in n_train]
    for *_, last in seen:
        np.testing.assert_array_equal(last, extra[0])
    assert r["pred"].shape == (len(labels),)


def test_recognize_without_a_saved_model_says_what_to_run():
    from course_utils import digit_strings

    with pytest.raises(FileNotFoundError, match="notebook 04"):
        rec.recognize(_clip(1), 8000)
    with pytest.raises(FileNotFoundError, match="notebook 04"):
        digit_strings.transcribe(_clip(1), 8000)


def _digits(per_digit=1, speakers=("a", "b")):
    clips = [_clip(d, s) for s in range(len(speakers)) for d in range(10) for _ in range(per_digit)]
    labels = np.tile(np.repeat(np.arange(10), per_digit), len(speakers))
    return SpokenDigits(clips, labels, np.repeat(np.array(speakers), 10 * per_digit),
                        [f"gen{i}" for i in range(len(clips))], 8000, "generated")


def test_augmentation_ablation_runs_every_augmentation_on_the_same_folds(monkeypatch):
    digits, voices = _digits(), _digits(speakers=("v1", "v2"))
    X, source = df.feature_set(digits.waveforms, 8000, copies=0)
    X_voices = np.stack([df.digit_log_mel(w, 8000) for w in voices.waveforms])
    runs = []

    def fake_evaluate(name, features, labels, speakers, source_, test_features=None, groups=None, extra=None,
                      verbose=True, **kwargs):
        runs.append(dict(rows=len(features), source=source_, groups=groups, extra=extra, test=test_features,
                         **kwargs))
        return {"mean": 0.5 + 0.01 * len(runs)}

    monkeypatch.setattr(rec, "evaluate_unseen_speakers", fake_evaluate)
    effect = rec.augmentation_ablation("cnn", digits, X, source, epochs=4, voices=voices, voice_features=X_voices,
                                       seed=0, verbose=False)
    assert list(effect) == list(rec.ABLATION_RUNS) and effect["none"] == pytest.approx(0.51)
    halves = evaluation.speaker_halves(digits.speakers)
    for kind, run in zip(rec.ABLATION_RUNS, runs):
        assert run["groups"] == halves and run["test"] is X  # tested on the clean clips, always the same folds
        waveform_kind = kind not in ("none", "specaugment", "synthetic_voices")
        assert run["rows"] == (2 * len(X) if waveform_kind else len(X)), kind  # clean + one perturbed copy
        assert run["epochs"] == (4 if kind in ("none", "specaugment") else 2), kind  # about as many steps
        assert run["spec_augment"] == (kind == "specaugment")
        assert (run["extra"] is not None) == (kind == "synthetic_voices")
    assert runs[-1]["extra"][0] is X_voices
    no_voices = rec.augmentation_ablation("cnn", digits, X, source, epochs=4, verbose=False)
    assert "synthetic_voices" not in no_voices and len(no_voices) == len(rec.ABLATION_RUNS) - 1


def test_recipe_combines_what_helped_and_trains_on_the_training_clips_only():
    digits, voices = _digits(), _digits(speakers=("v1", "v2"))
    X, source = df.feature_set(digits.waveforms, 8000, copies=0)
    X_voices = np.stack([df.digit_log_mel(w, 8000) for w in voices.waveforms])
    effect = {"none": 0.5, "noise": 0.6, "gain": 0.5, "shift": 0.4, "speed": 0.55, "pitch": 0.3,
              "specaugment": 0.7, "synthetic_voices": 0.8}
    recipe = rec.recipe_from_ablation("cnn", digits, effect, epochs=1, copies=1, seed=1)
    assert recipe.kinds == ("noise", "speed", "specaugment") and recipe.spec_augment  # better than none only
    assert recipe.features.shape == (2 * len(X), df.N_FRAMES, df.N_MELS) and recipe.source.tolist() == (
        list(range(len(X))) * 2)
    assert recipe.extra is None and recipe.description == "cnn, clean + 1× noise+speed+specaugment"
    voiced = rec.with_voices(recipe, voices, X_voices)
    assert voiced.extra[0] is X_voices and voiced.description == (
        "cnn, clean + 1× noise+speed+specaugment + 2 synthetic voices")
    assert recipe.extra is None  # the original is unchanged
    other = rec.with_architecture(voiced, "crnn")
    assert other.name == "crnn" and other.features is voiced.features and other.description.startswith("crnn, clean")
    with pytest.raises(KeyError, match="unknown model"):
        rec.with_architecture(recipe, "lstm")
    with pytest.raises(ValueError, match="rows"):
        rec.with_voices(recipe, voices, X_voices[:3])
    plain = rec.plain_recipe("cnn", X, source, 3)
    assert plain.kinds == () and not plain.spec_augment and plain.extra is None and plain.epochs == 3
    r = rec.evaluate_recipe(plain, digits, X, seed=0, verbose=False)
    assert sorted(r["accuracy"]) == ["a", "b"] and r["pred"].shape == (20,)
    assert r["scores"].shape == (20, 10) and np.array_equal(r["scores"].argmax(axis=1), r["pred"])
    train_clips = np.arange(0, 20, 2)
    model, history, seconds = rec.train_recipe(voiced, digits.labels, train_clips, seed=0)
    assert model.output_shape == (None, 10) and seconds > 0
    assert len(history["loss"]) == recipe.epochs


def test_compare_recipes_adds_an_ensemble_of_the_two_best_architectures():
    digits = _digits()
    X, source = df.feature_set(digits.waveforms, 8000, copies=0)
    recipes = [rec.plain_recipe(name, X, source, 1) for name in ("cnn", "crnn")]
    results = rec.compare_recipes(recipes, digits, X, seed=0, verbose=False)
    assert list(results)[:2] == ["cnn, no augmentation", "crnn, no augmentation"]
    name, ensemble = list(results.items())[2]
    assert name.startswith("ensemble: ") and [m.name for m in ensemble["members"]] == (
        [r["members"][0].name for r in sorted(list(results.values())[:2], key=lambda r: -r["mean"])])
    np.testing.assert_allclose(ensemble["scores"],
                               (results["cnn, no augmentation"]["scores"] + results["crnn, no augmentation"]["scores"]) / 2)
    assert ensemble["mean"] == pytest.approx(np.mean(ensemble["pred"] == digits.labels))  # two speakers, ten clips each
    assert ensemble["seconds"] == pytest.approx(sum(r["seconds"] for r in list(results.values())[:2]))
    table = rec.recipe_table(results)
    assert table.count("\n") == 2 + len(results) - 1 and "| a | b | mean | worst |" in table
    with pytest.raises(ValueError, match="distinct"):
        rec.compare_recipes(recipes[:1] * 2, digits, X, verbose=False)
    only_one = rec.compare_recipes(recipes[:1], digits, X, seed=0, verbose=False)
    assert list(only_one) == ["cnn, no augmentation"]  # one architecture: no ensemble


def test_ensemble_averages_its_members_and_saves(tmp_path, monkeypatch):
    from course_utils.models import digit_classifiers as dc

    members = [dc.build_cnn(), dc.build_crnn()]
    ensemble = dc.build_ensemble(members)
    x = np.random.default_rng(0).normal(size=(3, df.N_FRAMES, df.N_MELS)).astype(np.float32)
    expected = (members[0].predict(x, verbose=0) + members[1].predict(x, verbose=0)) / 2
    np.testing.assert_allclose(ensemble.predict(x, verbose=0), expected, atol=1e-6)
    monkeypatch.setenv("COURSE_BUILD_DIR", str(tmp_path))
    saving.save_model(ensemble, "ensemble_test")
    loaded = saving.load_model("ensemble_test", "this test", compile=False)[0]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, atol=1e-6)
    with pytest.raises(ValueError, match="at least two"):
        dc.build_ensemble(members[:1])
    with pytest.raises(ValueError, match="distinct names"):
        dc.build_ensemble([members[0], members[0]])


def test_recognize_rejects_a_clip_the_model_is_unsure_of():
    from conftest import tone

    def unsure(x, training=False):  # a tone spreads the probability over the ten digits
        return np.full((len(x), 10), 0.1, np.float32) + np.eye(10, dtype=np.float32)[3] * 0.05

    digit, probs = rec.recognize(tone(0.5, 8000), 8000, unsure)
    assert digit == 3 and probs.max() == pytest.approx(0.15)
    digit, probs = rec.recognize(tone(0.5, 8000), 8000, unsure, min_confidence=0.5)
    assert digit is None and probs.argmax() == 3
    with pytest.raises(ValueError, match="min_confidence"):
        rec.recognize(tone(0.5, 8000), 8000, unsure, min_confidence=1.5)
