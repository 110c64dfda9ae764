"""The AppTest fixtures of ``tests/app`` (real app, tiny KB, fresh data directory per test)."""

from tests.app.conftest import *  # noqa: F403 - re-exports every fixture, whatever tests/app adds
