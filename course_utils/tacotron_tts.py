"""Notebook 05, part 3 — Tacotron-style text-to-speech with a Griffin-Lim vocoder: the lesson on attention.

The voice that :func:`course_utils.tts.synthesize` speaks with is the duration model of :mod:`course_utils.tts`;
this Tacotron stays in the course to teach how attention learns an alignment.

The network is :class:`course_utils.models.tacotron.Tacotron` (Wang et al. 2017, Shen et al. 2018:
symbol embedding, conv + BiLSTM encoder, location-sensitive attention, an autoregressive LSTM
decoder with prenet, reduction factor and stop token, a postnet, and the guided attention loss).
Here, around it:

* **text** — the phoneme tokens of the duration model's front end (:func:`text_to_ids`,
  :func:`course_utils.text.phonemize`): ``sil``, ARPAbet phones, pauses, the sentence's end mark;
* **audio ↔ mel** — the model's normalised log-mel target (:func:`mel_spectrogram`) and back to a
  waveform with Griffin-Lim (Griffin & Lim 1984; :func:`mel_to_waveform` → :func:`course_utils.audio.griffin_lim`);
* **training** — teacher forcing in stages (:func:`train_tts`, :func:`train_stages`, :data:`TRAINING_STAGES`);
* **weights** — :func:`save_tts` / :func:`load_tts` (float16, :func:`course_utils.saving.save_weights`);
* **its attention next to the forced alignment** — :func:`attention_and_forced_alignment`.

Shipped weights (``course_utils/weights/tts_slt.npz``, float16) were trained by the
project's own script on CMU ARCTIC ``slt`` (every utterance but the prompts
:func:`course_utils.tts.holdout_split` holds out for both voices), in the
stages of :data:`TRAINING_STAGES`, which this command replays from scratch::

    python scripts/train_synthesis.py tacotron

Public function on raw input: :func:`synthesize`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import audio, saving, training
from . import text as text_frontend
from .models import tacotron
from .text import TextError

# ----------------------------------------------------------------------------- text

#: Longest phoneme sequence (tokens) synthesised in one pass; :func:`synthesize` speaks longer text
#: one sentence at a time (:func:`course_utils.text.split_sentences`), at most :data:`MAX_WORDS` words each
#: (ARCTIC prompts have up to 16; 25 words of up to 7 phones stay under :data:`MAX_TOKENS`).
MAX_TOKENS = 200
MAX_WORDS = 25
#: Silence between the sentences :func:`synthesize` speaks (seconds).
SENTENCE_PAUSE = 0.2


def text_to_ids(text: str) -> np.ndarray:
    """English text → int32 ids of its phoneme tokens, the Tacotron's input.

    The same front end as the duration model (:func:`course_utils.text.phonemize`): numbers and
    abbreviations spelled out, ARPAbet phones from the CMU dictionary (eSpeak NG for other words),
    pauses at punctuation. Every sentence starts with ``"sil"`` and ends with its end mark, which
    serves as the end-of-sentence symbol the attention must reach.

    Parameters
    ----------
    text : str

    Returns
    -------
    np.ndarray, int32, shape (n_tokens,)
        Ids of :data:`course_utils.text.SYMBOLS` (0 is padding, never produced).

    Raises
    ------
    TextError
        Empty text, only punctuation, emoji or non-Latin script (:func:`course_utils.text.normalize_text`).

    Examples
    --------
    >>> [text.SYMBOLS[i] for i in text_to_ids("Hi.")]  # doctest: +SKIP
    ['sil', 'HH', 'AY', '.']
    """
    return text_frontend.token_ids(text_frontend.phonemize(text))


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
    """A new Tacotron-style model for the phoneme set (:data:`course_utils.text.SYMBOLS`), built and ready to train.

    Parameters
    ----------
    **hp
        Overrides of :data:`course_utils.models.tacotron.DEFAULT_HPARAMS` (``reduction``, LSTM sizes…)
        and ``ga_weight``.

    Returns
    -------
    course_utils.models.tacotron.Tacotron
    """
    return tacotron.build_tacotron(len(text_frontend.SYMBOLS), **hp)


# ----------------------------------------------------------------------------- data and training


def pad_utterances(token_ids, mels, reduction: int, multiple: int = 1):
    """Pad phoneme ids and mel spectrograms into one training batch.

    Parameters
    ----------
    token_ids : sequence of np.ndarray, int32, (n_tokens,)
        As :func:`text_to_ids` returns them.
    mels : sequence of np.ndarray, float32, (n_frames, 80)
        As :func:`mel_spectrogram` returns them, in the same order.
    reduction : int
        The model's reduction factor r: frames are padded to a multiple of it.
    multiple : int
        Pad frames to a multiple of ``reduction · multiple`` and tokens to a multiple of ``multiple``,
        so that batches of similar length share a shape.

    Returns
    -------
    text_ids : np.ndarray, int32, (n, N)
        0 is padding.
    dec_inputs : np.ndarray, float32, (n, steps, 80)
        Teacher forcing: the last true frame of the previous decoder step (zeros for step 0).
    mels : np.ndarray, float32, (n, steps·r, 80)
    mel_len : np.ndarray, int32, (n,)
        Frames before padding.
    """
    n_text = int(np.ceil(max(len(i) for i in token_ids) / multiple) * multiple)
    step = reduction * multiple
    n_frames = int(np.ceil(max(len(m) for m in mels) / step) * step)
    text_arr = np.zeros((len(mels), n_text), np.int32)
    mel_arr = np.zeros((len(mels), n_frames, mels[0].shape[1]), np.float32)
    for i, (t, m) in enumerate(zip(token_ids, mels)):
        text_arr[i, :len(t)] = t
        mel_arr[i, :len(m)] = m
    dec_in = np.concatenate([np.zeros_like(mel_arr[:, :1]), mel_arr[:, reduction - 1:-1:reduction]], axis=1)
    return text_arr, dec_in, mel_arr, np.array([len(m) for m in mels], np.int32)


def mel_targets(waveforms, sample_rate: int) -> list:
    """The training targets of recordings: each trimmed (:func:`prepare_utterance`), then :func:`mel_spectrogram`.

    Returns
    -------
    list of np.ndarray, float32, (n_frames, 80)
    """
    return [mel_spectrogram(prepare_utterance(y, sample_rate)) for y in waveforms]


def make_batch_arrays(texts, waveforms, sample_rate: int, reduction: int):
    """One padded batch from texts and their recordings (:func:`text_to_ids`, :func:`mel_spectrogram`, :func:`pad_utterances`).

    Raises
    ------
    TextError
        A text the front end cannot read.
    """
    return pad_utterances([text_to_ids(t) for t in texts], mel_targets(waveforms, sample_rate), reduction)


def length_batches(token_ids, mels, reduction: int, batch_size: int, multiple: int = 8) -> list:
    """Training batches of utterances of similar length (sorted by frames), each padded by :func:`pad_utterances`.

    Padding every batch to the longest utterance of the corpus would double the decoder steps on
    average; batches of neighbours in length waste almost none. The order of the batches is shuffled
    by the caller, every epoch.

    Returns
    -------
    list of tuple
        ``((text_ids, dec_inputs), (mels, mel_len))`` per batch, as :meth:`Tacotron.train_step` reads it.
    """
    order = np.argsort([len(m) for m in mels], kind="stable")
    batches = []
    for chunk in np.array_split(order, max(1, int(np.ceil(len(order) / batch_size)))):
        text_arr, dec_in, mel_arr, mel_len = pad_utterances([token_ids[i] for i in chunk], [mels[i] for i in chunk],
                                                       reduction, multiple)
        batches.append(((text_arr, dec_in), (mel_arr, mel_len)))
    return batches


def train_tts(texts, waveforms, sample_rate: int = SAMPLE_RATE, epochs: int = 100, batch_size: int = 16,
              learning_rate: float = 1e-3, model=None, seed: int = 0, minutes: float | None = None,
              checkpoint=None, verbose: int = 1, decay_epochs: int | None = None, **hp):
    """Train the Tacotron with teacher forcing (Adam, learning rate decayed ×0.1 over ``decay_epochs``).

    Utterances are batched with others of similar length (:func:`length_batches`); the batches
    are visited in a new random order every epoch.

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
        Per-epoch mean over batches of each loss (``loss``, ``mel``, ``post``, ``stop``, ``guided``).
    seconds : float

    Raises
    ------
    ValueError
        ``texts`` and ``waveforms`` of different lengths, or nothing to train on.
    TextError
        A text the front end cannot read.
    """
    import keras

    if len(texts) != len(waveforms) or not len(texts):
        raise ValueError(f"need as many texts as waveforms (got {len(texts)} and {len(waveforms)})")
    keras.utils.set_random_seed(seed)
    model = model if model is not None else build_tts(**hp)
    batches = length_batches([text_to_ids(t) for t in texts], mel_targets(waveforms, sample_rate), model.r, batch_size)
    schedule = keras.optimizers.schedules.ExponentialDecay(learning_rate, (decay_epochs or epochs) * len(batches), 0.1)
    model.compile(optimizer=keras.optimizers.Adam(schedule))
    rng = np.random.default_rng(seed)

    def one_epoch(epoch):
        logs = [model.train_on_batch(*batches[i], return_dict=True) for i in rng.permutation(len(batches))]
        return {key: [float(np.mean([log[key] for log in logs]))] for key in logs[0]}

    history, seconds = training.fit_epochs(one_epoch, epochs, minutes=minutes, verbose=verbose,
                                           checkpoint=None if checkpoint is None else lambda e: checkpoint(model, e))
    return model, history, seconds


#: How the shipped weights were trained; ``scripts/train_synthesis.py tacotron`` and the notebook's
#: ``RETRAIN = True`` replay it with :func:`train_stages`. Each stage continues the previous one with
#: a fresh Adam optimiser and its own learning rate, decayed ×0.1 over ``decay_epochs``. One stage of
#: 250 epochs over the 930 training utterances of the mirror (30 batches, ~14 s per epoch on a 2-core CPU).
TRAINING_STAGES = (
    dict(epochs=250, decay_epochs=250, batch_size=32, learning_rate=1e-3),
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
        A text the front end cannot read (as :func:`text_to_ids`).
    """
    text_ids, dec_in, mels, mel_len = make_batch_arrays(texts, waveforms, sample_rate, model.r)
    _, mel_post, _, _ = model((text_ids, dec_in), training=False)
    valid = (np.arange(mels.shape[1])[None, :] < mel_len[:, None])[..., None]
    n = valid.sum() * mels.shape[2]
    return {"model": float(np.sum(np.abs(np.asarray(mel_post) - mels) * valid) / n),
            "mean_frame": float(np.sum(np.abs(np.asarray(mean_frame)[None, None] - mels) * valid) / n)}


