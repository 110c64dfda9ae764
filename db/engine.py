"""Engines, schema upgrades and session factories for the curation store.

Two backends are supported: SQLite (one file, the default) and PostgreSQL 15 through
psycopg 3 (``postgresql://`` URLs use it; install the ``postgres`` extra). Every new SQLite
connection gets ``journal_mode=WAL`` (the Streamlit app reads while the CLI writes),
``foreign_keys=ON`` (SQLite ignores foreign keys otherwise), ``recursive_triggers=ON`` (so
the deletions REPLACE makes fire DELETE triggers; the schema refuses REPLACE on decisions
too) and a busy timeout (a writer waits instead of failing at once); checked decisions
queue for SQLite's write lock through ``<database>.write-queue`` (``queue_for_write``).

The schema comes only from the bundled Alembic migrations (``upgrade``), never from
``create_all``, so a database built today and one upgraded from an old release match.
"""

from __future__ import annotations

import fcntl
import importlib.util
import logging
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from bel_core.errors import BelError

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 10_000
WRITE_QUEUE = "bel.write_queue_fd"  # Session.info key of the held write-queue lock


def make_engine(url: str | URL) -> Engine:
    """Create an engine; for SQLite, create the file's directory and set the pragmas.

    Args:
        url: SQLAlchemy database URL, e.g. ``sqlite:////home/me/.cache/bel-curator/bel.db`` or
            ``postgresql://curator:secret@db.example.org/bel``.

    Returns:
        An engine whose SQLite connections use WAL, enforce foreign keys, fire triggers
        recursively and wait up to ``BUSY_TIMEOUT_MS`` for a lock.

    Raises:
        BelError: the URL names a backend other than SQLite and PostgreSQL, or PostgreSQL
            without psycopg installed.
    """
    url = make_url(url)
    backend = url.get_backend_name()
    if backend == "postgresql":
        return _postgresql_engine(url)
    if backend != "sqlite":
        raise BelError(f"Unsupported database {backend!r}: use a sqlite:/// or postgresql:// URL")
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
            cursor.execute("PRAGMA recursive_triggers=ON")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    return engine


def _postgresql_engine(url: URL) -> Engine:
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")  # plain postgresql:// would mean psycopg2
    if url.drivername != "postgresql+psycopg":
        raise BelError(f"Unsupported PostgreSQL driver {url.drivername!r}: use postgresql:// (psycopg 3)")
    if importlib.util.find_spec("psycopg") is None:
        raise BelError("PostgreSQL needs psycopg 3: pip install 'bel-curator[postgres]'")
    # pre_ping: a server restart or an idle timeout must not surface as an error on a page.
    return create_engine(url, pool_pre_ping=True)


def queue_for_write(session: Session) -> None:
    """On SQLite, wait in line for the database's write lock; held until the transaction ends.

    SQLite's busy handler polls with growing sleeps (up to 100 ms apart), so with many
    writers the one that has waited longest is the least likely to catch the lock, and
    times out. A blocking ``flock`` on a file beside the database puts writers to sleep in
    the kernel, woken as soon as it is released. Does nothing on PostgreSQL (row locks queue
    fairly), for in-memory databases, and when this transaction has written already (it
    holds the write lock then; queueing could wait on a writer that waits on it).
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite" or WRITE_QUEUE in session.info:
        return
    database = connection.engine.url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    if connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        return
    fd = os.open(f"{Path(database).expanduser()}.write-queue", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    session.info[WRITE_QUEUE] = fd
    if not event.contains(session, "after_transaction_end", _leave_write_queue):
        event.listen(session, "after_transaction_end", _leave_write_queue)


def _leave_write_queue(session: Session, transaction: Any) -> None:
    if transaction.parent is None and WRITE_QUEUE in session.info:
        os.close(session.info.pop(WRITE_QUEUE))  # closing the file releases the flock


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
