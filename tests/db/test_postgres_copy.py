"""``bel db copy`` and ``bel db check``: a store copied SQLite -> PostgreSQL -> SQLite compares equal."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from bel_core.types import DecisionStatus, Document
from cli import main
from db.engine import make_engine, make_session_factory, open_store
from db.models import (
    AssignmentRow,
    Base,
    DecisionRow,
    JobStatus,
    KbSynonymRow,
    LoginAttemptRow,
    ModelStatus,
    ModelVersionRow,
    Role,
    SaliencyCacheRow,
    TrainingJobRow,
    UserRow,
)
from db.transfer import store_digests
from tests.conftest import TEXT
from usecases import curation, services

WHEN = datetime(2026, 12, 4, 12, 30, 15, 123456, tzinfo=UTC)


def _seed(url: str, linker) -> None:
    """One row or more in every table, decisions with an undo, odd text and JSON included."""
    factory = open_store(url)
    with factory.begin() as session:
        services.ingest_document(session, linker, Document("doc1", TEXT, source="test"))
        services.ingest_document(session, linker, Document("d2 ü", "Seizures — and ASD.\n\tnull\x01", source="paste"))
        services.decide(session, linker, ("doc1", 12, 20), DecisionStatus.NIL, curator="ann", note="née «x»")
        services.decide(session, linker, ("doc1", 39, 42), DecisionStatus.ACCEPTED, curator="bob")
    with factory.begin() as session:
        latest = session.scalar(select(func.max(DecisionRow.id)))
        curation.undo(session, ("doc1", 39, 42), curator="bob", expected_latest_decision_id=latest)
        session.add_all(
            [
                UserRow(name="ann", role=Role.ADMIN, password_hash="$argon2id$v=19$x"),
                AssignmentRow(document_id=1, curator="ann"),
                KbSynonymRow(alias="Fits", alias_norm="fits", concept_id="HP:0001250", kb_version="t", curator="ann"),
                ModelVersionRow(
                    version="v1",
                    kind="retriever",
                    path="/m",
                    status=ModelStatus.PROMOTED,
                    data={"docs": [1, 2]},
                    config={"w": 0.1},
                    metrics={"acc": 0.5, "nested": {"ece": 1e-9}},
                    promoted_at=WHEN,
                ),
                TrainingJobRow(
                    kind="retrain", status=JobStatus.SUCCEEDED, params={}, created_by="ann", started_at=WHEN
                ),
                SaliencyCacheRow(
                    model_version="v1",
                    linker="retriever",
                    input_sha256="0" * 64,
                    concept_id="HP:1",
                    settings="ig8",
                    payload={"tokens": ["a"], "scores": [0.25]},
                    seconds=0.5,
                ),
                LoginAttemptRow(at=WHEN, user_name="ann", client="127.0.0.1", outcome="ok"),
            ]
        )
    factory.kw["bind"].dispose()


def test_copy_sqlite_to_postgresql_and_back_compares_equal(tmp_path, pg_databases, linker, capsys):
    first, back = f"sqlite:///{tmp_path / 'first.db'}", f"sqlite:///{tmp_path / 'back.db'}"
    _seed(first, linker)
    expected = store_digests(make_engine(first))
    assert {d.table for d in expected if d.rows} == set(Base.metadata.tables), "seed every table"
    middle = pg_databases.create()
    try:
        assert main(["db", "copy", first, middle]) == 0
        assert main(["db", "copy", middle, back]) == 0
        out = capsys.readouterr().out
        assert "counts and digests match" in out
        assert store_digests(make_engine(middle)) == expected
        assert store_digests(make_engine(back)) == expected
        for url in (middle, back):
            assert main(["db", "check", url]) == 0
        assert "FAILED" not in capsys.readouterr().out
        # The sequences moved past the copied ids: the copy takes new decisions at once.
        factory = make_session_factory(make_engine(middle))
        with factory.begin() as session:
            services.decide(session, linker, ("doc1", 57, 70), DecisionStatus.NIL, curator="cy")
        with factory() as session:
            copied = next(d.rows for d in expected if d.table == "decisions")
            assert session.scalar(select(func.max(DecisionRow.id))) == copied + 1
        factory.kw["bind"].dispose()
    finally:
        pg_databases.drop(middle)


def test_copy_refuses_a_target_that_holds_rows(db_url, tmp_path, linker, capsys):
    source = f"sqlite:///{tmp_path / 'source.db'}"
    _seed(source, linker)
    _seed(db_url, linker)
    before = store_digests(make_engine(db_url))
    assert main(["db", "copy", source, db_url]) == 2
    assert "not empty" in capsys.readouterr().err
    assert store_digests(make_engine(db_url)) == before


def test_check_reports_a_missing_store_and_a_sequence_left_behind(tmp_path, capsys, pg_databases, linker):
    assert main(["db", "check", f"sqlite:///{tmp_path / 'nothing.db'}"]) == 2
    assert "No SQLite store" in capsys.readouterr().err
    url = pg_databases.create()
    try:
        _seed(url, linker)
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('decisions', 'id'), 1)")
        engine.dispose()
        assert main(["db", "check", url]) == 1
        assert "FAILED id sequences: behind: decisions" in capsys.readouterr().out
    finally:
        pg_databases.drop(url)


def test_copy_refuses_to_copy_a_store_onto_itself(capsys):
    url = "sqlite:///same.db"
    assert main(["db", "copy", url, url]) == 2
    assert "same store" in capsys.readouterr().err


def test_a_row_postgresql_cannot_hold_stops_the_copy_with_nothing_copied(tmp_path, pg_databases, linker, capsys):
    source = f"sqlite:///{tmp_path / 'source.db'}"
    factory = open_store(source)
    with factory.begin() as session:
        services.ingest_document(session, linker, Document("nul", "Seizures\x00 here.", source="paste"))
    factory.kw["bind"].dispose()
    target = pg_databases.create()
    try:
        assert main(["db", "copy", source, target]) == 2
        assert "Copying documents failed, nothing was copied" in capsys.readouterr().err
        assert all(d.rows == 0 for d in store_digests(make_engine(target)))
    finally:
        pg_databases.drop(target)
