"""Train the weights notebook 05 ships: CycleGAN (horse↔zebra, summer↔winter) and Tacotron-style TTS on ARCTIC slt.

    python scripts/train_synthesis.py cyclegan      # cyclegan.TRAINING: 30 epochs, batch 4, <= 90 min
        # -> course_utils/weights/cyclegan_horse2zebra_{a2b,b2a}.weights.h5 + .json
    python scripts/train_synthesis.py cyclegan --pair summer winter
        # -> course_utils/weights/cyclegan_summer2winter_{a2b,b2a}.weights.h5 + .json (the second pair)
    python scripts/train_synthesis.py tts [--resume]
        # -> course_utils/weights/tts_duration_slt.npz (float16) + .json: the duration model (tts.TRAINING);
        #    aligns and analyses every slt utterance first (cached in build/tts/); --resume continues
        #    from the last epoch's checkpoint
    python scripts/train_synthesis.py tacotron
        # -> course_utils/weights/tts_slt.npz (float16) + .json: replays tacotron_tts.TRAINING_STAGES from scratch
    python scripts/train_synthesis.py tacotron --resume --epochs E --batch-size B --learning-rate LR --minutes M
        # one more stage on top of the weights in --out (e.g. to continue a run that stopped)

Both use exactly the notebook's data split and training functions
(:func:`course_utils.cyclegan.train_cyclegan`, :func:`course_utils.tacotron_tts.train_stages`, :func:`course_utils.tts.train`);
weights are written after every epoch, so a run stopped early still leaves
usable weights. Set ``COURSE_DATA_DIR`` to the data mirror (or let the loaders download).
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


def train_cyclegan(args) -> None:
    from course_utils import config, cyclegan, data

    seed = config.set_seed()
    cfg = dict(cyclegan.DEFAULT_CONFIG, pair=tuple(args.pair))
    photos = data.load_photo_domains(image_size=cfg["image_size"], seed=seed)  # notebook 01's four domains
    train_idx, _ = cyclegan.holdout_split(photos, seed=seed)
    a, b = (photos.images[train_idx][photos.labels[train_idx] == photos.class_names.index(d)] for d in cfg["pair"])
    print(f"training on {len(a)} {cfg['pair'][0]} / {len(b)} {cfg['pair'][1]} photos", flush=True)

    def checkpoint(model, epoch):
        cyclegan.save_generators(model, dict(cfg, epochs_trained=epoch + 1, epochs_planned=args.epochs,
                                             batch_size=args.batch_size), args.out)

    arch = {k: cfg[k] for k in ("gen_filters", "res_blocks", "disc_filters")}
    cyclegan.train_cyclegan(a, b, epochs=args.epochs, batch_size=args.batch_size, seed=seed, minutes=args.minutes,
                            checkpoint=checkpoint, **arch)


def train_tacotron(args) -> None:
    from course_utils import config, data
    from course_utils import tacotron_tts as tts
    from course_utils.tts import holdout_split  # the duration model's held-out prompts: both voices skip them

    seed = config.set_seed()
    speech = data.load_arctic(speakers=("slt",), sample_rate=tts.SAMPLE_RATE, seed=seed)
    train_ids, _ = holdout_split(speech.ids)
    idx = [speech.ids.index(i) for i in train_ids]
    texts = [speech.texts[i] for i in idx]
    waves = [speech.waveforms["slt"][i] for i in idx]
    print(f"training on {len(texts)} utterances", flush=True)

    model, done = None, []
    if args.epochs is None:  # replay the schedule of the shipped weights from scratch
        stages = list(tts.TRAINING_STAGES)
    else:  # one stage of your own, optionally on top of the saved weights
        stages = [dict(epochs=args.epochs, decay_epochs=args.epochs, batch_size=args.batch_size or 16,
                       learning_rate=args.learning_rate, minutes=args.minutes)]
        if args.resume:
            model, info = tts.load_tts(folder=args.out)
            done = info["stages"]
            print(f"resuming after {sum(s['epochs'] for s in done)} epochs: {done}", flush=True)

    def checkpoint(model, stages_done):
        record = done + [{k: v for k, v in s.items() if k != "minutes"} for s in stages_done]
        tts.save_tts(model, dict(epochs_trained=sum(s["epochs"] for s in record), stages=record,
                                 train_utterances=len(texts), input="phonemes (course_utils.text.phonemize)",
                                 command="python scripts/train_synthesis.py " + " ".join(sys.argv[1:])), args.out)

    tts.train_stages(texts, waves, stages, model=model, seed=seed + len(done), checkpoint=checkpoint)


def train_tts(args) -> None:
    """The duration model: align + analyse every slt utterance (cached), then train; resumable."""
    from course_utils import config, data, saving, tts

    seed = config.set_seed()
    speech = data.load_arctic(speakers=("slt",), sample_rate=tts.SAMPLE_RATE, seed=seed)
    corpus, failed = tts.prepare_corpus(speech.ids, speech.texts, speech.waveforms["slt"], speech.sample_rate)
    train_ids, test_ids = tts.holdout_split(speech.ids)
    print(f"{len(corpus)} of {len(speech.ids)} utterances aligned ({len(failed)} failed); training on "
          f"{sum(i in corpus for i in train_ids)}, holding out {len(test_ids)}", flush=True)
    recipe = dict(tts.TRAINING, **{k: v for k, v in dict(epochs=args.epochs, minutes=args.minutes).items()
                                   if v is not None})
    model = stats = None
    start_epoch = 0
    info_path = tts.weights_path(folder=args.out)
    if args.resume and saving.read_config(info_path) is not None:
        model, stats, info = tts.load(folder=args.out)
        start_epoch = info["epochs_trained"]
        print(f"resuming after {start_epoch} epochs", flush=True)

    def checkpoint(model, stats, epochs_done, history):
        tts.save(model, stats, dict(epochs_trained=epochs_done, recipe={k: v for k, v in recipe.items()
                                                                          if k != "minutes"},
                                    failed_alignments=failed, train_utterances=sum(i in corpus for i in train_ids),
                                    command="python scripts/train_synthesis.py " + " ".join(sys.argv[1:]),
                                    last_losses={k: v[-1] for k, v in history.items()}),
                 folder=args.out)

    tts.train(corpus, train_ids, epochs=recipe["epochs"], batch_frames=recipe["batch_frames"],
              learning_rate=recipe["learning_rate"], final_learning_rate=recipe["final_learning_rate"],
              minutes=recipe["minutes"], model=model, stats=stats, start_epoch=start_epoch, checkpoint=checkpoint,
              seed=seed)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", choices=["cyclegan", "tts", "tacotron"])
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--minutes", type=float, default=None,
                        help="stop after the epoch that passes this time (CycleGAN default: cyclegan.TRAINING)")
    parser.add_argument("--pair", nargs=2, default=["horse", "zebra"], metavar=("A", "B"),
                        choices=["horse", "zebra", "summer", "winter"],
                        help="CycleGAN: the two photo domains (default: horse zebra)")
    parser.add_argument("--learning-rate", type=float, default=1e-3,
                        help="TTS with --epochs: initial learning rate (decayed ×0.1 over --epochs)")
    parser.add_argument("--resume", action="store_true",
                        help="tts: continue from the last checkpoint in --out; tacotron (with --epochs): one more stage")
    parser.add_argument("--out", default=None, help="weights folder (default course_utils/weights)")
    args = parser.parse_args(argv)
    if args.resume and args.model == "tacotron" and args.epochs is None:
        parser.error("--resume continues Tacotron training for --epochs more epochs: give both")
    start = time.perf_counter()
    if args.model == "cyclegan":
        from course_utils.cyclegan import TRAINING

        args.epochs = args.epochs or TRAINING["epochs"]
        args.batch_size = args.batch_size or TRAINING["batch_size"]
        args.minutes = args.minutes if args.minutes is not None else TRAINING["minutes"]
        train_cyclegan(args)
    elif args.model == "tacotron":
        train_tacotron(args)
    else:
        train_tts(args)
    print(f"done in {(time.perf_counter() - start) / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
