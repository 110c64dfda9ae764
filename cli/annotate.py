"""``bel annotate``: pre-annotate a sharded corpus, in this process, in local processes or on Ray."""

from __future__ import annotations

import argparse
import functools
import sys
import time
from dataclasses import replace
from typing import Any

from bel_core.annotate import ENGINES, plan_shards, run_shards
from bel_core.config import Settings
from cli.common import add_kb_options, settings_from_args

# Shards larger than this are refused (decompressed); PubTator 3's bulk files are ~100 MB each.
DEFAULT_MAX_SHARD_BYTES = 512_000_000


def register(sub: Any) -> None:
    """Add ``annotate`` to the ``bel`` parser."""
    p = sub.add_parser(
        "annotate",
        help="detect and link every document of sharded inputs into sharded PubTator + JSONL (resumable)",
    )
    p.add_argument("inputs", nargs="+", help="input files or folders (PubTator, BioC, BigBio, JSONL, text; .gz)")
    p.add_argument("--out", required=True, help="output folder: <shard>.pubtator, <shard>.jsonl, <shard>.done.json")
    p.add_argument("--models", help="model directory written by `bel train` (default: the settings' models_dir)")
    p.add_argument("--engine", default="local", choices=ENGINES, help="local processes or a Ray cluster")
    p.add_argument("--workers", type=int, default=1, help="worker processes (Ray: actors); each loads the linker once")
    p.add_argument("--ray-address", help="an existing Ray cluster (default: start a local one)")
    p.add_argument("--gold-spans", action="store_true", help="link the spans the inputs carry instead of detecting")
    p.add_argument(
        "--max-shard-bytes",
        type=int,
        default=DEFAULT_MAX_SHARD_BYTES,
        help=f"size limit of one input file, decompressed (default {DEFAULT_MAX_SHARD_BYTES:,})",
    )
    add_kb_options(p)
    p.set_defaults(func=cmd_annotate)


def build_linker(settings: Settings) -> Any:
    """The linker a worker uses (module level, so workers can unpickle the factory)."""
    from bel_core.linking.pipeline import LinkingPipeline  # torch and faiss load in the worker only

    pipeline = LinkingPipeline.from_settings(settings)
    pipeline.warm_up()
    return pipeline


def cmd_annotate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    settings = settings_from_args(args)
    if args.models:
        settings = replace(settings, retrieval=replace(settings.retrieval, models_dir=args.models))
    shards = plan_shards(args.inputs, args.out)
    started = time.perf_counter()
    documents = mentions = skipped = 0
    refused: list[str] = []
    with tqdm(total=len(shards), desc="shards", unit="shard", file=sys.stderr) as bar:
        for result in run_shards(
            shards,
            functools.partial(build_linker, settings),
            engine=args.engine,
            workers=args.workers,
            ray_address=args.ray_address,
            max_bytes=args.max_shard_bytes,
            gold_spans=args.gold_spans,
        ):
            bar.update(1)
            if result.refused:
                refused.append(f"{result.name}: {'; '.join(result.problems)}")
                continue
            skipped += result.skipped
            documents += result.documents
            mentions += result.mentions
            for problem in result.problems:
                print(f"warning: {problem}", file=sys.stderr)
            bar.set_postfix(documents=documents, mentions=mentions)
    elapsed = time.perf_counter() - started
    print(
        f"{len(shards) - len(refused)} of {len(shards)} shards annotated ({skipped} already finished): "
        f"{documents:,} documents, {mentions:,} mentions in {elapsed:.1f}s -> {args.out}"
    )
    for line in refused:
        print(f"refused: {line}", file=sys.stderr)
    return 1 if refused else 0
