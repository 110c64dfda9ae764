"""Use-case tests run on the storage tests' fixtures: a fresh migrated store per test and backend."""

from __future__ import annotations

from tests.db.conftest import db_url, engine, factory, linker  # noqa: F401 - fixtures shared with tests/db
