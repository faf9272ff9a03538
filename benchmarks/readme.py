"""Regenerate the README's course map and results tables from ``benchmarks/results/*.json``.

The README holds the generated text between ``<!-- generated:NAME -->`` and
``<!-- /generated:NAME -->`` markers; everything else in it is hand-written.
``python benchmarks/readme.py --check`` exits 1 if the README is out of date.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from course_utils.results import check_target  # noqa: E402  (the targets are declared once, there)

RESULTS = ROOT / "benchmarks" / "results"
TEST_COMMAND = RESULTS / "ci" / "test_command.json"  # written by benchmarks/time_tests.py

#: (topic, notebook stem, what you build, headline metric key, how to show it)
COURSE_MAP = [
    ("1 · Processing", "01_processing", "CNN photo-domain classifier, texture features (log-Gabor, textons, LBP) and the "
     "two combined; LSTM digit recogniser on MFCCs",
     [("photo_domains.horse_zebra_accuracy", "horse vs zebra (two CNNs + texture) {:.3f}"),
      ("photo_domains.cnn_horse_zebra_accuracy", "CNN alone {:.3f}"),
      ("photo_domains.test_accuracy", "4-way photo domains {:.3f}"),
      ("fsdd_lstm.loso_mean_accuracy", "unseen-speaker digit accuracy {:.3f}")]),
    ("2 · Compression", "02_compression", "learned image codecs (factorised prior, scale hyperprior) vs JPEG, WebP, AVIF; VAE; WaveNet speech decoder "
     "vs μ-law, Opus, Codec 2",
     [("image_codec.bd_rate_vs_jpeg", "hyperprior (latents refined at encoding) BD-rate vs JPEG {:+.1f} %"),
      ("image_codec.bd_rate_vs_webp", "vs WebP {:+.1f} %"),
      ("image_codec.amortized_bd_rate_vs_webp", "one-pass encoder vs WebP {:+.1f} %"),
      ("speech_codec.cer", "speech codec (≤ 8 kbps) CER {:.2f}"), ("opus_8kbps.cer", "Opus 8 kbps {:.2f}"),
      ("codec2_3200.cer", "Codec 2 3.2 kbps {:.2f}")]),
    ("3 · Conversion", "03_conversion", "voice conversion bdl→slt (DNN vs joint-density GMM); face identity swap",
     [("voice_conversion.mcd_db", "MCD {:.2f} dB"), ("voice_conversion.gmm_mcd_db", "JD-GMM {:.2f} dB"),
      ("face_swap.swap_rate", "face swap rate {:.2f}")]),
    ("4 · Speech recognition", "04_speech_recognition", "CNN / CRNN / Transformer recognisers; CTC digit strings",
     [("digits.best_loso_accuracy", "unseen-speaker digit accuracy {:.3f}"),
      ("digits.pocketsphinx_accuracy", "PocketSphinx digit grammar {:.3f}"), ("ctc.wer", "digit-string WER {:.3f}")]),
    ("5 · Synthesis", "05_synthesis", "CycleGAN horse↔zebra, summer↔winter; duration-model TTS (forced alignment, "
     "WORLD) vs eSpeak NG; Tacotron",
     [("cyclegan.target_domain_rate_a2b", "horse→zebra rate {:.2f}"),
      ("cyclegan.colour_transfer_rate_a2b", "colour transfer {:.2f}"), ("tts.cer", "TTS CER {:.3f}"),
      ("espeak.cer", "eSpeak NG CER {:.3f}"), ("tts.mcd_db", "TTS MCD {:.2f} dB")]),
]


def target_text(key: str, value, metrics: dict) -> str:
    """'≤ 0.1 — met' for ``key`` if it has a target in ``course_utils.results.TARGETS``, else ''."""
    if isinstance(value, dict):
        return ""
    checked = check_target(key, value, metrics)
    if checked is None:
        return ""
    label, met = checked
    return f"{label} — {'met' if met else '**not met**'}"


REPOSITORY = re.search(r'repository = "([^"]+)"', (ROOT / "pyproject.toml").read_text()).group(1)


def load_results() -> dict:
    return {p.stem: json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))}


def course_map(results: dict) -> str:
    rows = ["| topic | notebook | what you build | headline result (full mode) |", "|---|---|---|---|"]
    for topic, stem, what, headline in COURSE_MAP:
        path = ROOT / "notebooks" / f"{stem}.ipynb"
        if path.exists():
            badge = (f"[![Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
                     f"(https://colab.research.google.com/github/{REPOSITORY}/blob/main/notebooks/{stem}.ipynb)")
            link = f"[`{stem}`](notebooks/{stem}.ipynb) {badge}"
        else:
            link = f"`{stem}` (not written yet)"
        metrics = results.get(stem, {}).get("metrics", {})
        shown = [fmt.format(metrics[key]) for key, fmt in headline if key in metrics]
        rows.append(f"| {topic} | {link} | {what} | {'; '.join(shown) or '—'} |")
    return "\n".join(rows)


def results_tables(results: dict) -> str:
    if not results:
        return "_No full-mode run recorded yet: run `make course`._"
    out = []
    for stem, r in results.items():
        out.append(f"**{stem}** — {r['mode']} mode, notebook {r['wall_seconds'].get('notebook_total', 0) / 60:.1f} min, "
                   f"peak memory {r['peak_rss_mb']:.0f} MB, TensorFlow {r['versions'].get('tensorflow-cpu', r['versions'].get('tensorflow', '?'))}, "
                   f"`{r.get('command', '')}`\n")
        out.append("| metric | value | target |\n|---|---|---|")
        for key, value in r["metrics"].items():
            target = target_text(key, value, r["metrics"])
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v:.3f}" for k, v in value.items())
            else:
                value = f"{value:.4g}"
            out.append(f"| `{key}` | {value} | {target} |")
        timings = ", ".join(f"{k} {v:.0f} s" for k, v in r["wall_seconds"].items())
        out.append(f"\nWall times: {timings}.\n")
    return "\n".join(out).rstrip() + "\n"


def test_command_text(timing: dict | None) -> str:
    """One paragraph on the latest timed ``make test`` (``benchmarks/time_tests.py``), or how to make one."""
    if not timing:
        return "_No timed run of `make test` recorded yet: run `python3 benchmarks/time_tests.py`._"
    minutes = timing["wall_seconds"]["make_test"] / 60
    met = "met" if minutes <= timing["target_minutes"] and timing["exit_code"] == 0 else "**not met**"
    counts = timing["counts"]
    notebooks = ", ".join(f"{Path(k).stem[:2]} {v / 60:.1f} min" for k, v in timing["per_file_seconds"].items()
                          if k.endswith(".ipynb"))
    unit = sum(v for k, v in timing["per_file_seconds"].items() if not k.endswith(".ipynb"))
    setup = "a fresh clone, creating `.venv` included" if timing["fresh_venv"] else "an existing `.venv`"
    return (f"Latest timed run (`python3 benchmarks/time_tests.py`, {setup}, {timing['cpu_count']} CPUs"
            f"{', real-data mirror' if timing['data_mirror'] else ''}): **{minutes:.1f} min** "
            f"(pytest {timing['wall_seconds']['pytest'] / 60:.1f} min; target ≤ {timing['target_minutes']:g} min — "
            f"{met}); {counts['tests']} tests, {counts['failures'] + counts['errors']} failed, "
            f"exit code {timing['exit_code']}. Time per notebook under nbval: {notebooks}; unit tests "
            f"{unit / 60:.1f} min (two workers share the CPU, so these add up to more than the wall time)."
            + offline_text(timing.get("offline")))


def offline_text(offline: dict | None) -> str:
    """The offline stage's part of :func:`test_command_text`."""
    if not offline:
        return ""
    counts = offline["counts"]
    return (f" Offline stage (no mirror, no network): {offline['pytest_seconds'] / 60:.1f} min, {counts['tests']} "
            f"notebook cells, {counts['failures'] + counts['errors']} failed.")


def render(text: str, results: dict, timing: dict | None = None) -> str:
    for name, body in (("course-map", course_map(results)), ("results", results_tables(results)),
                       ("test-command", test_command_text(timing))):
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"README.md lacks the <!-- generated:{name} --> markers")
        text = pattern.sub(lambda m: m.group(1) + body.rstrip() + "\n" + m.group(2), text)
    return text


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    readme = ROOT / "README.md"
    text = readme.read_text()
    timing = json.loads(TEST_COMMAND.read_text()) if TEST_COMMAND.is_file() else None
    new = render(text, load_results(), timing)
    if "--check" in argv:
        if new != text:
            print("README.md is out of date: run `make readme`.")
            return 1
        return 0
    readme.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
