"""The ``bel`` command line: the non-UI jobs (build indexes, link files, import, export, evaluate).

Examples::

    bel build-index                                   # embedded HPO KB + default models
    bel link notes.txt --out links.jsonl              # detect mentions, link them
    bel link-corpus NCBItestset_corpus.txt --kb CTD_diseases.tsv.gz --out preds.jsonl
    bel evaluate NCBItestset_corpus.txt --kb CTD_diseases.tsv.gz --alt-ids medic_alt_ids.tsv
    bel --db sqlite:///bel.db import docs/*.pubtator --as suggestions
    bel --db sqlite:///bel.db export --format pubtator --out gold.pubtator

The CLI lives beside the storage layer because most commands read or write the curation
database; it reaches models only through ``bel_core``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from bel_core.config import Settings
from bel_core.documents import InputProblem, ParsedInput, parse_upload
from bel_core.errors import BelError
from bel_core.evaluate import score_link_results
from bel_core.types import Document, LinkResult, Mention

if TYPE_CHECKING:
    from bel_core.pipeline import LinkingPipeline

logger = logging.getLogger("bel")


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.load(args.config, env=os.environ)
    if args.db:
        settings = replace(settings, db_url=args.db)
    kb = getattr(args, "kb", None)
    if kb:
        settings = replace(settings, kb=replace(settings.kb, source=kb))
    if getattr(args, "no_dense", False):
        settings = replace(settings, retrieval=replace(settings.retrieval, dense_enabled=False))
    return settings


def _progress_printer() -> Callable[[str, int, int], None]:
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


def _pipeline(settings: Settings) -> LinkingPipeline:
    from bel_core.pipeline import LinkingPipeline  # imported here: torch and faiss are slow to import

    started = time.perf_counter()
    pipeline = LinkingPipeline.from_settings(settings, progress=_progress_printer())
    logger.info("linker ready in %.1fs: %s", time.perf_counter() - started, pipeline.model_version)
    return pipeline


def _read_inputs(paths: Sequence[str], max_bytes: int) -> ParsedInput:
    documents: list[Document] = []
    mentions: list[Mention] = []
    problems: list[InputProblem] = []
    for path in paths:
        p = Path(path)
        parsed = parse_upload(p.name, p.read_bytes(), max_bytes=max_bytes)
        documents += parsed.documents
        mentions += parsed.mentions
        problems += parsed.problems
    for problem in problems:
        where = f"{problem.filename}, line {problem.line}" if problem.line else problem.filename
        print(f"warning: {where}: {problem.message}", file=sys.stderr)
    return ParsedInput(tuple(documents), tuple(mentions), tuple(problems))


def _filter_types(mentions: Sequence[Mention], types: str | None) -> list[Mention]:
    if not types:
        return list(mentions)
    wanted = {t.strip() for t in types.split(",") if t.strip()}
    return [m for m in mentions if m.label in wanted]


def _write_predictions(results: Sequence[LinkResult], out: str) -> None:
    """Write the shared scorer's JSONL: doc_id, start, end, ranked ids, calibrated probs, raw scores."""
    with open(out, "w", encoding="utf-8") as fh:
        for r in results:
            m = r.mention
            row = {
                "doc_id": m.doc_id,
                "start": m.start,
                "end": m.end,
                "mention": m.text,
                "ranked": [c.concept_id for c in r.candidates],
                "probs": [round(c.calibrated_score or 0.0, 6) for c in r.candidates],
                "scores": [round(c.raw_score, 6) for c in r.candidates],
                "names": [c.name for c in r.candidates],
                "model_version": r.model_version,
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def cmd_build_index(args: argparse.Namespace) -> int:
    settings = _settings(args)
    pipeline = _pipeline(settings)
    print(f"KB {pipeline.kb.name} {pipeline.kb.version}: {len(pipeline.kb)} concepts")
    print(f"model version: {pipeline.model_version}")
    report = getattr(pipeline, "calibration_report", None)
    if report is not None:
        print(f"calibration: {report}")
    return 0


def cmd_link(args: argparse.Namespace) -> int:
    settings = _settings(args)
    parsed = _read_inputs(args.files, settings.max_upload_bytes)
    pipeline = _pipeline(settings)
    mentions: list[Mention] = _filter_types(parsed.mentions, args.types)
    if not args.gold_spans:
        for doc in parsed.documents:
            mentions += pipeline.detect(doc)
    started = time.perf_counter()
    results = pipeline.link(mentions)
    elapsed = time.perf_counter() - started
    _write_predictions(results, args.out)
    rate = len(results) / elapsed if elapsed > 0 else float("inf")
    print(
        f"linked {len(results)} mentions in {len(parsed.documents)} documents "
        f"in {elapsed:.1f}s ({rate:.0f}/s) -> {args.out}"
    )
    return 0


def cmd_link_corpus(args: argparse.Namespace) -> int:
    args.gold_spans = True
    args.files = [args.corpus]
    return cmd_link(args)


def cmd_evaluate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    parsed = _read_inputs([args.corpus], max_bytes=2**40)
    mentions = [m for m in _filter_types(parsed.mentions, args.types) if m.annotated_ids]
    pipeline = _pipeline(settings)
    started = time.perf_counter()
    results = pipeline.link(mentions)
    elapsed = time.perf_counter() - started
    alt_ids = _read_alt_ids(args.alt_ids) if args.alt_ids else {}
    report = score_link_results(results, alt_ids=alt_ids)
    print(report.as_text())
    print(f"{len(results)} mentions in {elapsed:.1f}s ({len(results) / max(elapsed, 1e-9):.0f}/s)")
    if args.out:
        _write_predictions(results, args.out)
    return 0


def _read_alt_ids(path: str) -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            alt, primary = line.split("\t")[:2]
            table[alt] = tuple(primary.split("|"))
    return table


def cmd_import(args: argparse.Namespace) -> int:
    from db import services
    from db.engine import open_store

    settings = _settings(args)
    if args.format not in ("auto", "pubtator", "text"):
        raise BelError(f"import --format {args.format} is not supported yet; use auto, pubtator or text")
    parsed = _read_inputs(args.files, settings.max_upload_bytes)
    pipeline = _pipeline(settings)
    store = open_store(settings.resolved_db_url)
    by_doc: dict[str, list[Mention]] = {}
    for m in parsed.mentions:
        by_doc.setdefault(m.doc_id, []).append(m)
    n_docs = n_mentions = n_gold = 0
    for doc in parsed.documents:
        spans = by_doc.get(doc.doc_id, [])
        with store.begin() as session:
            report = services.ingest_document(session, pipeline, doc, spans, detect=not spans)
            if args.as_ == "gold":
                n_gold += services.import_gold_decisions(session, pipeline, spans, curator=f"import:{doc.source}")
        n_docs += 0 if report.already_stored else 1
        n_mentions += report.n_new_mentions
    print(
        f"imported {n_docs} new documents, {n_mentions} new mentions, {n_gold} gold decisions "
        f"into {settings.resolved_db_url}"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from db import services
    from db.engine import open_store

    settings = _settings(args)
    store = open_store(settings.resolved_db_url)
    with store.begin() as session:
        text = services.export_gold(session, args.format)
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"wrote {len(text.splitlines())} lines of {args.format} to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and for the README's usage block)."""
    parser = argparse.ArgumentParser(prog="bel", description="BEL Curator command line")
    parser.add_argument("--config", help="TOML settings file (default: $BEL_CONFIG or built-in defaults)")
    parser.add_argument("--db", help="database URL, e.g. sqlite:///bel.db (default: <data_dir>/bel.db)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = parser.add_subparsers(dest="command", required=True)

    def kb_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--kb", help="'hpo' (embedded) or a KB file: .jsonl, .obo, CTD MEDIC .tsv(.gz), ID||name")
        p.add_argument("--no-dense", action="store_true", help="TF-IDF only (skip the dense encoder)")

    p = sub.add_parser("build-index", help="load the KB, build and cache the retrieval indexes and calibrator")
    kb_options(p)
    p.set_defaults(func=cmd_build_index)

    p = sub.add_parser("link", help="detect (or take PubTator) mentions in files and link them")
    p.add_argument("files", nargs="+")
    p.add_argument("--out", required=True, help="predictions JSONL (the shared scorer's format)")
    p.add_argument("--gold-spans", action="store_true", help="link only the spans given in the file")
    p.add_argument("--types", help="keep only mentions of these comma-separated types")
    kb_options(p)
    p.set_defaults(func=cmd_link)

    p = sub.add_parser("link-corpus", help="link the gold spans of a PubTator corpus")
    p.add_argument("corpus")
    p.add_argument("--out", required=True)
    p.add_argument("--types")
    p.add_argument("--linker", default="retriever", choices=["retriever"], help="which linker ranks candidates")
    p.add_argument("--models", help="model directory (reserved for trained linkers)")
    kb_options(p)
    p.set_defaults(func=cmd_link_corpus)

    p = sub.add_parser("evaluate", help="link a gold PubTator corpus and report acc@k, ECE and Brier")
    p.add_argument("corpus")
    p.add_argument("--types")
    p.add_argument("--alt-ids", help="alt_id<TAB>primary map (e.g. medic_alt_ids.tsv)")
    p.add_argument("--out", help="also write predictions JSONL")
    kb_options(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("import", help="import documents (text or PubTator) into the curation database")
    p.add_argument("files", nargs="+")
    p.add_argument("--format", default="auto", help="auto|pubtator|text")
    p.add_argument("--as", dest="as_", default="suggestions", choices=["gold", "suggestions"])
    kb_options(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="export curated gold annotations")
    p.add_argument("--format", required=True, choices=["jsonl", "pubtator"])
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bel`` command; returns the exit status."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the CLI never reaches a model hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except BelError as e:
        print(f"bel: error: {e}", file=sys.stderr)
        return 2
    except FileNotFoundError as e:
        print(f"bel: error: {e.filename}: no such file", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
