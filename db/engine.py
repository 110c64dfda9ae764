"""Engines, schema upgrades and session factories for the curation store.

SQLite is the supported backend. Every new connection gets ``journal_mode=WAL`` (the
Streamlit app reads while the CLI writes), ``foreign_keys=ON`` (SQLite ignores foreign
keys otherwise) and a busy timeout (a writer waits instead of failing at once).

The schema comes only from the bundled Alembic migrations (``upgrade``), never from
``create_all``, so a database built today and one upgraded from an old release match.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 10_000


def make_engine(url: str | URL) -> Engine:
    """Create an engine; for SQLite, create the file's directory and set the pragmas.

    Args:
        url: SQLAlchemy database URL, e.g. ``sqlite:////home/me/.cache/bel-curator/bel.db``.

    Returns:
        An engine whose SQLite connections use WAL, enforce foreign keys and wait up to
        ``BUSY_TIMEOUT_MS`` for a lock.
    """
    url = make_url(url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url)
    database = url.database or ""
    # ":memory:" and "file:" URIs name no directory to create.
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _set_sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    return engine


def alembic_config() -> Config:
    """An Alembic config pointing at the bundled migrations; no alembic.ini is needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema to ``revision`` (idempotent).

    Args:
        engine: engine from ``make_engine``.
        revision: Alembic revision to upgrade to; the latest by default.
    """
    config = alembic_config()
    with engine.begin() as connection:
        # env.py runs the migrations on this connection instead of opening its own.
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    logger.info("database schema at %s for %s", revision, engine.url.render_as_string(hide_password=True))


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory; callers scope each unit of work with ``with factory.begin() as s:``.

    ``expire_on_commit=False`` keeps loaded attributes readable after the transaction ends,
    which the UI relies on when it renders what it just saved.
    """
    return sessionmaker(engine, expire_on_commit=False)


def open_store(url: str | URL) -> sessionmaker[Session]:
    """Open (creating or upgrading as needed) the store at ``url``; used by the app and the CLI.

    Args:
        url: SQLAlchemy database URL.

    Returns:
        A session factory bound to an engine whose schema is at the latest revision.
    """
    engine = make_engine(url)
    upgrade(engine)
    return make_session_factory(engine)
