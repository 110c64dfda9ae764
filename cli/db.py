"""``bel db``: move a whole store between SQLite and PostgreSQL, and check a store's integrity.

Examples::

    bel db copy sqlite:///bel.db postgresql://curator:secret@db.example.org/bel
    bel db copy postgresql://curator:secret@db.example.org/bel sqlite:///backup.db
    bel db check postgresql://curator:secret@db.example.org/bel
    bel --db sqlite:///bel.db db check

PostgreSQL needs the ``postgres`` extra (psycopg 3): ``pip install 'bel-curator[postgres]'``.
"""

from __future__ import annotations

import argparse
from typing import Any

from cli.common import settings_from_args


def register(sub: Any) -> None:
    """Add ``db copy`` and ``db check`` to the ``bel`` parser."""
    p = sub.add_parser("db", help="copy a store between SQLite and PostgreSQL, check its integrity")
    actions = p.add_subparsers(dest="action", required=True)
    copy = actions.add_parser("copy", help="copy every table into an empty store, then verify the copy")
    copy.add_argument("source", metavar="SRC_URL", help="database URL of the store to copy")
    copy.add_argument("target", metavar="DST_URL", help="database URL of an empty (or new) store")
    copy.set_defaults(func=cmd_copy)
    check = actions.add_parser("check", help="run the integrity checks; exit status 1 when one fails")
    check.add_argument("url", metavar="URL", nargs="?", help="database URL (default: --db, then the settings)")
    check.set_defaults(func=cmd_check)


def cmd_copy(args: argparse.Namespace) -> int:
    """Copy SRC_URL into DST_URL; print the rows and digest per table once they compare equal."""
    from sqlalchemy.engine import make_url

    from db.transfer import copy_store

    digests = copy_store(args.source, args.target)
    for d in digests:
        print(f"{d.table:16} {d.rows:>9} rows  sha256 {d.sha256[:16]}")
    source, target = (make_url(u).render_as_string(hide_password=True) for u in (args.source, args.target))
    print(f"copied {sum(d.rows for d in digests)} rows from {source} to {target}: counts and digests match")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Print every integrity check; 0 when all pass, 1 otherwise."""
    from db.integrity import check_store, existing_store

    engine = existing_store(args.url or settings_from_args(args).resolved_db_url)
    try:
        report = check_store(engine)
    finally:
        engine.dispose()
    print(report.text())
    return 0 if report.ok else 1
