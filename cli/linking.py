"""Commands that link: build-index, link, link-corpus, evaluate."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bel_core.config import Settings
from bel_core.linking.evaluate import score_link_results
from bel_core.runtime.model_dir import MANIFEST
from bel_core.types import Mention
from cli.common import (
    add_kb_options,
    filter_types,
    load_pipeline,
    progress_printer,
    read_inputs,
    settings_from_args,
    write_predictions,
)
from db.engine import open_store
from usecases import kb_extension


def register(sub: Any) -> None:
    """Add this group's subcommands to the ``bel`` parser."""
    p = sub.add_parser("build-index", help="load the KB, build and cache the retrieval indexes and calibrator")
    add_kb_options(p)
    p.add_argument(
        "--with-curator-synonyms",
        action="store_true",
        help="also index the synonyms curators added in the --db store (the KB extension)",
    )
    p.set_defaults(func=cmd_build_index)

    p = sub.add_parser("link", help="detect (or take PubTator) mentions in files and link them")
    p.add_argument("files", nargs="+")
    p.add_argument("--out", required=True, help="predictions JSONL (the shared scorer's format)")
    p.add_argument("--gold-spans", action="store_true", help="link only the spans given in the file")
    p.add_argument("--types", help="keep only mentions of these comma-separated types")
    add_kb_options(p)
    p.set_defaults(func=cmd_link)

    p = sub.add_parser("link-corpus", help="link the gold spans of a PubTator corpus")
    p.add_argument("corpus")
    p.add_argument("--out", required=True)
    p.add_argument("--types")
    p.add_argument(
        "--linker", default="retriever", choices=["retriever", "generator"], help="which linker ranks candidates"
    )
    p.add_argument(
        "--models",
        help="model directory written by `bel train` (default: settings' models_dir); with --linker generator "
        "also a generator folder or a cached Hugging Face id (e.g. AnonymousARR42/SynCABEL_SPACCC)",
    )
    p.add_argument(
        "--prompt-style",
        choices=["syncabel", "longbel"],
        help="generator prompt format (replaces a model directory's)",
    )
    p.add_argument("--revision", help="Hugging Face revision of a --models id (generator)")
    p.add_argument("--unconstrained", action="store_true", help="generator: free decoding, NO_CODE if not a KB name")
    add_kb_options(p)
    p.set_defaults(func=cmd_link_corpus)

    p = sub.add_parser("evaluate", help="link a gold PubTator corpus and report acc@k, ECE and Brier")
    p.add_argument("corpus")
    p.add_argument("--types")
    p.add_argument("--alt-ids", help="alt_id<TAB>primary map (e.g. medic_alt_ids.tsv)")
    p.add_argument("--out", help="also write predictions JSONL")
    p.add_argument("--models", help="model directory written by `bel train`")
    add_kb_options(p)
    p.set_defaults(func=cmd_evaluate)


def cmd_build_index(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if args.with_curator_synonyms:
        from bel_core.linking.builder import SynonymExtension  # imported here: scikit-learn is slow to import
        from bel_core.linking.pipeline import LinkingPipeline

        with open_store(settings.resolved_db_url)() as session:
            synonyms = SynonymExtension(
                tuple(kb_extension.extension_pairs(session)), kb_extension.extension_version(session)
            )
        pipeline = LinkingPipeline.from_settings(settings, progress=progress_printer(), synonyms=synonyms)
        print(f"curator synonyms: {len(synonyms.pairs)} (extension {synonyms.version})")
    else:
        pipeline = load_pipeline(settings)
    print(f"KB {pipeline.kb.name} {pipeline.kb.version}: {len(pipeline.kb)} concepts")
    print(f"model version: {pipeline.model_version}")
    if pipeline.search_index is not None:
        print(f"KB search index: {pipeline.search_index.path}")
    report = getattr(pipeline, "calibration_report", None)
    if report is not None:
        print(f"calibration: {report}")
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    """Settings from the shared options, plus ``--models`` where the command has it."""
    settings = settings_from_args(args)
    if getattr(args, "models", None):
        settings = replace(settings, retrieval=replace(settings.retrieval, models_dir=args.models))
    return settings


def cmd_link(args: argparse.Namespace) -> int:
    settings = _settings(args)
    parsed = read_inputs(args.files, settings.max_upload_bytes)
    pipeline = load_pipeline(settings)
    mentions: list[Mention] = filter_types(parsed.mentions, args.types)
    if not args.gold_spans:
        for doc in parsed.documents:
            mentions += pipeline.detect(doc)
    started = time.perf_counter()
    # The document text gives abbreviation definitions, reranker context and document memory.
    results = pipeline.link(mentions, documents={d.doc_id: d for d in parsed.documents})
    elapsed = time.perf_counter() - started
    write_predictions(results, args.out)
    rate = len(results) / elapsed if elapsed > 0 else float("inf")
    print(
        f"linked {len(results)} mentions in {len(parsed.documents)} documents "
        f"in {elapsed:.1f}s ({rate:.0f}/s) -> {args.out}"
    )
    return 0


def cmd_link_corpus(args: argparse.Namespace) -> int:
    args.gold_spans = True
    args.files = [args.corpus]
    if args.linker == "generator":
        return _link_corpus_generator(args)
    return cmd_link(args)


def _link_corpus_generator(args: argparse.Namespace) -> int:
    """Link the corpus's gold spans with a generative linker (model directory, folder or cached HF id)."""
    from bel_core.generate.linker import GenerativeLinker
    from bel_core.generate.prompts import prompt_style
    from bel_core.linking.builder import load_settings_kb

    settings = settings_from_args(args)
    source = args.models or settings.retrieval.models_dir
    if not source:
        print("bel: error: --linker generator needs --models (a model directory or a generator)", file=sys.stderr)
        return 2
    parsed = read_inputs(args.files, settings.max_upload_bytes)
    kb = load_settings_kb(settings)
    if (Path(source) / MANIFEST).is_file():
        linker = GenerativeLinker.from_model_dir(Path(source), kb)
        if args.prompt_style:
            linker.style = prompt_style(args.prompt_style)
    else:
        linker = GenerativeLinker.from_pretrained(
            source, kb, style=args.prompt_style or "syncabel", revision=args.revision
        )
    if args.unconstrained:
        linker.options = replace(linker.options, constrained=False)
    mentions = filter_types(parsed.mentions, args.types)
    started = time.perf_counter()
    results = linker.link(mentions, documents={d.doc_id: d for d in parsed.documents})
    elapsed = time.perf_counter() - started
    write_predictions(results, args.out)
    rate = len(results) / elapsed if elapsed > 0 else float("inf")
    print(f"linked {len(results)} mentions with {linker.model_version} in {elapsed:.1f}s ({rate:.1f}/s) -> {args.out}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    parsed = read_inputs([args.corpus], max_bytes=2**40)
    mentions = [m for m in filter_types(parsed.mentions, args.types) if m.annotated_ids]
    pipeline = load_pipeline(settings)
    started = time.perf_counter()
    results = pipeline.link(mentions, documents={d.doc_id: d for d in parsed.documents})
    elapsed = time.perf_counter() - started
    alt_ids = _read_alt_ids(args.alt_ids) if args.alt_ids else {}
    report = score_link_results(results, alt_ids=alt_ids)
    print(report.as_text())
    print(f"{len(results)} mentions in {elapsed:.1f}s ({len(results) / max(elapsed, 1e-9):.0f}/s)")
    if args.out:
        write_predictions(results, args.out)
    return 0


def _read_alt_ids(path: str) -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            alt, primary = line.split("\t")[:2]
            table[alt] = tuple(primary.split("|"))
    return table
