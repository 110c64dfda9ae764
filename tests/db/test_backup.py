"""Backup, wipe, restore: the restored store has the same digest in every table, on both backends."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bel_core.errors import BelError
from db.backup import backup, digests, restore
from db.models import Role
from usecases import auth


def _wipe(url: str, engine) -> None:  # noqa: ANN001 - the test's engine fixture
    """Remove the store entirely, as a lost disk or a dropped database would."""
    engine.dispose()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    admin = create_engine(make_url(os.environ["BEL_TEST_PG_URL"]), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {parsed.database} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {parsed.database}"))
    admin.dispose()


def test_backup_wipe_restore_gives_the_same_store(db_url, engine, factory, ingested, tmp_path):
    with factory.begin() as session:
        auth.add_user(session, "alice", "correct horse battery", Role.ADMIN)
    saved = backup(db_url, tmp_path / "store.backup")
    assert {d.table: d.rows for d in saved}["mentions"] == 5
    _wipe(db_url, engine)
    restored = restore(tmp_path / "store.backup", db_url)
    assert restored == saved


def test_backup_and_restore_refuse_to_overwrite(db_url, ingested, tmp_path):
    (tmp_path / "taken").write_text("x")
    with pytest.raises(BelError, match="exists already"):
        backup(db_url, tmp_path / "taken")
    backup(db_url, tmp_path / "store.backup")
    with pytest.raises(BelError, match="exists already|not empty"):
        restore(tmp_path / "store.backup", db_url)
    assert {d.table: d.rows for d in digests(db_url)}["mentions"] == 5
