"""Account (only listed when ``auth_required = true``): log in with name and password (Argon2 hashes), log out.

The check runs in the form's callback, before the app script: a successful login is
already in session state when the router builds the navigation for that run. Every
attempt is recorded and throttled (``usecases.auth.log_in``, limits in ``[auth]``).
"""

from __future__ import annotations

import streamlit as st

from pages.components import state
from pages.components.auth_gate import client_address, current_user, require_router
from pages.components.resources import get_settings, get_store
from pages.components.widgets import md
from usecases import auth

require_router()
settings = get_settings()
store = get_store()
user = current_user(settings)


def log_in() -> None:
    """Check the typed credentials (unless throttled); remember the user, or leave the error for this run."""
    with store.begin() as session:  # begin: the attempt is recorded, and a login may upgrade an old hash
        result = auth.log_in(
            session,
            st.session_state["login-name"],
            st.session_state["login-password"],
            client_address(),
            settings.auth,
        )
    if result.user is None:
        state.alert("error", md(result.message))
    else:
        state.set_logged_in(result.user.name, result.user.role.value)


if user is not None:
    st.title("Account", anchor=False)
    st.markdown(md(f"Logged in as {user.name} ({user.role.value})."))
    st.page_link("pages/review.py", label="Go to Review", icon=":material/fact_check:")
    st.button("Log out", on_click=state.set_logged_in, args=(None,))
    st.stop()

st.title("Log in", anchor=False)
with store() as session:
    n_users = len(auth.list_users(session))
if n_users == 0:
    st.info("No accounts yet. Create the first admin on the server: `bel user add NAME --role admin`")
if alert := state.pop_alert():
    st.error(alert[1])

with st.form("login", width=420):
    st.text_input("User name", key="login-name", autocomplete="username")
    st.text_input("Password", type="password", key="login-password", autocomplete="current-password")
    st.form_submit_button("Log in", type="primary", on_click=log_in)
