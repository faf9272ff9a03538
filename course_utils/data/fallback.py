"""Embedded, generated stand-ins for when no real data can be had (no mirror, no network).

They have the same shapes and label maps as the real sets, so every notebook
still runs end to end — but they are *not* the real data, and the loaders that
use them print a loud notice (:func:`course_utils.data.fallback_notice`).

* Spoken digits: the words "zero" … "nine" synthesised by eSpeak NG (the
  ``espeakng-loader`` wheel ships the library and its voices) with several
  voices, speaking rates and pitches; each voice plays the role of a speaker.
* Photo domains: random crops, flips and colour jitter of one of
  scikit-image's bundled photos per domain, written as JPEG files laid out like the
  real set (:func:`write_stand_in_photos`), so file names work as they do with real data.
* Parallel read speech (CMU ARCTIC's stand-in): the Harvard sentences read by
  one eSpeak NG voice per speaker.
* Test photographs (Kodak's stand-in): scikit-image's bundled colour photographs.

The stand-ins build the containers of :mod:`course_utils.data.types`; this module
never imports the loaders (:mod:`course_utils.data.loaders` imports it).
"""
from __future__ import annotations

import ctypes
import os
import tempfile
from pathlib import Path

import numpy as np

from .types import DIGIT_WORDS, ArcticSpeech, ImageSet, SpokenDigits

#: eSpeak NG voice (+variant) playing each stand-in "speaker".
ESPEAK_VOICES = {"espeak_en": "en", "espeak_us": "en-us", "espeak_f3": "en+f3", "espeak_m3": "en+m3",
                 "espeak_f4": "en-us+f4", "espeak_scot": "en-gb-scotland"}
#: English accents and voice variants of eSpeak NG, combined into extra synthetic training speakers
#: (:func:`espeak_digit_voices`); the variants change formants, pitch range and voice quality.
ESPEAK_ACCENTS = ("en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc", "en-gb-x-gbclan",
                  "en-gb-x-gbcwmd")
ESPEAK_VARIANTS = ("", "+f1", "+f2", "+f3", "+f4", "+f5", "+m1", "+m2", "+m3", "+m4", "+m5", "+m6", "+m7", "+klatt",
                   "+klatt2", "+klatt3", "+Andy", "+Annie", "+linda", "+john", "+steph", "+max", "+ed", "+quincy",
                   "+aunty", "+grandpa")
#: domain -> scikit-image photo used as its stand-in.
PHOTO_STAND_INS = {"horse": "chelsea", "zebra": "astronaut", "summer": "coffee", "winter": "rocket"}

_ESPEAK = {}
_AUDIO_OUTPUT_SYNCHRONOUS, _POS_CHARACTER, _ESPEAK_RATE, _ESPEAK_PITCH = 2, 1, 1, 3
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


def _espeak():
    """Load and initialise libespeak-ng once; return (library, sample rate, chunk list)."""
    if not _ESPEAK:
        try:
            import espeakng_loader
        except ImportError as err:  # pragma: no cover - a declared dependency
            raise RuntimeError("the offline stand-in needs the 'espeakng-loader' package "
                               "(pip install espeakng-loader)") from err
        lib = ctypes.cdll.LoadLibrary(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        data_parent = os.path.dirname(espeakng_loader.get_data_path()).encode()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_parent, 0)
        if rate <= 0:
            raise RuntimeError(f"eSpeak NG failed to initialise (returned {rate})")
        chunks: list = []

        def collect(wav, n, _events):
            if n > 0 and wav:
                chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0

        callback = _SYNTH_CALLBACK(collect)
        lib.espeak_SetSynthCallback(callback)
        _ESPEAK.update(lib=lib, rate=rate, chunks=chunks, callback=callback)
    return _ESPEAK["lib"], _ESPEAK["rate"], _ESPEAK["chunks"]


