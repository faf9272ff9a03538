"""The course's loaders: they discover a data set's files and return its container.

Each loader finds its data set with :func:`~course_utils.data.fetch.locate` (mirror, cache,
download), discovers the files rather than listing them, checks what it reads (a bad file is
named in the error), and returns one of the containers of :mod:`course_utils.data.types`.
Only when no real copy can be had does it fall back to an embedded, generated stand-in
(:mod:`course_utils.data.fallback`), with a loud notice (:func:`~course_utils.data.fetch.fallback_notice`).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .fallback import (stand_in_test_images, synthetic_parallel_speech, synthetic_spoken_digits,
                       write_stand_in_photos)
from .fetch import DataError, DataUnavailableError, Located, cache_dir, fallback_notice, locate
from .types import ArcticSpeech, Faces, ImageSet, PhotoDomains, SpokenDigits


# ----------------------------------------------------------------------------- FSDD

FSDD_PATTERN = re.compile(r"^(?P<digit>\d)_(?P<speaker>[A-Za-z]+)_(?P<index>\d+)\.wav$")


def _limit(groups: dict, per_group: int | None, seed: int) -> list:
    """Pick at most ``per_group`` items from each group (reproducibly), flattened, sorted."""
    rng = np.random.default_rng(seed)
    picked = []
    for key in sorted(groups):
        items = sorted(groups[key])
        if per_group is not None and len(items) > per_group:
            items = sorted(rng.choice(items, size=per_group, replace=False).tolist())
        picked.extend(items)
    return picked


def load_fsdd(sample_rate: int = 8000, per_digit_speaker: int | None = None, fallback: bool = True,
              seed: int = 0) -> SpokenDigits:
    """Load the Free Spoken Digit Dataset.

    Files ``recordings/{digit}_{speaker}_{index}.wav`` are discovered, not listed:
    speakers are whoever the folder holds.

    Parameters
    ----------
    sample_rate : int
        Target rate in Hz (FSDD is recorded at 8000 Hz; other rates resample).
    per_digit_speaker : int, optional
        Keep at most this many clips per (digit, speaker) pair, chosen with
        ``seed`` (fast mode uses this). None keeps all.
    fallback : bool
        If the real set is unavailable, synthesise a stand-in with eSpeak NG
        (:func:`course_utils.data.fallback.synthetic_spoken_digits`) and say so loudly.
        If False, raise :class:`DataUnavailableError`.
    seed : int
        Seed of the subset choice.

    Returns
    -------
    SpokenDigits

    Raises
    ------
    DataError
        A ``.wav`` whose name does not follow the FSDD pattern, or that cannot be read
        (the message names the file).
    DataUnavailableError
        No real data and ``fallback=False``.
    """
    from ..audio import load_audio

    try:
        found = locate("fsdd")
    except DataUnavailableError as err:
        if not fallback:
            raise
        fallback_notice("FSDD (Free Spoken Digit Dataset)", str(err).splitlines()[0],
                        "digits spoken by eSpeak NG voices at random rates and pitches")
        return synthetic_spoken_digits(sample_rate=sample_rate, per_digit_speaker=per_digit_speaker or 10,
                                       seed=seed)
    groups: dict = {}
    for path in sorted((found.path / "recordings").glob("*.wav")):
        match = FSDD_PATTERN.match(path.name)
        if match is None:
            raise DataError(f"{path}: file name does not follow FSDD's '{{digit}}_{{speaker}}_{{index}}.wav'")
        groups.setdefault((match["digit"], match["speaker"]), []).append(path)
    paths = _limit(groups, per_digit_speaker, seed)
    waveforms, labels, speakers = [], [], []
    for path in paths:
        match = FSDD_PATTERN.match(path.name)
        waveforms.append(load_audio(path, sample_rate=sample_rate))
        labels.append(int(match["digit"]))
        speakers.append(match["speaker"])
    return SpokenDigits(waveforms, np.asarray(labels, dtype=np.int64), np.asarray(speakers),
                        [str(p) for p in paths], sample_rate, found.origin)


# ----------------------------------------------------------------------------- photo domains

#: domain name -> (registry data set, folder suffix): trainA/testA are domain A.
PHOTO_DOMAINS = {
    "horse": ("horse2zebra", "A"),
    "zebra": ("horse2zebra", "B"),
    "summer": ("summer2winter_yosemite", "A"),
    "winter": ("summer2winter_yosemite", "B"),
}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


def locate_photo_set(name: str, fallback: bool = True) -> Located:
    """Find a CycleGAN photo set's folder (:func:`~course_utils.data.fetch.locate`), or its stand-in's.

    When no real copy can be had, the stand-in (random crops of scikit-image's bundled photos,
    :func:`course_utils.data.fallback.write_stand_in_photos`) is written as JPEG files into
    ``<cache>/stand-ins/<name>/``, laid out like the real set (``trainA/``, ``trainB/``; no test
    folders), and a loud notice says so. It never goes into the real set's cache folder.

    Parameters
    ----------
    name : str
        ``"horse2zebra"`` or ``"summer2winter_yosemite"`` (a data set named in :data:`PHOTO_DOMAINS`).
    fallback : bool
        If False, raise instead of using the stand-in.

    Returns
    -------
    Located
        ``origin`` is ``"fallback"`` for the stand-in.

    Raises
    ------
    KeyError
        ``name`` is not a photo set of :data:`PHOTO_DOMAINS`.
    DataUnavailableError
        No real data and ``fallback=False``.
    """
    domains = {suffix: domain for domain, (set_name, suffix) in PHOTO_DOMAINS.items() if set_name == name}
    if not domains:
        raise KeyError(f"{name!r} is not a photo set; known: {sorted({s for s, _ in PHOTO_DOMAINS.values()})}")
    try:
        return locate(name)
    except DataUnavailableError as err:
        if not fallback:
            raise
        folder = cache_dir() / "stand-ins" / name
        fallback_notice(f"'{name}' ({' and '.join(domains[s] for s in sorted(domains))} photos)",
                        str(err).splitlines()[0], f"random crops of scikit-image's bundled photos, in {folder}")
        write_stand_in_photos(folder, domains)
        return Located(name, folder, "fallback")


def load_photo_domains(domains=("horse", "zebra", "summer", "winter"), image_size: int = 96,
                       per_domain: int | None = None, fallback: bool = True, seed: int = 0) -> PhotoDomains:
    """Load the CycleGAN photo domains (horse2zebra, summer2winter_yosemite) as one labelled set.

    For each domain the folders ``train{A,B}`` and, when present, ``test{A,B}``
    are read; every image goes through :func:`course_utils.images.load_image`
    (EXIF orientation, mode conversion to RGB — a few photos are greyscale —
    resize with centre crop).

    Parameters
    ----------
    domains : sequence of str
        Keys of :data:`PHOTO_DOMAINS`.
    image_size : int
        Output side in pixels.
    per_domain : int, optional
        Keep at most this many images per domain and split (chosen with ``seed``).
    fallback : bool
        If a data set is unavailable, use crops of scikit-image's bundled photos
        as a stand-in, written as files (:func:`locate_photo_set`; loud notice); if False, raise.
    seed : int
        Seed of the subset choice.

    Returns
    -------
    PhotoDomains

    Raises
    ------
    KeyError
        Unknown domain name.
    DataError
        An unreadable image (named) or a malformed mirror folder.
    DataUnavailableError
        No real data and ``fallback=False``.
    """
    from ..images import load_image

    unknown = [d for d in domains if d not in PHOTO_DOMAINS]
    if unknown:
        raise KeyError(f"unknown photo domain(s) {unknown}; known: {list(PHOTO_DOMAINS)}")
    images, labels, splits, files, origin, found_sets = [], [], [], [], {}, {}
    for label, domain in enumerate(domains):
        name, suffix = PHOTO_DOMAINS[domain]
        if name not in found_sets:
            found_sets[name] = locate_photo_set(name, fallback=fallback)
        found = found_sets[name]
        origin[name] = found.origin
        for split in ("train", "test"):
            folder = found.path / f"{split}{suffix}"
            if not folder.is_dir():
                continue
            paths = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
            for path in _limit({0: paths}, per_domain, seed):
                images.append(np.asarray(load_image(path, size=image_size)))
                labels.append(label)
                splits.append(split)
                files.append(str(path))
    return PhotoDomains(np.stack(images).astype(np.uint8), np.asarray(labels, dtype=np.int64), list(domains),
                        np.asarray(splits), files, origin)


# ----------------------------------------------------------------------------- CMU ARCTIC

ARCTIC_PROMPT = re.compile(r'^\(\s*(?P<id>\S+)\s+"(?P<text>.*)"\s*\)\s*$')


def read_arctic_prompts(path) -> dict:
    """Parse an ARCTIC ``txt.done.data`` file: ``( arctic_a0001 "Author of the…" )`` per line.

    Returns
    -------
    dict of str -> str
        Utterance id → prompt text.

    Raises
    ------
    DataError
        A non-empty line that does not follow the format (the message names file and line).
    """
    prompts = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        match = ARCTIC_PROMPT.match(line.strip())
        if match is None:
            raise DataError(f"{path}:{number}: not an ARCTIC prompt line: {line[:80]!r}")
        prompts[match["id"]] = match["text"]
    return prompts


def load_arctic(speakers=("slt",), sample_rate: int = 16000, limit: int | None = None, fallback: bool = True,
                seed: int = 0) -> ArcticSpeech:
    """Load CMU ARCTIC speakers, keeping the utterances all of them recorded (parallel speech).

    Files ``cmu_us_{speaker}_arctic/wav/arctic_*.wav`` are discovered, and prompts read from
    ``cmu_us_{speaker}_arctic/etc/txt.done.data``; nothing is listed in the code.

    Parameters
    ----------
    speakers : sequence of str
        ARCTIC speaker codes registered as ``cmu_arctic_<code>`` (``"bdl"`` male, ``"slt"`` female).
    sample_rate : int
        Target rate in Hz (ARCTIC is 16000 Hz; other rates resample).
    limit : int, optional
        Keep only the first ``limit`` common ids in sorted order (fast mode uses this).
    fallback : bool
        If a speaker is unavailable, synthesise a parallel stand-in with eSpeak NG (a male and
        a female voice reading public-domain Harvard sentences) and say so loudly. If False, raise.
    seed : int
        Seed of the stand-in's voices.

    Returns
    -------
    ArcticSpeech

    Raises
    ------
    KeyError
        A speaker without a registry entry.
    DataError
        An unreadable WAV or prompt file (named), or speakers with no utterance in common.
    DataUnavailableError
        No real data and ``fallback=False``.
    """
    from ..audio import load_audio

    speakers = list(speakers)
    found = {}
    try:
        for speaker in speakers:
            found[speaker] = locate(f"cmu_arctic_{speaker}")
    except DataUnavailableError as err:
        if not fallback:
            raise
        fallback_notice("CMU ARCTIC", str(err).splitlines()[0],
                        "Harvard sentences read by eSpeak NG voices (one voice per speaker code)")
        return synthetic_parallel_speech(speakers, sample_rate=sample_rate, limit=limit, seed=seed)
    folders = {s: found[s].path / f"cmu_us_{s}_arctic" for s in speakers}
    available = [{p.stem for p in (folders[s] / "wav").glob("arctic_*.wav")} for s in speakers]
    ids = sorted(set.intersection(*available))
    if not ids:
        raise DataError(f"speakers {speakers} have no ARCTIC utterance in common in {list(folders.values())}")
    prompts = read_arctic_prompts(folders[speakers[0]] / "etc" / "txt.done.data")
    missing = [i for i in ids if i not in prompts]
    if missing:
        raise DataError(f"{folders[speakers[0]] / 'etc' / 'txt.done.data'} has no prompt for {missing[:5]}")
    ids = ids[:limit] if limit is not None else ids
    files = {s: [str(folders[s] / "wav" / f"{i}.wav") for i in ids] for s in speakers}
    waveforms = {s: [load_audio(f, sample_rate=sample_rate) for f in files[s]] for s in speakers}
    return ArcticSpeech(ids, [prompts[i] for i in ids], waveforms, files, sample_rate,
                        found[speakers[0]].origin)


# ----------------------------------------------------------------------------- faces


def _locate_real_only(name: str, what: str) -> Located:
    """:func:`locate`, saying in the error why no stand-in takes over (``what`` has none)."""
    try:
        return locate(name)
    except DataUnavailableError as err:
        raise DataUnavailableError(f"{err} No generated stand-in exists for {what}.") from err


def load_olivetti() -> Faces:
    """Load the Olivetti (AT&T / ORL) faces: 400 greyscale 64×64 images of 40 subjects.

    Reads Roweis' ``olivettifaces.mat`` (variable ``faces``: uint8, 4096 × 400, each column a
    64×64 image stored column-major; 10 consecutive columns per subject).

    Returns
    -------
    Faces
        ``images`` uint8 (400, 64, 64, 1), upright; ``labels`` 0–39.

    Raises
    ------
    DataError
        The file cannot be read or ``faces`` has an unexpected shape.
    DataUnavailableError
        Neither mirror, cache nor network has it: no honest generated stand-in exists for a
        face data set, so the message says where to get it.
    """
    from scipy.io import loadmat

    found = _locate_real_only("olivetti", "faces of real people")
    path = found.path / "olivettifaces.mat"
    try:
        faces = loadmat(path)["faces"]
    except (OSError, ValueError, KeyError) as err:
        raise DataError(f"{path}: not a readable Olivetti MAT file with a 'faces' variable ({err})") from err
    if faces.shape[0] != 64 * 64 or faces.shape[1] % 10:
        raise DataError(f"{path}: 'faces' has shape {faces.shape}, expected (4096, 10·subjects)")
    images = faces.T.reshape(-1, 64, 64).transpose(0, 2, 1)[..., None]  # column-major -> upright
    images = np.clip(images, 0, 255).astype(np.uint8)
    labels = np.repeat(np.arange(faces.shape[1] // 10), 10).astype(np.int64)
    return Faces(images, labels, [f"s{i + 1:02d}" for i in range(labels.max() + 1)],
                 [f"{path}#{i}" for i in range(len(images))], found.origin)


def load_lfw_people(names=None, top: int = 2, image_size: int = 64, crop: int = 128,
                    per_person: int | None = None, seed: int = 0) -> Faces:
    """Load deep-funneled LFW faces of a few people, centre-cropped to the face.

    LFW deep-funneled images are 250×250 with the face aligned at the centre; a central
    ``crop``×``crop`` square holds the face (about eyebrows to chin at 128), then it is
    resized to ``image_size`` (Pillow, Lanczos).

    Parameters
    ----------
    names : sequence of str, optional
        Folder names (``"George_W_Bush"``). None picks the ``top`` people with the most images.
    top : int
        How many people to pick when ``names`` is None.
    image_size : int
        Output side in pixels.
    crop : int
        Side of the central square cut from the 250×250 image, in pixels (16–250).
    per_person : int, optional
        Keep at most this many images per person (chosen with ``seed``).
    seed : int

    Returns
    -------
    Faces
        ``images`` uint8 (n, image_size, image_size, 3).

    Raises
    ------
    ValueError
        ``crop`` out of range.
    DataError
        A named person without images, or an unreadable image (named).
    DataUnavailableError
        No real data (no honest generated stand-in exists for faces of real people).
    """
    from PIL import Image, UnidentifiedImageError

    if not 16 <= crop <= 250:
        raise ValueError(f"crop must be within 16–250 pixels, got {crop}")
    found = _locate_real_only("lfw", "photos of real people")
    root = found.path / "lfw-deepfunneled"
    people = {d.name: sorted(d.glob("*.jpg")) for d in root.iterdir() if d.is_dir()}
    if names is None:
        names = sorted(people, key=lambda n: (-len(people[n]), n))[:top]
    empty = [n for n in names if not people.get(n)]
    if empty:
        raise DataError(f"{root} has no images for {empty}")
    images, labels, files = [], [], []
    for label, name in enumerate(names):
        for path in _limit({0: people[name]}, per_person, seed):
            try:
                with Image.open(path) as im:
                    im = im.convert("RGB")
                    left = (im.width - crop) // 2
                    top_px = (im.height - crop) // 2
                    face = im.crop((left, top_px, left + crop, top_px + crop))
                    face = face.resize((image_size, image_size), Image.Resampling.LANCZOS)
            except (OSError, UnidentifiedImageError) as err:
                raise DataError(f"{path}: cannot read this LFW image ({err})") from err
            images.append(np.asarray(face, dtype=np.uint8))
            labels.append(label)
            files.append(str(path))
    return Faces(np.stack(images), np.asarray(labels, dtype=np.int64), list(names), files, found.origin)


# ----------------------------------------------------------------------------- Kodak


def load_kodak(fallback: bool = True, limit: int | None = None) -> ImageSet:
    """Load the Kodak test images (``kodimNN.png``, 768×512 or 512×768 RGB), whichever exist.

    Parameters
    ----------
    fallback : bool
        If Kodak is unavailable, use scikit-image's bundled photographs (astronaut, coffee,
        chelsea, rocket, …) as a stand-in test set, with a loud notice. If False, raise.
    limit : int, optional
        Keep the first ``limit`` images in sorted order.

    Returns
    -------
    ImageSet

    Raises
    ------
    DataError
        An unreadable image (named).
    DataUnavailableError
        No real data and ``fallback=False``.
    """
    from ..images import load_image

    try:
        found = locate("kodak")
    except DataUnavailableError as err:
        if not fallback:
            raise
        fallback_notice("Kodak", str(err).splitlines()[0], "scikit-image's bundled colour photographs")
        return stand_in_test_images(limit)
    paths = sorted(found.path.glob("kodim*.png"))[:limit]
    images = [np.asarray(load_image(p)) for p in paths]
    return ImageSet(images, [p.stem for p in paths], [str(p) for p in paths], found.origin)
