"""The Review page's side tabs: concept card (+ add as synonym), KB search, link by id, history, add mention.

Linking from a tab goes through the same callback as the candidate buttons, with the
decision id the curator saw, so a concurrent decision is reported here too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st

from bel_core.errors import BelError
from bel_core.types import DecisionStatus, Mention, MentionKey
from pages.components import review_actions, review_flow, review_saliency, state, widgets
from pages.components.review_actions import Reviewer
from pages.components.review_data import MentionView
from usecases import services

Link = Callable[[str], None]


def link_callback(
    rv: Reviewer, mention: Mention, view: MentionView, *, blind: bool, on_done: Callable[[], None]
) -> Link:
    """A callback linking the mention to one concept (ACCEPTED if it is the top candidate, else CORRECTED).

    ``on_done`` runs after a stored link (the Review page moves its cursor on).
    """
    result = view.results.get(mention.key)
    expected = view.latest.id if view.latest else None

    def link(concept_id: str) -> None:
        def action() -> str:
            resolved = rv.linker.concept(concept_id.strip()).concept_id  # alt ids count as their concept
            status = review_flow.status_for_concept(resolved, result)
            return review_actions.decide(
                rv, mention.key, mention.text, status, [resolved], expected=expected, hidden=blind
            )

        if review_actions.perform(action):
            on_done()

    return link


def _add_synonym(rv: Reviewer, mention: Mention, concept_id: str) -> None:
    review_actions.perform(lambda: review_actions.add_synonym(rv, mention.key, mention.text, concept_id))


def concept_tab(rv: Reviewer, mention: Mention, view: MentionView, *, blind: bool) -> None:
    """The card of a candidate (or of the linked concept), and "add the mention text as its synonym"."""
    result = view.results.get(mention.key)
    linked = view.latest.decision.concept_ids if view.latest else ()
    shown = [] if blind or result is None else [c.concept_id for c in result.candidates]
    options = list(dict.fromkeys([*linked, *shown]))
    if not options:
        st.caption("No candidate to show." if not blind else "Suggestions are hidden: search the KB instead.")
        return
    names = {c.concept_id: c.name for c in result.candidates} if result else {}
    concept_id = st.selectbox(
        "Concept",
        options,
        format_func=lambda cid: f"{names[cid]} ({cid})" if cid in names else cid,
        key=f"card-{mention.doc_id}-{mention.start}-{mention.end}",
        label_visibility="collapsed",
    )
    try:
        concept = rv.linker.concept(concept_id)
    except BelError as e:
        st.error(widgets.md(e))
        return
    st.markdown(widgets.concept_card(concept), unsafe_allow_html=True)
    st.button(
        widgets.md(f"Add “{mention.text}” as a synonym of {concept.name}"),
        key="add-synonym",
        help="Recorded in the KB extension (versioned, exportable); the retriever uses it after the next rebuild",
        on_click=_add_synonym,
        args=(rv, mention, concept.concept_id),
    )
    if result is not None and not blind:
        with st.expander("All candidate scores"):
            st.dataframe(
                pd.DataFrame(widgets.candidate_rows(result)),
                hide_index=True,
                column_config={
                    "probability": st.column_config.ProgressColumn(
                        "probability", min_value=0.0, max_value=1.0, format="%.2f"
                    ),
                },
            )
        review_saliency.render(rv, mention, view, concept)


def search_key(key: MentionKey) -> str:
    """The search field's widget key: one per mention, so a new mention starts with an empty search."""
    return "kb-query-{}-{}-{}".format(*key)


