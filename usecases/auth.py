"""Curator accounts: Argon2id password hashes (argon2-cffi), roles, and login checks.

There is no default account and no default password: the first admin is created with
``bel user add NAME --role admin``. Hashes carry their own salt and parameters, and a
hash made with older parameters is upgraded at the next successful login.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bel_core.errors import BelError
from db.models import Role, UserRow

MIN_PASSWORD_LENGTH = 10
_HASHER = PasswordHasher()
_RANK = {Role.CURATOR: 0, Role.ADJUDICATOR: 1, Role.ADMIN: 2}


class AccountError(BelError):
    """An account cannot be created, or a login failed."""


@dataclass(frozen=True, slots=True)
class User:
    """A logged-in curator (or the single local user when authentication is off)."""

    name: str
    role: Role

    def can(self, needed: Role) -> bool:
        """True when this user's role includes ``needed`` (admin > adjudicator > curator)."""
        return _RANK[self.role] >= _RANK[needed]


def add_user(session: Session, name: str, password: str, role: Role) -> User:
    """Create an account.

    Raises:
        AccountError: the name is taken or blank, or the password is shorter than
            ``MIN_PASSWORD_LENGTH`` characters.
    """
    name = name.strip()
    if not name:
        raise AccountError("A user name cannot be blank")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters; got {len(password)}")
    if session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
        raise AccountError(f"User {name!r} already exists; pick another name")
    session.add(UserRow(name=name, role=role, password_hash=_HASHER.hash(password)))
    session.flush()
    return User(name, role)


def authenticate(session: Session, name: str, password: str) -> User:
    """The user if ``password`` is right; the same error for unknown names and wrong passwords.

    Raises:
        AccountError: unknown or inactive user, or wrong password.
    """
    row = session.scalar(select(UserRow).where(UserRow.name == name.strip(), UserRow.active))
    try:
        if row is None:
            # Hash anyway so a wrong name takes as long as a wrong password.
            _HASHER.hash(password)
            raise VerificationError
        _HASHER.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError) as e:
        raise AccountError("Unknown user or wrong password") from e
    if _HASHER.check_needs_rehash(row.password_hash):
        row.password_hash = _HASHER.hash(password)
        session.flush()
    return User(row.name, row.role)


def list_users(session: Session) -> list[User]:
    """Active accounts by name."""
    rows = session.scalars(select(UserRow).where(UserRow.active).order_by(UserRow.name))
    return [User(r.name, r.role) for r in rows]
