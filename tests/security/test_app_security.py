"""Findings 1, 2 and 9 through the real app (AppTest): pages check the user, logins are
throttled and audited, errors and the database URL leak nothing, exposure needs logins.

The first request after a server start (Streamlit's old pages/ mode) needs a real
server: ``tests/browser/test_security_browser.py``.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from urllib.parse import urlsplit

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from bel_core.config import Settings
from db.models import Role
from pages.components.widgets import md
from tests.app.conftest import REPO, TIMEOUT_S, click
from usecases import auth, quality

PROTECTED = ("documents", "review", "adjudicate", "quality", "team", "export", "status", "models")


@pytest.fixture
def auth_on(monkeypatch, store):
    monkeypatch.setenv("BEL_AUTH_REQUIRED", "1")
    with store.begin() as session:
        auth.add_user(session, "ann", "a long password", Role.ADMIN)
        auth.add_user(session, "cy", "a long password", Role.CURATOR)


@pytest.fixture
def address():
    """Set ``server.address`` for one test (the app reads it through st.get_option)."""
    before = st_config.get_option("server.address")
    yield lambda value: st_config.set_option("server.address", value)
    st_config.set_option("server.address", before)


def _log_in(at, name: str, password: str = "a long password"):
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    return click(at, "Log in")


def _shown(at) -> str:
    return " ".join(
        e.value for kind in ("markdown", "caption", "info", "warning", "error", "title") for e in getattr(at, kind)
    )


def _page(page: str, user: tuple[str, str] | None = None) -> AppTest:
    """Run one page script on its own, as Streamlit's old pages/ mode does, with the router's marker set.

    So this measures the page's own check, not the router's page list.
    """
    path = str(REPO / "pages" / f"{page}.py")
    script = (
        f"import runpy\nfrom pages.components.auth_gate import routed\nwith routed():\n    runpy.run_path({path!r})\n"
    )
    at = AppTest.from_string(script, default_timeout=TIMEOUT_S)
    if user is not None:
        at.session_state["bel_user"] = user
    at.run()
    assert not at.exception, (page, at.exception)
    return at


def test_every_page_checks_the_user_itself(auth_on):
    for page in PROTECTED:
        at = _page(page)
        assert [w.value for w in at.warning] == ["Log in first."], page
        assert not at.title and not at.get("download_button") and not at.dataframe and not at.metric, page


def test_a_curator_cannot_open_admin_pages(auth_on):
    for page, needs in (("team", "admin"), ("adjudicate", "adjudicator")):
        at = _page(page, ("cy", "curator"))
        assert [w.value for w in at.warning] == [f"This page needs the {needs} role; you are logged in as a curator."]
        assert not at.title and not at.dataframe


def test_the_database_url_is_shown_to_admins_only(auth_on):
    settings = Settings.load(env=os.environ)
    where = md(settings.display_db_url.rsplit("/", 1)[-1])  # the SQLite file or the PostgreSQL database
    assert where not in _shown(_page("status", ("cy", "curator")))
    shown = _shown(_page("status", ("ann", "admin")))
    assert where in shown
    password = urlsplit(settings.resolved_db_url).password
    assert not password or password not in shown


def test_logins_are_throttled_and_audited(app, auth_on, store):
    at = app()
    messages = []
    for i in range(6):
        _log_in(at, "ann", f"wrong password {i}")
        messages.append(at.error[0].value)
    assert "Unknown user or wrong password" in messages[0]
    assert any("try again in" in m for m in messages[3:])
    _log_in(at, "ann")  # the right password, at once: refused while the wait lasts
    assert "bel_user" not in at.session_state and "try again in" in at.error[0].value
    with store() as session:
        outcomes = [a.outcome.value for a in auth.login_audit(session)]
    assert outcomes[-3:] == ["wrong", "wrong", "wrong"] and outcomes[0] == "throttled"


def test_serving_beyond_loopback_needs_logins(app, address):
    address("0.0.0.0")
    at = app()
    assert len(at.error) == 1 and "logins are off" in at.error[0].value
    assert "auth_required = true" in at.error[0].value and "bel user add" in at.error[0].value
    assert not at.title and not at.text_area  # no page ran
    address("127.0.0.1")
    assert not app().error


def test_serving_beyond_loopback_with_logins_shows_the_login(app, address, auth_on):
    address("0.0.0.0")
    assert [t.value for t in app().title] == ["Log in"]


def test_an_unexpected_error_shows_a_reference_not_a_traceback(app, store, monkeypatch, caplog):
    def broken(session):
        raise RuntimeError("secret detail at /srv/bel/data/bel.db")

    monkeypatch.setattr(quality, "decisions_per_curator_day", broken)
    with caplog.at_level(logging.ERROR, logger="bel_curator.app"):
        at = app("quality", crash_expected=True)
    assert not at.exception
    [error] = at.error
    reference = re.search(r"reference ([0-9a-f]{8})", error.value).group(1)
    assert "secret" not in error.value and "Traceback" not in error.value
    assert any(reference in r.getMessage() and r.exc_info for r in caplog.records)


def test_shipped_server_settings():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["address"] == "127.0.0.1"
    run = (REPO / "Makefile").read_text(encoding="utf-8").split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "--server.fileWatcherType none" in run and "--server.runOnSave false" in run


def test_the_displayed_database_url_has_no_credentials():
    url = Settings(db_url="postgresql+psycopg://bel:s3cret@db.example:5432/bel?password=x").display_db_url
    assert url == "postgresql+psycopg://db.example:5432/bel"
    assert Settings(db_url="sqlite:////data/bel.db").display_db_url == "sqlite:////data/bel.db"
