"""Notebook 05, part 2 — Tacotron-style text-to-speech with a Griffin-Lim vocoder: the lesson on attention.

The voice that :func:`course_utils.tts.synthesize` speaks with is the duration model of :mod:`course_utils.tts`;
this Tacotron stays in the course to teach how attention learns an alignment.

The network is :class:`course_utils.models.tacotron.Tacotron` (Wang et al. 2017, Shen et al. 2018:
character embedding, conv + BiLSTM encoder, location-sensitive attention, an autoregressive LSTM
decoder with prenet, reduction factor and stop token, a postnet, and the guided attention loss).
Here, around it:

* **text** — lower-case characters, a few punctuation marks and an end-of-sentence symbol
  (:func:`normalize_text`, :func:`text_to_ids`, :func:`split_text`);
* **audio ↔ mel** — the model's normalised log-mel target (:func:`mel_spectrogram`) and back to a
  waveform with Griffin-Lim (Griffin & Lim 1984; :func:`mel_to_waveform` → :func:`course_utils.audio.griffin_lim`);
* **training** — teacher forcing in stages (:func:`train_tts`, :func:`train_stages`, :data:`TRAINING_STAGES`);
* **weights** — :func:`save_tts` / :func:`load_tts` (float16, :func:`course_utils.saving.save_weights`).

Shipped weights (``course_utils/weights/tts_slt.npz``, float16) were trained by the
project's own script on CMU ARCTIC ``slt`` (all but the held-out sentences), in the
stages of :data:`TRAINING_STAGES`, which this command replays from scratch::

    python scripts/train_synthesis.py tacotron

Public function on raw input: :func:`synthesize`.
"""
from __future__ import annotations

import re
import unicodedata
import warnings
from pathlib import Path

import numpy as np

from . import audio, saving, training
from .models import tacotron

# ----------------------------------------------------------------------------- text

PAD, EOS = "_", "~"
#: Index 0 is padding, 1 the end-of-sentence symbol.
SYMBOLS = PAD + EOS + " abcdefghijklmnopqrstuvwxyz'.,?!-"
SYMBOL_ID = {s: i for i, s in enumerate(SYMBOLS)}
#: Longest text (characters) synthesised in one pass; longer text is split at punctuation/spaces.
MAX_CHARS = 120


# The one error for text that cannot be spoken (also raised by the phoneme front end).
from .text import TextError  # noqa: E402


#: Typographic punctuation mapped to the ASCII the model reads (anything else outside ASCII is an error).
_TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                             "\u2014": "-", "\u2026": "...", "\u00a0": " "})