def espeak_say(text: str, voice: str = "en", rate_wpm: int = 160, pitch: int = 50) -> tuple[np.ndarray, int]:
    """Synthesise ``text`` with eSpeak NG.

    Parameters
    ----------
    text : str
    voice : str
        eSpeak NG voice name, optionally with a variant (``"en+f3"``).
    rate_wpm : int
        Speaking rate in words per minute (80–450).
    pitch : int
        Base pitch, 0–100.

    Returns
    -------
    waveform : np.ndarray, float32, shape (n_samples,)
    sample_rate : int
        Hz (22050 for eSpeak NG).

    Raises
    ------
    RuntimeError
        eSpeak NG cannot be loaded, or the voice is unknown.

    Notes
    -----
    eSpeak NG keeps state between calls: the same call can return audio a few milliseconds longer or
    shorter (measured: 77,498 to 77,698 samples for one sentence said five times in a row). A process
    that makes the same calls in the same order gets the same audio.
    """
    lib, rate, chunks = _espeak()
    if lib.espeak_SetVoiceByName(voice.encode()) != 0:
        raise RuntimeError(f"eSpeak NG has no voice {voice!r}")
    lib.espeak_SetParameter(_ESPEAK_RATE, int(rate_wpm), 0)
    lib.espeak_SetParameter(_ESPEAK_PITCH, int(pitch), 0)
    chunks.clear()
    data = text.encode() + b"\0"
    lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, 0, None, None)
    lib.espeak_Synchronize()
    wave = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
    return (wave.astype(np.float32) / 32768.0), rate


def espeak_digit_voices(limit: int | None = None, seed: int = 0) -> dict:
    """Synthetic "speakers" for training: every accent in :data:`ESPEAK_ACCENTS` with every variant in
    :data:`ESPEAK_VARIANTS` (208 voices), minus the voices the offline FSDD stand-in uses as its own speakers.

    Adding them to a digit recogniser's training data gives it far more voices than
    the three real speakers of a leave-one-speaker-out fold; the synthetic clips are
    never test data. (Synthetic speakers as training data: e.g. Rosenberg et al. 2019,
    "Speech recognition with augmented synthesized speech".)

    Parameters
    ----------
    limit : int, optional
        Keep a random subset of this many voices (fast mode).
    seed : int
        Chooses the subset.

    Returns
    -------
    dict
        Speaker name (``"espeak:en-us+f2"``) -> eSpeak NG voice name (``"en-us+f2"``).
    """
    taken = set(ESPEAK_VOICES.values())
    voices = {f"espeak:{a}{v}": a + v for a in ESPEAK_ACCENTS for v in ESPEAK_VARIANTS if a + v not in taken}
    if limit is not None and limit < len(voices):
        keep = np.random.default_rng(seed).choice(sorted(voices), size=limit, replace=False)
        voices = {k: voices[k] for k in sorted(keep)}
    return voices


def synthetic_spoken_digits(sample_rate: int = 8000, per_digit_speaker: int = 10, seed: int = 0,
                            voices: dict | None = None):
    """Digits spoken by eSpeak NG voices (one voice = one speaker): FSDD's stand-in, or extra training voices.

    Parameters
    ----------
    sample_rate : int
        Output rate in Hz.
    per_digit_speaker : int
        Clips per (digit, voice), each with a random rate (120–220 wpm) and pitch (25–75).
    seed : int
    voices : dict, optional
        Speaker name -> eSpeak NG voice; default :data:`ESPEAK_VOICES` (the
        stand-in's speakers); :func:`espeak_digit_voices` gives many more.

    Returns
    -------
    course_utils.data.types.SpokenDigits
        ``origin == "fallback"``; speakers are the keys of ``voices``.

    Raises
    ------
    RuntimeError
        eSpeak NG cannot be loaded, or a voice is unknown.
    """
    import librosa

    rng = np.random.default_rng(seed)
    waveforms, labels, speakers, files = [], [], [], []
    for speaker, voice in (ESPEAK_VOICES if voices is None else voices).items():
        for digit, word in enumerate(DIGIT_WORDS):
            for i in range(per_digit_speaker):
                y, rate = espeak_say(word, voice, rate_wpm=int(rng.integers(120, 221)),
                                     pitch=int(rng.integers(25, 76)))
                y = librosa.resample(y, orig_sr=rate, target_sr=sample_rate, res_type="soxr_hq")
                y = y + rng.normal(0, 0.002, size=y.shape).astype(np.float32)  # a little room noise
                waveforms.append(y.astype(np.float32))
                labels.append(digit)
                speakers.append(speaker)
                files.append(f"espeak:{voice}:{word}:{i}")
    return SpokenDigits(waveforms, np.asarray(labels, np.int64), np.asarray(speakers), files, sample_rate,
                        "fallback")


