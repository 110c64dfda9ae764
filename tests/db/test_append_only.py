"""Decisions are append-only, enforced by the database on both backends, tested with raw SQL.

Finding 8 of issue 18: ``REPLACE`` and ``INSERT OR REPLACE`` used to overwrite a stored
decision on SQLite (REPLACE deletes the colliding row without firing DELETE triggers unless
``recursive_triggers`` is on). Upserts and TRUNCATE are refused too.
"""

from __future__ import annotations

import sqlite3

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from bel_core.types import DecisionStatus
from db.engine import alembic_config, make_engine
from db.integrity import check_store
from db.models import DecisionRow
from usecases import services

# The first decision again, its note edited: each statement tries to overwrite it.
COLUMNS = ", ".join(c.name for c in DecisionRow.__table__.columns if c.name != "note")
COPY = f"SELECT {COLUMNS}, 'edited' FROM decisions WHERE id = 1"
OVERWRITES = {
    "update": "UPDATE decisions SET note = 'edited'",
    "delete": "DELETE FROM decisions",
    "upsert": f"INSERT INTO decisions ({COLUMNS}, note) {COPY} ON CONFLICT (id) DO UPDATE SET note = 'edited'",
}
SQLITE_ONLY = {
    "replace": f"REPLACE INTO decisions ({COLUMNS}, note) {COPY}",
    "insert or replace": f"INSERT OR REPLACE INTO decisions ({COLUMNS}, note) {COPY}",
}
POSTGRESQL_ONLY = {"truncate": "TRUNCATE decisions CASCADE"}


@pytest.fixture
def decided(factory, linker, ingested):
    with factory.begin() as session:
        services.decide(session, linker, ("doc1", 12, 20), DecisionStatus.NIL, curator="ann")
    return factory


def _statements(backend: str) -> dict[str, str]:
    return {**OVERWRITES, **(SQLITE_ONLY if backend == "sqlite" else POSTGRESQL_ONLY)}


def test_every_overwrite_is_refused_and_the_decision_kept(decided, engine):
    statements = _statements(engine.dialect.name)
    for name, statement in statements.items():
        with pytest.raises(IntegrityError, match="append-only"), decided.begin() as session:
            session.execute(text(statement))
        with decided() as session:
            assert session.scalars(select(DecisionRow.note)).all() == [""], name
    assert check_store(engine).ok


def test_the_upsert_fires_the_update_guard_on_postgresql(decided, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's upsert; SQLite's is refused by the REPLACE guard before it updates")
    with pytest.raises(IntegrityError, match="UPDATE refused"), decided.begin() as session:
        session.execute(text(OVERWRITES["upsert"]))


def test_replace_is_refused_even_on_a_connection_without_recursive_triggers(decided, engine):
    """The guard is in the schema: any SQLite client (the sqlite3 shell, a script) is refused too."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's REPLACE")
    raw = sqlite3.connect(engine.url.database)
    try:
        assert raw.execute("PRAGMA recursive_triggers").fetchone() == (0,)
        with pytest.raises(sqlite3.IntegrityError, match="append-only: REPLACE refused"):
            raw.execute(SQLITE_ONLY["replace"])
    finally:
        raw.close()


def test_without_the_replace_guard_recursive_triggers_still_refuse_and_the_check_reports_it(decided, engine):
    """A store whose REPLACE guard is missing: the app's connections still refuse REPLACE (the
    DELETE guard fires recursively), a plain connection overwrites, and ``bel db check`` says so."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's REPLACE")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP TRIGGER decisions_no_replace")
        conn.commit()
    with pytest.raises(IntegrityError, match="append-only: DELETE refused"), decided.begin() as session:
        session.execute(text(SQLITE_ONLY["replace"]))
    raw = sqlite3.connect(engine.url.database)
    with raw:
        raw.execute(SQLITE_ONLY["replace"])  # recursive_triggers off: the old hole
    raw.close()
    report = check_store(engine)
    assert not report.ok
    assert "decisions_no_replace" in report.text()


def test_the_replace_guard_comes_and_goes_with_its_migration(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'bel.db'}")
    config = alembic_config()

    def triggers() -> set[str]:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            return {name for (name,) in rows}

    for revision in ("head", "0004", "head"):  # 0005 adds the guard
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            (command.upgrade if revision == "head" else command.downgrade)(config, revision)
        assert ("decisions_no_replace" in triggers()) == (revision == "head")
    assert triggers() >= {"decisions_no_update", "decisions_no_delete"}
    engine.dispose()
