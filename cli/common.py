"""Helpers shared by the command groups: settings from arguments, the linker, file reading."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from bel_core.config import Settings
from bel_core.formats.documents import ParsedInput
from bel_core.formats.inputs import read_any
from bel_core.types import LinkResult, Mention, Progress

if TYPE_CHECKING:
    from bel_core.linking.pipeline import LinkingPipeline

logger = logging.getLogger("bel")


def add_kb_options(parser: argparse.ArgumentParser) -> None:
    """--kb and --no-dense, shared by every command that links."""
    parser.add_argument("--kb", help="'hpo' (embedded) or a KB file: .jsonl, .obo, CTD MEDIC .tsv(.gz), ID||name")
    parser.add_argument("--no-dense", action="store_true", help="TF-IDF only (skip the dense encoder)")


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from --config/$BEL_*, then the command's own --db, --kb and --no-dense."""
    settings = Settings.load(args.config, env=os.environ)
    if args.db:
        settings = replace(settings, db_url=args.db)
    kb = getattr(args, "kb", None)
    if kb:
        settings = replace(settings, kb=replace(settings.kb, source=kb))
    if getattr(args, "no_dense", False):
        settings = replace(settings, retrieval=replace(settings.retrieval, dense_enabled=False))
    return settings


def progress_printer() -> Progress:
    """A ``progress(stage, done, total)`` callback drawing one tqdm bar per stage on stderr."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="item", file=sys.stderr, leave=True)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return progress


def load_pipeline(settings: Settings) -> LinkingPipeline:
    """Build the linker, drawing index-building progress on stderr."""
    from bel_core.linking.pipeline import LinkingPipeline  # imported here: torch and faiss are slow to import

    started = time.perf_counter()
    pipeline = LinkingPipeline.from_settings(settings, progress=progress_printer())
    pipeline.warm_up()  # "linked ... /s" then times linking, not loading the encoder
    logger.info("linker ready in %.1fs: %s", time.perf_counter() - started, pipeline.model_version)
    return pipeline


def read_inputs(paths: Sequence[str], max_bytes: int) -> ParsedInput:
    """Parse files in any format ``read_any`` knows, printing every bad line (file, line) as a warning on stderr."""
    parsed = read_any([(Path(path).name, Path(path).read_bytes()) for path in paths], max_bytes=max_bytes)
    for problem in parsed.problems:
        print(f"warning: {problem}", file=sys.stderr)
    return parsed


def comma_list(value: str | None) -> tuple[str, ...]:
    """The non-empty, stripped items of a comma-separated option (``--types``, ``--roots``)."""
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def filter_types(mentions: Sequence[Mention], types: str | None) -> list[Mention]:
    """Keep mentions whose label is one of the comma-separated ``types`` (all when empty)."""
    if not types:
        return list(mentions)
    wanted = set(comma_list(types))
    return [m for m in mentions if m.label in wanted]


def write_predictions(results: Sequence[LinkResult], out: str) -> None:
    """Write the shared scorer's JSONL: doc_id, start, end, ranked ids, calibrated probs, raw scores."""
    from bel_core.annotate import predictions_jsonl

    Path(out).write_text(predictions_jsonl(results), encoding="utf-8")