def attention_and_forced_alignment(model, waveform, sample_rate: int, text: str, seed: int = 0):
    """What the Tacotron's attention reads while it hears a real recording, next to the forced alignment of it.

    The recording is forced-aligned (:func:`course_utils.alignment.align`); the model reads the
    aligned phoneme tokens with teacher forcing (its decoder is fed the recording's own mel frames),
    so each decoder step can be compared with the phone that PocketSphinx says is spoken then.

    Parameters
    ----------
    model : course_utils.models.tacotron.Tacotron
    waveform : np.ndarray, float, shape (n_samples,)
    sample_rate : int
        Hz (resampled to :data:`SAMPLE_RATE`).
    text : str
        What the recording says.
    seed : int
        Seed of the prenet's dropout (on at inference too).

    Returns
    -------
    attention : np.ndarray, float32, shape (n_steps, n_tokens)
        The model's attention per decoder step (r mel frames of 12.5 ms).
    forced : np.ndarray, int, shape (n_steps,)
        Index of the token the forced alignment places at the middle of each decoder step.
    tokens : list of str
        The aligned tokens.

    Raises
    ------
    course_utils.alignment.AlignmentError
        PocketSphinx could not align the recording.
    TextError
        A text the front end cannot read.
    """
    import keras

    from . import alignment

    y = prepare_utterance(waveform, sample_rate)
    aligned = alignment.align(y, SAMPLE_RATE, text)
    mel = mel_spectrogram(y)
    text_arr, dec_in, _, _ = pad_utterances([text_frontend.token_ids(aligned.tokens)], [mel], model.r)
    keras.utils.set_random_seed(seed)
    attention = np.asarray(model((text_arr, dec_in), training=False)[3])[0]
    # Decoder step k predicts mel frames k·r … k·r + r − 1; frame j is centred at j·hop (librosa pads the signal).
    middle = (np.arange(len(attention)) * model.r + (model.r - 1) / 2) * MEL["hop_length"] / SAMPLE_RATE
    ends = (aligned.first_frame + np.cumsum(aligned.durations)) * alignment.FRAME_SECONDS
    forced = np.minimum(np.searchsorted(ends, middle, side="right"), len(aligned.tokens) - 1)
    return attention.astype(np.float32), forced, list(aligned.tokens)


