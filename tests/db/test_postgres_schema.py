"""The same migrations build the same schema on SQLite and PostgreSQL (SQLAlchemy inspection)."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Engine, inspect, types

from db.engine import make_engine, upgrade
from db.integrity import installed_guards
from db.migrations.append_only import GUARDS

# Type families: what a column holds, not how each backend spells it (DATETIME / TIMESTAMP,
# FLOAT / DOUBLE PRECISION).
FAMILIES = (types.Boolean, types.DateTime, types.Float, types.Integer, types.JSON, types.Text, types.String)


def _family(column_type: types.TypeEngine[Any]) -> str:
    family = next(f for f in FAMILIES if isinstance(column_type, f))
    length = getattr(column_type, "length", None) if family is types.String else None
    return f"{family.__name__}({length})" if length else family.__name__


# PostgreSQL keeps 63 bytes of a name; SQLAlchemy shortens a longer constraint name there
# (and only there) to its first 55 characters, "_" and 4 hex digits of its MD5.
PG_MAX_NAME = 63


def _name(name: str | None) -> str | None:
    if name is None or len(name) <= PG_MAX_NAME:
        return name
    return f"{name[: PG_MAX_NAME - 8]}_{hashlib.md5(name.encode()).hexdigest()[-4:]}"


def schema(engine: Engine) -> dict[str, Any]:
    """Per table: columns (type family, nullability), primary key, foreign keys, unique
    constraints, indexes and named CHECK constraints."""
    inspector = inspect(engine)
    out: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        out[table] = {
            "columns": [(c["name"], _family(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign keys": sorted(
                (
                    fk["name"],
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                    (fk.get("options") or {}).get("ondelete"),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            "unique": sorted(
                (_name(u["name"]), tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)
            ),
            "indexes": sorted(
                (_name(i["name"]), tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
                if not i.get("duplicates_constraint")  # PostgreSQL lists a UNIQUE constraint's index too
            ),
            "checks": sorted(c["name"] for c in inspector.get_check_constraints(table)),
        }
    return out


def test_sqlite_and_postgresql_schemas_are_the_same(tmp_path, pg_databases):
    sqlite = make_engine(f"sqlite:///{tmp_path / 'bel.db'}")
    upgrade(sqlite)
    url = pg_databases.create()
    postgresql = make_engine(url)
    try:
        on_sqlite, on_postgresql = schema(sqlite), schema(postgresql)
        assert on_sqlite == on_postgresql
        decisions = on_sqlite["decisions"]
        assert "ck_decisions_decision_status" in decisions["checks"]
        assert ("ix_decisions_mention_id", ("mention_id",), False) in decisions["indexes"]
        for engine in (sqlite, postgresql):
            with engine.connect() as conn:
                assert installed_guards(conn) == set(GUARDS[engine.dialect.name])
    finally:
        sqlite.dispose()
        postgresql.dispose()
        pg_databases.drop(url)
