"""The database side of "decisions are append-only", shared by every migration that builds it.

SQLite: one trigger per refused statement, ``BEFORE <action> ... RAISE(ABORT)``. ``REPLACE``
and ``INSERT OR REPLACE`` delete the row they collide with *without* firing DELETE triggers
(unless ``recursive_triggers`` is on), so a ``BEFORE INSERT`` guard refuses an insert whose id
is already stored (revision 0005); an upsert (``ON CONFLICT DO UPDATE``) fires the UPDATE guard.

PostgreSQL: one plpgsql function raising ``integrity_constraint_violation`` (so drivers report
an ``IntegrityError``, as on SQLite), called ``BEFORE UPDATE`` and ``BEFORE DELETE`` per row
(``INSERT ... ON CONFLICT DO UPDATE`` fires the UPDATE trigger) and ``BEFORE TRUNCATE``.
PostgreSQL has no REPLACE; an insert of a stored id fails on the primary key.

``GUARDS`` maps each trigger name to what it refuses; ``bel db check`` looks for them by name.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from alembic import op

MESSAGE = "decisions are append-only: {action} refused; record a new decision instead"
SQLITE_GUARDS = {
    "decisions_no_update": "UPDATE",
    "decisions_no_delete": "DELETE",
    "decisions_no_replace": "REPLACE",
}
POSTGRESQL_GUARDS = {
    "decisions_no_update": "UPDATE",
    "decisions_no_delete": "DELETE",
    "decisions_no_truncate": "TRUNCATE",
}
GUARDS = {"sqlite": SQLITE_GUARDS, "postgresql": POSTGRESQL_GUARDS}
PG_FUNCTION = "decisions_append_only"


def dialect() -> str:
    """The backend the running migration builds: ``sqlite`` or ``postgresql``."""
    return op.get_bind().dialect.name


def _sqlite_trigger(name: str, action: str) -> str:
    refuse = f"SELECT RAISE(ABORT, '{MESSAGE.format(action=action)}')"
    if action == "REPLACE":
        # Fires before REPLACE resolves the conflict: the colliding row is still there.
        return (
            f"CREATE TRIGGER {name} BEFORE INSERT ON decisions "
            f"WHEN EXISTS (SELECT 1 FROM decisions WHERE id = NEW.id) BEGIN {refuse}; END"
        )
    return f"CREATE TRIGGER {name} BEFORE {action} ON decisions BEGIN {refuse}; END"


def _postgresql_trigger(name: str, action: str) -> str:
    level = "STATEMENT" if action == "TRUNCATE" else "ROW"
    return f"CREATE TRIGGER {name} BEFORE {action} ON decisions FOR EACH {level} EXECUTE FUNCTION {PG_FUNCTION}()"


def create_guards(names: Collection[str]) -> None:
    """Install the guards ``names`` of the current backend (names it lacks are skipped)."""
    backend = dialect()
    guards = {name: action for name, action in GUARDS[backend].items() if name in names}
    if backend == "postgresql" and guards:
        op.execute(
            f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION '{MESSAGE.format(action='%')}', TG_OP USING ERRCODE = 'integrity_constraint_violation'; "
            "END $$"
        )
    build = _postgresql_trigger if backend == "postgresql" else _sqlite_trigger
    for name, action in guards.items():
        op.execute(build(name, action))


def drop_guards(names: Iterable[str]) -> None:
    """Remove the guards ``names`` of the current backend, if present."""
    backend = dialect()
    suffix = " ON decisions" if backend == "postgresql" else ""
    for name in names:
        if name in GUARDS[backend]:
            op.execute(f"DROP TRIGGER IF EXISTS {name}{suffix}")


def drop_pg_function() -> None:
    """Remove the PostgreSQL guard function (after every trigger using it is gone)."""
    if dialect() == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
