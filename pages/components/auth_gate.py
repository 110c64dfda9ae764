"""Who is using the app, checked by every page itself before it shows anything.

With ``auth_required = false`` (the default, for one curator on a laptop) everyone is the
configured ``curator`` with the admin role. With ``auth_required = true``, nobody is
anyone until ``pages/login.py`` stores a user in session state.

Every page script starts with :func:`require_user` (the login page with :func:`require_router`),
so a page is safe however it is reached. That matters right after a server start: until
``st.navigation`` has run once in the process, Streamlit serves the old multipage mode and
runs ``pages/<name>.py`` directly for a URL like ``/export``, without ``app.py``. The guard
then hands the request to the router (``app.py``) instead of rendering outside it. Call the
guards at the top of a page script, not inside a fragment (a fragment rerun skips the router).
"""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import streamlit as st

from bel_core.config import Settings
from db.models import Role
from pages.components import state
from usecases.auth import User

APP = Path(__file__).resolve().parents[2] / "app.py"
_ROUTED: ContextVar[bool] = ContextVar("bel_routed", default=False)


@contextmanager
def routed() -> Iterator[None]:
    """Marks the page run by ``app.py``'s navigation as reached through the router."""
    token = _ROUTED.set(True)
    try:
        yield
    finally:
        _ROUTED.reset(token)


def require_router() -> None:
    """Run the request through the router when Streamlit ran this page without ``app.py``.

    ``app.py`` then builds the navigation (which ends the old pages/ mode for the whole
    process), resolves the requested page among those this user may see (or shows the
    login page), and runs it; this run ends there.
    """
    if _ROUTED.get():
        return
    runpy.run_path(str(APP), run_name="__main__")
    st.stop()


def current_user(settings: Settings) -> User | None:
    """The acting user, or None when a login is required and nobody has logged in."""
    if not settings.auth_required:
        return User(settings.curator, Role.ADMIN)
    found = state.logged_in()
    return None if found is None else User(found[0], Role(found[1]))


def require_user(settings: Settings, role: Role = Role.CURATOR) -> User:
    """The acting user; stops the page with a message when nobody, or a lesser role, is logged in.

    Every page calls this first, before it reads or draws anything.
    """
    require_router()
    user = current_user(settings)
    if user is None:
        st.warning("Log in first.")
        st.stop()
    if not user.can(role):
        st.warning(f"This page needs the {role.value} role; you are logged in as a {user.role.value}.")
        st.stop()
    return user


def client_address() -> str:
    """The client's address for login throttling; "localhost" when Streamlit reports none (local use)."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "localhost"  # AppTest has no real connection