def synthetic_photos(domain: str, n: int, image_size: int, seed: int = 0) -> list:
    """Stand-in photos for one domain: random crops of one bundled scikit-image photo.

    Parameters
    ----------
    domain : str
        A key of :data:`PHOTO_STAND_INS`.
    n : int
        Number of images.
    image_size : int
        Output side in pixels.
    seed : int

    Returns
    -------
    list of np.ndarray, uint8, shape (image_size, image_size, 3)
    """
    import skimage.data
    from PIL import Image, ImageEnhance

    from ..images import resize_center_crop, to_rgb

    photo = to_rgb(Image.fromarray(getattr(skimage.data, PHOTO_STAND_INS[domain])()))
    rng = np.random.default_rng(seed)
    w, h = photo.size
    out = []
    for _ in range(n):
        side = int(min(w, h) * rng.uniform(0.4, 1.0))
        x0, y0 = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
        img = resize_center_crop(photo.crop((x0, y0, x0 + side, y0 + side)), image_size)
        if rng.random() < 0.5:
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.7, 1.3))
        img = ImageEnhance.Color(img).enhance(rng.uniform(0.7, 1.3))
        out.append(np.asarray(img, dtype=np.uint8))
    return out


#: Photos per domain in a stand-in photo set's folder, and their side in pixels (CycleGAN's sets are 256×256 JPEGs).
STAND_IN_PHOTOS, STAND_IN_PHOTO_SIZE = 60, 256


def write_stand_in_photos(folder, domains: dict, n: int = STAND_IN_PHOTOS, seed: int = 0) -> None:
    """Write a stand-in photo set as files, laid out like the real one (``trainA/*.jpg``, ``trainB/*.jpg``).

    Stand-in photos are files, like the real set's, so code that reads a photo set's folder or a
    file name from it (``photos.files``) works unchanged on the stand-in. Files already there are kept;
    each missing one is written to a temporary name and renamed into place, so processes sharing
    the folder never see a half-written image. The images depend only on the domain and ``seed``
    (the stand-in is one fixed data set; loaders draw their subsets from it with their own seed).

    Parameters
    ----------
    folder : str or pathlib.Path
        The stand-in set's folder (never the real set's cache folder).
    domains : dict
        Folder suffix (``"A"``, ``"B"``) -> domain, a key of :data:`PHOTO_STAND_INS`.
    n : int
        Photos per domain, named ``train<suffix>/stand_in_<domain>_<i>.jpg``.
    seed : int
        Seed of the crops; domain ``k`` (in sorted suffix order) uses ``seed + k``.
    """
    from PIL import Image

    folder = Path(folder)
    for k, (suffix, domain) in enumerate(sorted(domains.items())):
        target = folder / f"train{suffix}"
        paths = [target / f"stand_in_{domain}_{i:03d}.jpg" for i in range(n)]
        if all(p.is_file() for p in paths):
            continue
        target.mkdir(parents=True, exist_ok=True)
        for path, img in zip(paths, synthetic_photos(domain, n, STAND_IN_PHOTO_SIZE, seed=seed + k)):
            if path.is_file():
                continue
            # A ".part" name, not ".jpg": a loader listing the folder meanwhile never picks up a half-written file.
            fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".part", dir=target)
            os.close(fd)
            try:
                Image.fromarray(img).save(tmp, format="JPEG", quality=95)
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):  # the save failed: leave no half-written file behind
                    os.unlink(tmp)


