"""Review: the queue across documents (riskiest first), one mention at a time, one key per verdict.

Keyboard: 1-9 link candidate k (a = top) · n NIL · x not an entity · q needs context ·
s skip · u undo · w wrong span (arrows move the edges, Enter saves) · g accept for the
near-duplicate group · j next · k previous. See ``pages/components/review_panel.py``.
"""

from __future__ import annotations

import streamlit as st

from db import repository
from usecases import assignments
from pages.components import review_data, review_filters, review_flow, review_panel, review_tabs, state, widgets
from pages.components.auth_gate import require_user
from pages.components.resources import get_linker, get_settings, get_store, kb_types
from pages.components.review_actions import Reviewer

settings = get_settings()
store = get_store()
user = require_user(settings)

with store() as session:
    summaries = repository.list_documents(session)
    curators = assignments.curator_names(session)
    labels = assignments.mention_labels(session)

st.title("Review", anchor=False)
if not summaries:
    st.info("No documents yet. Add one on the Documents page first.")
    st.page_link("pages/documents.py", label="Go to Documents", icon=":material/description:")
    st.stop()

linker = get_linker()
rv = Reviewer(store, linker, user)
filters = review_filters.render(
    [d.doc_id for d in summaries], sorted({*kb_types(linker), *labels}), sorted({*curators, user.name})
)
queue = review_data.load_queue(store, linker, user.name, filters)
scope = review_filters.scope(filters)
order = review_flow.merge_order(state.queue_order(scope), [item.mention.key for item in queue])
state.set_queue_order(scope, order)
items = {item.mention.key: item for item in queue}
undecided = {key for key, item in items.items() if item.status is None}
current_key = state.current_mention_key()
if current_key not in items:
    current_key = order[0] if order else None
    state.set_current_mention_key(current_key)

if flash := state.pop_flash():
    st.toast(flash, icon=":material/check_circle:")
if alert := state.pop_alert():
    (st.warning if alert[0] == "warning" else st.error)(alert[1])

n_settled = review_data.n_settled(queue)
st.progress(n_settled / len(queue) if queue else 0.0, text=f"{n_settled} of {len(queue)} settled in this queue")
if current_key is None:
    st.info("No mention matches these filters.")
    st.stop()

item = items[current_key]
mention = item.mention
groups = review_data.near_duplicate_group(queue, item)
view = review_data.load_mention(store, user.name, current_key, groups)
blind = review_flow.is_blind(current_key, settings.blind_fraction)
advance_to = review_flow.next_after_decision(order, current_key, undecided - {current_key})
link = review_tabs.link_callback(rv, mention, view, blind=blind, advance_to=advance_to)

doc_col, panel_col = st.columns([5, 6], gap="large")
with doc_col:
    st.markdown(widgets.legend_html(), unsafe_allow_html=True)
    probabilities = review_flow.probabilities_by_key(view.results)
    if blind:
        probabilities[current_key] = None  # the highlight colour would give the score away
    # Long documents scroll inside a fixed frame so the review panel stays beside them.
    with st.container(height=420 if len(view.document.text) > 1200 else "content", border=True):
        st.markdown(
            widgets.highlighted_text_html(view.document, view.mentions, probabilities, current_key, view.statuses),
            unsafe_allow_html=True,
        )
    card_tab, search_tab, id_tab, history_tab, add_tab = st.tabs(
        ["Concept", "Search KB", "Link by id", "History", "Add mention"]
    )
    with card_tab:
        review_tabs.concept_tab(rv, mention, view, blind=blind)
    with search_tab:
        review_tabs.search_tab(rv, link, kb_types(linker))
    with id_tab:
        review_tabs.id_tab(link)
    with history_tab:
        review_tabs.history_tab(view)
    with add_tab:
        review_tabs.add_mention_tab(rv, mention.doc_id, len(view.document.text))

with panel_col:
    review_panel.render_navigation(order, current_key, len(undecided))
    review_panel.render(
        rv, mention, view, blind=blind, advance_to=advance_to, default_order=settings.generator.order_by
    )
