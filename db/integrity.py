"""Integrity checks of a store, on either backend (``bel db check``).

Each check names what it looked at and what it found. They cover what the schema alone
cannot promise once a store has been copied, restored or touched by hand: the schema is at
the latest revision, the append-only guards on ``decisions`` are all installed (a missing
REPLACE guard let ``INSERT OR REPLACE`` overwrite verdicts on SQLite), the file is sound and
its foreign keys hold (SQLite checks those only when asked), every undo takes back an
earlier decision of the same mention, and each PostgreSQL id sequence is past the ids
stored (after a copy that kept ids, a sequence left behind would make the next insert fail).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Table, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import aliased

from bel_core.errors import BelError
from db.engine import alembic_config, make_engine
from db.migrations.append_only import GUARDS
from db.models import Base, DecisionRow


@dataclass(frozen=True, slots=True)
class Check:
    """One check: its name, whether it passed, and what it found."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class IntegrityReport:
    """Every check run on one store."""

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def text(self) -> str:
        """One line per check, ``ok`` or ``FAILED``, then the verdict."""
        lines = [f"{'ok' if c.ok else 'FAILED':6} {c.name}: {c.detail}" for c in self.checks]
        lines.append("integrity: ok" if self.ok else "integrity: FAILED")
        return "\n".join(lines)


def existing_store(url: str) -> Engine:
    """An engine on the store at ``url``, which must already exist (checks never create one).

    Raises:
        BelError: a SQLite file that does not exist, or a database without a schema.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").expanduser().is_file():
        raise BelError(f"No SQLite store at {parsed.database!r}")
    engine = make_engine(url)
    if not inspect(engine).has_table("alembic_version"):
        engine.dispose()
        raise BelError(f"{parsed.render_as_string(hide_password=True)} holds no BEL Curator store")
    return engine


def check_store(engine: Engine) -> IntegrityReport:
    """Run every check on the store behind ``engine`` (read only)."""
    with engine.connect() as conn:
        checks = [_schema_revision(conn), _guards(conn)]
        if conn.dialect.name == "sqlite":
            checks += [_sqlite_integrity(conn), _sqlite_foreign_keys(conn)]
        else:
            checks.append(_sequences(conn))
        checks.append(_undo_targets(conn))
    return IntegrityReport(tuple(checks))


def _schema_revision(conn: Connection) -> Check:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return Check("schema revision", found == [head], f"at {', '.join(found) or 'none'}, latest {head}")


def installed_guards(conn: Connection) -> set[str]:
    """Names of the triggers on ``decisions``."""
    if conn.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'decisions'"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'decisions'::regclass AND NOT tgisinternal"
    return set(conn.execute(text(query)).scalars())


def _guards(conn: Connection) -> Check:
    expected = GUARDS[conn.dialect.name]
    missing = sorted(set(expected) - installed_guards(conn))
    if missing:
        refused = ", ".join(expected[name] for name in missing)
        return Check(
            "append-only guards", False, f"missing {', '.join(missing)}: {refused} on decisions is not refused"
        )
    return Check("append-only guards", True, f"{', '.join(expected.values())} on decisions refused")


def _sqlite_integrity(conn: Connection) -> Check:
    found = conn.exec_driver_sql("PRAGMA integrity_check").scalars().all()
    return Check("SQLite integrity_check", found == ["ok"], "; ".join(found[:5]))


def _sqlite_foreign_keys(conn: Connection) -> Check:
    rows = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    shown = "; ".join(f"{table} row {rowid} -> {parent}" for table, rowid, parent, _ in rows[:5])
    return Check("foreign keys", not rows, shown or "every reference resolves")


def id_sequences(conn: Connection) -> Iterator[tuple[Table, str]]:
    """(table, its id sequence) for every PostgreSQL table of the metadata whose id has one."""
    for table in Base.metadata.sorted_tables:
        sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
        if sequence is not None:
            yield table, sequence


def _sequences(conn: Connection) -> Check:
    behind = []
    for table, sequence in id_sequences(conn):
        top = conn.execute(select(func.max(table.c.id))).scalar() or 0
        last, called = conn.execute(text(f"SELECT last_value, is_called FROM {sequence}")).one()
        next_id = last + 1 if called else last
        if next_id <= top:
            behind.append(f"{table.name} (next id {next_id}, stored up to {top})")
    return Check("id sequences", not behind, "behind: " + ", ".join(behind) if behind else "past every stored id")


def _undo_targets(conn: Connection) -> Check:
    target = aliased(DecisionRow)
    bad = conn.scalars(
        select(DecisionRow.id)
        .outerjoin(target, target.id == DecisionRow.undoes_id)
        .where(
            DecisionRow.undoes_id.is_not(None),
            target.id.is_(None) | (target.mention_id != DecisionRow.mention_id) | (target.id >= DecisionRow.id),
        )
        .order_by(DecisionRow.id)
    ).all()
    detail = "every undo takes back an earlier decision of its mention"
    if bad:
        detail = f"decisions {', '.join(map(str, bad[:10]))} undo no earlier decision of their mention"
    return Check("undo history", not bad, detail)
