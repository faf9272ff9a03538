"""Ideas for recognising a new voice that notebook 04 does *not* use, measured six-fold leave-one-speaker-out.

    COURSE_DATA_DIR=../shared/datasets python benchmarks/digit_ideas.py      # ~15 min on 2 cores

Issue 19 asks for ideas beyond the augmentation recipe, each measured on unseen speakers and kept only if it
helps. Notebook 04 keeps what helped (the synthetic eSpeak NG voices, an ensemble of two architectures); this
script measures the rest on the same folds, the same seed and the same training recipe as the notebook's
(``--kinds``, the waveform augmentations its two-fold comparison chose), on the transformer:

* ``baseline`` — the recipe: every clip clean and once perturbed, 5 epochs;
* ``epochs_12`` — the same, trained 12 epochs;
* ``world_voices`` — plus two new "voices" of every real training clip made with WORLD (Morise et al. 2016):
  vocal-tract length perturbation of the spectral envelope and aperiodicity (a piecewise-linear frequency warp,
  Jaitly & Hinton 2013, factor 0.85–1.18) and an F0 scale (0.7–1.45), resynthesised;
* ``world_and_espeak_voices`` — the WORLD voices and the eSpeak NG voices together;
* ``band_mean_normalisation`` — the features with each mel band's mean over the utterance removed (cepstral
  mean normalisation in the log-mel domain: a fixed microphone response is a constant per band);
* ``shift_tta`` — test-time augmentation: the mean probability of the clip centred and moved ±4 frames.

Writes ``benchmarks/results/ideas/04_digit_ideas.json``: per idea, the accuracy per held-out speaker, mean,
worst fold and training seconds (plus feature seconds where an idea needs its own features).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_utils import config, data, results  # noqa: E402
from course_utils import digit_features as fe  # noqa: E402
from course_utils import recognition as rec  # noqa: E402
from course_utils.data import fallback  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "ideas" / "04_digit_ideas.json"


def warp_frequency_axis(x: np.ndarray, alpha: float, boundary: float = 0.9) -> np.ndarray:
    """Piecewise-linear frequency warp of WORLD's per-bin envelopes, (n_frames, n_bins): ``f -> alpha f`` below a
    boundary, then linear to Nyquist so the band edge stays put (Jaitly & Hinton 2013)."""
    n = x.shape[1]
    f = np.arange(n, dtype=float)
    b = boundary * (n - 1) * min(1.0, 1.0 / alpha)
    src = np.where(f <= b * alpha, f / alpha, b + (f - b * alpha) * ((n - 1) - b) / ((n - 1) - b * alpha))
    i0 = np.clip(np.floor(src).astype(int), 0, n - 2)
    w = src - i0
    return np.ascontiguousarray(x[:, i0] * (1 - w) + x[:, i0 + 1] * w)


def world_voice(y: np.ndarray, sample_rate: int, alpha: float, f0_scale: float) -> np.ndarray:
    """A new voice of a recording: WORLD analysis, warped envelope and aperiodicity, scaled F0, resynthesis."""
    import pyworld

    y = np.asarray(y, np.float64)
    f0, t = pyworld.dio(y, sample_rate, frame_period=5.0)
    f0 = pyworld.stonemask(y, f0, t, sample_rate)
    sp, ap = pyworld.cheaptrick(y, f0, t, sample_rate), pyworld.d4c(y, f0, t, sample_rate)
    out = pyworld.synthesize(f0 * f0_scale, warp_frequency_axis(sp, alpha), warp_frequency_axis(ap, alpha),
                             sample_rate, frame_period=5.0)
    return np.clip(out, -1, 1).astype(np.float32)


def band_mean_normalise(features: np.ndarray) -> np.ndarray:
    """Remove each mel band's mean over the utterance's frames (the zero padding stays zero)."""
    inside = np.abs(features).sum(-1, keepdims=True) > 0
    mean = (features * inside).sum(1, keepdims=True) / np.maximum(inside.sum(1, keepdims=True), 1)
    return np.where(inside, features - mean, 0).astype(np.float32)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", nargs="*", default=["noise", "gain", "shift"],
                        help="the recipe's waveform augmentations (notebook 04's full run chose these)")
    parser.add_argument("--model", default="transformer")
    args = parser.parse_args(argv)
    seed = config.set_seed()
    digits = data.load_fsdd(sample_rate=fe.SAMPLE_RATE, seed=seed)
    labels, speakers, n = digits.labels, np.asarray(digits.speakers), len(digits)
    names = sorted(set(speakers.tolist()))
    print(f"{n} clips, speakers {names} (origin {digits.origin})", flush=True)
    X, _ = fe.feature_set(digits.waveforms, fe.SAMPLE_RATE, copies=0)
    RX, RS = fe.feature_set(digits.waveforms, fe.SAMPLE_RATE, kinds=args.kinds, copies=1, seed=seed + 1)
    feature_seconds = {}
    start, rng, WX, WS = time.perf_counter(), np.random.default_rng(7), [], []
    for _ in range(2):
        for i, y in enumerate(digits.waveforms):
            alpha, f0_scale = rng.uniform(0.85, 1.18), np.exp(rng.uniform(np.log(0.7), np.log(1.45)))
            w = world_voice(fe.trim_silence(fe._at_8k(y, fe.SAMPLE_RATE), top_db=30), fe.SAMPLE_RATE, alpha,
                            f0_scale)
            WX.append(fe.augment_features(w, fe.SAMPLE_RATE, args.kinds, rng))
            WS.append(i)
    WX, WS = np.stack(WX), np.array(WS)
    feature_seconds["world_voices"] = time.perf_counter() - start
    voices = fallback.espeak_digit_voices(limit=None, seed=seed)
    synthetic = fallback.synthetic_spoken_digits(fe.SAMPLE_RATE, per_digit_speaker=1, seed=seed, voices=voices)
    VX = np.stack([fe.digit_log_mel(w, fe.SAMPLE_RATE) for w in synthetic.waveforms])

    def loso(features, source, epochs=5, world=False, extra=None, test=X, tta=()):
        probs, seconds = np.zeros((n, 10), np.float32), 0.0
        for s in names:
            train = speakers[source] != s
            x, y = features[train], labels[source[train]]
            if world:
                keep = speakers[WS] != s
                x, y = np.concatenate([x, WX[keep]]), np.concatenate([y, labels[WS[keep]]])
            if extra is not None:
                x, y = np.concatenate([x, extra[0]]), np.concatenate([y, extra[1]])
            model, _, sec = rec.train_digit_model(args.model, x, y, epochs=epochs, seed=seed)
            seconds += sec
            held = np.where(speakers == s)[0]
            for T in (test, *tta):
                probs[held] += model.predict(T[held], batch_size=256, verbose=0)
        pred = probs.argmax(1)
        acc = {s: float(np.mean(pred[speakers == s] == labels[speakers == s])) for s in names}
        return {"accuracy": acc, "mean": float(np.mean(list(acc.values()))), "worst": min(acc.values()),
                "training_seconds": round(seconds, 1)}

    start = time.perf_counter()
    shifted = [np.stack([fe.digit_log_mel(y, fe.SAMPLE_RATE, shift=sh) for y in digits.waveforms]) for sh in (-4, 4)]
    feature_seconds["shift_tta"] = time.perf_counter() - start
    runs = {"baseline": lambda: loso(RX, RS),
            "epochs_12": lambda: loso(RX, RS, epochs=12),
            "world_voices": lambda: loso(RX, RS, world=True),
            "world_and_espeak_voices": lambda: loso(RX, RS, world=True, extra=(VX, synthetic.labels)),
            "band_mean_normalisation": lambda: loso(band_mean_normalise(RX), RS, test=band_mean_normalise(X)),
            "shift_tta": lambda: loso(RX, RS, tta=shifted)}
    ideas = {}
    for name, run in runs.items():
        ideas[name] = run()
        if name in feature_seconds:
            ideas[name]["feature_seconds"] = round(feature_seconds[name], 1)
        r = ideas[name]
        print(f"{name:>24}: mean {r['mean']:.3f}, worst {r['worst']:.3f}, trained in {r['training_seconds']:.0f} s",
              flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    payload = {"command": "python benchmarks/digit_ideas.py " + " ".join(argv or sys.argv[1:]),
               "model": args.model, "recipe_kinds": args.kinds, "clips": n, "speakers": names,
               "data_origin": digits.origin, "cpu_count": __import__("os").cpu_count(),
               "versions": results.versions(), "ideas": ideas}
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    tmp.replace(OUT)
    print("wrote", OUT.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