def attention_agreement(model, waveforms, sample_rate: int, texts, seed: int = 0) -> dict:
    """How often the Tacotron attends to the phone that PocketSphinx's forced alignment says is spoken.

    For every recording, :func:`attention_and_forced_alignment`; a decoder step agrees when its
    attention peak is on the aligned token. Pooled over all decoder steps of all recordings.

    Parameters
    ----------
    model : course_utils.models.tacotron.Tacotron
    waveforms : sequence of np.ndarray, float
        Real recordings.
    sample_rate : int
        Hz.
    texts : sequence of str
        What each recording says.
    seed : int

    Returns
    -------
    dict
        ``exact``: fraction of steps whose attention peak is the aligned token; ``within_one``: within
        one token of it (a boundary a step early or late), both in [0, 1]; ``failed``: text → reason
        for each recording PocketSphinx could not align (left out of the fractions, reported here).

    Raises
    ------
    ValueError
        ``waveforms`` and ``texts`` of different lengths, or none.
    course_utils.alignment.AlignmentError
        No recording could be aligned.
    """
    from .alignment import AlignmentError

    if len(waveforms) != len(texts) or not len(texts):
        raise ValueError(f"need as many waveforms as texts (got {len(waveforms)} and {len(texts)})")
    exact = near = steps = 0
    failed = {}
    for y, sentence in zip(waveforms, texts):
        try:
            attention, forced, _ = attention_and_forced_alignment(model, y, sample_rate, sentence, seed=seed)
        except AlignmentError as err:
            failed[sentence] = str(err)
            continue
        offset = np.abs(attention.argmax(axis=1) - forced)
        exact, near, steps = exact + int(np.sum(offset == 0)), near + int(np.sum(offset <= 1)), steps + len(offset)
    if not steps:
        raise AlignmentError(f"none of the {len(texts)} recordings could be aligned: {failed}")
    return {"exact": exact / steps, "within_one": near / steps, "failed": failed}


