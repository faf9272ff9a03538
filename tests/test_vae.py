"""The face VAE: its likelihood is a pmf over 8-bit pixels, it trains and samples, held-out people, weights load."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from course_utils import compression, vae
from course_utils.models import vae as vae_model


def test_discretized_logistic_is_a_pmf_over_256_levels():
    levels = np.arange(256, dtype=np.float32) / 127.5 - 1
    for loc, log_scale in ((0.1, -3.0), (-0.95, -1.0), (0.99, -5.0)):
        logp = np.asarray(vae_model.discretized_logistic_log_prob(levels, np.full(256, loc, np.float32),
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
    assert vae.evaluate(vae_model.build_vae(variational=False), faces[:4], samples=1)["kl_nats"] == 0


def test_train_vae_records_one_mean_elbo_per_epoch():
    faces = np.random.default_rng(0).integers(0, 256, (16, 64, 64, 1), dtype=np.uint8)
    _, history = vae.train_vae(faces, epochs=3, batch_size=8, log_every=2)
    assert history["epoch"] == [1, 2, 3] and len(history["elbo"]) == 3 and "step" not in history


def test_split_subjects_holds_out_whole_people():
    labels = np.repeat(np.arange(10), 4)
    train, test = vae.split_subjects(labels, n_test=2)
    assert set(labels[test]) == {8, 9} and not set(labels[train]) & {8, 9}


def test_train_shipped_is_the_shipped_recipe_and_budget(monkeypatch):
    labels = np.repeat(np.arange(10), 2)
    faces = SimpleNamespace(images=np.arange(20)[:, None], labels=labels)
    calls = []
    monkeypatch.setattr(vae.data, "load_olivetti", lambda: faces)
    monkeypatch.setattr(vae, "train_vae", lambda images, **kw: calls.append((images, kw)) or (kw["variational"], {}))
    assert vae.train_shipped(scale=2.0) == (True, False)
    train, _ = vae.split_subjects(labels)
    budget = compression.TRAINING_MINUTES["vae"] * 60 * 2.0
    for (images, kw), variational, share in zip(calls, (True, False), (0.75, 0.25)):
        assert np.array_equal(images, faces.images[train])
        assert kw == {"variational": variational, "epochs": 100000, "seed": 0, "log_every": 10,
                      "max_seconds": budget * share}


def test_shipped_vae_and_autoencoder_load():
    faces = np.random.default_rng(1).integers(0, 256, (4, 64, 64, 1), dtype=np.uint8)
    for variational in (True, False):
        model = vae.load_vae(variational)
        assert np.isfinite(vae.evaluate(model, faces, samples=1)["elbo_nats"])
