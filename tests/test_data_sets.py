"""Data sets added for topics 2, 3 and 5: CMU ARCTIC, LFW, Olivetti, Kodak (generated fixtures only)."""
from __future__ import annotations

import hashlib
import io
import tarfile

import numpy as np
import pytest

from course_utils import data
from conftest import tone, write_wav


def make_arctic_tree(root, speakers=("bdl", "slt"), n=4, sample_rate=16000):
    """An ARCTIC-shaped folder: cmu_us_<spk>_arctic/wav/arctic_aNNNN.wav + etc/txt.done.data."""
    for s_i, spk in enumerate(speakers):
        folder = root / f"cmu_us_{spk}_arctic"
        lines = []
        for i in range(1, n + 1):
            write_wav(folder / "wav" / f"arctic_a{i:04d}.wav", tone(0.4, sample_rate, 150 + 80 * s_i + 10 * i),
                      sample_rate)
            lines.append(f'( arctic_a{i:04d} "Sentence number {i}, said." )')
        (folder / "etc").mkdir(parents=True, exist_ok=True)
        (folder / "etc" / "txt.done.data").write_text("\n".join(lines) + "\n")
    return root


def test_arctic_is_parallel_and_discovered(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    make_arctic_tree(mirror / "cmu_arctic", n=4)
    (mirror / "cmu_arctic" / "cmu_us_slt_arctic" / "wav" / "arctic_a0004.wav").unlink()  # slt lacks one
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    speech = data.load_arctic(("bdl", "slt"), fallback=False)
    assert speech.ids == ["arctic_a0001", "arctic_a0002", "arctic_a0003"]  # only the common ones
    assert speech.texts[0] == "Sentence number 1, said."
    assert speech.sample_rate == 16000 and speech.origin == "mirror"
    for spk in ("bdl", "slt"):
        assert len(speech.waveforms[spk]) == 3 and speech.waveforms[spk][0].dtype == np.float32
    sub = speech.subset([2])
    assert sub.ids == ["arctic_a0003"] and len(sub.waveforms["slt"]) == 1
    assert len(data.load_arctic(("slt",), limit=2, fallback=False)) == 2


def test_arctic_bad_prompt_file_is_named(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    make_arctic_tree(mirror / "cmu_arctic", speakers=("slt",), n=2)
    (mirror / "cmu_arctic" / "cmu_us_slt_arctic" / "etc" / "txt.done.data").write_text("garbage line\n")
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    with pytest.raises(data.DataError, match="txt.done.data:1"):
        data.load_arctic(("slt",), fallback=False)


def test_arctic_speaker_download_lands_inside_shared_folder(tmp_path, server, monkeypatch):
    src = make_arctic_tree(tmp_path / "src", speakers=("slt",), n=2)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
        tar.add(src / "cmu_us_slt_arctic", arcname="cmu_us_slt_arctic")
    server.files["slt.tar.bz2"] = buf.getvalue()
    ds = data.DATA_HUB["cmu_arctic_slt"]
    monkeypatch.setitem(data.DATA_HUB, "cmu_arctic_slt", data.DataSet(
        **{**ds.__dict__, "urls": (server.url("slt.tar.bz2"),), "sha256": hashlib.sha256(buf.getvalue()).hexdigest()}))
    found = data.locate("cmu_arctic_slt")
    assert found.origin == "download"
    assert found.path == tmp_path / "cache" / "cmu_arctic"
    assert (found.path / "cmu_us_slt_arctic" / "wav" / "arctic_a0001.wav").exists()
    assert data.locate("cmu_arctic_slt").origin == "cache"
    # bdl is not in the shared cache folder yet: it is looked for elsewhere, not reported as broken
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(data.DataUnavailableError, match="cmu_arctic"):
        data.locate("cmu_arctic_bdl")


def test_arctic_fallback_is_parallel_espeak(monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.warns(data.FallbackDataWarning):
        speech = data.load_arctic(("bdl", "slt"), limit=2)
    assert speech.origin == "fallback" and len(speech) == 2
    a, b = speech.waveforms["bdl"][0], speech.waveforms["slt"][0]
    assert a.dtype == np.float32 and np.abs(a).max() > 0.01 and not np.array_equal(a[:1000], b[:1000])
    with pytest.raises(data.DataUnavailableError):
        data.load_arctic(("slt",), fallback=False)


def test_olivetti_reads_column_major_mat(tmp_path, monkeypatch):
    from scipy.io import savemat

    images = np.zeros((20, 64, 64), np.uint8)
    images[:, :10, :] = 255  # a bright band at the TOP of every face
    images[10:] //= 2
    faces = images.transpose(0, 2, 1).reshape(20, -1).T  # Roweis: 4096 x n, column-major
    (tmp_path / "m" / "olivetti").mkdir(parents=True)
    savemat(tmp_path / "m" / "olivetti" / "olivettifaces.mat", {"faces": faces})
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "m"))
    out = data.load_olivetti()
    assert out.images.shape == (20, 64, 64, 1) and out.images.dtype == np.uint8
    assert out.images[0, :10].min() == 255 and out.images[0, 10:].max() == 0  # upright
    assert out.labels.tolist() == [0] * 10 + [1] * 10 and out.class_names == ["s01", "s02"]


def test_olivetti_unavailable_says_where_to_get_it(monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(data.DataUnavailableError, match="figshare"):
        data.load_olivetti()


def test_lfw_picks_people_with_most_images_and_crops(tmp_path, monkeypatch):
    from PIL import Image

    root = tmp_path / "m" / "lfw" / "lfw-deepfunneled"
    for name, n in (("Ann_A", 3), ("Bob_B", 5), ("Cy_C", 1)):
        (root / name).mkdir(parents=True)
        for i in range(n):
            arr = np.zeros((250, 250, 3), np.uint8)
            arr[61:189, 61:189] = (200, 100, 50)  # the central 128x128 "face"
            Image.fromarray(arr).save(root / name / f"{name}_{i + 1:04d}.jpg")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "m"))
    faces = data.load_lfw_people(top=2, image_size=32, crop=128)
    assert faces.class_names == ["Bob_B", "Ann_A"] and faces.images.shape == (8, 32, 32, 3)
    assert np.abs(faces.images[:, 4:-4, 4:-4].astype(int) - (200, 100, 50)).max() < 12  # the crop is the face
    with pytest.raises(data.DataError, match="Nobody"):
        data.load_lfw_people(names=["Nobody"])
    with pytest.raises(ValueError, match="crop"):
        data.load_lfw_people(crop=300)


