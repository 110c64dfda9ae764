"""Review: the queue across documents (riskiest first), one mention at a time, one key per verdict.

The document view and the candidate panel are one browser component
(``pages/components/review_view``) that holds a window of the queue and applies keys
itself: 1-9 link candidate k (a = top) · n NIL · x not an entity · q needs context ·
s skip · u / Ctrl+Z undo · j next · k previous. The next mention is drawn at once;
verdicts are sent back and stored here, in a fragment, so the rest of the page does not
re-run. Below it, the side tabs (concept card, KB search, link by id, history, add
mention) act on the mention under the cursor.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from bel_core.errors import BelError
from bel_core.types import MentionKey
from db import repository
from pages.components import review_data, review_filters, review_tabs, review_view, state, widgets
from pages.components.auth_gate import require_user
from pages.components.resources import get_linker, get_settings, get_store, kb_types
from pages.components.review_actions import Reviewer
from usecases import assignments
from usecases import review as review_loop
from usecases.queue import QueueFilters

BEFORE, AFTER = 8, 40  # queue items sent behind and ahead of the cursor

settings = get_settings()
store = get_store()
user = require_user(settings)

with store() as session:
    summaries = repository.list_documents(session)
    curators = assignments.curator_names(session)
    labels = assignments.mention_labels(session)

if not summaries:
    st.title("Review", anchor=False)
    st.info("No documents yet. Add one on the Documents page first.")
    st.page_link("pages/documents.py", label="Go to Documents", icon=":material/description:")
    st.stop()

linker = get_linker()
rv = Reviewer(store, linker, user)
with st.sidebar:
    st.subheader("Review queue", anchor=False)
    filters = review_filters.render(
        [d.doc_id for d in summaries], sorted({*kb_types(linker), *labels}), sorted({*curators, user.name})
    )
scope = review_filters.scope(filters)


@st.cache_data(max_entries=16, show_spinner="Ordering the review queue…")
def _ordered(scope: str, curator: str, version: tuple[int | None, ...], _filters: QueueFilters) -> list[MentionKey]:
    """The queue order for a filter choice; the same store state (``version``) gives the same order."""
    return [item.mention.key for item in review_data.load_queue(store, linker, curator, _filters)]


order = state.queue_order(scope)
if not order:
    # Once per filter choice and session: later decisions keep this order, so the queue stays put.
    with store() as session:
        version = review_loop.store_version(session)
    order = list(_ordered(scope, user.name, version, filters))
    state.set_queue_order(scope, order)


def _key(value: object) -> MentionKey | None:
    if isinstance(value, list | tuple) and len(value) == 3:
        return (str(value[0]), int(value[1]), int(value[2]))
    return None


def _on_sync() -> None:
    """Store what the component queued and follow its cursor (runs before the fragment redraws)."""
    value = review_view.sync_value()
    order = state.queue_order(scope)
    known = state.review_answers()
    actions = []
    for raw in value.get("outbox") or []:
        if isinstance(raw, dict) and str(raw.get("id")) not in known:
            try:
                actions.append(review_loop.parse_action(raw))
            except review_loop.ActionError as e:
                known[str(raw.get("id"))] = review_loop.Outcome(False, error=str(e)).to_json()
    if actions:
        answered = {k: review_loop.Outcome.from_json(v) for k, v in known.items()}
        answers = review_loop.apply_all(store, linker, actions, curator=user.name, answered=answered)
        state.remember_answers({k: v.to_json() for k, v in answers.items() if not v.retry})
        state.set_review_retries({k: v.to_json() for k, v in answers.items() if v.retry})
        for action in actions:
            new_key = answers[action.id].new_key if action.id in answers else None
            if new_key is not None:
                _place(order, action, new_key)
    cursor = value.get("cursor")
    if isinstance(cursor, int) and 0 <= cursor < len(order):
        state.set_review_cursor(scope, cursor)
    focus = _key(value.get("focus_key"))
    if focus is not None:
        if focus not in order:  # outside this filter: bring it back where the curator is
            order.insert(state.review_cursor(scope) or 0, focus)
            state.set_queue_order(scope, order)
        state.set_review_cursor(scope, order.index(focus))
        state.set_review_goto(order.index(focus))


SEARCH_HITS = 8


def _on_search() -> None:
    """Answer the component's search field as the curator types (names, synonyms, ids)."""
    asked = review_view.search_value()
    query, seq = str(asked.get("query", "")).strip(), asked.get("seq")
    answer: dict[str, object] = {"seq": seq, "query": query, "hits": [], "error": ""}
    try:
        answer["hits"] = [
            {"id": c.concept_id, "name": c.name, "synonyms": list(c.synonyms[:4])}
            for c in linker.search_kb(query, limit=SEARCH_HITS)
        ]
    except BelError as e:
        answer["error"] = str(e)
    state.set_review_search(answer)