def search_tab(rv: Reviewer, key: MentionKey, link: Link, kb_types: Sequence[str] = ()) -> None:
    """KB search by name, synonym or id, optionally of some semantic types, each hit with a Link button."""
    query = st.text_input("Search by name, synonym or id", key=search_key(key), placeholder="e.g. seizure, HP:0001250")
    chosen = st.multiselect("Semantic types", kb_types, key="kb-query-types", placeholder="any type")
    if not query.strip():
        return
    hits = rv.linker.search_kb(query.strip(), limit=10, types=chosen or None)
    if not hits:
        st.caption("No concept matches.")
    for concept in hits:
        text_col, link_col = st.columns([5, 1], vertical_alignment="center")
        synonyms = f"  \n:small[:gray[{widgets.md(', '.join(concept.synonyms[:6]))}]]" if concept.synonyms else ""
        text_col.markdown(f"**{widgets.md(concept.name)}** · {widgets.md(concept.concept_id)}{synonyms}")
        link_col.button(
            "Link",
            key=f"link-{concept.concept_id}",
            help="Link to this concept",
            on_click=link,
            args=(concept.concept_id,),
        )


def id_tab(link: Link) -> None:
    """Link by typing a concept id (alt ids resolve to their concept)."""

    def submit() -> None:
        typed = str(st.session_state.get("concept-id", "")).strip()
        if typed:
            link(typed)
        else:
            state.alert("error", "Type a concept id first, e.g. HP:0001250.")

    with st.form("link_by_id", border=False):
        st.text_input("Concept id", placeholder="e.g. HP:0001250", key="concept-id")
        st.form_submit_button("Link to this id", on_click=submit)


def composite_tab(
    rv: Reviewer, mention: Mention, view: MentionView, *, blind: bool, on_done: Callable[[], None]
) -> None:
    """Link a composite mention ("breast and ovarian cancer") to several of its candidates at once."""
    result = view.results.get(mention.key)
    if blind or result is None or len(result.candidates) < 2:
        st.caption("A composite mention needs two candidates or more." if not blind else "Suggestions are hidden.")
        return
    labels = {c.concept_id: widgets.candidate_label(rank, c) for rank, c in enumerate(result.candidates, start=1)}
    chosen = st.multiselect(
        "Concepts", list(labels), format_func=labels.__getitem__, key=f"composite-{mention.start}-{mention.end}"
    )
    expected = view.latest.id if view.latest else None

    def link_all() -> None:
        if review_actions.perform(
            lambda: review_actions.decide(
                rv, mention.key, mention.text, DecisionStatus.CORRECTED, chosen, expected=expected, hidden=blind
            )
        ):
            on_done()

    st.button("Link all chosen", key="composite-link", disabled=len(chosen) < 2, on_click=link_all)


def history_tab(view: MentionView) -> None:
    """Every decision on the mention (that this curator counts), newest first."""
    if not view.history:
        st.caption("No decisions yet for this mention.")
        return
    rows = [
        {
            "when": stored.decision.decided_at,
            "status": stored.decision.status.value,
            "concept_ids": ", ".join(stored.decision.concept_ids),
            "curator": stored.decision.curator,
            "note": stored.decision.note,
            "blind": stored.context.suggestions_hidden,
            "id": stored.id,
        }
        for stored in reversed(view.history)
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        column_config={"when": st.column_config.DatetimeColumn("when", format="YYYY-MM-DD HH:mm:ss")},
    )


def add_mention_tab(rv: Reviewer, doc_id: str, text_length: int, on_added: Callable[[MentionKey], None]) -> None:
    """Add a span the detector missed, by its character offsets; ``on_added`` gets the new mention's key."""
    with st.form("add_mention", border=False):
        start_col, end_col, label_col = st.columns(3)
        start = start_col.number_input("Start", min_value=0, max_value=text_length, step=1, key="new-start")
        end = end_col.number_input("End", min_value=0, max_value=text_length, step=1, key="new-end")
        label = label_col.text_input("Label (optional)", key="new-label")
        add = st.form_submit_button("Add mention")
    if not add:
        return
    try:
        with rv.store.begin() as session:
            added = services.add_manual_mention(
                session, rv.linker, doc_id, int(start), int(end), label.strip() or None
            )
    except BelError as e:
        st.error(widgets.md(e))
    else:
        state.flash(widgets.md(f"Added mention “{added.text}” ({added.start}-{added.end})"))
        on_added(added.key)
        st.rerun()
