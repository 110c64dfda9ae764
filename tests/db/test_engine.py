"""Schema from the migrations: tables, pragmas, constraints, append-only decisions."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError

from bel_core.types import DecisionStatus, MentionOrigin
from usecases import services
from db.engine import open_store, upgrade
from db.models import Base, DecisionRow, MentionRow

TABLES = {
    "alembic_version", "documents", "mentions", "link_runs", "candidates", "decisions",
    "users", "assignments", "kb_synonyms", "model_versions", "training_jobs", "saliency_cache",
}  # fmt: skip


def test_migration_creates_every_table_in_a_new_directory(engine: Engine, tmp_path):
    assert (tmp_path / "data" / "bel.db").is_file()
    assert set(inspect(engine).get_table_names()) == TABLES


def test_connections_use_wal_foreign_keys_and_a_busy_timeout(engine: Engine):
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000


def test_migrated_schema_matches_the_models(engine: Engine):
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_upgrade_and_open_store_are_idempotent(engine: Engine, db_url: str):
    upgrade(engine)
    factory = open_store(db_url)
    with factory() as session:
        assert session.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == ["0003"]


def test_foreign_keys_are_enforced(factory):
    with pytest.raises(IntegrityError, match="FOREIGN KEY"), factory.begin() as session:
        session.add(
            MentionRow(document_id=999, start=0, end=3, text="abc", origin=MentionOrigin.MANUAL, annotated_ids=[])
        )


def test_span_check_constraint(factory, ingested):
    with pytest.raises(IntegrityError, match="ck_mentions_span"), factory.begin() as session:
        session.add(MentionRow(document_id=1, start=5, end=5, text="", origin=MentionOrigin.MANUAL, annotated_ids=[]))


@pytest.mark.parametrize("statement", ["UPDATE decisions SET note = 'edited'", "DELETE FROM decisions"])
def test_decisions_are_append_only(factory, linker, ingested, statement: str):
    with factory.begin() as session:
        services.decide(session, linker, ("doc1", 12, 20), DecisionStatus.NIL, curator="ann")
    with pytest.raises(IntegrityError, match="append-only"), factory.begin() as session:
        session.execute(text(statement))
    with factory() as session:
        assert session.scalars(select(DecisionRow.note)).all() == [""]


def test_a_decided_mention_cannot_be_deleted(factory, linker, ingested):
    with factory.begin() as session:
        services.decide(session, linker, ("doc1", 12, 20), DecisionStatus.NIL, curator="ann")
    with pytest.raises(IntegrityError, match="FOREIGN KEY"), factory.begin() as session:
        session.execute(text("DELETE FROM mentions WHERE start = 12"))
