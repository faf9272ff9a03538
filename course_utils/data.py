"""Data registry, verified downloads, mirrors, cache and the course's loaders.

Every data set the course uses has one entry in :data:`DATA_HUB`: its official
URL(s), the sha256 of the archive, the archive type, the layout it unpacks to,
its licence and citation (the idea of d2l's ``DATA_HUB[name] = (url, hash)``).

:func:`locate` finds a data set's folder, in this order:

1. **Mirror** — ``$COURSE_DATA_DIR/<name>/`` (a classroom's shared drive, or
   ``../shared/datasets`` in CI). If the folder is there but lacks the expected
   files, that is an error, not a silent fall-through.
2. **Cache** — ``$COURSE_CACHE_DIR/<name>/`` (default ``<project>/data``), filled
   by an earlier download.
3. **Download** — the official archive with a progress bar and retries,
   verified against its sha256 (pooch), unpacked into a temporary folder and
   moved into the cache in one atomic rename, so an interrupted run never
   leaves a half-written cache. Skipped when ``COURSE_OFFLINE=1``.

Loaders (:func:`load_fsdd`, :func:`load_photo_domains`) discover files rather
than hard-coding lists, and fall back to an embedded, generated stand-in
(:mod:`course_utils.fallback`) only when none of the above has the real set,
with a loud notice.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import PROJECT_ROOT


class DataError(RuntimeError):
    """A data set is present but malformed (missing files, unreadable file)."""


class DataUnavailableError(DataError):
    """A data set is neither in the mirror, nor cached, nor downloadable."""


class ChecksumError(DataError):
    """A downloaded archive does not match its registered sha256 (it was removed)."""


class FallbackDataWarning(UserWarning):
    """Issued when a loader uses the embedded stand-in instead of real data."""


@dataclass(frozen=True)
class DataSet:
    """One registry entry.

    Attributes
    ----------
    name : str
        Registry key; also the folder name in mirrors and in the cache.
    urls : tuple of str
        Official download URL(s), tried in order.
    sha256 : str
        Hex sha256 of the archive.
    archive : {"zip", "tar.gz", "tar.bz2", "tgz"}
        Archive type.
    archive_root : str
        Folder inside the archive that holds the layout (``""`` if the
        archive unpacks the layout directly).
    layout : tuple of str
        Glob patterns, relative to the data set folder, that must each match
        at least one file (e.g. ``"recordings/*.wav"``).
    licence, citation, homepage : str
        Shown by :func:`describe`.
    size_bytes : int, optional
        Archive size, for the progress bar and the user's information.
    """

    name: str
    urls: tuple[str, ...]
    sha256: str
    archive: str
    archive_root: str
    layout: tuple[str, ...]
    licence: str
    citation: str
    homepage: str
    size_bytes: int | None = None


DATA_HUB: dict[str, DataSet] = {}


def register(dataset: DataSet) -> DataSet:
    """Add ``dataset`` to :data:`DATA_HUB` (later topics register their sets this way)."""
    DATA_HUB[dataset.name] = dataset
    return dataset


register(DataSet(
    name="fsdd",
    urls=("https://github.com/Jakobovski/free-spoken-digit-dataset/archive/v1.0.9.tar.gz",),
    sha256="8bc44cde129d505cbbb6b365c09f80c663f2aa77578afc634e6141a2f87100c0",
    archive="tar.gz",
    archive_root="free-spoken-digit-dataset-1.0.9",
    layout=("recordings/*.wav",),
    licence="CC BY-SA 4.0",
    citation="Z. Jackson et al., Free Spoken Digit Dataset (FSDD), v1.0.9, 2018. doi:10.5281/zenodo.1342401",
    homepage="https://github.com/Jakobovski/free-spoken-digit-dataset",
    size_bytes=11_975_353,
))
_CYCLEGAN_CITATION = ("J.-Y. Zhu, T. Park, P. Isola, A. A. Efros, Unpaired Image-to-Image Translation using "
                      "Cycle-Consistent Adversarial Networks, ICCV 2017")
register(DataSet(
    name="horse2zebra",
    urls=("https://people.eecs.berkeley.edu/~taesung_park/CycleGAN/datasets/horse2zebra.zip",
          "https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/horse2zebra.zip"),
    sha256="a74d9d392eecca9966b51287a76ca126af473d9de4f3e8fc0e9cda08fa1730a1",
    archive="zip",
    archive_root="horse2zebra",
    layout=("trainA/*.jpg", "trainB/*.jpg"),
    licence="ImageNet-derived images, research use",
    citation=_CYCLEGAN_CITATION,
    homepage="https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix",
    size_bytes=116_867_962,
))
register(DataSet(
    name="summer2winter_yosemite",
    urls=("https://people.eecs.berkeley.edu/~taesung_park/CycleGAN/datasets/summer2winter_yosemite.zip",
          "https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/summer2winter_yosemite.zip"),
    sha256="167fe1726807a9d22bd106b4a6c0bd7953b688af924ac1bf967439c4961e49f9",
    archive="zip",
    archive_root="summer2winter_yosemite",
    layout=("trainA/*.jpg", "trainB/*.jpg"),
    licence="Flickr-derived images, research use",
    citation=_CYCLEGAN_CITATION,
    homepage="https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix",
    size_bytes=132_640_856,
))


# ----------------------------------------------------------------------------- locating


def mirror_dir() -> Path | None:
    """Return ``$COURSE_DATA_DIR`` as a Path, or None when unset."""
    value = os.environ.get("COURSE_DATA_DIR")
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """Return ``$COURSE_CACHE_DIR`` (default ``<project>/data``), created if needed."""
    path = Path(os.environ.get("COURSE_CACHE_DIR", PROJECT_ROOT / "data")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def offline() -> bool:
    """True when ``COURSE_OFFLINE=1``: never touch the network."""
    return os.environ.get("COURSE_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class Located:
    """Where a data set was found: ``path`` and ``origin`` (mirror, cache or download)."""

    name: str
    path: Path
    origin: str


def validate_layout(dataset: DataSet, folder: Path) -> None:
    """Check that ``folder`` has the files ``dataset.layout`` expects.

    Raises
    ------
    DataError
        Naming the folder and each glob pattern that matched no file.
    """
    missing = [pattern for pattern in dataset.layout if next(folder.glob(pattern), None) is None]
    if missing:
        raise DataError(
            f"data set '{dataset.name}' in {folder} is incomplete: no file matches "
            + ", ".join(repr(m) for m in missing)
            + f". Expected the layout of {dataset.urls[0]} (folder '{dataset.archive_root}')."
        )


def _get(name: str) -> DataSet:
    try:
        return DATA_HUB[name]
    except KeyError:
        raise KeyError(f"unknown data set {name!r}; registered: {sorted(DATA_HUB)}") from None


def locate(name: str, download: bool = True) -> Located:
    """Find a registered data set: mirror first, then cache, then download.

    Parameters
    ----------
    name : str
        A key of :data:`DATA_HUB`.
    download : bool
        Allow a download when mirror and cache lack the set (also disabled by
        ``COURSE_OFFLINE=1``).

    Returns
    -------
    Located
        The data set's folder (laid out as ``dataset.layout`` says) and its origin.

    Raises
    ------
    DataError
        The mirror has a folder for the set, but it lacks expected files.
    ChecksumError
        The downloaded archive does not match the registered sha256 (the file is deleted).
    DataUnavailableError
        Nothing has the set; the message says where to get it and how to set a mirror.
    """
    dataset = _get(name)
    mirror = mirror_dir()
    if mirror is not None and (mirror / name).is_dir():
        validate_layout(dataset, mirror / name)
        return Located(name, mirror / name, "mirror")
    cached = cache_dir() / name
    if cached.is_dir():
        validate_layout(dataset, cached)
        return Located(name, cached, "cache")
    reasons = []
    if mirror is None:
        reasons.append("COURSE_DATA_DIR is not set")
    else:
        reasons.append(f"the mirror {mirror} has no folder '{name}'")
    if download and not offline():
        try:
            return Located(name, fetch(name), "download")
        except DataUnavailableError as err:  # network failures; checksum/unpack errors propagate
            reasons.append(str(err))
    else:
        reasons.append("downloads are disabled (COURSE_OFFLINE=1 or download=False)")
    raise DataUnavailableError(
        f"data set '{name}' is not available: " + "; ".join(reasons) + ".\n"
        f"Get it from {dataset.urls[0]} (sha256 {dataset.sha256}), or point COURSE_DATA_DIR at a "
        f"folder holding '{name}/' laid out as {list(dataset.layout)}."
    )


# ----------------------------------------------------------------------------- downloading


def _download_archive(dataset: DataSet, dest: Path, retries: int) -> Path:
    """Download and verify one archive with pooch; return its path in ``dest``."""
    import pooch
    import requests

    fname = f"{dataset.name}.{dataset.archive}"
    errors = []
    for url in dataset.urls:
        for attempt in range(1, retries + 1):
            try:
                path = pooch.retrieve(
                    url, known_hash=f"sha256:{dataset.sha256}", fname=fname, path=dest,
                    progressbar=True,
                )
                return Path(path)
            except ValueError as err:  # pooch: hash mismatch (its temporary file is already removed)
                (dest / fname).unlink(missing_ok=True)
                raise ChecksumError(
                    f"download of '{dataset.name}' from {url} does not match its sha256 "
                    f"{dataset.sha256}; the file was removed. ({err})"
                ) from err
            except (requests.exceptions.RequestException, OSError) as err:
                errors.append(f"{url} (attempt {attempt}): {type(err).__name__}: {err}")
                if attempt < retries:
                    time.sleep(min(2 ** attempt, 10) * float(os.environ.get("COURSE_RETRY_DELAY", "1")))
    raise DataUnavailableError(f"could not download '{dataset.name}': " + " | ".join(errors))


def fetch(name: str, retries: int = 3) -> Path:
    """Download, verify and unpack a registered data set into the cache.

    The archive goes to ``<cache>/archives/`` (pooch writes to a temporary file
    and renames it only after the sha256 matches). It is unpacked into a
    temporary folder beside the cache entry, checked against the layout, and
    renamed into place, so ``<cache>/<name>`` is either complete or absent.

    Parameters
    ----------
    name : str
        A key of :data:`DATA_HUB`.
    retries : int
        Attempts per URL on network errors (not on checksum mismatches).

    Returns
    -------
    pathlib.Path
        ``<cache>/<name>``.

    Raises
    ------
    ChecksumError, DataError, DataUnavailableError
        See :func:`locate`.
    """
    dataset = _get(name)
    cache = cache_dir()
    target = cache / name
    if target.is_dir():
        return target
    archive = _download_archive(dataset, cache / "archives", retries)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache))
    try:
        try:
            shutil.unpack_archive(str(archive), str(tmp))
        except (shutil.ReadError, EOFError, OSError) as err:
            archive.unlink(missing_ok=True)
            raise DataError(f"archive {archive} of '{name}' could not be unpacked ({err}); it was removed") from err
        root = tmp / dataset.archive_root if dataset.archive_root else tmp
        if not root.is_dir():
            raise DataError(f"archive {archive} of '{name}' has no folder '{dataset.archive_root}'")
        validate_layout(dataset, root)
        os.replace(root, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def describe(name: str) -> str:
    """Return a short human-readable card for a data set (source, licence, citation)."""
    d = _get(name)
    return (f"{d.name}: {d.homepage}\n  archive: {d.urls[0]}\n  sha256: {d.sha256}\n"
            f"  licence: {d.licence}\n  cite: {d.citation}")


def fallback_notice(what: str, reason: str, stand_in: str) -> None:
    """Print a loud banner and warn that generated stand-in data replaces ``what``."""
    bar = "!" * 78
    message = (f"{bar}\n!! NOT THE REAL DATA: {what} is unavailable.\n!! Reason: {reason}\n"
               f"!! Using an embedded, generated stand-in instead: {stand_in}.\n"
               f"!! Numbers below are NOT comparable with the course's published results.\n{bar}")
    print(message)
    warnings.warn(f"{what} replaced by a generated stand-in ({stand_in})", FallbackDataWarning, stacklevel=3)


# ----------------------------------------------------------------------------- FSDD

FSDD_PATTERN = re.compile(r"^(?P<digit>\d)_(?P<speaker>[A-Za-z]+)_(?P<index>\d+)\.wav$")


@dataclass
class SpokenDigits:
    """Isolated spoken digits.

    Attributes
    ----------
    waveforms : list of np.ndarray
        One float32 mono waveform per clip, in [-1, 1], at ``sample_rate`` Hz;
        lengths differ.
    labels : np.ndarray, int64, shape (n,)
        The digit, 0–9.
    speakers : np.ndarray of str, shape (n,)
        Speaker id of each clip (for speaker-independent splits).
    files : list of str
        Source file of each clip (a description for generated clips).
    sample_rate : int
        Hz.
    origin : str
        ``"mirror"``, ``"cache"``, ``"download"`` or ``"fallback"``.
    """

    waveforms: list
    labels: np.ndarray
    speakers: np.ndarray
    files: list
    sample_rate: int
    origin: str
    label_names: list = field(default_factory=lambda: [str(d) for d in range(10)])

    def __len__(self) -> int:
        return len(self.waveforms)

    def subset(self, index) -> "SpokenDigits":
        """Return the clips at ``index`` (an integer array or boolean mask)."""
        index = np.arange(len(self))[index]
        return SpokenDigits([self.waveforms[i] for i in index], self.labels[index], self.speakers[index],
                            [self.files[i] for i in index], self.sample_rate, self.origin, self.label_names)


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
        (:func:`course_utils.fallback.synthetic_spoken_digits`) and say so loudly.
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
    from .audio import load_audio

    try:
        found = locate("fsdd")
    except DataUnavailableError as err:
        if not fallback:
            raise
        from .fallback import synthetic_spoken_digits

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


@dataclass
class PhotoDomains:
    """Photos of several domains, resized and centre-cropped to one size.

    Attributes
    ----------
    images : np.ndarray, uint8, shape (n, size, size, 3)
        RGB pixels.
    labels : np.ndarray, int64, shape (n,)
        Index into ``class_names``.
    class_names : list of str
        Domain names, e.g. ``["horse", "zebra", "summer", "winter"]``.
    splits : np.ndarray of str, shape (n,)
        ``"train"`` or ``"test"`` — the official folders (``trainA``, ``testA``…).
        A subset without test folders has only ``"train"``.
    files : list of str
        Source file of each image.
    origin : dict
        Data set name -> ``"mirror"``, ``"cache"``, ``"download"`` or ``"fallback"``.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: list
    splits: np.ndarray
    files: list
    origin: dict

    def __len__(self) -> int:
        return len(self.images)


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
        as a stand-in (loud notice); if False, raise.
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
    from .images import load_image

    unknown = [d for d in domains if d not in PHOTO_DOMAINS]
    if unknown:
        raise KeyError(f"unknown photo domain(s) {unknown}; known: {list(PHOTO_DOMAINS)}")
    images, labels, splits, files, origin = [], [], [], [], {}
    for label, domain in enumerate(domains):
        name, suffix = PHOTO_DOMAINS[domain]
        try:
            found = locate(name)
        except DataUnavailableError as err:
            if not fallback:
                raise
            from .fallback import synthetic_photos

            fallback_notice(f"'{name}' (domain {domain})", str(err).splitlines()[0],
                            "random crops of one of scikit-image's bundled photos per domain")
            origin[name] = "fallback"
            n = per_domain or 60
            imgs = synthetic_photos(domain, n, image_size, seed=seed + label)
            images.extend(imgs)
            labels.extend([label] * n)
            splits.extend(["train"] * n)
            files.extend([f"fallback:{domain}:{i}" for i in range(n)])
            continue
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
