"""Train the weights that notebook 02 (compression) ships in ``course_utils/weights/``.

    COURSE_DATA_DIR=/path/to/mirror python benchmarks/train_compression.py all      # everything, ~2 h 20 min, 2 CPU cores
    COURSE_DATA_DIR=/path/to/mirror python benchmarks/train_compression.py image    # the learned image codec (4 λ)
    COURSE_DATA_DIR=/path/to/mirror python benchmarks/train_compression.py vae      # VAE + plain autoencoder (faces)
    COURSE_DATA_DIR=/path/to/mirror python benchmarks/train_compression.py wavenet  # WaveNet speech decoder

The notebook calls the same training functions (for a few steps, or fully with ``RETRAIN = True``);
this script only fixes the budgets, seeds and file names. ``--scale 0.5`` halves every time budget.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ONLY = None
from course_utils.compression import TRAINING_MINUTES as BUDGET  # noqa: E402  (minutes on a 2-core CPU, per part)


def train_image(scale: float) -> None:
    from course_utils import config, data
    from course_utils import image_codec as ic

    config.set_seed(0)
    photos = data.load_photo_domains(image_size=256, per_domain=250, seed=0)
    print(f"image codec: {len(photos)} photos 256×256 ({photos.origin})", flush=True)
    ic.WEIGHTS_DIR.mkdir(exist_ok=True)
    base = ic.load_codec(ic.LAMBDAS.index(0.0067)) if ONLY else None  # --only: fine-tune from the shipped base
    models = ic.train_family(photos.images, BUDGET["image_base"] * 60 * scale, BUDGET["image_finetune"] * 60 * scale,
                             log_every=50, base=base, only=ONLY)
    if ONLY:
        models = {i: m for i, m in models.items() if i in ONLY}
    for lambda_id, model in models.items():
        ic.save_codec(model, lambda_id)
        print(f"saved {ic.weights_path(lambda_id).name}", flush=True)


def train_vae(scale: float) -> None:
    from course_utils import config, data, saving, vae

    config.set_seed(0)
    faces = data.load_olivetti()
    train, _ = vae.split_subjects(faces.labels)
    for variational, share in ((True, 0.75), (False, 0.25)):
        model, _ = vae.train_vae(faces.images[train], variational=variational, epochs=100000, seed=0, log_every=10,
                                 max_seconds=BUDGET["vae"] * 60 * scale * share)
        saving.save_weights_f16(model, vae.weights_path(variational))
        print(f"saved {vae.weights_path(variational).name}", flush=True)


def train_wavenet(scale: float) -> None:
    from course_utils import config, data, saving
    from course_utils import speech_codec as sc

    config.set_seed(0)
    arctic = data.load_arctic(("slt",), sample_rate=sc.SAMPLE_RATE)
    waves, frames = sc.training_set(arctic)
    print(f"WaveNet: {len(waves)} utterances, {sum(map(len, waves)) / 8000 / 60:.1f} min of speech "
          f"({arctic.origin})", flush=True)
    model, _ = sc.train_wavenet(waves, frames, steps=10 ** 6, seed=0, log_every=25,
                                max_seconds=BUDGET["wavenet"] * 60 * scale)
    saving.save_weights_f16(model, sc.WAVENET_WEIGHTS)
    print(f"saved {sc.WAVENET_WEIGHTS.name}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["all", "image", "vae", "wavenet"])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiplies every time budget (course_utils.compression.TRAINING_MINUTES)")
    parser.add_argument("--only", type=int, nargs="*", help="image: fine-tune only these λ ids from the shipped base")
    args = parser.parse_args(argv)
    global ONLY
    ONLY = args.only
    parts = ["image", "vae", "wavenet"] if args.part == "all" else [args.part]
    for part in parts:
        start = time.perf_counter()
        globals()[f"train_{part}"](args.scale)
        print(f"{part}: {(time.perf_counter() - start) / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
