"""Undo back to "no verdict": the decision status CHECK gains ``undecided``.

Undoing the only verdict on a mention appends a decision with status ``undecided`` (the
queue reads it as no decision at all), instead of the ``skipped`` it used to record.

SQLite cannot alter a CHECK constraint, and rebuilding ``decisions`` would drop every
trigger other migrations installed on it. Adding a value to an ``IN (...)`` list leaves
every stored row valid, which is the case SQLite documents for editing the stored schema
text in place (``PRAGMA writable_schema``, then a bumped ``schema_version`` so that every
connection re-reads it). PostgreSQL replaces the named constraint.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ck_decisions_decision_status"
OLD_STATUSES = ("accepted", "corrected", "nil", "wrong_span", "not_entity", "skipped", "needs_context")
NEW_STATUSES = (*OLD_STATUSES, "undecided")


def _in_list(statuses: Sequence[str]) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def _set_statuses(old: Sequence[str], new: Sequence[str]) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
        bind.exec_driver_sql("PRAGMA writable_schema=ON")
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'decisions'",
            (_in_list(old), _in_list(new)),
        )
        bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
        bind.exec_driver_sql("PRAGMA writable_schema=OFF")
        stored = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'decisions'").scalar_one()
        if _in_list(new) not in stored:
            raise RuntimeError(f"{CONSTRAINT} was not found as expected in the decisions schema:\n{stored}")
    else:
        op.drop_constraint(op.f(CONSTRAINT), "decisions", type_="check")
        op.create_check_constraint(op.f(CONSTRAINT), "decisions", _in_list(new))


def upgrade() -> None:
    """Allow ``undecided``."""
    _set_statuses(OLD_STATUSES, NEW_STATUSES)


def downgrade() -> None:
    """Refuse ``undecided`` again; the undo rows that use it are recorded as ``skipped``, as before."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # The append-only triggers forbid UPDATE; they are dropped for the rewrite and put back.
        triggers = bind.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'decisions'"
        ).all()
        for name, _ in triggers:
            bind.exec_driver_sql(f"DROP TRIGGER {name}")
        bind.exec_driver_sql("UPDATE decisions SET status = 'skipped' WHERE status = 'undecided'")
        for _, sql in triggers:
            bind.exec_driver_sql(sql)
    else:
        op.execute("ALTER TABLE decisions DISABLE TRIGGER USER")
        op.execute("UPDATE decisions SET status = 'skipped' WHERE status = 'undecided'")
        op.execute("ALTER TABLE decisions ENABLE TRIGGER USER")
    _set_statuses(NEW_STATUSES, OLD_STATUSES)
