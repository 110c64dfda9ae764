"""Who is using the app: the logged-in curator, or the single local user when auth is off.

With ``auth_required = false`` (the default, for one curator on a laptop) everyone is the
configured ``curator`` with the admin role. With ``auth_required = true``, the router
shows only the login page until ``pages/login.py`` stores a user in session state.
"""

from __future__ import annotations

import streamlit as st

from bel_core.config import Settings
from usecases.auth import User
from db.models import Role
from pages.components import state


def current_user(settings: Settings) -> User | None:
    """The acting user, or None when a login is required and nobody has logged in."""
    if not settings.auth_required:
        return User(settings.curator, Role.ADMIN)
    found = state.logged_in()
    return None if found is None else User(found[0], Role(found[1]))


def require_user(settings: Settings, role: Role = Role.CURATOR) -> User:
    """The acting user; stops the page with a message when nobody, or a lesser role, is logged in."""
    user = current_user(settings)
    if user is None:
        st.warning("Log in first.")
        st.stop()
    if not user.can(role):
        st.warning(f"This page needs the {role.value} role; you are logged in as a {user.role.value}.")
        st.stop()
    return user