def synthesize_mel(model, text: str, max_steps: int | None = None, seed: int = 0):
    """Text → mel spectrogram with the model's autoregressive decoder, cut at the stop token.

    If the stop token never fires, decoding is cut two steps after the attention
    first reaches the end-of-sentence symbol (or at ``max_steps``).

    Parameters
    ----------
    model : keras.Model
    text : str
        One sentence (at most :data:`MAX_TOKENS` phoneme tokens).
    max_steps : int, optional
        Decoder steps allowed (default: 3 per token + 10).
    seed : int
        Seed of the prenet's dropout (kept on at inference).

    Returns
    -------
    mel : np.ndarray, float32, (n_frames, 80)
        After the postnet.
    alignment : np.ndarray, float32, (n_steps, n_tokens)
        The attention over the phoneme tokens (:func:`text_to_ids`) at every decoder step.

    Raises
    ------
    TextError
        As :func:`text_to_ids`, or more than :data:`MAX_TOKENS` tokens.
    """
    import keras

    ids = text_to_ids(text)
    if len(ids) > MAX_TOKENS:
        raise TextError(f"text has {len(ids)} phoneme tokens; at most {MAX_TOKENS} per pass (use synthesize)")
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


def _within_max_tokens(sentence: str) -> list:
    """Halve a sentence at a word boundary until every piece has at most :data:`MAX_TOKENS` tokens."""
    words = sentence.split()
    if len(words) < 2 or len(text_to_ids(sentence)) <= MAX_TOKENS:
        return [sentence]
    half = len(words) // 2
    return _within_max_tokens(" ".join(words[:half])) + _within_max_tokens(" ".join(words[half:]))


def synthesize(text: str, model=None, n_iter: int = 60) -> tuple[np.ndarray, int]:
    """Speak ``text`` with the shipped voice (CMU ARCTIC slt): Tacotron-style model + Griffin-Lim.

    Parameters
    ----------
    text : str
        Any English text, through the duration model's front end (:func:`text_to_ids`), spoken
        one sentence (at most :data:`MAX_WORDS` words, :func:`course_utils.text.split_sentences`) at a
        time, with :data:`SENTENCE_PAUSE` seconds of silence between them (the training recordings are
        trimmed, so the model ends a sentence without one).
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
        Empty text, only punctuation, emoji or non-Latin script (named in the message).
    course_utils.audio.AudioError
        The model produced only zeros (cannot be normalised).
    """
    sentences = text_frontend.split_sentences(text, max_words=MAX_WORDS)  # bad text fails here, before loading
    sentences = [piece for sentence in sentences for piece in _within_max_tokens(sentence)]
    model = model if model is not None else load_tts()[0]
    pause = np.zeros(int(SENTENCE_PAUSE * SAMPLE_RATE), np.float32)
    pieces = [piece for s in sentences for piece in (pause, mel_to_waveform(synthesize_mel(model, s)[0], n_iter=n_iter))]
    return audio.peak_normalize(np.concatenate(pieces[1:]), peak=0.9), SAMPLE_RATE
