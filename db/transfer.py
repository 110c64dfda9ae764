"""Copy a whole store between backends (``bel db copy``), verified by row counts and digests.

Every table of the metadata is copied in foreign-key order with its ids, so decisions keep
their history and ``undoes_id`` links, assignments and synonyms keep their mentions. The
target is built by the migrations and must be empty. Only INSERTs are issued, each of an
id the target does not hold yet, so the append-only guards never fire and never need to be
lifted. PostgreSQL sequences are then moved past the copied ids. Before success is
reported, each table's rows are read back from both stores and compared: the count and a
SHA-256 of the rows in id order, serialised the same way whatever the backend.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bel_core.errors import BelError
from db.engine import make_engine, upgrade
from db.integrity import check_store, existing_store, id_sequences
from db.models import Base

BATCH_ROWS = 2_000


@dataclass(frozen=True, slots=True)
class TableDigest:
    """What one table holds: its row count and the SHA-256 of its rows in id order."""

    table: str
    rows: int
    sha256: str


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _rows(conn: Connection, table: Table) -> Iterator[dict[str, Any]]:
    result = conn.execution_options(yield_per=BATCH_ROWS).execute(select(table).order_by(*table.primary_key))
    for row in result.mappings():
        yield dict(row)


def table_digest(conn: Connection, table: Table) -> TableDigest:
    """Count and digest of ``table``: one canonical JSON line per row, columns by name."""
    sha, count = hashlib.sha256(), 0
    for row in _rows(conn, table):
        line = json.dumps({k: _canonical(v) for k, v in row.items()}, sort_keys=True, ensure_ascii=False)
        sha.update(line.encode())
        sha.update(b"\n")
        count += 1
    return TableDigest(table.name, count, sha.hexdigest())


def store_digests(engine: Engine) -> list[TableDigest]:
    """The digest of every table of the metadata, in foreign-key order."""
    with engine.connect() as conn:
        return [table_digest(conn, t) for t in Base.metadata.sorted_tables]


def _nonempty(conn: Connection) -> list[str]:
    return [t.name for t in Base.metadata.sorted_tables if conn.execute(select(func.count()).select_from(t)).scalar()]


def _reset_sequences(conn: Connection) -> None:
    for table, sequence in id_sequences(conn):
        top = conn.execute(select(func.max(table.c.id))).scalar()
        # is_called=false with 1 on an empty table: the next id is 1, as on a fresh store.
        conn.execute(text("SELECT setval(:s, :v, :called)"), {"s": sequence, "v": top or 1, "called": top is not None})


def _insert_all(source: Connection, target: Connection, table: Table) -> None:
    batch: list[dict[str, Any]] = []
    for row in _rows(source, table):
        batch.append(row)
        if len(batch) == BATCH_ROWS:
            target.execute(table.insert(), batch)
            batch = []
    if batch:
        target.execute(table.insert(), batch)


def copy_store(source_url: str, target_url: str) -> list[TableDigest]:
    """Copy every table from ``source_url`` into the empty store at ``target_url`` and verify it.

    Returns:
        The digests both stores now share, per table.

    Raises:
        BelError: the source is not at the latest schema or fails its integrity checks, the
            target holds rows, a row does not fit the target (nothing is copied then), or
            the copy does not read back equal (the target was written: empty it before
            trying again).
    """
    if make_url(source_url) == make_url(target_url):
        raise BelError("Source and target are the same store")
    source = existing_store(source_url)
    target = make_engine(target_url)
    try:
        report = check_store(source)
        if not report.ok:
            raise BelError(f"The source store fails its integrity checks; nothing was copied:\n{report.text()}")
        upgrade(target)
        with source.connect() as src, target.begin() as dst:
            if filled := _nonempty(dst):
                raise BelError(f"The target store is not empty ({', '.join(filled)} hold rows); nothing was copied")
            for table in Base.metadata.sorted_tables:
                try:
                    _insert_all(src, dst, table)
                except DBAPIError as e:  # e.g. a NUL character, which PostgreSQL text cannot hold
                    raise BelError(f"Copying {table.name} failed, nothing was copied: {e.orig}") from e
            if dst.dialect.name == "postgresql":
                _reset_sequences(dst)
        expected, found = store_digests(source), store_digests(target)
        if expected != found:
            differ = ", ".join(e.table for e, f in zip(expected, found, strict=True) if e != f)
            raise BelError(f"The copy does not read back equal in {differ}; do not use the target")
        return found
    finally:
        source.dispose()
        target.dispose()
