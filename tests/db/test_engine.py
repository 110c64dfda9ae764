"""Schema from the migrations on both backends: tables, pragmas, constraints, one head."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from bel_core.errors import BelError
from bel_core.types import DecisionStatus, MentionOrigin
from db.engine import alembic_config, make_engine, open_store, upgrade
from db.models import Base, MentionRow
from usecases import services


def test_migrations_have_one_head():
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_migration_creates_every_table(engine: Engine):
    assert set(inspect(engine).get_table_names()) == {*Base.metadata.tables, "alembic_version"}


def test_a_sqlite_store_is_created_in_a_new_directory_with_its_pragmas(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'bel.db'}")
    upgrade(engine)
    assert (tmp_path / "new" / "bel.db").is_file()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA recursive_triggers").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
    engine.dispose()


def test_postgresql_urls_use_psycopg_and_other_backends_are_refused():
    assert make_engine("postgresql://u:p@127.0.0.1:1/x").url.drivername == "postgresql+psycopg"
    with pytest.raises(BelError, match="Unsupported database 'mysql'"):
        make_engine("mysql://u:p@127.0.0.1/x")


def test_migrated_schema_matches_the_models(engine: Engine):
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_upgrade_and_open_store_are_idempotent(engine: Engine, db_url: str):
    upgrade(engine)
    factory = open_store(db_url)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with factory() as session:
        assert session.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
    factory.kw["bind"].dispose()


def test_foreign_keys_are_enforced(factory):
    with pytest.raises(IntegrityError, match="(?i)foreign key"), factory.begin() as session:
        session.add(
            MentionRow(document_id=999, start=0, end=3, text="abc", origin=MentionOrigin.MANUAL, annotated_ids=[])
        )


def test_span_check_constraint(factory, ingested):
    with pytest.raises(IntegrityError, match="ck_mentions_span"), factory.begin() as session:
        session.add(MentionRow(document_id=1, start=5, end=5, text="", origin=MentionOrigin.MANUAL, annotated_ids=[]))


def test_a_decided_mention_cannot_be_deleted(factory, linker, ingested):
    with factory.begin() as session:
        services.decide(session, linker, ("doc1", 12, 20), DecisionStatus.NIL, curator="ann")
    with pytest.raises(IntegrityError, match="(?i)foreign key"), factory.begin() as session:
        session.execute(text("DELETE FROM mentions WHERE start = 12"))
