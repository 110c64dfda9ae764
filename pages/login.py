"""Account (only listed when ``auth_required = true``): log in with name and password (Argon2 hashes), log out.

The check runs in the form's callback, before the app script: a successful login is
already in session state when the router builds the navigation for that run.
"""

from __future__ import annotations

import streamlit as st

from usecases import auth
from pages.components import state
from pages.components.auth_gate import current_user
from pages.components.resources import get_settings, get_store
from pages.components.widgets import md

store = get_store()
user = current_user(get_settings())


def log_in() -> None:
    """Check the typed credentials; remember the user, or leave the error for this run."""
    try:
        with store.begin() as session:  # begin: a login may upgrade an old hash
            user = auth.authenticate(session, st.session_state["login-name"], st.session_state["login-password"])
    except auth.AccountError as e:
        state.alert("error", md(e))
    else:
        state.set_logged_in(user.name, user.role.value)


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
