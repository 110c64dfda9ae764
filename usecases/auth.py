"""Curator accounts: Argon2id password hashes (argon2-cffi), roles, and login checks.

There is no default account and no default password: the first admin is created with
``bel user add NAME --role admin``. Hashes carry their own salt and parameters, and a
hash made with older parameters is upgraded at the next successful login.

Logins go through :func:`log_in`, which records every attempt in ``login_attempts`` (the
audit log admins read) and throttles guessing from it: after ``auth.free_failures`` failed
logins in a row each try must wait a delay that doubles per failure, and after
``auth.lock_failures`` the account is locked for ``auth.lock_s``; the same holds per client
address with its own limits. A try refused that way is not checked at all, so the right
password is refused too until the wait is over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bel_core.config import AuthConfig
from bel_core.errors import AccountError
from db.models import LoginAttemptRow, Role, UserRow, utcnow

MIN_PASSWORD_LENGTH = 10
_HASHER = PasswordHasher()
_RANK = {Role.CURATOR: 0, Role.ADJUDICATOR: 1, Role.ADMIN: 2}
_NAME_CHARS = 255  # as typed, cut to the audit column's size


class LoginOutcome(StrEnum):
    """What came of one login attempt, as stored in the audit log."""

    OK = "ok"
    WRONG = "wrong"  # unknown user or wrong password: counted for throttling
    THROTTLED = "throttled"  # refused unchecked: too soon after the last failures
    LOCKED = "locked"  # refused unchecked: too many failures in a row


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """One row of the audit log."""

    at: datetime
    user_name: str
    client: str
    outcome: LoginOutcome


@dataclass(frozen=True, slots=True)
class LoginResult:
    """The user when the login succeeded; otherwise why not, in words, and how long to wait."""

    user: User | None
    outcome: LoginOutcome
    message: str = ""
    retry_after_s: float = 0.0


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


def _failures(session: Session, column: object, value: str, since: datetime, *, until_success: bool) -> list[datetime]:
    """Times of failed checks for one account or client since ``since``, newest first.

    With ``until_success`` only those after the last successful login count. Clients do not
    get that reset: an attacker's own account would otherwise clear their counter.
    """
    rows = session.execute(
        select(LoginAttemptRow.at, LoginAttemptRow.outcome)
        .where(column == value, LoginAttemptRow.at >= since)
        .where(LoginAttemptRow.outcome.in_([LoginOutcome.OK.value, LoginOutcome.WRONG.value]))
        .order_by(LoginAttemptRow.id.desc())
    )
    failures = []
    for at, outcome in rows:
        if outcome == LoginOutcome.WRONG.value:
            failures.append(at)
        elif until_success:
            break
    return failures


def _wait(
    failures: list[datetime], free: int, lock: int, limits: AuthConfig, now: datetime
) -> tuple[LoginOutcome, float]:
    """(LOCKED or THROTTLED, seconds left) when a try must wait now; (OK, 0) when it may be checked."""
    n = len(failures)
    if n >= lock:
        left = (failures[0] + timedelta(seconds=limits.lock_s) - now).total_seconds()
        return (LoginOutcome.LOCKED, left) if left > 0 else (LoginOutcome.OK, 0.0)
    if n >= free:
        delay = min(limits.max_delay_s, limits.delay_s * 2 ** (n - free))
        left = (failures[0] + timedelta(seconds=delay) - now).total_seconds()
        if left > 0:
            return LoginOutcome.THROTTLED, left
    return LoginOutcome.OK, 0.0


def log_in(
    session: Session, name: str, password: str, client: str, limits: AuthConfig, now: datetime | None = None
) -> LoginResult:
    """Check a login unless throttled, and record the attempt either way.

    Args:
        session: a session the caller commits (the attempt is recorded also when it fails).
        name, password: as typed.
        client: the client's address ("localhost" when Streamlit reports none).
        limits: the ``[auth]`` settings.
        now: the time of the attempt (tests); default the current time.

    Returns:
        The user, or the outcome with a message saying what to do and the seconds to wait.
    """
    now = now or utcnow()
    name = name.strip()[:_NAME_CHARS]
    since = now - timedelta(seconds=limits.window_s)
    by_name = _failures(session, LoginAttemptRow.user_name, name, since, until_success=True)
    by_client = _failures(session, LoginAttemptRow.client, client, since, until_success=False)
    waits = [
        _wait(by_name, limits.free_failures, limits.lock_failures, limits, now),
        _wait(by_client, limits.client_free_failures, limits.client_lock_failures, limits, now),
    ]
    outcome, left = max(waits, key=lambda w: (w[0] is LoginOutcome.LOCKED, w[1]))  # the longer refusal
    result: LoginResult
    if outcome is not LoginOutcome.OK:
        what = (
            "locked after too many failed logins" if outcome is LoginOutcome.LOCKED else "paused after failed logins"
        )
        result = LoginResult(None, outcome, f"Logins are {what}; try again in {left:.0f} s", left)
    else:
        try:
            result = LoginResult(authenticate(session, name, password), LoginOutcome.OK)
        except AccountError as e:
            result = LoginResult(None, LoginOutcome.WRONG, str(e))
    session.add(LoginAttemptRow(at=now, user_name=name, client=client[:64], outcome=result.outcome.value))
    session.flush()
    return result


def login_audit(session: Session, limit: int = 500) -> list[LoginAttempt]:
    """The newest ``limit`` login attempts, newest first."""
    rows = session.scalars(select(LoginAttemptRow).order_by(LoginAttemptRow.id.desc()).limit(limit))
    return [LoginAttempt(r.at, r.user_name, r.client, LoginOutcome(r.outcome)) for r in rows]


def list_users(session: Session) -> list[User]:
    """Active accounts by name."""
    rows = session.scalars(select(UserRow).where(UserRow.active).order_by(UserRow.name))
    return [User(r.name, r.role) for r in rows]
