"""Topic 1 — processing: a CNN photo-domain classifier and an LSTM on MFCC sequences.

Models follow the keras-io examples' shape: one short builder function per
model, trained with ``model.fit``. Public functions on raw input
(:func:`classify_image`, :func:`recognize_digit`) let anyone try a trained model
on their own files.

References
----------
* CNN: a VGG-style stack (Simonyan & Zisserman 2015, "Very Deep Convolutional
  Networks") with batch normalisation (Ioffe & Szegedy 2015) and global
  average pooling (Lin et al. 2014, "Network in Network").
* LSTM: Hochreiter & Schmidhuber 1997; MFCC front end as in Davis &
  Mermelstein 1980, with Δ/ΔΔ (Furui 1986) and per-utterance CMVN.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .audio import mfcc, normalize_features, peak_normalize, trim_silence
from . import config, saving

#: FSDD front end: 8 kHz, 32 ms window (256 samples), 10 ms hop (80 samples), 40 mel bands, 13 MFCCs + Δ + ΔΔ.
DIGIT_SAMPLE_RATE = 8000
MFCC_PARAMS = dict(n_mfcc=13, n_fft=256, hop_length=80, n_mels=40)
MAX_FRAMES = 150  # 1.5 s at a 10 ms hop; longer clips are cropped to their centre


# ----------------------------------------------------------------------------- images


def build_image_cnn(image_size: int, n_classes: int, mean=None, variance=None, width: int = 32,
                    convs_per_block: int = 1, dropout: float = 0.3):
    """A small VGG-style CNN for RGB photos.

    Four blocks of ``[Conv 3×3 → BatchNorm → ReLU] × convs_per_block → MaxPool 2×2`` with
    ``width, 2·width, 4·width, 8·width`` filters, global average pooling,
    dropout and a softmax layer. The first layer normalises raw 0–255 pixels
    per channel, so the model takes images as they come from :func:`course_utils.images.load_image`.

    Parameters
    ----------
    image_size : int
        Input side in pixels (input shape ``(image_size, image_size, 3)``, float32 0–255).
    n_classes : int
    mean, variance : array-like, shape (3,), optional
        Per-channel statistics of the training pixels in 0–255 units
        (default: 127.5 and 127.5²).
    width : int
        Filters in the first block.
    convs_per_block : int
        Convolutions before each pooling (1 keeps training within minutes on a 2-core CPU).
    dropout : float

    Returns
    -------
    keras.Model
        Outputs class probabilities, shape ``(batch, n_classes)``.
    """
    import keras
    from keras import layers

    mean = np.full(3, 127.5) if mean is None else np.asarray(mean)
    variance = np.full(3, 127.5 ** 2) if variance is None else np.asarray(variance)
    inputs = keras.Input((image_size, image_size, 3), name="pixels")
    x = layers.Normalization(mean=mean, variance=variance, name="per_channel_norm")(inputs)
    for block, filters in enumerate([width, 2 * width, 4 * width, 8 * width]):
        for conv in range(convs_per_block):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{block}_{conv}")(x)
            x = layers.BatchNormalization(name=f"bn{block}_{conv}")(x)
            x = layers.ReLU()(x)
        x = layers.MaxPooling2D(name=f"pool{block}")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="photo_domain_cnn")


def train_image_classifier(images: np.ndarray, labels: np.ndarray, n_classes: int, epochs: int = 30,
                           batch_size: int = 32, learning_rate: float = 2e-3, seed: int = 0, verbose: int = 2):
    """Train :func:`build_image_cnn` on uint8 images with augmentation (AdamW, cosine decay).

    Parameters
    ----------
    images : np.ndarray, uint8, shape (n, size, size, 3)
    labels : np.ndarray, int, shape (n,)
    n_classes : int
    epochs, batch_size : int
    learning_rate : float
        Peak learning rate of the cosine schedule.
    seed : int
    verbose : int
        Keras ``fit`` verbosity.

    Returns
    -------
    model : keras.Model
    history : dict
        Per-epoch ``loss`` and ``accuracy`` on the training batches.
    seconds : float
        Training wall time.
    """
    import keras

    from .images import image_dataset

    pixels = np.asarray(images, np.float32)
    model = build_image_cnn(images.shape[1], n_classes, mean=pixels.mean(axis=(0, 1, 2)),
                            variance=pixels.var(axis=(0, 1, 2)))
    steps = epochs * int(np.ceil(len(images) / batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps, alpha=0.02)
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=1e-4),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(image_dataset(images, labels, batch_size, training=True, seed=seed), epochs=epochs,
                        shuffle=False, verbose=verbose)  # the tf.data pipeline shuffles
    return model, history.history, time.perf_counter() - start


def classify_image(image, model=None, class_names=None) -> tuple[str, dict]:
    """Classify one photo with a trained photo-domain model.

    Parameters
    ----------
    image : PIL.Image.Image, str or pathlib.Path
        Any mode or size: it is converted to RGB, EXIF-rotated and
        centre-cropped to the model's input size (:func:`course_utils.images.load_image`).
    model : keras.Model, optional
        From :func:`train_image_classifier`; by default the model notebook 01
        saved as ``build/models/photo_domains_cnn.keras`` (with its class names).
    class_names : sequence of str, optional
        Required when ``model`` is given.

    Returns
    -------
    name : str
        The most probable class.
    probabilities : dict
        Class name -> probability.

    Raises
    ------
    FileNotFoundError, course_utils.images.ImageError
        As :func:`course_utils.images.load_image`.
    """
    from .images import load_image

    if model is None:
        model, class_names = load_trained("photo_domains_cnn")
    elif class_names is None:
        raise ValueError("class_names is required with an explicit model")
    size = model.input_shape[1]
    x = np.asarray(load_image(image, size=size), np.float32)[None]
    probs = model.predict(x, verbose=0)[0]
    return class_names[int(np.argmax(probs))], {c: float(p) for c, p in zip(class_names, probs)}


# ----------------------------------------------------------------------------- spoken digits


def digit_features(waveform: np.ndarray, sample_rate: int) -> np.ndarray:
    """The digit recogniser's front end: trim silence, peak-normalise, MFCC+Δ+ΔΔ, CMVN.

    Parameters
    ----------
    waveform : np.ndarray, float, shape (n_samples,)
        Mono audio.
    sample_rate : int
        Hz; resampled to :data:`DIGIT_SAMPLE_RATE` (8 kHz) if different.

    Returns
    -------
    np.ndarray, float32, shape (n_frames, 39)
        Time-major (one row per 10 ms frame), at most :data:`MAX_FRAMES` frames.

    Raises
    ------
    course_utils.audio.AudioError
        Empty or silent audio.
    ValueError
        ``waveform`` is not one-dimensional (e.g. stereo: average the channels first).
    """
    import librosa

    y = np.asarray(waveform, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"expected mono audio of shape (n_samples,), got shape {y.shape}; "
                         "average the channels first (load_audio(..., mono=True))")
    if sample_rate != DIGIT_SAMPLE_RATE:
        y = librosa.resample(y, orig_sr=sample_rate, target_sr=DIGIT_SAMPLE_RATE, res_type="soxr_hq")
    y = peak_normalize(trim_silence(y, top_db=30))
    feats = normalize_features(mfcc(y, DIGIT_SAMPLE_RATE, **MFCC_PARAMS), axis=1).T
    if len(feats) > MAX_FRAMES:
        start = (len(feats) - MAX_FRAMES) // 2
        feats = feats[start:start + MAX_FRAMES]
    return feats


def pad_batch(sequences) -> np.ndarray:
    """Zero-pad variable-length ``(n_frames, n_features)`` sequences to one array.

    Returns
    -------
    np.ndarray, float32, shape (batch, max_frames, n_features)
        Padding is zeros after the end (the LSTM's ``Masking`` layer skips them).
    """
    import keras

    return keras.utils.pad_sequences(list(sequences), padding="post", dtype="float32", value=0.0)


def build_mfcc_lstm(n_features: int = 39, n_classes: int = 10, units: int = 64, n_layers: int = 1,
                    dropout: float = 0.3):
    """A bidirectional LSTM over MFCC frames for isolated-word recognition.

    ``Masking → BiLSTM(units) × n_layers → Dropout → Dense(softmax)``; the last
    layer returns only its final state (both directions), earlier ones whole sequences.

    Parameters
    ----------
    n_features : int
        Features per frame (39 = 13 MFCC + Δ + ΔΔ).
    n_classes : int
    units : int
        LSTM cells per direction.
    n_layers : int
        Stacked BiLSTM layers (one trains in about a minute per fold on a 2-core CPU).
    dropout : float

    Returns
    -------
    keras.Model
        Input ``(batch, n_frames, n_features)`` float32, zero-padded;
        output class probabilities ``(batch, n_classes)``.
    """
    import keras
    from keras import layers

    inputs = keras.Input((None, n_features), name="mfcc_frames")
    x = layers.Masking(mask_value=0.0)(inputs)
    for i in range(n_layers):
        x = layers.Bidirectional(layers.LSTM(units, return_sequences=i < n_layers - 1), name=f"bilstm{i + 1}")(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="mfcc_lstm")


def augment_waveform(y: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Random speed (±20 %) and gain (±6 dB) perturbation plus light noise, for speaker robustness.

    Speed perturbation follows Ko et al. 2015, "Audio augmentation for speech recognition".

    Returns
    -------
    np.ndarray, float32
    """
    import librosa

    rate = rng.uniform(0.8, 1.2)
    y = librosa.resample(y, orig_sr=sample_rate, target_sr=int(sample_rate / rate), res_type="soxr_hq")
    y = y * 10 ** (rng.uniform(-6, 6) / 20)
    return (y + rng.normal(0, 10 ** (rng.uniform(-4, -2.5)), size=y.shape)).astype(np.float32)


def digit_feature_set(waveforms, sample_rate: int, augment_copies: int = 0, seed: int = 0):
    """Features of many clips, optionally with ``augment_copies`` perturbed copies of each.

    Returns
    -------
    features : list of np.ndarray, float32, (n_frames, 39)
    source : np.ndarray, int64
        Index of the original clip each feature sequence comes from.
    """
    rng = np.random.default_rng(seed)
    feats, source = [], []
    for i, y in enumerate(waveforms):
        feats.append(digit_features(y, sample_rate))
        source.append(i)
        for _ in range(augment_copies):
            feats.append(digit_features(augment_waveform(y, sample_rate, rng), sample_rate))
            source.append(i)
    return feats, np.asarray(source, np.int64)


def train_digit_lstm(features, labels: np.ndarray, epochs: int = 25, batch_size: int = 64,
                     learning_rate: float = 3e-3, seed: int = 0, verbose: int = 0):
    """Train :func:`build_mfcc_lstm` on MFCC sequences (Adam, cosine decay).

    Parameters
    ----------
    features : list of np.ndarray, float32, (n_frames, n_features)
        From :func:`digit_features`.
    labels : np.ndarray, int, shape (n,)
    epochs, batch_size : int
    learning_rate : float
    seed : int
    verbose : int

    Returns
    -------
    model : keras.Model
    history : dict
    seconds : float
        Training wall time.
    """
    import keras

    keras.utils.set_random_seed(seed)
    x, y = pad_batch(features), np.asarray(labels, np.int64)
    model = build_mfcc_lstm(x.shape[-1], 10)
    steps = epochs * int(np.ceil(len(x) / batch_size))
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(learning_rate, steps)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=verbose)
    return model, history.history, time.perf_counter() - start


