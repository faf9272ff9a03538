"""A non-editable install carries every subpackage and the shipped weights, and imports every module."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "course_utils"


def test_wheel_holds_every_module_and_the_weights_and_its_modules_import(tmp_path):
    # build from a copy of the tracked and new files only, so a stale build/ folder cannot leak into the wheel
    source = tmp_path / "source"
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(source)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    assert "BuildBackendWarning" not in build.stderr and "absent from" not in build.stderr, build.stderr[-2000:]
    (wheel,) = tmp_path.glob("course_utils-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}
    wanted |= {p.relative_to(ROOT).as_posix() for p in (PACKAGE / "weights").iterdir() if p.is_file()}
    assert wanted - names == set(), f"missing from the wheel: {sorted(wanted - names)}"
    shipped_code = {n for n in names if n.endswith(".py")}
    assert shipped_code <= wanted, f"in the wheel but not in the package: {sorted(shipped_code - wanted)}"
    assert len(wanted) > 40 and not [n for n in names if n.startswith(("tests/", "notebooks/", "scripts/"))]

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import importlib, pkgutil, course_utils\n"
            f"assert course_utils.__file__.startswith({str(site)!r}), course_utils.__file__\n"
            "mods = [m.name for m in pkgutil.walk_packages(course_utils.__path__, 'course_utils.')]\n"
            "for m in mods: importlib.import_module(m)\n"
            "from course_utils import saving\n"
            "assert sorted(p.name for p in saving.WEIGHTS_DIR.glob('*.npz')), saving.WEIGHTS_DIR\n"
            "print(len(mods))\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert int(run.stdout.split()[-1]) >= 20
