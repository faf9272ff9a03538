"""Notebook 04's isolated-digit recognisers: training, evaluation on unseen speakers, and :func:`recognize`.

The three architectures (CNN, CRNN, Transformer) are :mod:`course_utils.models.digit_classifiers`; their
input, a 0.8 s window of normalised log-mel frames, and the augmentations are
:mod:`course_utils.digit_features`; digit strings and CTC are :mod:`course_utils.digit_strings` and
:mod:`course_utils.models.ctc`. This module trains a model (:func:`train_digit_model`, Adam with warm-up
and cosine decay), measures it on speakers it never heard (:func:`evaluate_unseen_speakers`, the
generic protocol of :func:`course_utils.evaluation.leave_one_speaker_out`), compares augmentations
(:func:`augmentation_ablation`), combines the helpful ones into a training :class:`Recipe`, and measures
recipes, with and without synthetic voices, and an ensemble of two architectures on every fold
(:func:`compare_recipes`, :func:`recipe_table`). Public
functions on raw audio: :func:`recognize` (one digit, with the model notebook 04 saved) and
:func:`pocketsphinx_digits` (and :func:`pocketsphinx_digits_batch`), the classical HMM baseline.

References
----------
* Warm-up and cosine decay: Goyal et al. 2017, "Accurate, large minibatch SGD"; Loshchilov & Hutter
  2017, "SGDR: stochastic gradient descent with warm restarts".
* Speed perturbation: Ko et al. 2015; SpecAugment: Park et al. 2019.
* Ensembles: T. G. Dietterich 2000, "Ensemble methods in machine learning".
* PocketSphinx: Huggins-Daines et al. 2006, "PocketSphinx: a free, real-time continuous speech
  recognition system for hand-held devices".
"""
from __future__ import annotations

import time
from typing import NamedTuple

import keras
import numpy as np
from keras import ops

from . import evaluation, saving
from .data import DIGIT_WORDS
from .digit_features import AUGMENTATIONS, digit_log_mel, feature_set
from .metrics import transcribe_pocketsphinx, transcribe_pocketsphinx_batch
from .models.digit_classifiers import BUILDERS

#: The runs of :func:`augmentation_ablation`: none, each augmentation alone, and the synthetic voices.
ABLATION_RUNS = ("none",) + AUGMENTATIONS + ("synthetic_voices",)


# ----------------------------------------------------------------------------- training