def predict_digits(model, features, batch_size: int = 256) -> np.ndarray:
    """Class probabilities for a list of MFCC sequences: float32 array ``(n, 10)``.

    Calls the model directly in batches (not ``model.predict``), so sequences of
    new lengths do not trigger a ``tf.function`` retrace each time.
    """
    features = list(features)
    out = [np.asarray(model(pad_batch(features[i:i + batch_size]), training=False))
           for i in range(0, len(features), batch_size)]
    return np.concatenate(out, axis=0)


def lstm_leave_one_speaker_out(digits, features, epochs: int = 15, augment_copies: int = 2, extra=None,
                               seed: int = 0, verbose: bool = True) -> dict:
    """Leave-one-speaker-out evaluation of the MFCC LSTM: for each speaker, train on the others, test on them.

    Parameters
    ----------
    digits : course_utils.data.SpokenDigits
        Real clips with ``waveforms``, ``labels``, ``speakers`` and ``sample_rate`` (Hz).
    features : list of np.ndarray, float32, (n_frames, 39)
        :func:`digit_features` of every clip (the clean test inputs).
    epochs, augment_copies : int
        As in :func:`train_digit_lstm` and :func:`digit_feature_set`.
    extra : tuple (features, labels), optional
        Extra training sequences added to every fold — e.g. synthetic speakers from
        :func:`course_utils.fallback.synthetic_spoken_digits`. They are never tested on.
    seed : int
    verbose : bool
        Print one line per fold.

    Returns
    -------
    dict
        ``accuracy`` (speaker -> accuracy on that speaker's clips), ``mean``,
        ``pred`` (held-out prediction of every clip, int64 ``(n,)``) and
        ``seconds`` (total training time).
    """
    extra_feats, extra_labels = ([], np.zeros(0, np.int64)) if extra is None else (list(extra[0]),
                                                                                   np.asarray(extra[1], np.int64))
    pred = np.zeros(len(digits.labels), np.int64)
    accuracy, total = {}, 0.0
    for speaker in sorted(set(digits.speakers.tolist())):
        train_i = np.where(digits.speakers != speaker)[0]
        test_i = np.where(digits.speakers == speaker)[0]
        feats, source = digit_feature_set([digits.waveforms[k] for k in train_i], digits.sample_rate,
                                          augment_copies=augment_copies, seed=seed)
        labels = np.concatenate([digits.labels[train_i][source], extra_labels])
        model, _, seconds = train_digit_lstm(list(feats) + extra_feats, labels, epochs=epochs, seed=seed)
        pred[test_i] = predict_digits(model, [features[k] for k in test_i]).argmax(axis=1)
        accuracy[speaker] = float(np.mean(pred[test_i] == digits.labels[test_i]))
        total += seconds
        if verbose:
            print(f"held out {speaker:>10}: accuracy {accuracy[speaker]:.3f} ({len(test_i)} clips, "
                  f"{len(labels)} training sequences, {seconds:.0f} s)", flush=True)
    return {"accuracy": accuracy, "mean": float(np.mean(list(accuracy.values()))), "pred": pred, "seconds": total}


