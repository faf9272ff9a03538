"""Notebook 04's models (models/digit_classifiers.py, models/ctc.py): layers, shapes, CTC loss and decoding."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from course_utils.digit_features import N_FRAMES, N_MELS
from course_utils.models import ctc, digit_classifiers as dc


def test_spec_augment_masks_only_in_training():
    x = np.ones((4, N_FRAMES, N_MELS), np.float32)
    layer = dc.SpecAugment(freq_masks=2, freq_width=6, time_masks=2, time_width=8, seed=1)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    y = np.asarray(layer(x, training=True))
    assert y.shape == x.shape and set(np.unique(y)) <= {0.0, 1.0}
    assert 0 < (y == 0).mean() < 0.5  # some bands/frames masked, most kept
    bands_masked = (y == 0).all(axis=1)  # a masked band is zero in every frame
    assert bands_masked.sum(axis=1).max() <= 12


def test_custom_layers_keep_their_registered_names_and_round_trip():
    """Saved .keras files name the layers 'course>SpecAugment' / 'course>PositionalEncoding'."""
    assert keras.saving.get_registered_name(dc.SpecAugment) == "course>SpecAugment"
    assert keras.saving.get_registered_name(dc.PositionalEncoding) == "course>PositionalEncoding"
    layer = dc.SpecAugment(**dc.SPEC_AUGMENT, seed=3, name="spec_augment")
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(again) is dc.SpecAugment and again.get_config() == layer.get_config()


def test_positional_encoding_adds_sines_and_cosines():
    x = np.zeros((1, 5, 8), np.float32)
    pe = np.asarray(dc.PositionalEncoding()(x))[0]
    t, i = np.arange(5)[:, None], np.arange(0, 8, 2)[None, :]
    np.testing.assert_allclose(pe[:, 0::2], np.sin(t / 10000 ** (i / 8)), atol=1e-5)
    np.testing.assert_allclose(pe[:, 1::2], np.cos(t / 10000 ** (i / 8)), atol=1e-5)


@pytest.mark.parametrize("name", sorted(dc.BUILDERS))
def test_each_classifier_outputs_probabilities_and_puts_spec_augment_first(name):
    plain, masked = dc.BUILDERS[name](), dc.BUILDERS[name](spec_augment=True)
    assert plain.input_shape == (None, N_FRAMES, N_MELS) and plain.output_shape == (None, 10)
    assert 10_000 < plain.count_params() < 300_000
    assert masked.layers[1].name == "spec_augment" and "spec_augment" not in [l.name for l in plain.layers]
    assert plain.count_params() == masked.count_params()  # the masks have no weights
    probs = np.asarray(plain(np.random.default_rng(0).normal(size=(3, N_FRAMES, N_MELS)).astype(np.float32)))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert (probs >= 0).all()


def test_ctc_model_subsamples_by_four_and_takes_any_length():
    model = ctc.build_ctc_model()
    for frames in (37, 120):
        out = model.predict_on_batch(np.zeros((2, frames, N_MELS), np.float32))
        assert out.shape == (2, int(np.ceil(frames / ctc.CTC_SUBSAMPLING)), ctc.N_CLASSES)


def _hand_made(path, on=0.9):
    """Probabilities (steps, 11): ``on`` on the path's class, the rest spread evenly."""
    probs = np.full((len(path), 11), (1 - on) / 10, np.float32)
    probs[np.arange(len(path)), path] = on
    return probs


def test_ctc_decoding_of_a_hand_made_probability_matrix():
    # frames: blank 4 4 blank 0 0 7 blank 7 7 -> "4", "0", "7", "7" (blank splits the doubled 7)
    path = [0, 5, 5, 0, 1, 1, 8, 0, 8, 8]
    probs = _hand_made(path)
    assert ctc.greedy_decode(probs) == "4077"
    for strategy in ("greedy", "beam_search"):
        assert ctc.ctc_decode(np.log(probs)[None], strategy=strategy) == ["4077"]
    assert ctc.ctc_decode(np.log(_hand_made([0, 0, 0]))[None]) == [""]
    # beam search sums paths: each frame prefers blank (0.52 vs 0.39 for "3"), so greedy hears nothing, but
    # P("3") = 0.39² + 2 · 0.39 · 0.52 = 0.56 beats P("") = 0.52² = 0.27
    p = np.full((2, 11), 0.01, np.float32)
    p[:, 0], p[:, 4] = 0.52, 0.39
    assert ctc.ctc_decode(np.log(p)[None], "greedy") == [""]
    assert ctc.ctc_decode(np.log(p)[None], "beam_search") == ["3"]
    with pytest.raises(ValueError, match="11"):
        ctc.ctc_decode(np.zeros((1, 5, 10)))


def test_ctc_loss_prefers_the_right_transcript():
    probs = _hand_made([0, 5, 5, 0, 1, 0, 8, 8, 0])
    targets = ctc.encode_texts(["407", "41"])
    np.testing.assert_array_equal(targets, [[5, 1, 8], [5, 2, -1]])
    logits = np.log(np.stack([probs, probs]))
    loss = np.asarray(ctc.ctc_loss(targets, logits))
    assert loss.shape == (2,) and loss[0] < 2.0 < loss[1]


def test_posteriors_are_the_softmax_of_the_logits():
    probs = _hand_made([0, 5, 5, 0, 1, 1, 8, 0, 8, 8])
    logits = np.log(probs) + np.arange(10, dtype=np.float32)[:, None] * 3.0  # a constant per step changes nothing
    got = ctc.posteriors(logits)
    assert got.shape == probs.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, probs, rtol=1e-5)
    np.testing.assert_allclose(got.sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(got.argmax(axis=-1), logits.argmax(axis=-1))
    assert ctc.greedy_decode(got) == "4077"
    big = ctc.posteriors(np.array([[1000.0, 0.0] + [-1000.0] * 9]))  # no overflow for large logits
    np.testing.assert_allclose(big, np.eye(11)[[0]], atol=1e-6)
