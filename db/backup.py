"""Backups of a store and their restore, on SQLite and PostgreSQL, verified by table digests.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot
while curators keep working; the backup is an ordinary SQLite file. PostgreSQL: ``pg_dump
--format=custom`` (a consistent snapshot too) and ``pg_restore`` into an empty database;
the client tools must be on PATH (Debian: ``postgresql-client-15``), the password travels
in ``PGPASSWORD``, never on the command line. A restore refuses a target that already holds
data, and both directions report the digests of every table so a caller can compare them.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from bel_core.errors import BelError
from db.engine import make_engine
from db.transfer import TableDigest, store_digests


def _sqlite_path(url: URL) -> Path:
    return Path(url.database or "").expanduser()


def _pg_env(url: URL) -> tuple[list[str], dict[str, str]]:
    """libpq connection arguments for ``url`` (the password in the environment only)."""
    args = ["--host", url.host or "127.0.0.1", "--port", str(url.port or 5432), "--username", url.username or ""]
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    return args, env


def _tool(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise BelError(f"{name} is not installed; install the PostgreSQL client tools (Debian: postgresql-client-15)")
    return found


def digests(url: str) -> list[TableDigest]:
    engine = make_engine(url)
    try:
        return store_digests(engine)
    finally:
        engine.dispose()


def backup(url: str, out: str | Path) -> list[TableDigest]:
    """Write a consistent backup of the store at ``url`` to ``out``; returns the store's digests.

    Raises:
        BelError: ``out`` exists already, the store is missing, or the dump tool failed.
    """
    target, parsed = Path(out), make_url(url)
    if target.exists():
        raise BelError(f"{target} exists already; choose a new backup file")
    if parsed.get_backend_name() == "sqlite":
        source_path = _sqlite_path(parsed)
        if not source_path.is_file():
            raise BelError(f"No SQLite store at {source_path}")
        with sqlite3.connect(source_path) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
    else:
        args, env = _pg_env(parsed)
        run = subprocess.run(
            [_tool("pg_dump"), *args, "--format=custom", "--file", str(target), parsed.database or "postgres"],
            env=env,
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            target.unlink(missing_ok=True)
            raise BelError(f"pg_dump failed: {run.stderr.strip()}")
    return digests(url)


def restore(backup_file: str | Path, url: str) -> list[TableDigest]:
    """Restore ``backup_file`` into the EMPTY store at ``url``; returns the restored store's digests.

    Raises:
        BelError: the target already holds a schema or data, or the restore tool failed.
    """
    source, parsed = Path(backup_file), make_url(url)
    if not source.is_file():
        raise BelError(f"No backup file at {source}")
    if parsed.get_backend_name() == "sqlite":
        target_path = _sqlite_path(parsed)
        if target_path.exists() and target_path.stat().st_size > 0:
            raise BelError(f"{target_path} exists already; restore into a new file")
        with sqlite3.connect(source) as backup_db, sqlite3.connect(target_path) as target:
            backup_db.backup(target)
    else:
        engine = make_engine(url)
        try:
            if inspect(engine).get_table_names():
                raise BelError(
                    f"{parsed.render_as_string(hide_password=True)} is not empty; restore into an empty database"
                )
        finally:
            engine.dispose()
        args, env = _pg_env(parsed)
        run = subprocess.run(
            [
                _tool("pg_restore"),
                *args,
                "--no-owner",
                "--exit-on-error",
                "--dbname",
                parsed.database or "postgres",
                str(source),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise BelError(f"pg_restore failed: {run.stderr.strip()}")
    return digests(url)
