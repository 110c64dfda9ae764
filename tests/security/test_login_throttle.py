"""Finding 2: password guessing is throttled per account and per client, and every attempt is audited.

The limits are the shipped defaults (``AuthConfig()``); time is passed in, so a lock's
expiry is tested without sleeping. Parallel sessions are real threads on one SQLite file.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bel_core.config import AuthConfig, Settings
from bel_core.errors import ConfigError
from db.engine import open_store
from db.models import Role
from usecases import auth
from usecases.auth import LoginOutcome

LIMITS = AuthConfig()
RIGHT = "correct horse battery"
T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> sessionmaker[Session]:
    factory = open_store(f"sqlite:///{tmp_path / 'bel.db'}")
    with factory.begin() as session:
        auth.add_user(session, "ann", RIGHT, Role.ADMIN)
    return factory


def _try(store: sessionmaker[Session], password: str, at: datetime, client: str = "10.0.0.7", name: str = "ann"):
    with store.begin() as session:
        return auth.log_in(session, name, password, client, LIMITS, now=at)


def test_sixty_wrong_passwords_in_a_row_are_not_all_checked_and_the_right_one_must_wait(store):
    # One guess a second, as fast as a script would try.
    outcomes = Counter(_try(store, f"guess number {i}", T0 + timedelta(seconds=i)).outcome for i in range(60))
    assert outcomes[LoginOutcome.WRONG] < 60
    assert outcomes[LoginOutcome.WRONG] <= LIMITS.lock_failures
    assert outcomes[LoginOutcome.THROTTLED] == 60 - outcomes[LoginOutcome.WRONG]
    # The doubling wait alone keeps a script to a handful of checks a minute.
    assert outcomes[LoginOutcome.WRONG] <= LIMITS.free_failures + 5
    during = _try(store, RIGHT, T0 + timedelta(seconds=60))
    assert during.user is None and during.outcome is LoginOutcome.THROTTLED
    assert "try again in" in during.message and 0 < during.retry_after_s <= LIMITS.max_delay_s


def test_the_delay_grows_then_the_lock_expires(store):
    at = T0
    waits = []
    while True:
        result = _try(store, "not the password", at)
        if result.outcome is LoginOutcome.LOCKED:
            break
        if result.outcome is LoginOutcome.THROTTLED:
            waits.append(round(result.retry_after_s))
            at += timedelta(seconds=result.retry_after_s)
        else:
            at += timedelta(milliseconds=10)
    # Each failure past the free ones doubles the wait before the next try is checked.
    assert waits == sorted(waits) and waits[-1] >= 2 * waits[0]
    locked_until = at + timedelta(seconds=result.retry_after_s)
    assert _try(store, RIGHT, locked_until - timedelta(seconds=1)).user is None
    after = _try(store, RIGHT, locked_until + timedelta(seconds=1))
    assert after.user == auth.User("ann", Role.ADMIN)
    # A success clears the account's count: the next typo is checked at once.
    assert _try(store, "typo", locked_until + timedelta(seconds=2)).outcome is LoginOutcome.WRONG


def test_parallel_sessions_count_together(store):
    """45 guesses from three sessions at once, then the right password: refused, as for one session."""

    def guess(i: int) -> LoginOutcome:
        return _try(store, f"parallel guess {i}", T0 + timedelta(milliseconds=i), client=f"10.0.0.{i % 3}").outcome

    with ThreadPoolExecutor(max_workers=3) as pool:
        outcomes = Counter(pool.map(guess, range(45)))
    # Each check happens once the previous failure is stored; racing sessions may each get one more.
    assert outcomes[LoginOutcome.WRONG] <= LIMITS.lock_failures + 3
    assert _try(store, RIGHT, T0 + timedelta(seconds=1), client="10.0.0.9").user is None


def test_one_client_guessing_many_accounts_is_throttled_by_address(store):
    outcomes = Counter(
        _try(store, "password123456", T0 + timedelta(seconds=i), name=f"user{i}").outcome for i in range(60)
    )
    # No account failed more than once, yet the address is held to a handful of checks a minute.
    assert outcomes[LoginOutcome.WRONG] <= LIMITS.client_free_failures + 5
    assert outcomes[LoginOutcome.THROTTLED] == 60 - outcomes[LoginOutcome.WRONG]
    # Another client is not held up by it, and the account itself was never the target.
    assert _try(store, RIGHT, T0 + timedelta(seconds=61), client="10.0.0.99").user is not None


def test_every_attempt_is_in_the_audit_log(store):
    _try(store, "wrong once", T0)
    _try(store, RIGHT, T0 + timedelta(seconds=1), client="localhost")
    with store() as session:
        log = auth.login_audit(session)
    assert [(a.user_name, a.client, a.outcome) for a in log] == [
        ("ann", "localhost", LoginOutcome.OK),
        ("ann", "10.0.0.7", LoginOutcome.WRONG),
    ]
    assert log[1].at == T0


def test_limits_come_from_config():
    settings = Settings.load(env={})
    assert settings.auth == AuthConfig()
    with pytest.raises(ConfigError, match="free_failures"):
        AuthConfig(free_failures=5, lock_failures=2)
    with pytest.raises(ConfigError, match="lock_s"):
        AuthConfig(lock_s=7200, window_s=3600)


def test_throttled_count_for_the_closing_note(store, capsys):
    """How many of 60 guesses in 60 s plus 45 parallel ones were refused unchecked (printed, -s)."""
    first = Counter(_try(store, f"g{i}", T0 + timedelta(seconds=i)).outcome for i in range(60))
    with ThreadPoolExecutor(max_workers=3) as pool:
        later = Counter(
            pool.map(lambda i: _try(store, f"p{i}", T0 + timedelta(seconds=60, milliseconds=i)).outcome, range(45))
        )
    total = first + later
    refused = total[LoginOutcome.THROTTLED] + total[LoginOutcome.LOCKED]
    print(f"login attempts: 105, checked {total[LoginOutcome.WRONG]}, refused unchecked {refused}")
    assert refused >= 105 - LIMITS.lock_failures - 3
