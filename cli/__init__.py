"""The ``bel`` command line: the non-UI jobs (build indexes, link files, import, export, evaluate).

Examples::

    bel build-index                                   # embedded HPO KB + default models
    bel link notes.txt --out links.jsonl              # detect mentions, link them
    bel link-corpus NCBItestset_corpus.txt --kb CTD_diseases.tsv.gz --out preds.jsonl
    bel evaluate NCBItestset_corpus.txt --kb CTD_diseases.tsv.gz --alt-ids medic_alt_ids.tsv
    bel --db sqlite:///bel.db import docs/*.pubtator --as suggestions
    bel --db sqlite:///bel.db export --format pubtator --out gold.pubtator
    bel user add alice --role admin                   # first admin (prompts for the password)

The CLI lives beside the storage layer because most commands read or write the curation
database; it reaches models only through ``bel_core``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from bel_core.errors import BelError
from cli import annotate, db, explain, kb, linking, models, serve, store, train, users

logger = logging.getLogger("bel")

# Each command group registers its subcommands; add a module here to add a group.
COMMAND_GROUPS: tuple[ModuleType, ...] = (linking, annotate, store, train, users, kb, models, explain, db, serve)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and for the README's usage block)."""
    parser = argparse.ArgumentParser(prog="bel", description="BEL Curator command line")
    parser.add_argument("--config", help="TOML settings file (default: $BEL_CONFIG or built-in defaults)")
    parser.add_argument("--db", help="database URL, e.g. sqlite:///bel.db (default: <data_dir>/bel.db)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.register(sub)
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