def test_kodak_files_download_verified_per_file(tmp_path, server, monkeypatch):
    from PIL import Image

    bodies = {}
    for i, colour in enumerate([(255, 0, 0), (0, 255, 0)]):
        buf = io.BytesIO()
        Image.fromarray(np.full((8, 12, 3), colour, np.uint8)).save(buf, format="PNG")
        bodies[f"kodim{i + 1:02d}.png"] = buf.getvalue()
        server.files[f"kodim{i + 1:02d}.png"] = buf.getvalue()
    ds = data.DATA_HUB["kodak"]
    files = (("kodim01.png", hashlib.sha256(bodies["kodim01.png"]).hexdigest()), ("kodim02.png", None))
    monkeypatch.setitem(data.DATA_HUB, "kodak", data.DataSet(
        **{**ds.__dict__, "urls": (server.url(""),), "files": files}))
    kodak = data.load_kodak(fallback=False)
    assert kodak.names == ["kodim01", "kodim02"] and kodak.origin == "download"
    assert kodak.images[1].shape == (8, 12, 3) and kodak.images[1][0, 0].tolist() == [0, 255, 0]
    # a wrong per-file hash is refused and nothing half-written is left in the cache
    monkeypatch.setitem(data.DATA_HUB, "kodak", data.DataSet(
        **{**ds.__dict__, "urls": (server.url(""),), "files": (("kodim02.png", "0" * 64),)}))
    import shutil
    shutil.rmtree(tmp_path / "cache" / "kodak")
    with pytest.raises(data.ChecksumError):
        data.locate("kodak")
    assert not (tmp_path / "cache" / "kodak").exists()


def test_kodak_fallback_is_loud(monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.warns(data.FallbackDataWarning):
        kodak = data.load_kodak(limit=2)
    assert kodak.origin == "fallback" and len(kodak) == 2 and kodak.images[0].shape[-1] == 3


def test_single_file_url_is_the_file_itself(tmp_path, server, monkeypatch):
    """Olivetti's official URL (figshare) names no file: it must not get the file name appended."""
    from scipy.io import savemat

    buf = io.BytesIO()
    savemat(buf, {"faces": np.zeros((4096, 10), np.uint8)})
    server.files["files/5976027"] = buf.getvalue()
    ds = data.DATA_HUB["olivetti"]
    monkeypatch.setitem(data.DATA_HUB, "olivetti", data.DataSet(
        **{**ds.__dict__, "urls": (server.url("files/5976027"),),
           "files": (("olivettifaces.mat", hashlib.sha256(buf.getvalue()).hexdigest()),)}))
    faces = data.load_olivetti()
    assert faces.origin == "download" and faces.images.shape == (10, 64, 64, 1)
    assert server.requests == ["files/5976027"]