class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Learning-rate schedule: linear warm-up from 0 over ``warmup`` steps, then cosine decay to 1 % of ``peak``.

    The same curve as ``keras.optimizers.schedules.CosineDecay(0.0, decay_steps, warmup_target=peak,
    warmup_steps=warmup, alpha=0.01)``, with the two step counts held in variables (:attr:`warmup`,
    :attr:`decay`, assigned before each training) so one compiled training step serves data sets and
    epoch counts of any size (Loshchilov & Hutter 2017, SGDR; warm-up as in Goyal et al. 2017).

    Parameters
    ----------
    peak : float
        The learning rate at the end of the warm-up.
    """

    def __init__(self, peak: float):
        self.peak = peak
        self.warmup = keras.Variable(1.0, trainable=False, name="warmup_steps")
        self.decay = keras.Variable(1.0, trainable=False, name="decay_steps")

    def __call__(self, step):
        peak = self.peak
        step = ops.cast(step, "float32")
        progress = ops.clip((step - self.warmup) / ops.maximum(self.decay, 1.0), 0.0, 1.0)
        decayed = peak * (0.01 + 0.99 * 0.5 * (1.0 + ops.cos(np.pi * progress)))
        return ops.where(step < self.warmup, peak * step / ops.maximum(self.warmup, 1.0), decayed)

    def get_config(self):
        return {"peak": self.peak}


#: Compiled training models kept between calls of :func:`train_digit_model` (see its Notes).
_TRAINERS: dict = {}


def train_digit_model(name: str, features: np.ndarray, labels: np.ndarray, epochs: int = 20,
                      batch_size: int = 64, learning_rate: float = 3e-3, spec_augment: bool = False,
                      seed: int = 0, verbose: int = 0):
    """Build one of :data:`~course_utils.models.digit_classifiers.BUILDERS` and train it (Adam, warm-up, cosine decay).

    The learning rate (:class:`WarmupCosine`) rises linearly over the first epoch, then decays.

    Parameters
    ----------
    name : {"cnn", "crnn", "transformer"}
    features : np.ndarray, float32, shape (n, 80, 40)
        From :func:`~course_utils.digit_features.feature_set` / :func:`~course_utils.digit_features.digit_log_mel`.
    labels : np.ndarray, int, shape (n,)
        Digits 0–9.
    epochs, batch_size : int
    learning_rate : float
        Peak learning rate.
    spec_augment : bool
        Train with SpecAugment masks.
    seed : int
        Seeds the initial weights: every call with the same seed starts from the same weights.
    verbose : int
        Keras ``fit`` verbosity.

    Returns
    -------
    model : keras.Model
        A new model holding the trained weights.
    history : dict
        Per-epoch ``loss`` and ``accuracy`` on the training batches.
    seconds : float
        Training wall time.

    Raises
    ------
    KeyError
        Unknown model name.

    Notes
    -----
    Compiling a Keras model's training step (tracing it into a TensorFlow graph) takes
    about 10 s for the transformer on a 2-core CPU, as long as several epochs, and
    leave-one-speaker-out trains the same architecture again and again. So the first
    call for an architecture compiles a training model and keeps it; later calls with
    the same architecture, seed and learning rate reset its weights and random-number
    states to the initial ones and its optimizer (moments, step count, schedule) to zero,
    and train that: the same training as a new model, about 5–10 s sooner. Each call
    returns a fresh copy, so models returned earlier never change.
    """
    if name not in BUILDERS:
        raise KeyError(f"unknown model {name!r}; known: {sorted(BUILDERS)}")
    key = (name, features.shape[1:], spec_augment, learning_rate, seed)
    if key not in _TRAINERS:
        keras.utils.set_random_seed(seed)
        model = BUILDERS[name](n_frames=features.shape[1], n_mels=features.shape[2], spec_augment=spec_augment)
        schedule = WarmupCosine(learning_rate)
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        _TRAINERS[key] = (model, schedule, [v.numpy() for v in model.variables])
    model, schedule, initial = _TRAINERS[key]
    keras.utils.set_random_seed(seed)  # the shuffling order
    for variable, value in zip(model.variables, initial):  # weights, and the dropout / SpecAugment RNG states
        variable.assign(value)
    for variable in model.optimizer.variables:  # Adam's moments and the step count
        variable.assign(np.zeros(variable.shape, variable.dtype))
    per_epoch = int(np.ceil(len(features) / batch_size))
    schedule.warmup.assign(float(per_epoch))
    schedule.decay.assign(float(max(1, (epochs - 1) * per_epoch)))
    start = time.perf_counter()
    history = model.fit(features, np.asarray(labels, np.int64), batch_size=batch_size, epochs=epochs,
                        shuffle=True, verbose=verbose)
    seconds = time.perf_counter() - start
    trained = BUILDERS[name](n_frames=features.shape[1], n_mels=features.shape[2], spec_augment=spec_augment)
    trained.set_weights(model.get_weights())
    return trained, history.history, seconds


def latency_ms(model, features: np.ndarray, repeats: int = 20) -> float:
    """Inference latency per clip: median wall time of ``predict_on_batch`` on one clip, after a warm-up.

    Parameters
    ----------
    model : keras.Model
    features : np.ndarray, float32, shape (n, 80, 40)
        The first row is used.
    repeats : int

    Returns
    -------
    float
        Milliseconds.
    """
    x = features[:1]
    model.predict_on_batch(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_on_batch(x)
        times.append(time.perf_counter() - start)
    return 1000.0 * float(np.median(times))


def _training_data(features, labels, source, rows, extra=None):
    """The training rows ``features[rows]`` with their clips' labels, plus ``extra`` (features, labels) if given."""
    x, y = features[rows], labels[source[rows]]
    if extra is not None:
        x, y = np.concatenate([x, extra[0]]), np.concatenate([y, extra[1]])
    return x, y


