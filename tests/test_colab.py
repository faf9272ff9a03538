"""Colab: every notebook's first cell installs exactly the packages Colab lacks, and nothing is imported that
neither Colab ships nor that cell installs."""
from __future__ import annotations

import ast
import json
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COURSE = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["course"]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

#: The first code cell of every notebook, word for word ({repository} from pyproject.toml).
COLAB_CELL = '''# Colab: fetch the course code, install the packages Colab lacks (`colab-install` in pyproject.toml),
# then course_utils itself with --no-deps, so Colab's own TensorFlow, Keras and NumPy stay as they are.
import sys
if "google.colab" in sys.modules:
    import os, subprocess, tomllib
    if not os.path.isdir("/content/course"):
        subprocess.run(["git", "clone", "--depth", "1", "https://github.com/{repository}", "/content/course"], check=True)
    with open("/content/course/pyproject.toml", "rb") as f:
        missing = tomllib.load(f)["tool"]["course"]["colab-install"]
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", "/content/course"], check=True)
    sys.path.insert(0, "/content/course")
    os.chdir("/content/course/notebooks")'''


def _name(requirement: str) -> str:
    return re.split(r"[=<>!~; \[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _code_cells(path: Path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def _imported_modules(source: str) -> set[str]:
    source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("!", "%")))
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_every_notebook_starts_with_the_colab_cell():
    cell = COLAB_CELL.format(repository=COURSE["repository"])
    for path in NOTEBOOKS:
        assert _code_cells(path)[0] == cell, f"{path.name}: the first code cell is not the Colab install cell"


def test_colab_install_list_is_pinned_like_the_dependencies():
    pins = {_name(r): r for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    for requirement in COURSE["colab-install"]:
        assert pins.get(_name(requirement)) == requirement, f"{requirement}: not pinned the same in [project]"


def test_every_third_party_import_is_shipped_by_colab_or_installed_by_the_first_cell():
    sources = [p.read_text() for p in (ROOT / "course_utils").rglob("*.py")]
    sources += [c for path in NOTEBOOKS for c in _code_cells(path)]
    modules = set().union(*map(_imported_modules, sources)) - set(sys.stdlib_module_names) - {"course_utils", "google"}
    distributions = metadata.packages_distributions()
    allowed = {_name(r) for r in COURSE["colab-install"]} | {_name(r) for r in COURSE["colab-ships"]}
    missing = {}
    for module in sorted(modules):
        names = {_name(d) for d in distributions.get(module, [module])}
        names |= {n.removesuffix("-cpu") for n in names}  # tensorflow-cpu here is Colab's tensorflow
        if not names & allowed:
            missing[module] = sorted(names)
    assert not missing, f"imported, but neither shipped by Colab nor installed by the first cell: {missing}"
    assert {"pocketsphinx", "pyworld", "constriction"} <= modules  # the scan saw the course's real imports
