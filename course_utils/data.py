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
    md5 : str, optional
        Used only where the publisher gives no sha256 and no verified sha256 is known
        (then ``sha256`` is None and :attr:`hash_note` names the md5's source).
    folder : str, optional
        Folder name in mirrors and in the cache when several registry entries share one
        folder (CMU ARCTIC: one archive per speaker, all under ``cmu_arctic/``). The archive's
        ``archive_root`` is then kept as a subfolder: ``<cache>/<folder>/<archive_root>``.
    files : tuple of (str, str or None)
        For ``archive="files"`` (no archive: one download per file, e.g. Kodak's PNGs):
        each file name and its sha256 where one is known. A URL ending in ``/`` is a folder
        the name is appended to; otherwise the URL is the (single) file itself.
    hash_note : str
        Where the checksum comes from (shown by :func:`describe`).
    """

    name: str
    urls: tuple[str, ...]
    sha256: str | None
    archive: str
    archive_root: str
    layout: tuple[str, ...]
    licence: str
    citation: str
    homepage: str
    size_bytes: int | None = None
    md5: str | None = None
    folder: str = ""
    files: tuple = ()
    hash_note: str = ""

    @property
    def directory(self) -> str:
        """Folder name of the data set in mirrors and in the cache."""
        return self.folder or self.name

    @property
    def known_hash(self) -> str | None:
        """The archive checksum in pooch's form (``"sha256:…"``, ``"md5:…"``)."""
        return f"sha256:{self.sha256}" if self.sha256 else (f"md5:{self.md5}" if self.md5 else None)


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

_ARCTIC_CITATION = ("J. Kominek, A. W. Black, The CMU Arctic speech databases, 5th ISCA Speech Synthesis "
                    "Workshop, 2004")
for _speaker, _sha in {"bdl": "26b91aaf48b2799b2956792b4632c2f926cd0542f402b5452d5adecb60942904",
                       "slt": "7c173297916acf3cc7fcab2713be4c60b27312316765a90934651d367226b4ea"}.items():
    register(DataSet(
        name=f"cmu_arctic_{_speaker}",
        urls=(f"http://festvox.org/cmu_arctic/packed/cmu_us_{_speaker}_arctic.tar.bz2",
              f"http://www.festvox.org/cmu_arctic/packed/cmu_us_{_speaker}_arctic.tar.bz2"),
        sha256=_sha,
        archive="tar.bz2",
        archive_root=f"cmu_us_{_speaker}_arctic",
        layout=(f"cmu_us_{_speaker}_arctic/wav/arctic_*.wav", f"cmu_us_{_speaker}_arctic/etc/txt.done.data"),
        licence="CMU ARCTIC licence: free for any use, keep the copyright notice (COPYING)",
        citation=_ARCTIC_CITATION,
        homepage="http://festvox.org/cmu_arctic/",
        folder="cmu_arctic",
        hash_note="sha256 of the archive as verified by torchaudio's CMUARCTIC data set",
    ))
register(DataSet(
    name="lfw",
    urls=("http://vis-www.cs.umass.edu/lfw/lfw-deepfunneled.tgz",),
    sha256=None,
    md5="68331da3eb755a505a502b5aacb3c201",
    archive="tgz",
    archive_root="lfw-deepfunneled",
    layout=("lfw-deepfunneled/*/*.jpg",),
    licence="Labeled Faces in the Wild: research use",
    citation=("G. B. Huang, M. Ramesh, T. Berg, E. Learned-Miller, Labeled Faces in the Wild, UMass TR 07-49, "
              "2007; deep funneling: G. B. Huang, M. Mattar, H. Lee, E. Learned-Miller, NIPS 2012"),
    homepage="http://vis-www.cs.umass.edu/lfw/",
    folder="lfw",
    hash_note="md5 as verified by TFDS and torchvision (the LFW site publishes no sha256)",
))
register(DataSet(
    name="olivetti",
    urls=("https://ndownloader.figshare.com/files/5976027",),
    sha256="b612fb967f2dc77c9c62d3e1266e0c73d5fca46a4b8906c18e454d41af987794",
    archive="files",
    archive_root="",
    layout=("olivettifaces.mat",),
    licence="credit AT&T Laboratories Cambridge",
    citation=("F. Samaria, A. Harter, Parameterisation of a stochastic model for human face identification, "
              "IEEE WACV 1994 (MAT file by S. Roweis)"),
    homepage="https://cam-orl.co.uk/facedatabase.html",
    files=(("olivettifaces.mat", "b612fb967f2dc77c9c62d3e1266e0c73d5fca46a4b8906c18e454d41af987794"),),
    hash_note="sha256 as verified by scikit-learn's fetch_olivetti_faces (the figshare copy of Roweis' file)",
))
#: sha256 of kodim01–08 as published (hashed from an unmodified classroom copy); the suite's
#: site publishes no checksums, so kodim09–24 are checked by decoding (PNG, 768×512 or 512×768).
_KODAK_SHA256 = {
    "kodim01.png": "6b4fbe6f3e8e0e20150d5b0c32248bf072e22b5989d415f96f796c5b7004a70f",
    "kodim02.png": "1788370471429d992750a09caf6702ac74e56962447de02520d4b161738c0369",
    "kodim03.png": "b9c800ee568f0b18c983817df08d9f7f24a7ddb3abfdc31bde9234c4fde83137",
    "kodim04.png": "0c60c62599ad33fd78b29c36013fbe4120946f6c327c0ef0ec6983297fb48d23",
    "kodim05.png": "ccf694ceb6bbf431e0009ed0d5573a8ff0915095b69ddfb527b91d8325897f5e",
    "kodim06.png": "f4212cc927d1d579c712843cf8320c7eccb571e5ea80456022ffe99d67e9cd5d",
    "kodim07.png": "7cdd6d63ae0a245f6f9d983d740e11c6808c2efc24f8351aad9b5f676c27b55a",
    "kodim08.png": "5a6a089bdb47605287c00d89ebf2a5312981eb998c94b5853d917c93a9066cdb",
}
register(DataSet(
    name="kodak",
    urls=("https://r0k.us/graphics/kodak/kodak/",),
    sha256=None,
    archive="files",
    archive_root="",
    layout=("kodim*.png",),
    licence="Kodak Lossless True Color Image Suite: free for research use",
    citation="Eastman Kodak, Kodak Lossless True Color Image Suite (PhotoCD PCD0992), 1999",
    homepage="https://r0k.us/graphics/kodak/",
    files=tuple((f"kodim{i:02d}.png", _KODAK_SHA256.get(f"kodim{i:02d}.png")) for i in range(1, 25)),
    hash_note="sha256 per file for kodim01–08; the others are verified by decoding",
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


def _layout_missing(dataset: DataSet, folder: Path) -> list:
    return [pattern for pattern in dataset.layout if next(folder.glob(pattern), None) is None]


def validate_layout(dataset: DataSet, folder: Path) -> None:
    """Check that ``folder`` has the files ``dataset.layout`` expects.

    Raises
    ------
    DataError
        Naming the folder and each glob pattern that matched no file.
    """
    missing = _layout_missing(dataset, folder)
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
    folder = dataset.directory
    mirror = mirror_dir()
    if mirror is not None and (mirror / folder).is_dir():
        validate_layout(dataset, mirror / folder)
        return Located(name, mirror / folder, "mirror")
    cached = cache_dir() / folder
    if cached.is_dir() and not (dataset.folder and _layout_missing(dataset, cached)):
        validate_layout(dataset, cached)
        return Located(name, cached, "cache")
    reasons = []
    if mirror is None:
        reasons.append("COURSE_DATA_DIR is not set")
    else:
        reasons.append(f"the mirror {mirror} has no folder '{folder}'")
    if download and not offline():
        try:
            return Located(name, fetch(name), "download")
        except DataUnavailableError as err:  # network failures; checksum/unpack errors propagate
            reasons.append(str(err))
    else:
        reasons.append("downloads are disabled (COURSE_OFFLINE=1 or download=False)")
    raise DataUnavailableError(
        f"data set '{name}' is not available: " + "; ".join(reasons) + ".\n"
        f"Get it from {dataset.urls[0]} ({dataset.known_hash or 'per-file checks'}), or point COURSE_DATA_DIR "
        f"at a folder holding '{folder}/' laid out as {list(dataset.layout)}."
    )


# ----------------------------------------------------------------------------- downloading


def _download_archive(dataset: DataSet, dest: Path, retries: int, file: tuple | None = None) -> Path:
    """Download and verify one file with pooch; return its path in ``dest``.

    ``file`` is one ``(name, sha256 or None)`` entry of ``dataset.files`` (``archive="files"``):
    a URL ending in ``/`` is a folder and gets the name appended; any other URL is the file itself.
    Without ``file`` the data set's archive is fetched and checked against ``dataset.known_hash``.
    """
    import pooch
    import requests

    fname = file[0] if file else f"{dataset.name}.{dataset.archive}"
    known_hash = (f"sha256:{file[1]}" if file[1] else None) if file else dataset.known_hash
    errors = []
    for base in dataset.urls:
        url = base + fname if file and base.endswith("/") else base
        for attempt in range(1, retries + 1):
            try:
                path = pooch.retrieve(url, known_hash=known_hash, fname=fname, path=dest, progressbar=True)
                return Path(path)
            except ValueError as err:  # pooch: hash mismatch (its temporary file is already removed)
                (dest / fname).unlink(missing_ok=True)
                raise ChecksumError(
                    f"download of '{dataset.name}' from {url} does not match its checksum "
                    f"{known_hash} (sha256/md5); the file was removed. ({err})"
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
    target = cache / dataset.directory
    if target.is_dir() and not _layout_missing(dataset, target):
        return target
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache))
    try:
        if dataset.archive == "files":  # one download per file, straight into the temporary folder
            for fname, sha in dataset.files:
                path = _download_archive(dataset, cache / "archives" / name, retries, file=(fname, sha))
                shutil.copy2(path, tmp / fname)
            root = tmp
        else:
            archive = _download_archive(dataset, cache / "archives", retries)
            try:
                shutil.unpack_archive(str(archive), str(tmp))
            except (shutil.ReadError, EOFError, OSError) as err:
                archive.unlink(missing_ok=True)
                raise DataError(f"archive {archive} of '{name}' could not be unpacked ({err}); "
                                "it was removed") from err
            root = tmp / dataset.archive_root if dataset.archive_root else tmp
            if not root.is_dir():
                raise DataError(f"archive {archive} of '{name}' has no folder '{dataset.archive_root}'")
        if dataset.folder and dataset.archive_root:  # keep the archive's root folder inside the shared folder
            validate_layout(dataset, tmp)
            target.mkdir(exist_ok=True)
            os.replace(root, target / dataset.archive_root)
        else:
            validate_layout(dataset, root)
            os.replace(root, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def describe(name: str) -> str:
    """Return a short human-readable card for a data set (source, licence, citation)."""
    d = _get(name)
    return (f"{d.name}: {d.homepage}\n  archive: {d.urls[0]}\n  checksum: {d.known_hash or 'per file'}"
            f"{' (' + d.hash_note + ')' if d.hash_note else ''}\n"
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


# ----------------------------------------------------------------------------- CMU ARCTIC

ARCTIC_PROMPT = re.compile(r'^\(\s*(?P<id>\S+)\s+"(?P<text>.*)"\s*\)\s*$')


@dataclass
class ArcticSpeech:
    """Read sentences of CMU ARCTIC, parallel across speakers.

    Attributes
    ----------
    ids : list of str
        Utterance ids (``"arctic_a0001"``…) that every requested speaker has, sorted.
    texts : list of str
        The prompt of each id, as written in ``etc/txt.done.data``.
    waveforms : dict of str -> list of np.ndarray
        Speaker (``"bdl"``, ``"slt"``…) → one float32 mono waveform per id, in [-1, 1],
        at ``sample_rate`` Hz, with its leading and trailing silence kept.
    files : dict of str -> list of str
        Speaker → source file of each waveform.
    sample_rate : int
        Hz (ARCTIC is recorded at 16000 Hz).
    origin : str
        ``"mirror"``, ``"cache"``, ``"download"`` or ``"fallback"``.
    """

    ids: list
    texts: list
    waveforms: dict
    files: dict
    sample_rate: int
    origin: str

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, index) -> "ArcticSpeech":
        """Return the utterances at ``index`` (an integer array, slice or boolean mask)."""
        index = np.arange(len(self))[index]
        pick = lambda seq: [seq[i] for i in index]  # noqa: E731
        return ArcticSpeech(pick(self.ids), pick(self.texts), {k: pick(v) for k, v in self.waveforms.items()},
                            {k: pick(v) for k, v in self.files.items()}, self.sample_rate, self.origin)


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
    from .audio import load_audio

    speakers = list(speakers)
    found = {}
    try:
        for speaker in speakers:
            found[speaker] = locate(f"cmu_arctic_{speaker}")
    except DataUnavailableError as err:
        if not fallback:
            raise
        from .fallback import synthetic_parallel_speech

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


@dataclass
class Faces:
    """Face photographs with identity labels.

    Attributes
    ----------
    images : np.ndarray, uint8, shape (n, size, size, channels)
        Pixels; 3 channels (RGB) for LFW, 1 (grey) for Olivetti.
    labels : np.ndarray, int64, shape (n,)
        Index into ``class_names``.
    class_names : list of str
        Person names (LFW) or subject ids (Olivetti, ``"s01"``…).
    files : list of str
        Source of each image.
    origin : str
        ``"mirror"``, ``"cache"`` or ``"download"``.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: list
    files: list
    origin: str

    def __len__(self) -> int:
        return len(self.images)


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

    found = locate("olivetti")
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
    found = locate("lfw")
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


@dataclass
class ImageSet:
    """Full-size test photographs (sizes differ).

    Attributes
    ----------
    images : list of np.ndarray, uint8, shape (height, width, 3)
    names : list of str
        File stems (``"kodim01"``).
    files : list of str
    origin : str
        ``"mirror"``, ``"cache"``, ``"download"`` or ``"fallback"``.
    """

    images: list
    names: list
    files: list
    origin: str

    def __len__(self) -> int:
        return len(self.images)


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
    from .images import load_image

    try:
        found = locate("kodak")
    except DataUnavailableError as err:
        if not fallback:
            raise
        from skimage import data as skdata

        fallback_notice("Kodak", str(err).splitlines()[0], "scikit-image's bundled colour photographs")
        names = ["astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "colorwheel"][:limit]
        images = [np.ascontiguousarray(getattr(skdata, n)()[..., :3]) for n in names]
        return ImageSet(images, names, [f"skimage.data.{n}" for n in names], "fallback")
    paths = sorted(found.path.glob("kodim*.png"))[:limit]
    images = [np.asarray(load_image(p)) for p in paths]
    return ImageSet(images, [p.stem for p in paths], [str(p) for p in paths], found.origin)