# ----------------------------------------------------------------------------- evaluation on unseen speakers


def evaluate_unseen_speakers(name: str, features: np.ndarray, labels: np.ndarray, speakers: np.ndarray,
                             source: np.ndarray, test_features: np.ndarray | None = None, groups=None,
                             extra=None, verbose: bool = True, **train_kwargs) -> dict:
    """Leave-one-speaker-out accuracy of one architecture (:func:`course_utils.evaluation.leave_one_speaker_out`).

    Each fold trains a fresh model with :func:`train_digit_model` on the rows of every speaker not held
    out, and predicts the clean features of the held-out speaker's clips.

    Parameters
    ----------
    name : str
        A key of :data:`~course_utils.models.digit_classifiers.BUILDERS`.
    features : np.ndarray, float32, shape (m, 80, 40)
        Training rows (originals and augmented copies) from :func:`~course_utils.digit_features.feature_set`.
    labels, speakers : np.ndarray, shape (n,)
        Digit and speaker of each *clip*.
    source : np.ndarray, int, shape (m,)
        Clip index of each feature row.
    test_features : np.ndarray, shape (n, 80, 40), optional
        Clean features of each clip (default: the first ``n`` rows of ``features``).
    groups : list of list of str, optional
        Speakers held out together in each fold (default: each speaker alone;
        :func:`course_utils.evaluation.speaker_halves` gives a cheaper two-fold split).
    extra : tuple (features, labels), optional
        Rows added to the training data of every fold and never tested on — e.g.
        synthetic speakers (:func:`course_utils.data.fallback.synthetic_spoken_digits`
        through :func:`~course_utils.digit_features.digit_log_mel`): float32 ``(m, 80, 40)`` and int ``(m,)``.
    verbose : bool
        Print one line per fold.
    **train_kwargs
        Passed to :func:`train_digit_model` (epochs, spec_augment, seed…).

    Returns
    -------
    dict
        As :func:`course_utils.evaluation.leave_one_speaker_out`: ``accuracy`` (held-out speaker(s) ->
        accuracy; groups are joined with "+"), ``mean``, ``worst``, ``pred`` (the held-out prediction of
        every clip, int64 ``(n,)``), ``scores`` (the held-out softmax probabilities of every clip, float32
        ``(n, 10)``) and ``seconds`` (total training time).
    """
    labels, speakers = np.asarray(labels), np.asarray(speakers)
    test_features = features[:len(labels)] if test_features is None else test_features

    def fit_predict(held_out, test):
        x, y = _training_data(features, labels, source, ~np.isin(speakers[source], held_out), extra)
        model, _, seconds = train_digit_model(name, x, y, **train_kwargs)
        return model.predict(test_features[test], batch_size=256, verbose=0), seconds  # softmax probabilities

    return evaluation.leave_one_speaker_out(labels, speakers, fit_predict, groups=groups, verbose=verbose,
                                            name=name)


# ----------------------------------------------------------------------------- augmentation: ablation and recipe