def normalize_text(text: str) -> str:
    """Lower-case, strip accents, map ``;:`` to commas and drop quotes and brackets.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        Only characters of :data:`SYMBOLS` (without pad/EOS), single spaces.

    Raises
    ------
    TextError
        Not a str, empty or only punctuation, digits (spell numbers out: "twenty one"), or
        characters without a symbol — emoji, symbols, non-Latin scripts (the message lists them;
        nothing is dropped silently). Accents are removed (é → e) and typographic quotes and
        dashes mapped to ASCII.
    """
    if not isinstance(text, str):
        raise TextError(f"text must be a str, got {type(text).__name__}")
    text = unicodedata.normalize("NFKD", text.translate(_TYPOGRAPHY))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()  # é -> e, ñ -> n
    foreign = sorted({c for c in text if ord(c) > 127})
    if foreign:
        shown = "".join(foreign[:10]) + ("…" if len(foreign) > 10 else "")
        raise TextError(f"characters the model cannot read: {shown!r} (emoji, symbols or a non-Latin script); "
                        "write the text in English words")
    text = re.sub(r"[;:]", ",", text)
    text = re.sub(r"[\"()\[\]{}`]", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    if not re.search(r"[a-z]", text):
        raise TextError("text is empty or has no letters the model can read"
                        + (f" (got {text[:40]!r})" if text else ""))
    unknown = sorted(set(text) - set(SYMBOLS[2:]))
    if unknown:
        hint = " — spell numbers out in words" if any(c.isdigit() for c in unknown) else ""
        raise TextError(f"characters the model has no symbol for: {unknown}{hint}")
    return text


def text_to_ids(text: str) -> np.ndarray:
    """Normalised text → int32 symbol ids ending with the end-of-sentence id (1).

    Raises
    ------
    TextError
        As :func:`normalize_text`.
    """
    return np.array([SYMBOL_ID[c] for c in normalize_text(text)] + [SYMBOL_ID[EOS]], np.int32)


def split_text(text: str, max_chars: int = MAX_CHARS) -> list[str]:
    """Split long text into chunks of at most ``max_chars``, at sentence ends, commas, then spaces."""
    text = normalize_text(text)
    chunks: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        while len(sentence) > max_chars:
            cut = max(sentence.rfind(", ", 0, max_chars), sentence.rfind(" ", 0, max_chars))
            cut = cut if cut > 0 else max_chars - 1
            chunks.append(sentence[:cut + 1].strip())
            sentence = sentence[cut + 1:].strip()
        if sentence:
            chunks.append(sentence)
    return chunks


# ----------------------------------------------------------------------------- audio ↔ mel

SAMPLE_RATE = 16000
#: STFT: 50 ms window (800 samples), 12.5 ms hop (200 samples), FFT 1024; 80 mel bands 55–7600 Hz.
MEL = dict(n_fft=1024, hop_length=200, win_length=800, n_mels=80, fmin=55.0, fmax=7600.0)
REF_DB, MIN_DB = 20.0, -100.0


def mel_spectrogram(waveform: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Normalised log-mel spectrogram, the model's target.

    Magnitude mel spectrogram (:data:`MEL`) → dB → shifted by :data:`REF_DB` and scaled
    from [:data:`MIN_DB`, 0] dB to [0, 1] (Tacotron's normalisation, keithito/tacotron).

    Parameters
    ----------
    waveform : np.ndarray, float, shape (n_samples,)
    sample_rate : int
        Must be :data:`SAMPLE_RATE` (resample first).

    Returns
    -------
    np.ndarray, float32, shape (n_frames, 80)
        Time-major, values in [0, 1].
    """
    import librosa

    if sample_rate != SAMPLE_RATE:
        raise ValueError(f"expected {SAMPLE_RATE} Hz audio, got {sample_rate} Hz (resample first)")
    mel = librosa.feature.melspectrogram(y=np.asarray(waveform, np.float32), sr=sample_rate, power=1.0, **MEL)
    db = 20 * np.log10(np.maximum(mel, 1e-5)) - REF_DB
    return np.clip((db - MIN_DB) / -MIN_DB, 0, 1).T.astype(np.float32)


def mel_to_waveform(mel: np.ndarray, n_iter: int = 60, power: float = 1.5, seed: int = 0) -> np.ndarray:
    """Waveform from a normalised mel spectrogram: undo :func:`mel_spectrogram`'s scaling, then Griffin-Lim.

    Parameters
    ----------
    mel : np.ndarray, float, shape (n_frames, 80)
        As :func:`mel_spectrogram` returns (or the model predicts).
    n_iter : int
        Griffin-Lim iterations.
    power : float
        Magnitudes are raised to this power before phase reconstruction, which
        reduces artefacts (1.5 in Tacotron).
    seed : int
        Seed of the random initial phase, so the same mel spectrogram always gives the same
        waveform and the scores repeat.

    Returns
    -------
    np.ndarray, float32, shape (n_samples,)
        At :data:`SAMPLE_RATE` (:func:`course_utils.audio.griffin_lim`).
    """
    db = np.clip(np.asarray(mel, np.float32), 0, 1).T * -MIN_DB + MIN_DB + REF_DB
    magnitude = np.power(10.0, db / 20.0) ** power
    return audio.griffin_lim(magnitude, SAMPLE_RATE, MEL["n_fft"], MEL["hop_length"], win_length=MEL["win_length"],
                             fmin=MEL["fmin"], fmax=MEL["fmax"], power=1.0, n_iter=n_iter, seed=seed)


def prepare_utterance(waveform: np.ndarray, sample_rate: int, top_db: float = 35.0) -> np.ndarray:
    """Check and resample to 16 kHz (:func:`course_utils.audio.check_waveform`), trim leading/trailing silence.

    Raises
    ------
    course_utils.audio.AudioError
        Not a mono float waveform, empty or non-finite.
    """
    y = audio.check_waveform(waveform, sample_rate, name="recording", target_rate=SAMPLE_RATE)
    y = audio.trim_silence(y, top_db=top_db, frame_length=800, hop_length=200)
    return y


# ----------------------------------------------------------------------------- model


def build_tts(**hp) -> tacotron.Tacotron:
    """A new Tacotron-style model for this module's character set (:data:`SYMBOLS`), built and ready to train.

    Parameters
    ----------
    **hp
        Overrides of :data:`course_utils.models.tacotron.DEFAULT_HPARAMS` (``reduction``, LSTM sizes…)
        and ``ga_weight``.

    Returns
    -------
    course_utils.models.tacotron.Tacotron
    """
    return tacotron.build_tacotron(len(SYMBOLS), **hp)


# ----------------------------------------------------------------------------- data and training


def holdout_split(ids, n_test: int = 10):
    """Hold out the last ``n_test`` utterances (sorted ids), e.g. ``arctic_a0241``–``a0250`` of the mirror.

    Returns
    -------
    train_ids, test_ids : list of str
    """
    ids = sorted(ids)
    if len(ids) <= n_test:
        raise ValueError(f"need more than {n_test} utterances to hold out {n_test}, got {len(ids)}")
    return ids[:-n_test], ids[-n_test:]


#: The last id the shipped Tacotron trained on: it learnt from ``arctic_a0001``–``a0240`` (the mirror held
#: a0001–a0250 then, the last ten held out), so only later ids are sentences it never heard.
TRAINED_THROUGH = "arctic_a0240"


def make_batch_arrays(texts, waveforms, sample_rate: int, reduction: int):
    """Padded training arrays from texts and waveforms (one fixed shape, so training traces once).

    Returns
    -------
    text_ids : np.ndarray, int32, (n, N)
    dec_inputs : np.ndarray, float32, (n, steps, 80)
        Teacher forcing: the last true frame of the previous decoder step.
    mels : np.ndarray, float32, (n, steps·r, 80)
    mel_len : np.ndarray, int32, (n,)
    """
    ids = [text_to_ids(t) for t in texts]
    mels = [mel_spectrogram(prepare_utterance(y, sample_rate)) for y in waveforms]
    n_text = max(len(i) for i in ids)
    n_frames = int(np.ceil(max(len(m) for m in mels) / reduction) * reduction)
    text_arr = np.zeros((len(ids), n_text), np.int32)
    mel_arr = np.zeros((len(ids), n_frames, mels[0].shape[1]), np.float32)
    for i, (t, m) in enumerate(zip(ids, mels)):
        text_arr[i, :len(t)] = t
        mel_arr[i, :len(m)] = m
    dec_in = np.concatenate([np.zeros_like(mel_arr[:, :1]), mel_arr[:, reduction - 1:-1:reduction]], axis=1)
    return text_arr, dec_in, mel_arr, np.array([len(m) for m in mels], np.int32)


def train_tts(texts, waveforms, sample_rate: int = SAMPLE_RATE, epochs: int = 100, batch_size: int = 16,
              learning_rate: float = 1e-3, model=None, seed: int = 0, minutes: float | None = None,
              checkpoint=None, verbose: int = 1, decay_epochs: int | None = None, **hp):
    """Train the TTS model with teacher forcing (Adam, learning rate decayed ×0.1 over ``decay_epochs``).

    Parameters
    ----------
    texts : sequence of str
    waveforms : sequence of np.ndarray, float32, (n_samples,)
        The recordings of ``texts`` (silence is trimmed here).
    sample_rate : int
    epochs, batch_size : int
    learning_rate : float
    model : keras.Model, optional
        Continue training this model (e.g. the shipped weights); default: :func:`build_tts` with ``**hp``.
    seed : int
    minutes : float, optional
        Stop after the first epoch that ends past this wall time.
    checkpoint : callable, optional
        ``checkpoint(model, epoch)`` after every epoch.
    verbose : int
    decay_epochs : int, optional
        Epochs over which the learning rate falls to a tenth (exponentially); default ``epochs``.
        A longer schedule than ``epochs`` replays a run that was stopped early, as in
        :data:`TRAINING_STAGES`.
    **hp
        Passed to :func:`build_tts`.

    Returns
    -------
    model : keras.Model
    history : dict of list of float
        Per-epoch losses (``loss``, ``mel``, ``post``, ``stop``, ``guided``).
    seconds : float

    Raises
    ------
    ValueError
        ``texts`` and ``waveforms`` of different lengths, or nothing to train on.
    TextError
        A text with characters the model cannot read.
    """
    import keras

    if len(texts) != len(waveforms) or not len(texts):
        raise ValueError(f"need as many texts as waveforms (got {len(texts)} and {len(waveforms)})")
    keras.utils.set_random_seed(seed)
    model = model if model is not None else build_tts(**hp)
    text_ids, dec_in, mels, mel_len = make_batch_arrays(texts, waveforms, sample_rate, model.r)
    steps = (decay_epochs or epochs) * int(np.ceil(len(texts) / batch_size))
    schedule = keras.optimizers.schedules.ExponentialDecay(learning_rate, steps, 0.1)
    model.compile(optimizer=keras.optimizers.Adam(schedule))

    def one_epoch(epoch):
        return model.fit((text_ids, dec_in), (mels, mel_len), batch_size=batch_size, epochs=1, shuffle=True,
                         verbose=0).history

    history, seconds = training.fit_epochs(one_epoch, epochs, minutes=minutes, verbose=verbose,
                                           checkpoint=None if checkpoint is None else lambda e: checkpoint(model, e))
    return model, history, seconds


#: How the shipped weights were trained; ``scripts/train_synthesis.py tts`` and the notebook's
#: ``RETRAIN = True`` replay it with :func:`train_stages`. Each stage continues the previous one with
#: a fresh Adam optimiser and its own learning rate, decayed ×0.1 over ``decay_epochs``. The stages
#: were run under wall-clock budgets that ended them early, hence ``epochs`` < ``decay_epochs``.
TRAINING_STAGES = (
    dict(epochs=75, decay_epochs=100, batch_size=32, learning_rate=1e-3),
)


def train_stages(texts, waveforms, stages=TRAINING_STAGES, sample_rate: int = SAMPLE_RATE, model=None,
                 seed: int = 0, checkpoint=None, verbose: int = 1):
    """Train through several :func:`train_tts` stages, each continuing the last (stage ``i`` is seeded ``seed + i``).

    Parameters
    ----------
    texts, waveforms, sample_rate
        As :func:`train_tts`.
    stages : sequence of dict
        Keyword arguments of :func:`train_tts` per stage (``epochs``, ``decay_epochs``,
        ``batch_size``, ``learning_rate``, ``minutes``…); default :data:`TRAINING_STAGES`.
    model : keras.Model, optional
        Continue this model; default a new :func:`build_tts`.
    seed : int
    checkpoint : callable, optional
        ``checkpoint(model, stages_done)`` after every epoch, ``stages_done`` being the stages
        so far with the current one's ``epochs`` set to the epochs it has run.
    verbose : int

    Returns
    -------
    model : keras.Model
    history : dict of list of float
        Per-epoch losses over all stages.
    seconds : float
    """
    history, done, seconds = {}, [], 0.0
    for i, stage in enumerate(stages):
        def on_epoch(m, epoch, stage=stage):
            if checkpoint is not None:
                checkpoint(m, done + [dict(stage, epochs=epoch + 1)])

        model, hist, sec = train_tts(texts, waveforms, sample_rate, model=model, seed=seed + i,
                                     checkpoint=on_epoch, verbose=verbose, **stage)
        done.append(dict(stage, epochs=len(hist.get("loss", []))))
        for key, values in hist.items():
            history.setdefault(key, []).extend(values)
        seconds += sec
    return model, history, seconds


# ----------------------------------------------------------------------------- weights and inference


def weights_path(name: str = "tts_slt", folder=None) -> Path:
    """``<folder>/<name>.npz`` (float16 weights); the hyper-parameters are in ``<name>.json`` beside it."""
    return (Path(folder) if folder is not None else saving.WEIGHTS_DIR) / f"{name}.npz"


def save_tts(model, info: dict | None = None, folder=None, name: str = "tts_slt") -> Path:
    """Save the model's weights as float16 and its hyper-parameters (:func:`course_utils.saving.save_weights`).

    Both files are replaced atomically, so a training run stopped mid-checkpoint leaves the previous
    checkpoint readable.

    Parameters
    ----------
    model : course_utils.models.tacotron.Tacotron
        From :func:`build_tts` / :func:`train_tts`.
    info : dict, optional
        JSON-serialisable facts worth recording (epochs, training stages…).
    folder : path, optional
        Default: :data:`course_utils.saving.WEIGHTS_DIR`.
    name : str

    Returns
    -------
    pathlib.Path
        The weights file (see :func:`weights_path`).
    """
    config = dict(info or {}, hparams=model.hp, ga_weight=model.ga_weight)
    return saving.save_weights(model, weights_path(name, folder), config)


_LOADED: dict = {}


def load_tts(name: str = "tts_slt", folder=None):
    """Load a model saved by :func:`save_tts` (the shipped ``slt`` voice by default).

    Returns
    -------
    model : course_utils.models.tacotron.Tacotron
    info : dict

    Raises
    ------
    FileNotFoundError
        No such weights (the message says how to train them).
    ValueError
        The weights file does not match the architecture in ``<name>.json`` (the message names the file).
    """
    key = (name, str(folder))
    if key in _LOADED:
        return _LOADED[key]
    path = weights_path(name, folder)
    info = saving.read_config(path)
    if info is None:
        raise FileNotFoundError(f"{path.with_suffix('.json')}: no TTS weights '{name}' — train them with "
                                "`python scripts/train_synthesis.py tacotron`")
    model = build_tts(ga_weight=info.get("ga_weight", 1.0), **info["hparams"])
    saving.load_weights(model, path)
    _LOADED[key] = (model, info)
    return model, info


def teacher_forced_l1(model, texts, waveforms, sample_rate: int, mean_frame: np.ndarray) -> dict:
    """How far the model is from converged: held-out mel L1 with teacher forcing, next to the mean frame's.

    The decoder is fed the true previous frames (as in training), so this isolates what
    the model has learned from what autoregressive decoding adds. A model that has not
    yet learned to use the text predicts roughly the average frame: its L1 then sits just
    below the ``mean_frame`` baseline.

    Parameters
    ----------
    model : keras.Model
    texts : sequence of str
    waveforms : sequence of np.ndarray, float32
        The real recordings of ``texts``.
    sample_rate : int
    mean_frame : np.ndarray, float32, shape (80,)
        The average normalised mel frame of the *training* recordings (the baseline predictor).

    Returns
    -------
    dict
        ``model`` (L1 after the postnet) and ``mean_frame`` (L1 of always predicting
        ``mean_frame``): mean absolute error per mel bin and frame, normalised units in [0, 1].
        Waveforms at other rates are resampled to :data:`SAMPLE_RATE` first.

    Raises
    ------
    TextError
        A text the model cannot read (as :func:`normalize_text`).
    """
    text_ids, dec_in, mels, mel_len = make_batch_arrays(texts, waveforms, sample_rate, model.r)
    _, mel_post, _, _ = model((text_ids, dec_in), training=False)
    valid = (np.arange(mels.shape[1])[None, :] < mel_len[:, None])[..., None]
    n = valid.sum() * mels.shape[2]
    return {"model": float(np.sum(np.abs(np.asarray(mel_post) - mels) * valid) / n),
            "mean_frame": float(np.sum(np.abs(np.asarray(mean_frame)[None, None] - mels) * valid) / n)}


def synthesize_mel(model, text: str, max_steps: int | None = None, seed: int = 0):
    """Text → mel spectrogram with the model's autoregressive decoder, cut at the stop token.

    If the stop token never fires, decoding is cut two steps after the attention
    first reaches the end-of-sentence symbol (or at ``max_steps``).

    Parameters
    ----------
    model : keras.Model
    text : str
        At most :data:`MAX_CHARS` characters after normalisation.
    max_steps : int, optional
        Decoder steps allowed (default: 3 per character + 10).
    seed : int
        Seed of the prenet's dropout (kept on at inference).

    Returns
    -------
    mel : np.ndarray, float32, (n_frames, 80)
        After the postnet.
    alignment : np.ndarray, float32, (n_steps, n_characters)

    Raises
    ------
    TextError
        As :func:`normalize_text`, or text longer than :data:`MAX_CHARS`.
    """
    import keras

    ids = text_to_ids(text)
    if len(ids) - 1 > MAX_CHARS:
        raise TextError(f"text has {len(ids) - 1} characters; at most {MAX_CHARS} per pass (use synthesize)")
    keras.utils.set_random_seed(seed)
    max_steps = max_steps or 3 * len(ids) + 10
    _, mel, stop, align = model.infer(ids[None], max_steps)
    stop, align = np.asarray(stop)[0], np.asarray(align)[0]
    above = np.where(1 / (1 + np.exp(-stop)) > 0.5)[0]
    at_end = np.where(np.argmax(align, axis=1) == align.shape[1] - 1)[0]  # attention on the end symbol
    if len(above):
        n_steps = int(above[0]) + 1
    elif len(at_end):  # the stop token never fired: stop shortly after attention reached the end
        n_steps = min(max_steps, int(at_end[0]) + 3)
    else:
        n_steps = max_steps
    return np.asarray(mel)[0, :n_steps * model.r], align[:n_steps]


def synthesize(text: str, model=None, n_iter: int = 60) -> tuple[np.ndarray, int]:
    """Speak ``text`` with the shipped voice (CMU ARCTIC slt): Tacotron-style model + Griffin-Lim.

    Parameters
    ----------
    text : str
        English text. Letters, spaces and ``' . , ? ! -`` are spoken (accents are
        stripped, ``; :`` read as commas, quotes and brackets dropped). Text longer
        than :data:`MAX_CHARS` characters is split at sentence ends, commas or spaces
        and the parts joined with 0.2 s pauses.
    model : keras.Model, optional
        Default: the shipped weights (:func:`load_tts`).
    n_iter : int
        Griffin-Lim iterations.

    Returns
    -------
    waveform : np.ndarray, float32, shape (n_samples,)
        Peak-normalised to 0.9.
    sample_rate : int
        16000 Hz.

    Raises
    ------
    TextError
        Empty text, digits or characters without a symbol (listed in the message).
    """
    model = model if model is not None else load_tts()[0]
    pieces = []
    for chunk in split_text(text):
        mel, _ = synthesize_mel(model, chunk)
        pieces += [mel_to_waveform(mel, n_iter=n_iter), np.zeros(SAMPLE_RATE // 5, np.float32)]
    y = np.concatenate(pieces[:-1])
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak == 0.0:
        warnings.warn("the model produced silence", RuntimeWarning)
        return y, SAMPLE_RATE
    return (0.9 * y / peak).astype(np.float32), SAMPLE_RATE
