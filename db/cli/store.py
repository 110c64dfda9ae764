"""Commands on the curation database: import, export."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bel_core.errors import BelError
from bel_core.types import Mention
from db.cli.common import add_kb_options, load_pipeline, read_inputs, settings_from_args


def register(sub: Any) -> None:
    """Add this group's subcommands to the ``bel`` parser."""
    p = sub.add_parser("import", help="import documents (text or PubTator) into the curation database")
    p.add_argument("files", nargs="+")
    p.add_argument("--format", default="auto", help="auto|pubtator|text")
    p.add_argument("--as", dest="as_", default="suggestions", choices=["gold", "suggestions"])
    add_kb_options(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="export curated gold annotations")
    p.add_argument("--format", required=True, choices=["jsonl", "pubtator"])
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_export)


def cmd_import(args: argparse.Namespace) -> int:
    from db import services
    from db.engine import open_store

    settings = settings_from_args(args)
    if args.format not in ("auto", "pubtator", "text"):
        raise BelError(f"import --format {args.format} is not supported yet; use auto, pubtator or text")
    parsed = read_inputs(args.files, settings.max_upload_bytes)
    pipeline = load_pipeline(settings)
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

    settings = settings_from_args(args)
    store = open_store(settings.resolved_db_url)
    with store.begin() as session:
        text = services.export_gold(session, args.format)
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"wrote {len(text.splitlines())} lines of {args.format} to {args.out}")
    return 0
