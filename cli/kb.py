"""``bel kb-import``: convert vocabulary files into a versioned KB directory.

Examples::

    bel kb-import --format umls-rrf 2024AA/META --sources MSH,HPO --out kb/umls
    bel kb-import --format medic CTD_diseases.tsv.gz --out kb/medic
    bel --db sqlite:///bel.db kb-import --format obo hp.obo --out kb/hpo   # + decisions check

The directory (``bel_core.kb.diff``) holds the current KB as JSONL, a manifest and every
earlier version; ``kb.source`` / ``--kb`` accept its path. When it replaces an earlier
version, the retired and merged ids are reported, and with ``--db`` so are the stored
decisions that use them.
"""

from __future__ import annotations

import argparse
from itertools import islice
from pathlib import Path
from typing import Any

from bel_core.kb.knowledge_base import KnowledgeBase
from cli.common import comma_list

KB_FORMATS = ("umls-rrf", "obo", "medic", "tsv", "jsonl")


def register(sub: Any) -> None:
    """Add ``kb-import`` to the ``bel`` parser."""
    p = sub.add_parser("kb-import", help="convert vocabulary files into a versioned KB directory")
    p.add_argument("--format", required=True, choices=KB_FORMATS)
    p.add_argument("paths", nargs="+", metavar="PATH", help="vocabulary files (UMLS: RRF files or their directory)")
    p.add_argument("--out", required=True, help="KB directory to create or update")
    p.add_argument("--languages", default="ENG", help="UMLS: comma-separated MRCONSO LAT values")
    p.add_argument("--sources", help="UMLS: comma-separated MRCONSO SAB values (default: all)")
    p.add_argument("--include-suppressed", action="store_true", help="UMLS: keep suppressible rows")
    p.add_argument("--roots", help="OBO: comma-separated root terms whose subtrees are kept")
    p.set_defaults(func=cmd_kb_import)


def _load(args: argparse.Namespace) -> KnowledgeBase:
    """One KB from every PATH (several files of a flat format are merged; ids must not repeat)."""
    from bel_core.kb import loaders as kb_loaders
    from bel_core.kb.umls import load_umls_rrf

    if args.format == "umls-rrf":
        return load_umls_rrf(
            args.paths,
            languages=comma_list(args.languages),
            sources=comma_list(args.sources) or None,
            include_suppressed=args.include_suppressed,
        )
    if args.format == "obo":
        kbs = [kb_loaders.load_obo(p, roots=comma_list(args.roots)) for p in args.paths]
    elif args.format == "medic":
        kbs = [_load_ctd(Path(p)) for p in args.paths]
    else:
        kbs = [kb_loaders.load_tsv(p) if args.format == "tsv" else kb_loaders.load_jsonl(p) for p in args.paths]
    if len(kbs) == 1:
        return kbs[0]
    return KnowledgeBase(
        [c for kb in kbs for c in kb],
        name=" + ".join(kb.name for kb in kbs),
        version=" + ".join(kb.version for kb in kbs),
    )


def _load_ctd(path: Path) -> KnowledgeBase:
    """MEDIC or CTD chemicals: CTD ships both in one layout; the ``# Fields:`` header tells them apart."""
    from bel_core.kb.files import read_lines
    from bel_core.kb.loaders import load_ctd_chemicals, load_medic

    chemicals = any(line.startswith("# ChemicalName") for _, line in islice(read_lines(path), 60))
    return load_ctd_chemicals(path) if chemicals else load_medic(path)


def cmd_kb_import(args: argparse.Namespace) -> int:
    """Load, write the directory, report the diff (and affected decisions when --db is given)."""
    from bel_core.kb.diff import write_kb_dir

    kb = _load(args)
    out = Path(args.out)
    diff = write_kb_dir(kb, out, [Path(p) for p in args.paths])
    print(f"KB {kb.name} {kb.version}: {len(kb)} concepts written to {out}")
    if diff is None:
        return 0
    print(
        f"changes since {diff.old_version}: {len(diff.added)} added, {len(diff.retired)} retired, "
        f"{len(diff.merged)} merged"
    )
    if args.db:
        from db.engine import open_store
        from usecases.interchange import decisions_affected

        with open_store(args.db).begin() as session:
            affected = decisions_affected(session, diff)
        for a in affected:
            where = f"{a.key[0]} {a.key[1]}-{a.key[2]}"
            print(
                f"  decision on {where}: {a.concept_id} {a.change}" + (f" -> {a.replacement}" if a.replacement else "")
            )
        print(f"{len(affected)} stored decisions use retired or merged ids")
    return 0