def _place(order: list[MentionKey], action: review_loop.Action, new_key: MentionKey) -> None:
    """Put a fixed span where its old mention was (the risk order is kept), an added mention next."""
    if action.kind == "span" and action.key in order:
        at = order.index(action.key)
        order[at] = new_key
    else:
        at = order.index(action.key) + 1 if action.key in order else 0
        order.insert(at, new_key)
        state.bump_review_order()  # later indices moved: the component reloads its window
    state.set_queue_order(scope, order)
    state.set_review_cursor(scope, at)
    state.set_review_goto(at)


def _counts(n_mentions: int) -> review_loop.TextCounts:
    """Mentions per normalized text, read again only when the number of mentions changed."""
    found = state.review_text_counts(n_mentions)
    if found is None:
        with store() as session:
            found = review_loop.text_counts(session)
        state.set_review_text_counts(n_mentions, found)
    return found


@st.fragment
def review_fragment() -> None:
    """The component and the side tabs; a key press re-runs only this."""
    if flash := state.pop_flash():
        st.toast(flash, icon=":material/check_circle:")
    order = state.queue_order(scope)
    if not order:
        st.info("No mention matches these filters.")
        return
    cursor = state.review_cursor(scope)
    if cursor is None or not 0 <= cursor < len(order):
        cursor = 0
        state.set_review_cursor(scope, cursor)
    lo, hi = max(0, cursor - BEFORE), min(len(order), cursor + AFTER)
    doc_ids = review_loop.doc_ids_of(order, lo, hi)
    cached = state.review_documents()
    with store() as session:
        versions = review_loop.link_versions(session, doc_ids)
        missing = [d for d in doc_ids if (d, versions.get(d)) not in cached]
        read = review_loop.load_documents(session, missing)
        latest = review_loop.latest_by_mention(session, user.name, doc_ids)
    state.remember_review_documents({(d, versions.get(d)): view for d, view in read.items()})
    documents = {d: cached[(d, versions.get(d))] for d in doc_ids}
    payload = review_loop.window(
        order,
        lo,
        hi,
        documents,
        latest,
        blind_fraction=settings.blind_fraction,
        caption=widgets.mention_caption,
        counts=_counts(len(order)),
    )
    goto = state.review_goto()
    review_view.render(
        {
            **payload,
            "epoch": f"{scope}#{state.review_order_version()}",
            "total": len(order),
            "cursor": cursor,
            "acks": {**state.review_answers(), **state.review_retries()},
            "goto": {"nonce": goto[0], "index": goto[1]} if goto else None,
            "storage_key": f"bel-review-outbox:{user.name}",
            "search": state.review_search(),
        },
        on_sync=_on_sync,
        on_search=_on_search,
    )
    item = next((i for i in payload["items"] if i["i"] == cursor), None)
    if item is not None:
        _side_tabs(order[cursor], item["blind"])


def _advance(order: list[MentionKey], cursor: int) -> None:
    """After a link from a side tab: the next mention, for the component and for the tabs."""
    target = min(cursor + 1, len(order) - 1)
    state.set_review_cursor(scope, target)
    state.set_review_goto(target)


def _added(key: MentionKey) -> None:
    """A new mention is reviewed next: it goes right after the cursor."""
    order = state.queue_order(scope)
    at = (state.review_cursor(scope) or 0) + 1
    order.insert(at, key)
    state.bump_review_order()
    state.set_queue_order(scope, order)
    state.set_review_cursor(scope, at)
    state.set_review_goto(at)


def _side_tabs(key: MentionKey, blind: bool) -> None:
    view = review_data.load_mention(store, user.name, key, [])
    mention = next(m for m in view.mentions if m.key == key)
    order = state.queue_order(scope)
    done = partial(_advance, order, order.index(key))
    link = review_tabs.link_callback(rv, mention, view, blind=blind, on_done=done)
    if alert := state.pop_alert():  # next to the tabs whose action it is about
        (st.warning if alert[0] == "warning" else st.error)(alert[1])
    card_tab, search_tab, id_tab, composite_tab, history_tab, add_tab = st.tabs(
        ["Concept", "Search KB", "Link by id", "Composite", "History", "Add mention"]
    )
    with card_tab:
        review_tabs.concept_tab(rv, mention, view, blind=blind)
    with search_tab:
        review_tabs.search_tab(rv, key, link, kb_types(linker))
    with id_tab:
        review_tabs.id_tab(link)
    with composite_tab:
        review_tabs.composite_tab(rv, mention, view, blind=blind, on_done=done)
    with history_tab:
        review_tabs.history_tab(view)
    with add_tab:
        review_tabs.add_mention_tab(rv, mention.doc_id, len(view.document.text), _added)


review_fragment()
