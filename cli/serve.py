"""``bel serve`` (the app for a team, production settings) and ``bel backup`` / ``bel restore``."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bel_core.errors import BelError
from cli.common import settings_from_args
from db.engine import open_store
from db.models import Role, UserRow

REPO = Path(__file__).resolve().parent.parent
HEALTH = "/_stcore/health"


def register(sub: Any) -> None:
    """Add ``serve``, ``backup`` and ``restore`` to the ``bel`` parser."""
    p = sub.add_parser("serve", help="serve the app to a team: logins required, production settings, log file")
    p.add_argument("--address", default="127.0.0.1", help="address to bind (put nginx in front for TLS)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--log-file", help="server log (default: <data_dir>/logs/server.log)")
    p.add_argument(
        "--secrets",
        help="TOML file whose [bel] table holds db_url (default: $BEL_DB_URL, --db, or the data directory's SQLite)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("backup", help="write a consistent backup of the --db store (SQLite file or pg_dump archive)")
    p.add_argument("out", help="backup file to create")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="restore a backup into the EMPTY --db store and print its table digests")
    p.add_argument("backup_file")
    p.set_defaults(func=cmd_restore)


def _db_url(args: argparse.Namespace) -> str:
    if args.secrets:
        try:
            table = tomllib.loads(Path(args.secrets).read_text(encoding="utf-8")).get("bel", {})
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise BelError(f"{args.secrets}: cannot read the secrets file ({e})") from None
        if "db_url" in table:
            return str(table["db_url"])
    return settings_from_args(args).resolved_db_url


def _admins(db_url: str) -> int:
    with open_store(db_url)() as session:
        return int(session.scalar(select(func.count()).select_from(UserRow).where(UserRow.role == Role.ADMIN)) or 0)


def cmd_serve(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    db_url = _db_url(args)
    if _admins(db_url) == 0:
        print(
            "bel: error: the store has no admin account, so nobody could sign in; create one first:\n"
            "  bel --db '<the same URL>' user add NAME --role admin",
            file=sys.stderr,
        )
        return 2
    log_file = Path(args.log_file) if args.log_file else settings.resolved_data_dir / "logs" / "server.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    # The URL (and its password) travels in the child's environment, never on a command line.
    env = {**os.environ, "BEL_DB_URL": db_url, "BEL_AUTH_REQUIRED": "true", "HF_HUB_OFFLINE": "1"}
    command = [
        sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"),
        "--server.address", args.address, "--server.port", str(args.port),
        "--server.headless", "true", "--server.fileWatcherType", "none", "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false", "--client.showErrorDetails", "none",
    ]  # fmt: skip
    with open(log_file, "a", encoding="utf-8") as log:
        child = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    host = "127.0.0.1" if args.address in ("0.0.0.0", "") else args.address
    health = f"http://{host}:{args.port}{HEALTH}"
    for _ in range(120):
        if child.poll() is not None:
            print(
                f"bel: error: the server stopped at start (exit {child.returncode}); see {log_file}", file=sys.stderr
            )
            return 1
        try:
            with urllib.request.urlopen(health, timeout=1) as reply:  # loopback only: the server just started
                if reply.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    print(f"serving on http://{args.address}:{args.port} with logins required; health {health}; log {log_file}")
    sys.stdout.flush()
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.terminate()
        return child.wait()


def _print_digests(digests: list[Any]) -> None:
    for d in digests:
        print(f"{d.table:<24}{d.rows:>10}  {d.sha256[:16]}")


def cmd_backup(args: argparse.Namespace) -> int:
    from db.backup import backup

    url = settings_from_args(args).resolved_db_url
    _print_digests(backup(url, args.out))
    print(f"backup written to {args.out}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from db.backup import restore

    url = settings_from_args(args).resolved_db_url
    _print_digests(restore(args.backup_file, url))
    print("restored; compare these digests with the ones printed by `bel backup`")
    return 0
