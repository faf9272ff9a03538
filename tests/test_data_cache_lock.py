"""A classroom's notebooks share one cache: concurrent downloads of a data set take turns on a file lock."""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import time

import pytest

from course_utils import data

N_PROCESSES = 4
SERVER_DELAY = 2.0  # seconds the server holds the archive back: the other processes arrive meanwhile


def _folder_contents(folder) -> dict:
    """Relative path -> sha256 of every file under ``folder``."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _locate_in_child(dataset, cache, barrier, results):
    """Run in a fresh ('spawn') process: register ``dataset``, wait for the others, then locate it."""
    os.environ["COURSE_CACHE_DIR"] = cache
    os.environ["COURSE_RETRY_DELAY"] = "0"
    os.environ.pop("COURSE_DATA_DIR", None)
    os.environ.pop("COURSE_OFFLINE", None)
    from course_utils import data as child_data

    child_data.DATA_HUB[dataset.name] = dataset
    try:
        barrier.wait(timeout=60)
        started = time.monotonic()
        found = child_data.locate(dataset.name)
        results.put(("ok", found.origin, str(found.path), _folder_contents(found.path), started, time.monotonic()))
    except BaseException as err:  # reported to the test, which fails with it
        results.put(("error", f"{type(err).__name__}: {err}"))


def test_concurrent_processes_download_once_and_share_the_folder(toy_dataset, server, tmp_path):
    dataset = toy_dataset()
    server.delay = SERVER_DELAY
    cache = tmp_path / "cache"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(N_PROCESSES)
    results = ctx.Queue()
    procs = [ctx.Process(target=_locate_in_child, args=(dataset, str(cache), barrier, results))
             for _ in range(N_PROCESSES)]
    for p in procs:
        p.start()
    try:
        outcomes = [results.get(timeout=60) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    errors = [o[1] for o in outcomes if o[0] == "error"]
    assert not errors, errors
    assert all(p.exitcode == 0 for p in procs)

    # one download, by one process; the others waited for it and read the cache it filled
    assert server.requests == ["toy.tar.gz"]
    origins = sorted(o[1] for o in outcomes)
    assert origins == ["cache"] * (N_PROCESSES - 1) + ["download"], origins
    # the race was real: another process had started before the downloader was done
    downloader = next(o for o in outcomes if o[1] == "download")
    assert any(o[4] < downloader[5] for o in outcomes if o is not downloader)

    # every process got the same, complete folder
    expected = _folder_contents(tmp_path / "src" / "toy-1.0")
    assert len([f for f in expected if f.endswith(".wav")]) == 20
    for _, _, path, contents, *_ in outcomes:
        assert path == str(cache / "toy") and contents == expected

    # no temporary folder is left; the lock file left behind does not block a later call
    assert not list(cache.glob(".toy-*"))
    assert data.locate("toy").origin == "cache"
    server.delay = 0.0
    shutil.rmtree(cache / "toy")  # unpack again under the same lock file, from the verified archive kept
    again = data.locate("toy")
    assert again.origin == "download" and _folder_contents(again.path) == expected
    assert server.requests == ["toy.tar.gz"]


def test_lock_held_too_long_names_the_lock_file(toy_dataset, server, tmp_path, monkeypatch):
    from filelock import FileLock

    toy_dataset()
    monkeypatch.setattr(data.fetch, "LOCK_TIMEOUT", 0.2)
    lock_path = tmp_path / "cache" / "toy.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(lock_path):  # another process (here, another lock object) is downloading 'toy'
        with pytest.raises(data.DataError, match=r"lock file .*toy\.lock") as err:
            data.locate("toy")
    assert not isinstance(err.value, data.DataUnavailableError)  # not swallowed into a fallback
    assert server.requests == [] and not (tmp_path / "cache" / "toy").exists()
    assert data.locate("toy").origin == "download"  # released: the next call proceeds