def augmentation_ablation(name: str, digits, features: np.ndarray, source: np.ndarray, epochs: int, *,
                          voices=None, voice_features: np.ndarray | None = None, groups=None, seed: int = 0,
                          verbose: bool = True) -> dict:
    """Each augmentation alone against none, measured on unseen speakers: the runs of :data:`ABLATION_RUNS`.

    Every run trains ``name`` with :func:`evaluate_unseen_speakers` on the same folds (default: the
    two :func:`course_utils.evaluation.speaker_halves`) and tests on the clean features. ``"none"`` and
    ``"specaugment"`` (a layer of the model) train on the clean rows for ``epochs``; a waveform
    augmentation trains on every clip plus one perturbed copy, and ``"synthetic_voices"`` on the clean
    rows plus the synthetic speakers, both for half the epochs — so every run makes about as many steps.

    Parameters
    ----------
    name : str
        A key of :data:`~course_utils.models.digit_classifiers.BUILDERS`.
    digits : course_utils.data.SpokenDigits
        The real clips (waveforms, labels, speakers, sample rate in Hz).
    features : np.ndarray, float32, shape (n, 80, 40)
        Clean :func:`~course_utils.digit_features.digit_log_mel` features of every clip.
    source : np.ndarray, int, shape (n,)
        Clip index of each row of ``features``.
    epochs : int
        Epochs of the clean runs.
    voices : course_utils.data.SpokenDigits, optional
        Synthetic speakers for the ``"synthetic_voices"`` run (skipped without them).
    voice_features : np.ndarray, float32, shape (len(voices), 80, 40), optional
        Their features.
    groups : list of list of str, optional
        The folds.
    seed : int
        Seeds the augmented copies and the training.
    verbose : bool
        Print one line per run.

    Returns
    -------
    dict
        Run name -> mean accuracy on the held-out speakers, ``"none"`` first.
    """
    groups = evaluation.speaker_halves(digits.speakers) if groups is None else groups
    effect = {}
    for kind in ABLATION_RUNS:
        extra, run_features, run_source, run_epochs = None, features, source, max(1, epochs // 2)
        if kind in ("none", "specaugment"):
            run_epochs = epochs
        elif kind == "synthetic_voices":
            if voices is None:
                continue
            extra = (voice_features, voices.labels)
        else:
            run_features, run_source = feature_set(digits.waveforms, digits.sample_rate, kinds=[kind], copies=1,
                                                   seed=seed)
        r = evaluate_unseen_speakers(name, run_features, digits.labels, digits.speakers, run_source,
                                     test_features=features, groups=groups, epochs=run_epochs,
                                     spec_augment=kind == "specaugment", extra=extra, seed=seed, verbose=False)
        effect[kind] = r["mean"]
        if verbose:
            print(f"{kind:>12}: accuracy on unseen speakers {r['mean']:.3f} ({r['mean'] - effect['none']:+.3f})",
                  flush=True)
    return effect


class Recipe(NamedTuple):
    """How to train the final isolated-digit model: architecture, training rows, epochs, extras."""

    #: Architecture, a key of :data:`~course_utils.models.digit_classifiers.BUILDERS`.
    name: str
    #: The augmentations used (names of :data:`~course_utils.digit_features.AUGMENTATIONS`).
    kinds: tuple
    #: Training rows, float32 ``(m, 80, 40)``: every clip, then its augmented copies.
    features: np.ndarray
    #: Clip index of each row, int64 ``(m,)``.
    source: np.ndarray
    epochs: int
    #: Train with a SpecAugment layer.
    spec_augment: bool
    #: ``(features, labels)`` of synthetic speakers added to the training data, or None.
    extra: tuple | None
    #: One line for the results, e.g. ``"transformer, clean + 1× noise+pitch + 8 synthetic voices"``.
    description: str


def plain_recipe(name: str, features: np.ndarray, source: np.ndarray, epochs: int) -> Recipe:
    """The recipe without augmentation: the clean rows ``features`` (clip index ``source``) for ``epochs``.

    The baseline :class:`Recipe` that :func:`recipe_from_ablation`'s recipes are compared with: no
    augmentation, no SpecAugment layer, no synthetic speakers.

    Parameters
    ----------
    name : str
        Architecture, a key of :data:`~course_utils.models.digit_classifiers.BUILDERS` (not checked
        here; training raises ``KeyError`` for an unknown one).
    features : np.ndarray, float32, shape (m, 80, 40)
        The training rows, e.g. clean :func:`~course_utils.digit_features.digit_log_mel` features of
        every clip.
    source : np.ndarray, int, shape (m,)
        Clip index of each row of ``features``.
    epochs : int
        Training epochs.

    Returns
    -------
    Recipe
        ``kinds=()``, ``spec_augment=False``, ``extra=None`` and the description
        ``"<name>, no augmentation"``; ``features`` and ``source`` are kept as given (not copied).
    """
    return Recipe(name, (), features, source, epochs, False, None, f"{name}, no augmentation")


def recipe_from_ablation(name: str, digits, effect: dict, *, epochs: int, copies: int = 1, seed: int = 0) -> Recipe:
    """Combine the waveform augmentations that helped in :func:`augmentation_ablation` into one training recipe.

    Every augmentation whose run beat ``"none"`` is applied together to each of ``copies`` perturbed
    copies of every clip (:func:`~course_utils.digit_features.feature_set`). The synthetic voices are
    not decided here: the two-fold ablation trains on half the speakers, and whether more voices help
    a model that already hears five real ones is measured on all folds by :func:`compare_recipes`
    (add them with :func:`with_voices`).

    Parameters
    ----------
    name : str
        Architecture, a key of :data:`~course_utils.models.digit_classifiers.BUILDERS`.
    digits : course_utils.data.SpokenDigits
    effect : dict
        Run name -> accuracy, from :func:`augmentation_ablation`.
    epochs, copies : int
    seed : int
        Seeds the augmented copies.

    Returns
    -------
    Recipe
        Without extra data; described as e.g. ``"crnn, clean + 1× noise+gain"``.
    """
    kinds = tuple(k for k in AUGMENTATIONS if k in effect and effect[k] > effect["none"])
    features, source = feature_set(digits.waveforms, digits.sample_rate, kinds=kinds, copies=copies, seed=seed)
    return Recipe(name, kinds, features, source, epochs, "specaugment" in kinds, None,
                  f"{name}, clean + {copies}× {'+'.join(kinds) or 'repeat'}")


def with_architecture(recipe: Recipe, name: str) -> Recipe:
    """The same training rows, epochs and extras for another architecture (the features are shared, not copied).

    Parameters
    ----------
    recipe : Recipe
    name : str
        A key of :data:`~course_utils.models.digit_classifiers.BUILDERS`.

    Returns
    -------
    Recipe
        With ``name`` and a description that starts with it.

    Raises
    ------
    KeyError
        ``name`` is not a known architecture.
    """
    if name not in BUILDERS:
        raise KeyError(f"unknown model {name!r}; known: {sorted(BUILDERS)}")
    return recipe._replace(name=name, description=name + recipe.description[len(recipe.name):])


def with_voices(recipe: Recipe, voices, voice_features: np.ndarray) -> Recipe:
    """The recipe with synthetic speakers' clips added to the training data of every fold (never tested on).

    Parameters
    ----------
    recipe : Recipe
    voices : course_utils.data.SpokenDigits
        Synthetic speakers, e.g. :func:`course_utils.data.fallback.synthetic_spoken_digits` with
        :func:`course_utils.data.fallback.espeak_digit_voices`; their ``labels`` (int, shape ``(m,)``) are used.
    voice_features : np.ndarray, float32, shape (m, 80, 40)
        Their :func:`~course_utils.digit_features.digit_log_mel` features.

    Returns
    -------
    Recipe
        ``extra=(voice_features, voices.labels)``; the description ends in ``" + <k> synthetic voices"``.

    Raises
    ------
    ValueError
        ``voice_features`` and ``voices`` differ in length.
    """
    if len(voice_features) != len(voices.labels):
        raise ValueError(f"voice_features has {len(voice_features)} rows for {len(voices.labels)} synthetic clips")
    return recipe._replace(extra=(voice_features, np.asarray(voices.labels)),
                           description=f"{recipe.description} + {len(np.unique(voices.speakers))} synthetic voices")


def evaluate_recipe(recipe: Recipe, digits, test_features: np.ndarray, *, groups=None, seed: int = 0,
                    verbose: bool = True) -> dict:
    """:func:`evaluate_unseen_speakers` of a model trained by ``recipe``; ``test_features`` are the clean clips.

    Each fold trains the recipe's architecture on its rows (and its ``extra`` data) of the speakers not
    held out, for ``recipe.epochs`` epochs, with a SpecAugment layer if ``recipe.spec_augment``, and
    predicts the held-out speakers' clean clips.

    Parameters
    ----------
    recipe : Recipe
        From :func:`plain_recipe` or :func:`recipe_from_ablation`.
    digits : course_utils.data.SpokenDigits
        The real clips; only their ``labels`` (int, shape ``(n,)``) and ``speakers`` (str, shape
        ``(n,)``) are used, and ``recipe.source`` indexes them.
    test_features : np.ndarray, float32, shape (n, 80, 40)
        Clean :func:`~course_utils.digit_features.digit_log_mel` features of every clip, in the
        order of ``digits``.
    groups : list of list of str, optional
        Speakers held out together in each fold (default: each speaker alone;
        :func:`course_utils.evaluation.speaker_halves` gives a cheaper two-fold split).
    seed : int
        Seeds the initial weights and the shuffling of every fold.
    verbose : bool
        Print one line per fold.

    Returns
    -------
    dict
        As :func:`evaluate_unseen_speakers`: ``accuracy`` (held-out speaker(s) -> accuracy; groups are
        joined with "+"), ``mean``, ``worst``, ``pred`` (the held-out prediction of every clip, int64
        ``(n,)``) and ``seconds`` (total training time).

    Raises
    ------
    KeyError
        ``recipe.name`` is not a known architecture.
    ValueError
        Fewer than two speakers, or a group holds a speaker with no clips.
    """
    return evaluate_unseen_speakers(recipe.name, recipe.features, digits.labels, digits.speakers, recipe.source,
                                    test_features=test_features, groups=groups, epochs=recipe.epochs,
                                    spec_augment=recipe.spec_augment, extra=recipe.extra, seed=seed,
                                    verbose=verbose)


def train_recipe(recipe: Recipe, labels: np.ndarray, clips, *, seed: int = 0):
    """Train one model by ``recipe`` on the rows of the clips ``clips`` (indices) and the recipe's extra data.

    Parameters
    ----------
    recipe : Recipe
    labels : np.ndarray, int, shape (n,)
        The digit of every clip.
    clips : array-like of int
        The training clips (e.g. a random split's training part); all their rows are used.
    seed : int

    Returns
    -------
    model, history, seconds
        As :func:`train_digit_model`.
    """
    x, y = _training_data(recipe.features, np.asarray(labels), recipe.source, np.isin(recipe.source, clips),
                          recipe.extra)
    return train_digit_model(recipe.name, x, y, epochs=recipe.epochs, spec_augment=recipe.spec_augment, seed=seed)


def compare_recipes(recipes, digits, test_features: np.ndarray, *, ensemble: bool = True, seed: int = 0,
                    verbose: bool = True) -> dict:
    """Leave-one-speaker-out accuracy of several recipes, and of an ensemble of the best two architectures.

    Each recipe is measured by :func:`evaluate_recipe` on the same folds (each speaker held out once).
    The ensemble averages the held-out softmax probabilities of the best recipe of each of the two
    best architectures (Dietterich 2000, "Ensemble methods in machine learning"): it costs no more
    training here, but twice the inference and memory when deployed
    (:func:`course_utils.models.digit_classifiers.build_ensemble`).

    Parameters
    ----------
    recipes : sequence of Recipe
        With distinct descriptions.
    digits : course_utils.data.SpokenDigits
        The real clips (labels and speakers, shape ``(n,)``).
    test_features : np.ndarray, float32, shape (n, 80, 40)
        Clean features of every clip.
    ensemble : bool
        Add the ensemble (needs recipes of at least two architectures).
    seed : int
    verbose : bool
        Print one line per recipe.

    Returns
    -------
    dict
        Description -> the :func:`evaluate_recipe` result (``accuracy`` per speaker, ``mean``, ``worst``,
        ``pred``, ``scores``, ``seconds``) plus ``members``: the recipes it was trained by (one, or the
        ensemble's two). The ensemble's ``seconds`` is its members' training time.

    Raises
    ------
    ValueError
        Two recipes share a description.
    """
    recipes = list(recipes)
    if len({r.description for r in recipes}) != len(recipes):
        raise ValueError(f"recipes need distinct descriptions, got {[r.description for r in recipes]}")
    out = {}
    for recipe in recipes:
        out[recipe.description] = dict(evaluate_recipe(recipe, digits, test_features, seed=seed, verbose=False),
                                       members=[recipe])
        if verbose:
            r = out[recipe.description]
            print(f"{recipe.description}: LOSO mean {r['mean']:.3f}, worst {r['worst']:.3f} "
                  f"(trained in {r['seconds']:.0f} s)", flush=True)
    best = {}
    for description, r in sorted(out.items(), key=lambda item: -item[1]["mean"]):
        best.setdefault(r["members"][0].name, r)
    if ensemble and len(best) >= 2:
        first, second = list(best.values())[:2]
        scores = (first["scores"] + second["scores"]) / 2
        labels, speakers = np.asarray(digits.labels), np.asarray(digits.speakers)
        pred = scores.argmax(axis=1)
        accuracy = {s: float(np.mean(pred[speakers == s] == labels[speakers == s])) for s in first["accuracy"]}
        members = first["members"] + second["members"]
        out["ensemble: " + " & ".join(m.description for m in members)] = {
            "accuracy": accuracy, "mean": float(np.mean(list(accuracy.values()))),
            "worst": float(min(accuracy.values())), "pred": pred, "scores": scores,
            "seconds": first["seconds"] + second["seconds"], "members": members}
    return out


def recipe_table(results: dict) -> str:
    """A Markdown table of :func:`compare_recipes`: accuracy per held-out speaker, mean, worst fold, training time.

    Parameters
    ----------
    results : dict
        From :func:`compare_recipes` (or any description -> :func:`evaluate_recipe` result).

    Returns
    -------
    str
        One row per recipe, best mean in bold.
    """
    speakers = list(next(iter(results.values()))["accuracy"])
    best = max(results, key=lambda k: results[k]["mean"])
    lines = ["| recipe | " + " | ".join(speakers) + " | mean | worst | training, all folds |",
             "|---" * (len(speakers) + 4) + "|"]
    for description, r in results.items():
        mean = f"**{r['mean']:.3f}**" if description == best else f"{r['mean']:.3f}"
        lines.append(f"| {description} | " + " | ".join(f"{r['accuracy'][s]:.3f}" for s in speakers)
                     + f" | {mean} | {r['worst']:.3f} | {r['seconds']:.0f} s |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- public functions on raw audio


def recognize(waveform, sample_rate: int, model=None, min_confidence: float = 0.0) -> tuple[int | None, np.ndarray]:
    """Recognise one spoken digit from raw audio.

    Parameters
    ----------
    waveform : array-like, float, shape (n_samples,)
        Mono audio in [-1, 1], up to :data:`~course_utils.digit_features.MAX_DIGIT_SECONDS` (10 s); the
        speech is found by trimming silence, and a trimmed part longer than
        0.8 s keeps its centre.
    sample_rate : int
        Hz, ≥ 8000 (resampled to 8 kHz).
    model : keras.Model, optional
        An isolated-digit model (input ``(batch, 80, 40)``); default: the best
        model notebook 04 saved (``build/models/digits_best.keras``).
    min_confidence : float
        Reject the clip when the most probable digit's probability is below this (0–1): a tone,
        noise or a word that is not a digit spreads its probability over the ten classes. 0 never
        rejects.

    Returns
    -------
    digit : int or None
        0–9, or None when rejected (``probabilities.max() < min_confidence``).
    probabilities : np.ndarray, float32, shape (10,)
        The model's confidence in each digit; ``probabilities.max()`` is its confidence in ``digit``.

    Raises
    ------
    course_utils.audio.AudioError
        Not mono, empty, non-finite or silent audio, sample rate not a whole number ≥ 8000 Hz,
        or longer than 10 s.
    FileNotFoundError
        No ``model`` given and notebook 04 has not saved one.
    ValueError
        ``min_confidence`` outside [0, 1].
    """
    if not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must lie in [0, 1], got {min_confidence!r}")
    x = digit_log_mel(waveform, sample_rate)[None]
    model = saving.load_model("digits_best", "notebook 04", compile=False)[0] if model is None else model
    probs = np.asarray(model(x, training=False))[0].astype(np.float32)
    return (int(np.argmax(probs)) if probs.max() >= min_confidence else None), probs


def pocketsphinx_digits(waveform, sample_rate: int, sequence: bool = True, silprob: float | None = None) -> str:
    """The classical baseline: CMU PocketSphinx's HMM recogniser restricted to the ten digit names.

    PocketSphinx's bundled US-English acoustic model was trained on many hundreds of
    speakers and none of FSDD's, so every FSDD speaker is an unseen speaker to it. A
    JSGF grammar of the words "zero" … "nine" replaces its language model — the way
    small-vocabulary recognisers were built before neural networks.

    Parameters
    ----------
    waveform : np.ndarray, float, shape (n_samples,)
        Mono speech in [-1, 1].
    sample_rate : int
        Hz; resampled to PocketSphinx's 16000 Hz (its model saw full-band 16 kHz speech,
        so FSDD's 8 kHz recordings lack its upper 4 kHz).
    sequence : bool
        True: any number of digits (a digit string); False: exactly one digit.
    silprob : float, optional
        PocketSphinx's weight of a silence between words, > 0 (default 0.005;
        see :func:`~course_utils.metrics.transcribe_pocketsphinx`).

    Returns
    -------
    str
        The recognised digits, e.g. ``"407"`` (``""`` if nothing was recognised).

    Raises
    ------
    course_utils.audio.AudioError
        Empty, multi-channel or non-finite input.
    ValueError
        ``silprob`` ≤ 0.
    """
    return digits_from_words(transcribe_pocketsphinx(waveform, sample_rate, vocabulary=DIGIT_WORDS,
                                                     sequence=sequence, silprob=silprob))


def pocketsphinx_digits_batch(waveforms, sample_rate: int, sequence: bool = True,
                              silprob: float | None = None) -> list[str]:
    """:func:`pocketsphinx_digits` on many recordings, decoded in parallel processes.

    The processes are :func:`~course_utils.metrics.transcribe_pocketsphinx_batch`'s (which says when it
    decodes in this process instead); the digits are the same as one recording at a time.

    Parameters
    ----------
    waveforms : sequence of np.ndarray, float, shape (n_samples,)
        Mono speech in [-1, 1], all at ``sample_rate``.
    sample_rate : int
        Hz.
    sequence, silprob
        As :func:`pocketsphinx_digits`.

    Returns
    -------
    list of str
        The recognised digits of each recording, in input order (``""`` where nothing was recognised).

    Raises
    ------
    course_utils.audio.AudioError
        An empty, multi-channel or non-finite recording.
    ValueError
        ``silprob`` ≤ 0.
    """
    return [digits_from_words(words) for words in transcribe_pocketsphinx_batch(
        waveforms, sample_rate, vocabulary=DIGIT_WORDS, sequence=sequence, silprob=silprob)]


def digits_from_words(text: str) -> str:
    """The digits named in a transcript of digit names: ``"four zero seven"`` → ``"407"``.

    Parameters
    ----------
    text : str
        Words of :data:`~course_utils.data.DIGIT_WORDS`, separated by spaces (PocketSphinx's output
        with the digit grammar).

    Returns
    -------
    str
        One character per word (``""`` for no words).

    Raises
    ------
    ValueError
        A word that is not a digit name.
    """
    words = text.split()
    unknown = [w for w in words if w not in DIGIT_WORDS]
    if unknown:
        raise ValueError(f"not digit names: {unknown} in {text!r}")
    return "".join(str(DIGIT_WORDS.index(w)) for w in words)
