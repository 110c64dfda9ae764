"""Team (admins): accounts, the login audit log, assigning documents to curators, double annotation of a fraction."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from db import repository
from db.models import Role
from pages.components.auth_gate import require_user
from pages.components.resources import get_settings, get_store
from pages.components.widgets import md
from usecases import assignments, auth

settings = get_settings()
require_user(settings, Role.ADMIN)
store = get_store()

with store() as session:
    users = auth.list_users(session)
    attempts = auth.login_audit(session)
    assigned = assignments.assignments(session)
    documents = repository.list_documents(session)
    known = assignments.curator_names(session)

st.title("Team", anchor=False)
accounts_col, assign_col = st.columns([2, 3], gap="large")
with accounts_col:
    st.subheader("Accounts", anchor=False)
    if users:
        st.dataframe(
            pd.DataFrame({"name": [u.name for u in users], "role": [u.role.value for u in users]}), hide_index=True
        )
    st.caption("Create accounts on the server: `bel user add NAME --role curator|adjudicator|admin`.")
    st.subheader("Login audit", anchor=False)
    if attempts:
        st.dataframe(
            pd.DataFrame(
                {
                    "time (UTC)": [a.at.strftime("%Y-%m-%d %H:%M:%S") for a in attempts],
                    "name typed": [a.user_name for a in attempts],
                    "client": [a.client for a in attempts],
                    "outcome": [a.outcome.value for a in attempts],
                }
            ),
            hide_index=True,
            height=240,
        )
        st.caption(
            f"The newest {len(attempts)} attempts. Throttling (`[auth]` settings): a wait after "
            f"{settings.auth.free_failures} failed logins in a row, a {settings.auth.lock_s // 60} min lock after "
            f"{settings.auth.lock_failures}."
        )
    else:
        st.caption("No login attempts yet.")

with assign_col:
    st.subheader("Assign documents", anchor=False)
    candidates = [u.name for u in users if u.role is not Role.ADMIN] or known
    with st.form("assign", border=False):
        curators = st.multiselect("Curators", sorted(set(candidates)), default=sorted(set(candidates)))
        fraction = st.slider(
            "Double-annotated fraction",
            0.0,
            1.0,
            settings.double_fraction,
            step=0.05,
            help="Share of documents given to two curators, for agreement figures",
        )
        submitted = st.form_submit_button("Assign unassigned documents", type="primary")
    if submitted:
        if not curators:
            st.error("Choose at least one curator.")
        else:
            with store.begin() as session:
                new = assignments.assign_documents(session, curators, double_fraction=fraction)
            st.success(md(f"Assigned {len(new)} document(s); {sum(len(c) > 1 for c in new.values())} double."))
            assigned = {**assigned, **new}

    n_unassigned = sum(d.doc_id not in assigned for d in documents)
    st.caption(f"{len(assigned)} assigned, {n_unassigned} unassigned.")
    if assigned:
        st.dataframe(
            pd.DataFrame({"document": list(assigned), "curators": [", ".join(c) for c in assigned.values()]}),
            hide_index=True,
            width="stretch",
        )