#: Harvard sentences, lists 1–3 (IEEE Recommended Practice for Speech Quality Measurements, 1969;
#: public domain): phonetically balanced read speech, the stand-in's prompts.
HARVARD_SENTENCES = [
    "The birch canoe slid on the smooth planks.", "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.", "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.", "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.", "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.", "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.", "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.", "Kick the ball straight and follow through.",
    "Help the woman get back to her feet.", "A pot of tea helps to pass the evening.",
    "Smoky fires lack flame and heat.", "The soft cushion broke the man's fall.",
    "The salt breeze came across from the sea.", "The girl at the booth sold fifty bonds.",
    "The small pup gnawed a hole in the sock.", "The fish twisted and turned on the bent hook.",
    "Press the pants and sew a button on the vest.", "The swan dive was far short of perfect.",
    "The beauty of the view stunned the young boy.", "Two blue fish swam in the tank.",
    "Her purse was full of useless trash.", "The colt reared and threw the tall rider.",
    "It snowed, rained, and hailed the same morning.", "Read verse out loud for pleasure.",
]
#: eSpeak NG voice standing in for each ARCTIC speaker code (male bdl, female slt).
PARALLEL_VOICES = {"bdl": ("en-us", 45), "slt": ("en-us+f3", 60)}


def synthetic_parallel_speech(speakers=("slt",), sample_rate: int = 16000, limit: int | None = None,
                              seed: int = 0):
    """A stand-in for CMU ARCTIC: the Harvard sentences read by one eSpeak NG voice per speaker.

    Parameters
    ----------
    speakers : sequence of str
        ARCTIC speaker codes; ``bdl`` and ``slt`` get a male and a female voice, others a
        voice variant chosen with ``seed``.
    sample_rate : int
        Hz (eSpeak NG's 22050 Hz output is resampled).
    limit : int, optional
        Number of sentences (default all 30).
    seed : int

    Returns
    -------
    course_utils.data.types.ArcticSpeech
        With ``origin="fallback"`` and ids ``"harvard_01"``….
    """
    import librosa

    rng = np.random.default_rng(seed)
    texts = HARVARD_SENTENCES[:limit] if limit is not None else list(HARVARD_SENTENCES)
    ids = [f"harvard_{i + 1:02d}" for i in range(len(texts))]
    waveforms, files = {}, {}
    for speaker in speakers:
        voice, pitch = PARALLEL_VOICES.get(speaker, (f"en-us+m{int(rng.integers(1, 8))}", int(rng.integers(30, 70))))
        waves = []
        for text in texts:
            y, rate = espeak_say(text, voice, rate_wpm=150, pitch=pitch)
            waves.append(librosa.resample(y, orig_sr=rate, target_sr=sample_rate).astype(np.float32))
        waveforms[speaker] = waves
        files[speaker] = [f"fallback:espeak:{voice}:{i}" for i in ids]
    return ArcticSpeech(ids, texts, waveforms, files, sample_rate, "fallback")


#: scikit-image's bundled colour photographs standing in for the Kodak suite, in this order.
TEST_IMAGE_STAND_INS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "colorwheel")


def stand_in_test_images(limit: int | None = None) -> ImageSet:
    """A stand-in for the Kodak suite: scikit-image's bundled colour photographs (sizes differ).

    Parameters
    ----------
    limit : int, optional
        Keep the first ``limit`` photographs of :data:`TEST_IMAGE_STAND_INS`.

    Returns
    -------
    course_utils.data.types.ImageSet
        uint8 RGB images, ``origin="fallback"``, files ``"skimage.data.<name>"``.
    """
    import skimage.data

    names = list(TEST_IMAGE_STAND_INS)[:limit]
    images = [np.ascontiguousarray(getattr(skimage.data, n)()[..., :3]) for n in names]
    return ImageSet(images, names, [f"skimage.data.{n}" for n in names], "fallback")
