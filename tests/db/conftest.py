"""Fixtures for storage tests: a fresh store per test on each backend, schema built by the migrations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bel_core.types import Document
from db.engine import make_engine, make_session_factory, upgrade
from tests.fakes import FakeLinker
from usecases import services

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
