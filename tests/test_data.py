"""Data layer: registry, verified download, atomic cache, mirror first, offline fallback, clear errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from course_utils import data
from conftest import make_fsdd_tree, make_photo_tree, write_wav, tone


def test_registry_entries_are_complete():
    for name, ds in data.DATA_HUB.items():
        assert ds.name == name
        if ds.archive == "files":  # per-file hashes; at least one known
            assert ds.files and any(sha for _, sha in ds.files)
            assert all(len(sha) == 64 for _, sha in ds.files if sha)
        elif ds.sha256 is None:  # only where no sha256 is published, and then the md5's source is named
            assert len(ds.md5) == 32 and int(ds.md5, 16) >= 0 and ds.hash_note
        else:
            assert len(ds.sha256) == 64 and int(ds.sha256, 16) >= 0
        assert all(url.startswith(("https://", "http://")) for url in ds.urls)  # checksums, not TLS, verify
        assert ds.layout and ds.licence and ds.citation
    assert {"fsdd", "horse2zebra", "summer2winter_yosemite", "cmu_arctic_bdl", "cmu_arctic_slt", "lfw",
            "olivetti", "kodak"} <= set(data.DATA_HUB)


def test_download_verifies_unpacks_then_uses_cache(toy_dataset, server, tmp_path):
    toy_dataset()
    found = data.locate("toy")
    assert found.origin == "download"
    assert len(list(found.path.glob("recordings/*.wav"))) == 20
    assert found.path == tmp_path / "cache" / "toy"
    again = data.locate("toy")
    assert again.origin == "cache" and server.requests == ["toy.tar.gz"]


def test_checksum_mismatch_raises_and_removes_the_file(toy_dataset, tmp_path):
    toy_dataset(sha256="0" * 64)
    with pytest.raises(data.ChecksumError, match="sha256"):
        data.locate("toy")
    cache = tmp_path / "cache"
    assert not (cache / "toy").exists()
    assert not any((cache / "archives").glob("*")) if (cache / "archives").exists() else True


def test_interrupted_download_leaves_no_half_written_cache(toy_dataset, server, tmp_path):
    toy_dataset()
    server.truncate.add("toy.tar.gz")
    with pytest.raises(data.DataUnavailableError, match="could not download 'toy'"):
        data.locate("toy")
    assert server.requests.count("toy.tar.gz") == 3  # retried
    leftovers = [p for p in (tmp_path / "cache").rglob("*") if p.name != "toy.lock"]  # the (released) lock stays
    assert all(p.is_dir() for p in leftovers), leftovers  # no partial archive, no partial extraction


def test_mirror_is_read_first(toy_dataset, server, tmp_path, monkeypatch):
    toy_dataset()
    make_fsdd_tree(tmp_path / "mirror" / "toy", per_digit=1)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "mirror"))
    found = data.locate("toy")
    assert found.origin == "mirror" and found.path == tmp_path / "mirror" / "toy"
    assert server.requests == []


def test_mirror_missing_expected_files_is_an_error(toy_dataset, tmp_path, monkeypatch):
    toy_dataset()
    (tmp_path / "mirror" / "toy" / "recordings").mkdir(parents=True)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "mirror"))
    with pytest.raises(data.DataError, match=r"incomplete: no file matches 'recordings/\*\.wav'"):
        data.locate("toy")


def test_no_network_no_mirror_says_how_to_get_the_data(toy_dataset, server):
    toy_dataset(urls=[server.url("missing.tar.gz")])
    with pytest.raises(data.DataUnavailableError) as err:
        data.locate("toy")
    assert "COURSE_DATA_DIR" in str(err.value) and "missing.tar.gz" in str(err.value)


def test_offline_mode_never_downloads(toy_dataset, server, monkeypatch):
    toy_dataset()
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(data.DataUnavailableError, match="downloads are disabled"):
        data.locate("toy")
    assert server.requests == []


def test_load_fsdd_discovers_speakers_from_files(tmp_path, monkeypatch):
    make_fsdd_tree(tmp_path / "mirror" / "fsdd", speakers=("ann", "ben", "cat"), per_digit=2)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "mirror"))
    digits = data.load_fsdd(per_digit_speaker=1)
    assert digits.origin == "mirror" and len(digits) == 30
    assert sorted(set(digits.speakers)) == ["ann", "ben", "cat"]
    assert digits.labels.dtype == np.int64 and sorted(set(digits.labels)) == list(range(10))
    assert all(w.dtype == np.float32 and w.ndim == 1 for w in digits.waveforms)
    sub = digits.subset(digits.speakers == "ann")
    assert len(sub) == 10 and set(sub.speakers) == {"ann"}


def test_load_fsdd_rejects_unexpected_file_names(tmp_path, monkeypatch):
    root = make_fsdd_tree(tmp_path / "mirror" / "fsdd", per_digit=1)
    write_wav(root / "recordings" / "hello.wav", tone(), 8000)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "mirror"))
    with pytest.raises(data.DataError, match="hello.wav"):
        data.load_fsdd()


def test_load_fsdd_names_a_corrupt_file(tmp_path, monkeypatch):
    root = make_fsdd_tree(tmp_path / "mirror" / "fsdd", per_digit=1)
    (root / "recordings" / "3_alice_9.wav").write_bytes(b"RIFF garbage")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "mirror"))
    with pytest.raises(ValueError, match="3_alice_9.wav"):
        data.load_fsdd()


def test_offline_fallback_spoken_digits_is_loud(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.warns(data.FallbackDataWarning):
        digits = data.load_fsdd(per_digit_speaker=1)
    assert "NOT THE REAL DATA" in capsys.readouterr().out
    assert digits.origin == "fallback" and digits.sample_rate == 8000
    assert sorted(set(digits.labels)) == list(range(10)) and len(set(digits.speakers)) >= 4
    assert all(0.1 < len(w) / 8000 < 2.0 and np.abs(w).max() > 0.05 for w in digits.waveforms)
    with pytest.raises(data.DataUnavailableError, match="fsdd"):
        data.load_fsdd(fallback=False)


def test_load_photo_domains_reads_train_and_test_folders(tmp_path, monkeypatch):
    make_photo_tree(tmp_path / "mirror" / "horse2zebra", n=3, with_test=True)
    make_photo_tree(tmp_path / "mirror" / "summer2winter_yosemite", n=2, with_test=False)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "mirror"))
    photos = data.load_photo_domains(image_size=32)
    assert photos.images.shape == (6 * 2 + 2 * 2, 32, 32, 3) and photos.images.dtype == np.uint8
    assert photos.class_names == ["horse", "zebra", "summer", "winter"]
    assert np.bincount(photos.labels).tolist() == [6, 6, 2, 2]
    assert set(photos.splits[photos.labels == 0]) == {"train", "test"}
    assert set(photos.splits[photos.labels == 2]) == {"train"}
    assert photos.origin == {"horse2zebra": "mirror", "summer2winter_yosemite": "mirror"}
    horse = photos.images[photos.labels == 0].astype(float).mean(axis=(0, 1, 2))
    assert horse[0] > horse[2]  # the generated "horse" photos are red: channels kept in RGB order


def test_photo_fallback_keeps_shapes(monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        photos = data.load_photo_domains(image_size=24, per_domain=5)
    assert any(issubclass(w.category, data.FallbackDataWarning) for w in caught)
    assert photos.images.shape == (20, 24, 24, 3)
    assert set(photos.origin.values()) == {"fallback"}
    with pytest.raises(KeyError, match="unknown photo domain"):
        data.load_photo_domains(domains=("horse", "cow"))


def test_photo_stand_in_is_files_laid_out_like_the_real_set(tmp_path, monkeypatch, capsys):
    """Offline, a photo set's stand-in is a folder of JPEGs in the real layout (notebook 01 globs trainA and
    passes ``photos.files[i]`` as a path: it failed with 'fallback:zebra:32: no such image file')."""
    from pathlib import Path

    from course_utils import images

    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.warns(data.FallbackDataWarning) as caught:
        found = data.locate_photo_set("horse2zebra")
    assert caught[0].filename == __file__  # the deliberate warning is the caller's, not course_utils'
    assert "NOT THE REAL DATA" in capsys.readouterr().out
    assert found.origin == "fallback" and found.path == data.cache_dir() / "stand-ins" / "horse2zebra"
    data.validate_layout(data.DATA_HUB["horse2zebra"], found.path)  # trainA/*.jpg and trainB/*.jpg
    assert not (data.cache_dir() / "horse2zebra").exists()  # never mistaken for a real cached copy later
    first = sorted((found.path / "trainA").glob("*.jpg"))
    assert len(first) == data.fallback.STAND_IN_PHOTOS
    stamp = first[0].stat().st_mtime_ns
    with pytest.warns(data.FallbackDataWarning):
        photos = data.load_photo_domains(("zebra", "horse"), image_size=24, per_domain=4, seed=3)
    assert first[0].stat().st_mtime_ns == stamp  # written once, then reused
    assert photos.origin == {"horse2zebra": "fallback"} and photos.images.shape == (8, 24, 24, 3)
    assert all(Path(f).is_file() for f in photos.files) and "trainB" in photos.files[0]
    assert np.array_equal(np.asarray(images.load_image(photos.files[0], size=24)), photos.images[0])
    with pytest.raises(data.DataUnavailableError):
        data.locate_photo_set("horse2zebra", fallback=False)
    with pytest.raises(KeyError, match="not a photo set"):
        data.locate_photo_set("fsdd")


@pytest.mark.parametrize("loader, name, url, checksum", [
    (data.load_lfw_people, "lfw", "vis-www.cs.umass.edu/lfw/lfw-deepfunneled.tgz", "md5:68331da3"),
    (data.load_olivetti, "olivetti", "ndownloader.figshare.com/files/5976027", "sha256:b612fb96"),
])
def test_a_set_without_stand_in_stops_with_one_message_not_a_traceback(monkeypatch, loader, name, url, checksum):
    """IPython shows ``_render_traceback_()`` instead of the traceback: one short message saying what to do."""
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(data.DataUnavailableError) as info:
        loader()
    lines = info.value._render_traceback_()
    text = "\n".join(lines)
    assert len(lines) <= 3 and len(text) < 600 and "Traceback" not in text
    assert text.startswith(f"DataUnavailableError: data set '{name}' is not available")
    for fragment in (url, checksum, "COURSE_DATA_DIR", "No generated stand-in exists"):
        assert fragment in text, fragment
    assert issubclass(data.ChecksumError, data.DataError)  # every data-layer error renders the same way


def test_package_layout_has_no_import_cycle_and_no_keras():
    """data/ is a package whose submodules import each other in one direction; importing it loads no Keras."""
    import ast
    import subprocess
    import sys
    from pathlib import Path

    folder = Path(data.__file__).parent
    imports = {}
    for path in folder.glob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names.update([node.module] if node.module else [a.name for a in node.names])
        imports[path.stem] = names
    assert imports["registry"] == set() and imports["types"] == set()
    assert "loaders" not in imports["fallback"] and imports["fallback"] == {"types"}
    order = ["registry", "types", "fetch", "fallback", "loaders", "skip"]  # each imports only those before it
    for i, name in enumerate(order):
        assert imports[name] <= set(order[:i]), (name, imports[name])
    assert set(order) | {"__init__"} == set(imports)
    # every public name is defined in the submodule that owns it, once, and re-exported here
    owners = {"registry": ["DataSet", "DATA_HUB", "register"],
              "fetch": ["DataError", "DataUnavailableError", "ChecksumError", "FallbackDataWarning", "mirror_dir",
                        "cache_dir", "offline", "Located", "validate_layout", "locate", "describe",
                        "fallback_notice"],
              "types": ["SpokenDigits", "PhotoDomains", "ArcticSpeech", "Faces", "ImageSet"],
              "loaders": ["load_fsdd", "load_photo_domains", "load_arctic", "read_arctic_prompts", "load_olivetti",
                          "load_lfw_people", "load_kodak", "locate_photo_set"]}
    for module, names in owners.items():
        for name in names:
            obj = getattr(data, name)
            assert getattr(obj, "__module__", f"course_utils.data.{module}") == f"course_utils.data.{module}", name
    assert data.fallback.__name__ == "course_utils.data.fallback" and data.fetch.__name__ == "course_utils.data.fetch"
    assert data.fetch.fetch.__module__ == "course_utils.data.fetch"
    assert data.fallback.DIGIT_WORDS is data.DIGIT_WORDS and data.DIGIT_WORDS[7] == "seven"
    code = ("import sys, course_utils.data; "
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow')]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)
