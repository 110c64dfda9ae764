"""Commands on the curation database: import, export, export-training.

Examples::

    bel --db sqlite:///bel.db import corpus.zip --format auto --as gold
    bel --db sqlite:///bel.db export --format bioc-xml --out gold.xml
    bel --db sqlite:///bel.db export --format brat --out gold_brat/      # or gold.zip
    bel --db sqlite:///bel.db export-training --format basilisk --out train/ --seed 7

``import`` goes through ``usecases.ingest`` (the Documents page's path): every refused
file, record or document is printed with file and line, the next file is still read, and
the exit status is 1 when anything was refused. A file with bad records is refused whole
unless ``--skip-bad-spans``. Each document is stored in its own transaction, so a refusal
changes nothing already stored. ``export`` goes through ``usecases.export`` and writes
imported ids as they were given unless ``--normalized-ids``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bel_core.formats import IMPORT_FORMATS
from cli.common import add_kb_options, load_pipeline, settings_from_args
from usecases.export import EXPORT_FORMATS
from usecases.training_export import TRAINING_FORMATS


def register(sub: Any) -> None:
    """Add this group's subcommands to the ``bel`` parser."""
    p = sub.add_parser("import", help="import documents (and their annotations) into the curation database")
    p.add_argument("files", nargs="+", help="files or zip archives (brat: give the .txt and .ann files)")
    p.add_argument("--format", default="auto", choices=IMPORT_FORMATS)
    p.add_argument("--as", dest="as_", default="suggestions", choices=["gold", "suggestions"])
    p.add_argument(
        "--skip-bad-spans",
        action="store_true",
        help="store a file's good records and skip its bad ones (default: refuse a file with bad records)",
    )
    p.add_argument(
        "--detect-with-spans",
        action="store_true",
        help="also detect mentions in documents that came with spans (default: only in those without)",
    )
    add_kb_options(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="export curated gold annotations")
    p.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    p.add_argument("--out", required=True, help="output file (brat: a directory, or a .zip file)")
    p.add_argument(
        "--normalized-ids",
        action="store_true",
        help="write the KB's primary ids (default: imported gold keeps the ids its file gave)",
    )
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("export-training", help="export training data from curated decisions")
    p.add_argument("--format", required=True, choices=TRAINING_FORMATS)
    p.add_argument("--out", required=True, help="output directory (split files and datasheet)")
    p.add_argument("--seed", type=int, default=13, help="seed of the document split")
    p.add_argument("--negatives-per-positive", type=int, default=3, help="hard negatives per curated concept")
    p.add_argument("--text-free", action="store_true", help="ids and offsets only, no document text")
    add_kb_options(p)
    p.set_defaults(func=cmd_export_training)


def _import_progress() -> tuple[Any, Callable[[int, int], None]]:
    """A tqdm bar over documents whose total grows as files are parsed."""
    from tqdm import tqdm  # type: ignore[import-untyped]

    bar = tqdm(total=0, desc="import", unit="doc", file=sys.stderr)

    def progress(done: int, known: int) -> None:
        bar.total = known
        bar.update(done - bar.n)

    return bar, progress


def cmd_import(args: argparse.Namespace) -> int:
    """Store every file's documents (``usecases.ingest``), print what was refused and the counts."""
    from db.engine import open_store
    from usecases.ingest import IngestOptions, ingest_paths

    settings = settings_from_args(args)
    pipeline = load_pipeline(settings)
    store = open_store(settings.resolved_db_url)
    options = IngestOptions(
        max_bytes=settings.max_upload_bytes,
        format=args.format,
        as_gold=args.as_ == "gold",
        skip_bad_spans=args.skip_bad_spans,
        detect_with_spans=args.detect_with_spans,
    )
    bar, progress = _import_progress()
    with bar:
        summary = ingest_paths(store, pipeline, args.files, options=options, progress=progress)
    for kind, problems in (("refused", summary.refused), ("skipped", summary.skipped), ("notice", summary.notices)):
        for problem in problems:
            print(f"{kind}: {problem}", file=sys.stderr)
    for dup in summary.duplicates:
        print(f"duplicate: {dup.source}: {dup.doc_id!r} has the text of stored {dup.stored_doc_id!r}", file=sys.stderr)
    print(
        f"imported {summary.n_documents} new documents ({summary.n_already_stored} already stored, "
        f"{len(summary.duplicates)} duplicates of stored texts), {summary.n_mentions} new mentions, "
        f"{summary.n_gold} gold decisions into {settings.resolved_db_url}; {len(summary.refused)} refused, "
        f"{len(summary.skipped)} skipped, {len(summary.notices)} notices"
    )
    return 1 if summary.refused else 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write the current gold, everyone's decisions, in the chosen format."""
    from db.engine import open_store
    from db.models import Role
    from usecases.auth import User
    from usecases.export import write_gold

    settings = settings_from_args(args)
    store = open_store(settings.resolved_db_url)
    # Whoever runs bel holds the database file: they export as an admin would.
    operator = User(settings.curator, Role.ADMIN)
    with store.begin() as session:
        n_files = write_gold(session, args.format, Path(args.out), operator, normalized=args.normalized_ids)
    print(f"wrote {args.format} gold to {args.out} ({n_files} file{'s' if n_files != 1 else ''})")
    return 0


def cmd_export_training(args: argparse.Namespace) -> int:
    """Write split files and the datasheet; concept names and types come from the configured KB."""
    from bel_core.errors import UnknownConceptError
    from bel_core.kb.loaders import load_kb
    from bel_core.types import Concept
    from db.engine import open_store
    from usecases.training_export import TrainingConfig, export_training

    settings = settings_from_args(args)
    kb = load_kb(settings.kb.source, format=settings.kb.format, cache_dir=settings.cache_dir, roots=settings.kb.roots)

    def concept(concept_id: str) -> Concept | None:
        try:
            return kb.get(concept_id)
        except UnknownConceptError:
            return None

    config = TrainingConfig(
        seed=args.seed, negatives_per_positive=args.negatives_per_positive, text_free=args.text_free
    )
    store = open_store(settings.resolved_db_url)
    with store.begin() as session:
        sheet = export_training(session, args.format, Path(args.out), concept=concept, config=config)
    sizes = ", ".join(f"{name} {s['rows']} rows/{s['documents']} docs" for name, s in sheet["splits"].items())
    print(f"wrote {args.format} training data to {args.out}: {sizes}")
    return 0
