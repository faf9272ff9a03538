"""Train the weights that notebook 02 (compression) ships in ``course_utils/weights/``.

    COURSE_DATA_DIR=/path/to/mirror python scripts/train_compression.py all      # everything, ~4 h 55 min, 2 CPU cores
    COURSE_DATA_DIR=/path/to/mirror python scripts/train_compression.py image    # the learned image codec (4 λ)
    COURSE_DATA_DIR=/path/to/mirror python scripts/train_compression.py hyperprior  # the scale hyperprior (5 λ), ~2.4 h
    COURSE_DATA_DIR=/path/to/mirror python scripts/train_compression.py hyperprior_polish  # its last stage alone
    COURSE_DATA_DIR=/path/to/mirror python scripts/train_compression.py vae      # VAE + plain autoencoder (faces)
    COURSE_DATA_DIR=/path/to/mirror python scripts/train_compression.py wavenet  # WaveNet speech decoder

Each part is one library function — ``image_codec.train_shipped`` (``family="hyperprior"`` for the hyperprior),
``vae.train_shipped``,
``speech_codec.train_shipped`` — with the data, seeds and budgets of the shipped weights (the budgets are
``course_utils.compression.TRAINING_MINUTES``); the notebook's ``RETRAIN = True`` calls the same functions.
This script only saves what they return. ``--scale 0.5`` halves every time budget. ``--out DIR`` writes the
weights there instead of ``course_utils/weights/``. The hyperprior is saved after each stage (the base, then
each fine-tune), so an interrupted run keeps what it finished: ``--only 0 1`` then fine-tunes just those λ ids
from the saved base. Its last stage, ``ic.polish_shipped`` (whole photos instead of crops), then trains each saved
λ further and saves it again; ``hyperprior_polish`` runs that stage alone on the saved weights (``--only`` too).
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


def train_image(scale: float, only=None, family: str = "factorized") -> None:
    from course_utils import image_codec as ic
    from course_utils import saving

    spec = ic.FAMILIES[family]
    base_id = spec.lambdas.index(spec.base_lambda)
    base = ic.load_codec(base_id, family) if only else None  # --only: fine-tune from the saved base
    if base is None:  # the base first, saved before any fine-tune starts
        base = ic.train_shipped(scale, only=[], family=family, polish=False)[base_id]
        saving.save_weights(base, ic.weights_path(base_id, family))
        print(f"saved {ic.weights_path(base_id, family)}", flush=True)
    for lambda_id in range(len(spec.lambdas)):
        if lambda_id != base_id and (not only or lambda_id in only):
            model = ic.train_shipped(scale, base=base, only=[lambda_id], family=family, polish=False)[lambda_id]
            saving.save_weights(model, ic.weights_path(lambda_id, family))
            print(f"saved {ic.weights_path(lambda_id, family)}", flush=True)


def train_hyperprior(scale: float, only=None) -> None:
    train_image(scale, only, family="hyperprior")
    polish_hyperprior(scale, only)


def polish_hyperprior(scale: float, only=None) -> None:
    """The hyperprior's last stage (ic.polish_shipped), on the saved weights, one λ at a time, each saved."""
    from course_utils import image_codec as ic
    from course_utils import saving

    for lambda_id in range(len(ic.HYPERPRIOR_LAMBDAS)):
        if not only or lambda_id in only:
            model = ic.polish_shipped({lambda_id: ic.load_codec(lambda_id, "hyperprior")}, scale)[lambda_id]
            saving.save_weights(model, ic.weights_path(lambda_id, "hyperprior"))
            print(f"saved {ic.weights_path(lambda_id, 'hyperprior')}", flush=True)


def train_vae(scale: float, only=None) -> None:
    from course_utils import saving, vae

    for variational, model in zip((True, False), vae.train_shipped(scale)):
        saving.save_weights(model, vae.weights_path(variational))
        print(f"saved {vae.weights_path(variational).name}", flush=True)


def train_wavenet(scale: float, only=None) -> None:
    from course_utils import saving
    from course_utils import speech_codec as sc

    saving.save_weights(sc.train_shipped(scale), sc.WAVENET_WEIGHTS)
    print(f"saved {sc.WAVENET_WEIGHTS.name}", flush=True)


PARTS = {"image": train_image, "hyperprior": train_hyperprior, "vae": train_vae, "wavenet": train_wavenet}
EXTRA_PARTS = {"hyperprior_polish": polish_hyperprior}  # a stage of "hyperprior", on its own (not part of "all")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["all", *PARTS, *EXTRA_PARTS])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiplies every time budget (course_utils.compression.TRAINING_MINUTES)")
    parser.add_argument("--only", type=int, nargs="*",
                        help="image, hyperprior: fine-tune only these λ ids from the saved base")
    parser.add_argument("--out", help="write the weights into this folder instead of course_utils/weights/")
    args = parser.parse_args(argv)
    if args.out:
        from course_utils import saving

        Path(args.out).mkdir(parents=True, exist_ok=True)
        saving.WEIGHTS_DIR = Path(args.out).resolve()
    for part in list(PARTS) if args.part == "all" else [args.part]:
        start = time.perf_counter()
        {**PARTS, **EXTRA_PARTS}[part](args.scale, only=args.only)
        print(f"{part}: {(time.perf_counter() - start) / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
