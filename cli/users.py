"""Commands on curator accounts: ``bel user add NAME --role ROLE``, ``bel user list``.

The first admin is created here (there is no default account or password). The password
is asked twice on the terminal, or read from standard input with ``--password-stdin``
(for scripts: ``printf '%s\\n' "$PW" | bel user add ann --role curator --password-stdin``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from bel_core.errors import BelError
from cli.common import settings_from_args
from db.models import Role


def register(sub: Any) -> None:
    """Add this group's subcommands to the ``bel`` parser."""
    user = sub.add_parser("user", help="curator accounts (for auth_required = true)")
    actions = user.add_subparsers(dest="user_command", required=True)
    p = actions.add_parser("add", help="create an account; prompts for the password")
    p.add_argument("name")
    p.add_argument("--role", choices=[r.value for r in Role], default=Role.CURATOR.value)
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p.set_defaults(func=cmd_add)
    p = actions.add_parser("list", help="list active accounts and their roles")
    p.set_defaults(func=cmd_list)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != password:
        raise BelError("The passwords differ; nothing was created")
    return password


def cmd_add(args: argparse.Namespace) -> int:
    """Create one account."""
    from db.engine import open_store
    from usecases import auth

    store = open_store(settings_from_args(args).resolved_db_url)
    password = _read_password(args.password_stdin)
    with store.begin() as session:
        user = auth.add_user(session, args.name, password, Role(args.role))
    print(f"created {user.role.value} {user.name}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """Print the active accounts, one per line."""
    from db.engine import open_store
    from usecases import auth

    store = open_store(settings_from_args(args).resolved_db_url)
    with store() as session:
        for user in auth.list_users(session):
            print(f"{user.name}\t{user.role.value}")
    return 0
