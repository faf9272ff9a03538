"""Shared fixtures: generated audio/image files and a local HTTP server for the data layer."""
from __future__ import annotations

import hashlib
import http.server
import io
import os
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Every test gets its own cache and build folders, no mirror, and fast retries."""
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_BUILD_DIR", str(tmp_path / "build"))
    monkeypatch.setenv("COURSE_RETRY_DELAY", "0")
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)


@pytest.fixture(autouse=True)
def seeded():
    """Every test starts from the same seeds, whatever ran before it in this worker (make test runs two workers)."""
    from course_utils import config

    config.set_seed(0)


def write_wav(path: Path, y: np.ndarray, sample_rate: int) -> Path:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, y, sample_rate, subtype="PCM_16")
    return path


def tone(seconds=0.5, sample_rate=8000, freq=440.0, amplitude=0.5) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def make_fsdd_tree(root: Path, speakers=("alice", "bob"), per_digit=2) -> Path:
    """An FSDD-shaped folder of short generated clips (not real speech)."""
    for s_i, speaker in enumerate(speakers):
        for digit in range(10):
            for i in range(per_digit):
                y = np.concatenate([np.zeros(400, np.float32), tone(0.3, freq=200 + 60 * digit + 7 * s_i),
                                    np.zeros(400, np.float32)])
                write_wav(root / "recordings" / f"{digit}_{speaker}_{i}.wav", y, 8000)
    return root


def make_photo_tree(root: Path, n=3, with_test=True) -> Path:
    """A CycleGAN-shaped folder (trainA/trainB[/testA/testB]) of generated JPEGs, one greyscale."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for split in ["train", "test"] if with_test else ["train"]:
        for side, colour in (("A", (200, 60, 40)), ("B", (40, 60, 200))):
            folder = root / f"{split}{side}"
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                arr = np.clip(np.array(colour) + rng.normal(0, 20, (40, 50, 3)), 0, 255).astype(np.uint8)
                img = Image.fromarray(arr)
                (img.convert("L") if i == 0 else img).save(folder / f"img_{i}.jpg")
    return root


def tar_gz_bytes(folder: Path, arcname: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(folder, arcname=arcname)
    return buf.getvalue()


class ArchiveServer:
    """Serves ``files`` (name -> bytes) on 127.0.0.1; names in ``truncate`` send half and hang up.

    ``delay`` (seconds) holds every response back, so that concurrent downloads overlap.
    """

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.truncate: set[str] = set()
        self.delay = 0.0
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.lstrip("/")
                server.requests.append(name)
                time.sleep(server.delay)
                body = server.files.get(name)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if name in server.truncate:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = ArchiveServer()
    yield srv
    srv.close()


@pytest.fixture
def toy_dataset(tmp_path, server, monkeypatch):
    """Register a small FSDD-shaped data set 'toy' served as a tar.gz by the local server."""
    from course_utils import data

    tree = make_fsdd_tree(tmp_path / "src" / "toy-1.0", per_digit=1)
    body = tar_gz_bytes(tree, "toy-1.0")
    server.files["toy.tar.gz"] = body

    def make(sha256=None, name="toy", urls=None):
        ds = data.DataSet(name=name, urls=tuple(urls or [server.url("toy.tar.gz")]),
                          sha256=sha256 or hashlib.sha256(body).hexdigest(), archive="tar.gz",
                          archive_root="toy-1.0", layout=("recordings/*.wav",), licence="test",
                          citation="test", homepage="test")
        monkeypatch.setitem(data.DATA_HUB, name, ds)
        return ds

    return make
