"""Finding, downloading and verifying the registered data sets; the data layer's errors.

:func:`locate` finds a data set's folder, in this order:

1. **Mirror** — ``$COURSE_DATA_DIR/<name>/`` (a classroom's shared drive, or
   ``../shared/datasets`` in CI). If the folder is there but lacks the expected
   files, that is an error, not a silent fall-through.
2. **Cache** — ``$COURSE_CACHE_DIR/<name>/`` (default ``<project>/data``), filled
   by an earlier download.
3. **Download** (:func:`fetch`) — the official archive with a progress bar and retries,
   verified against its sha256 (pooch), unpacked into a temporary folder and
   moved into the cache in one atomic rename, so an interrupted run never
   leaves a half-written cache. Skipped when ``COURSE_OFFLINE=1``.

Processes sharing one cache (a classroom's notebooks starting at once) take turns:
the download of a data set holds the file lock ``<cache>/<name>.lock``
(:mod:`filelock`) from the check of the cache to the rename, so one process
downloads and the others wait, then find the finished folder. A wait longer
than :data:`LOCK_TIMEOUT` seconds is a :class:`DataError` naming the lock file.

:func:`fallback_notice` is the loud banner the loaders print when they use a generated
stand-in (:mod:`course_utils.data.fallback`) instead.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..config import PROJECT_ROOT
from .registry import DataSet, lookup


class DataError(RuntimeError):
    """A data set is present but malformed (missing files, unreadable file), or its cache stays locked.

    The message says what is wrong and what to do, so IPython and Jupyter show only the message,
    not a traceback through the data layer (:meth:`_render_traceback_`); the exception's
    ``__traceback__`` (and ``__cause__``) still hold the full story for a debugger.
    """

    def _render_traceback_(self) -> list:
        """The lines IPython shows instead of a traceback: ``<ErrorType>: <message>``."""
        return f"{type(self).__name__}: {self}".splitlines()


class DataUnavailableError(DataError):
    """A data set is neither in the mirror, nor cached, nor downloadable."""


class ChecksumError(DataError):
    """A downloaded archive does not match its registered sha256 (it was removed)."""


class FallbackDataWarning(UserWarning):
    """Issued when a loader uses the embedded stand-in instead of real data."""


#: Seconds a process waits for another one's download of the same data set into the
#: shared cache (the lock ``<cache>/<name>.lock``) before giving up with a DataError.
LOCK_TIMEOUT = 30 * 60


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


def locate(name: str, download: bool = True) -> Located:
    """Find a registered data set: mirror first, then cache, then download.

    Parameters
    ----------
    name : str
        A key of :data:`course_utils.data.registry.DATA_HUB`.
    download : bool
        Allow a download when mirror and cache lack the set (also disabled by
        ``COURSE_OFFLINE=1``).

    Returns
    -------
    Located
        The data set's folder (laid out as ``dataset.layout`` says) and its origin:
        ``"cache"`` also when another process sharing the cache finished the
        download while this one waited for it.

    Raises
    ------
    DataError
        The mirror has a folder for the set, but it lacks expected files; or another
        process has held the set's download lock for longer than :data:`LOCK_TIMEOUT`.
    ChecksumError
        The downloaded archive does not match the registered sha256 (the file is deleted).
    DataUnavailableError
        Nothing has the set; the message says where to get it and how to set a mirror.
    """
    dataset = lookup(name)
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
            path, origin = _fetch(name)
            return Located(name, path, origin)
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

    Processes sharing the cache take turns: all of this runs under the file lock
    ``<cache>/<name>.lock``, and a process that waited for it finds the folder
    another one finished and downloads nothing.

    Parameters
    ----------
    name : str
        A key of :data:`course_utils.data.registry.DATA_HUB`.
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
    return _fetch(name, retries)[0]


def _complete(dataset: DataSet, target: Path) -> bool:
    """True when ``target`` is a folder with every file ``dataset.layout`` expects."""
    return target.is_dir() and not _layout_missing(dataset, target)


def _fetch(name: str, retries: int = 3) -> tuple[Path, str]:
    """Do :func:`fetch`; also say whether this process downloaded the set.

    Parameters
    ----------
    name : str
        A key of :data:`course_utils.data.registry.DATA_HUB`.
    retries : int
        Attempts per URL on network errors.

    Returns
    -------
    path : pathlib.Path
        ``<cache>/<name>``.
    origin : str
        ``"download"`` when this process unpacked it, ``"cache"`` when it was
        already complete (another process finished it, perhaps while this one waited).

    Raises
    ------
    DataError
        The lock stayed held for :data:`LOCK_TIMEOUT` seconds; see also :func:`locate`.
    ChecksumError, DataUnavailableError
        See :func:`locate`.
    """
    from filelock import FileLock, Timeout

    dataset = lookup(name)
    cache = cache_dir()
    target = cache / dataset.directory
    if _complete(dataset, target):
        return target, "cache"
    lock_path = cache / f"{name}.lock"
    lock = FileLock(lock_path, timeout=LOCK_TIMEOUT)
    try:
        lock.acquire()
    except Timeout as err:
        raise DataError(
            f"gave up on '{name}' after waiting {LOCK_TIMEOUT:g} s for the lock file {lock_path}: another "
            f"process sharing the cache {cache} is still downloading or unpacking it. Run again once it is done; "
            f"if no other process uses this cache, delete {lock_path}."
        ) from err
    try:
        if _complete(dataset, target):  # another process finished it while this one waited
            return target, "cache"
        _download_and_unpack(dataset, cache, target, retries)
    finally:
        lock.release()
    return target, "download"


def _download_and_unpack(dataset: DataSet, cache: Path, target: Path, retries: int) -> None:
    """Download and verify ``dataset``, unpack it beside ``target``, rename it into place.

    The caller holds the data set's lock. The files are unpacked into a temporary
    folder ``<cache>/.<name>-*`` that is renamed into place only once its layout
    checks out, and removed whatever happens.
    """
    name = dataset.name
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


def describe(name: str) -> str:
    """Return a short human-readable card for a data set (source, licence, citation)."""
    d = lookup(name)
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
    warnings.warn(f"{what} replaced by a generated stand-in ({stand_in})", FallbackDataWarning,
                  stacklevel=_caller_stacklevel())


def _caller_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning issued by this module's caller point at the first frame
    outside ``course_utils`` (the notebook cell or script that called the loader), however deep the call.

    The warning is then the caller's, as a deliberate warning should be: it names the line to change,
    and a filter that turns ``course_utils``' own warnings into errors (``error:::course_utils``)
    does not catch it. (Python 3.12's ``warnings.warn(skip_file_prefixes=…)`` does the same.)
    """
    package = Path(__file__).resolve().parents[1]
    frame, level = sys._getframe(1), 1  # the frame calling this function is warnings.warn's level 1
    while frame is not None and Path(frame.f_code.co_filename).resolve().is_relative_to(package):
        frame, level = frame.f_back, level + 1
    return level
