"""Execute the course notebooks and collect their measured results.

    python benchmarks/run_notebooks.py --mode full            # every notebook (what `make course` runs)
    python benchmarks/run_notebooks.py --mode full 01         # only notebooks whose name starts with 01

Each notebook is executed top to bottom in a fresh kernel (nbclient) with
``COURSE_FAST`` set for the mode; the executed copy, with its figures, goes to
``build/notebooks/``. The notebook itself records its metrics and timings in
``build/results/<name>.json`` (:class:`course_utils.results.Results`); this
script adds the whole notebook's wall time and the command, and — in full mode —
copies the file to ``benchmarks/results/`` and regenerates the README's tables.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(notebook: Path, mode: str, build: Path) -> dict:
    import nbformat
    from nbclient import NotebookClient

    os.environ["COURSE_FAST"] = "1" if mode == "fast" else "0"
    os.environ["COURSE_BUILD_DIR"] = str(build)
    nb = nbformat.read(notebook, as_version=4)
    print(f"▶ {notebook.name} ({mode} mode) …", flush=True)
    start = time.perf_counter()
    NotebookClient(nb, timeout=None, kernel_name="python3",
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    wall = time.perf_counter() - start
    (build / "notebooks").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, build / "notebooks" / notebook.name)
    results_file = build / "results" / f"{notebook.stem}.json"
    if not results_file.is_file():
        raise RuntimeError(f"{notebook.name} ran but wrote no {results_file} (it must call Results.save())")
    result = json.loads(results_file.read_text())
    result["wall_seconds"]["notebook_total"] = round(wall, 1)
    result["command"] = f"python benchmarks/run_notebooks.py --mode {mode} {notebook.stem[:2]}"
    results_file.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"  done in {wall / 60:.1f} min", flush=True)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["full", "fast"], default="full")
    parser.add_argument("prefixes", nargs="*", help="run only notebooks whose file name starts with one of these")
    args = parser.parse_args(argv)
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.prefixes:
        notebooks = [nb for nb in notebooks if any(nb.name.startswith(p) for p in args.prefixes)]
    if not notebooks:
        parser.error("no notebook matches")
    from course_utils.config import build_root

    build = build_root(fast=args.mode == "fast")
    summary = {}
    for nb in notebooks:
        result = run(nb, args.mode, build)
        summary[nb.stem] = result
        if args.mode == "full":
            out = ROOT / "benchmarks" / "results" / f"{nb.stem}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print("\nResults")
    for name, result in summary.items():
        print(f"  {name}  ({result['mode']} mode, {result['wall_seconds']['notebook_total'] / 60:.1f} min, "
              f"peak {result['peak_rss_mb']:.0f} MB)")
        for key, value in result["metrics"].items():
            shown = value if isinstance(value, dict) else f"{value:.4g}"
            print(f"    {key:45s} {shown}")
    if args.mode == "full":
        sys.path.insert(0, str(ROOT / "benchmarks"))
        import readme

        readme.main()
        print("README tables regenerated from benchmarks/results/.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
