"""Shared test set-up: offline model hubs, the tiny KB, per-test settings on a temp data dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# Set before anything imports transformers/huggingface_hub: tests must never reach a hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import ipaddress
import socket

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from bel_core.types import Document
from db.engine import make_engine, make_session_factory, upgrade
from tests.fakes import FakeLinker
from usecases import services


def _refuse_remote(connect):  # noqa: ANN001, ANN202 - wraps socket.socket.connect / connect_ex
    """Let tests reach loopback (the app server, Chromium) and local sockets, nothing else."""

    def guarded(self: socket.socket, address: object):  # noqa: ANN202
        if self.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
            host = str(address[0])
            try:
                local = ipaddress.ip_address(host).is_loopback
            except ValueError:
                local = host == "localhost"
            if not local:
                raise OSError(f"tests never use the network: refused a connection to {address!r}")
        return connect(self, address)

    return guarded


# The variables above keep the hub libraries offline; this makes any other attempt fail loudly.
socket.socket.connect = _refuse_remote(socket.socket.connect)  # type: ignore[method-assign]
socket.socket.connect_ex = _refuse_remote(socket.socket.connect_ex)  # type: ignore[method-assign]

FIXTURES = Path(__file__).parent / "fixtures"
REPO_ROOT = Path(__file__).parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def tiny_kb_path() -> Path:
    """15 HPO-like concepts with deliberately ambiguous aliases ('ASD', 'Short')."""
    return FIXTURES / "kb_tiny.jsonl"


@pytest.fixture(scope="session")
def tiny_kb(tiny_kb_path):
    from bel_core.kb.loaders import load_jsonl

    return load_jsonl(tiny_kb_path)


# --- Both backends --------------------------------------------------------------------------
# Every store fixture runs each test on SQLite and on PostgreSQL. The PostgreSQL server is
# real: `make test` starts a throwaway one (.ci/pg.sh) and exports its URL here.
PG_URL_VARIABLE = "BEL_TEST_PG_URL"
PG_HOW_TO = (
    f"{PG_URL_VARIABLE} is not set: the PostgreSQL variants need a server, e.g. "
    f"`d=$(.ci/pg.sh start) && {PG_URL_VARIABLE}=$(cat $d/url) .venv/bin/pytest ...; .ci/pg.sh stop $d`"
)
BACKENDS = ("sqlite", "postgresql")


class PgDatabases:
    """PostgreSQL databases at the latest schema: one migrated template per session.

    ``create`` copies the template (about a second on shared cores), for tests that need a
    database of their own; ``wiped`` hands out one database per session emptied in place
    (rows deleted, id sequences restarted: a tenth of that), for every store test.
    """

    def __init__(self, admin_url: str) -> None:
        self._base = make_url(admin_url)
        self._admin = create_engine(self._base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self._prefix = f"bel_test_{os.getpid()}"
        self._count = 0
        self._template: str | None = None
        self._store: URL | None = None

    def _sql(self, statement: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(statement))

    def url(self, name: str) -> str:
        return self._base.set(database=name).render_as_string(hide_password=False)

    def create(self) -> str:
        """A new database at the latest schema; returns its URL."""
        if self._template is None:
            template = f"{self._prefix}_template"
            self._sql(f"DROP DATABASE IF EXISTS {template}")
            self._sql(f"CREATE DATABASE {template}")
            engine = make_engine(self.url(template))
            upgrade(engine)
            engine.dispose()  # CREATE DATABASE ... TEMPLATE needs the template idle
            self._template = template
        self._count += 1
        name = f"{self._prefix}_{self._count}"
        self._sql(f"CREATE DATABASE {name} TEMPLATE {self._template}")
        return self.url(name)

    def wiped(self) -> str:
        """The session's shared store, emptied as if new; returns its URL."""
        from db.models import Base

        name = f"{self._prefix}_store"
        if self._store is None:
            self._store = make_url(self.create())
            self._sql(f"ALTER DATABASE {self._store.database} RENAME TO {name}")
            self._store = self._store.set(database=name)
            return self.url(name)
        # Connections a previous test left open could hold locks on the rows deleted here.
        self._sql(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
            "AND pid <> pg_backend_pid()"
        )
        engine = create_engine(self._store, poolclass=NullPool)
        with engine.begin() as connection:
            # Replica mode skips triggers: the append-only guards and the foreign-key checks.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
                connection.execute(text(f"ALTER SEQUENCE IF EXISTS {table.name}_id_seq RESTART"))
        engine.dispose()
        return self.url(name)

    def drop(self, url: str) -> None:
        # FORCE ends the connections a test's engines still hold in their pools.
        self._sql(f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)")

    def close(self) -> None:
        if self._store is not None:
            self._sql(f"DROP DATABASE IF EXISTS {self._store.database} WITH (FORCE)")
        if self._template is not None:
            self._sql(f"DROP DATABASE IF EXISTS {self._template} WITH (FORCE)")
        self._admin.dispose()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases]:
    """The PostgreSQL server of ``BEL_TEST_PG_URL``; skips without it, fails without it in CI."""
    admin_url = os.environ.get(PG_URL_VARIABLE)
    if not admin_url:
        if os.environ.get("CI", "").lower() in ("1", "true"):
            pytest.fail(f"CI must test PostgreSQL too: {PG_HOW_TO}")
        pytest.skip(PG_HOW_TO)
    databases = PgDatabases(admin_url)
    yield databases
    databases.close()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty store: a SQLite file in a directory not created yet, or a new PostgreSQL database.

    The SQLite file's parent does not exist, so ``make_engine`` must create it. The PostgreSQL
    database is already at the latest schema; upgrading it again is a no-op.
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'bel.db'}"
    databases: PgDatabases = request.getfixturevalue("pg_databases")
    return databases.wiped()


# --- A store with content: the storage and use-case tests' fixtures ---------------------------

# Detected by FakeLinker over tiny_kb: seizures 12-20, small head 27-37, ASD 39-42,
# short stature 57-70, Short fingers 76-89.
TEXT = "The boy had seizures and a small head. ASD was noted; no short stature, but Short fingers."


@pytest.fixture
def db_url(store_url: str) -> str:
    """The store's URL; each test using it runs on SQLite and on PostgreSQL (``tests/conftest.py``)."""
    return store_url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def linker(tiny_kb) -> FakeLinker:
    return FakeLinker(tiny_kb)


@pytest.fixture
def document() -> Document:
    return Document("doc1", TEXT, source="test")


@pytest.fixture
def ingested(factory: sessionmaker[Session], linker: FakeLinker, document: Document) -> Document:
    """``document`` stored with its five detected mentions, linked once."""
    with factory.begin() as session:
        services.ingest_document(session, linker, document)
    return document