def recognize_digit(waveform: np.ndarray, sample_rate: int, model=None) -> tuple[int, np.ndarray]:
    """Recognise one spoken digit from a raw waveform.

    Parameters
    ----------
    waveform : np.ndarray, float, shape (n_samples,)
        Mono audio in [-1, 1]; any length up to a few seconds (longer audio is
        cropped to its central 1.5 s of speech after trimming silence).
    sample_rate : int
        Hz (resampled to 8 kHz).
    model : keras.Model, optional
        From :func:`train_digit_lstm`; by default the model notebook 01 saved
        as ``build/models/fsdd_lstm.keras``.

    Returns
    -------
    digit : int
    probabilities : np.ndarray, float32, shape (10,)

    Raises
    ------
    course_utils.audio.AudioError
        Empty or silent audio.
    ValueError
        Not mono.
    """
    if model is None:
        model, _ = load_trained("fsdd_lstm")
    probs = predict_digits(model, [digit_features(waveform, sample_rate)])[0]
    return int(np.argmax(probs)), probs


# ----------------------------------------------------------------------------- saving


def save_trained(model, name: str, class_names) -> Path:
    """Save a trained model and its class names as ``<build>/models/<name>.keras`` + ``.json`` (atomically).

    Returns
    -------
    pathlib.Path
        The ``.keras`` file (see :func:`course_utils.saving.save_model`).
    """
    return saving.save_model(model, name, {"class_names": list(class_names)})


def load_trained(name: str):
    """Load a model saved by :func:`save_trained`.

    Returns
    -------
    model : keras.Model
    class_names : list of str

    Raises
    ------
    FileNotFoundError
        Naming the file and the notebook that writes it; also when the model's ``<name>.json``
        (its class names) is missing.
    """
    model, meta = saving.load_model(name, "notebook 01")
    if not meta or "class_names" not in meta:
        raise FileNotFoundError(f"{config.build_dir('models') / (name + '.json')}: the class names saved with model "
                                f"'{name}' are missing — run notebook 01 (or `make course`) again")
    return model, meta["class_names"]
