"""Adjudicate: double-annotated mentions where the curators disagree, side by side; the choice becomes gold."""

from __future__ import annotations

import streamlit as st

from bel_core.errors import BelError
from bel_core.types import Decision, DecisionStatus
from db import repository
from db.models import Role
from pages.components import review_actions, review_data, state, widgets
from pages.components.auth_gate import require_user
from pages.components.resources import get_linker, get_settings, get_store
from pages.components.review_actions import Reviewer
from usecases import quality

MAX_SHOWN = 20

settings = get_settings()
user = require_user(settings, Role.ADJUDICATOR)
store = get_store()
linker = get_linker()
rv = Reviewer(store, linker, user)

st.title("Adjudicate", anchor=False)
if flash := state.pop_flash():
    st.toast(flash, icon=":material/check_circle:")  # escaped by review_actions.perform
if alert := state.pop_alert():
    st.error(alert[1])

with store() as session:
    pairs = quality.open_disagreements(session, lambda cid: review_data.concept_types(linker, cid))
    documents = {d: repository.get_document(session, d) for d in {p.a.doc_id for p in pairs}}
    mentions = {p.a.mention_key: repository.get_mention(session, p.a.mention_key) for p in pairs}

if not pairs:
    st.info("No open disagreements. They appear here when two curators decide a double-annotated mention differently.")
    st.stop()
st.caption(f"{len(pairs)} open disagreement(s); showing the first {min(len(pairs), MAX_SHOWN)}.")


def describe(decision: Decision) -> str:
    """A verdict in words, with concept names where the KB has them."""
    names = []
    for cid in decision.concept_ids:
        try:
            names.append(f"{linker.concept(cid).name} ({cid})")
        except BelError:  # a concept gone from the KB is still shown by its id
            names.append(cid)
    span = f" → {decision.corrected_span[0]}-{decision.corrected_span[1]}" if decision.corrected_span else ""
    return f"{widgets.STATUS_LABELS[decision.status]}{span}" + (f": {', '.join(names)}" if names else "")


def take(decision: Decision) -> None:
    """Adopt one curator's verdict as the adjudicated (gold) one."""
    review_actions.perform(
        lambda: review_actions.adjudicate(rv, decision.mention_key, decision.status, decision.concept_ids)
    )


for index, pair in enumerate(pairs[:MAX_SHOWN]):
    mention = mentions[pair.a.mention_key]
    with st.container(border=True):
        st.markdown(f"**“{widgets.md(mention.text)}”** · {widgets.md(widgets.mention_caption(mention))}")
        st.markdown(widgets.context_html(documents[mention.doc_id], mention), unsafe_allow_html=True)
        columns = st.columns(3, vertical_alignment="center")
        for column, decision, side in ((columns[0], pair.a, "a"), (columns[1], pair.b, "b")):
            column.markdown(widgets.md(f"{decision.curator}: {describe(decision)}"))
            column.button(
                widgets.md(f"Take {decision.curator}'s"), key=f"take-{index}-{side}", on_click=take, args=(decision,)
            )
        columns[2].button(
            "Neither: NIL",
            key=f"nil-{index}",
            on_click=take,
            args=(Decision(*mention.key, DecisionStatus.NIL),),
        )
