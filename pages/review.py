"""Review: walk the queue (riskiest first), inspect candidates, record one verdict per mention.

Keyboard: a accept top · 1-9 pick candidate · n NIL · w wrong span · x not an entity ·
s skip · j next · k previous.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from bel_core.errors import BelError
from bel_core.types import DecisionStatus, LinkResult, Mention
from db import repository, services
from pages.components import review_flow, state, widgets
from pages.components.resources import get_linker, get_settings, get_store

settings = get_settings()
store = get_store()

with store() as session:
    summaries = repository.list_documents(session)

st.title("Review", anchor=False)
if not summaries:
    st.info("No documents yet. Add one on the Documents page first.")
    st.page_link("pages/documents.py", label="Go to Documents", icon=":material/description:")
    st.stop()

progress_by_doc = {d.doc_id: (d.n_decided, d.n_mentions) for d in summaries}
doc_ids = list(progress_by_doc)
current_doc = state.current_doc_id()
select_col, progress_slot = st.columns([3, 2], vertical_alignment="bottom")
doc_id = select_col.selectbox(
    "Document",
    doc_ids,
    index=doc_ids.index(current_doc) if current_doc in doc_ids else 0,
    format_func=lambda d: f"{d}  ·  {progress_by_doc[d][0]}/{progress_by_doc[d][1]} decided",
)
state.set_current_doc_id(doc_id)

linker = get_linker()
with store() as session:
    document = repository.get_document(session, doc_id)
    mentions = repository.list_mentions(session, doc_id)
    results = repository.latest_link_results(session, doc_id)
    decisions = repository.latest_decisions(session, doc_id)
    queue = repository.review_queue(session, doc_id, include_decided=True)

order = review_flow.merge_order(state.queue_order(doc_id), [item.mention.key for item in queue])
state.set_queue_order(doc_id, order)
items = {item.mention.key: item for item in queue}
undecided = {key for key, item in items.items() if item.status is None}
current_key = state.current_mention_key()
if current_key not in order:
    current_key = order[0] if order else None
    state.set_current_mention_key(current_key)

flash = state.pop_flash()
if flash:
    st.toast(flash, icon=":material/check_circle:")


def record_decision(mention: Mention, status: DecisionStatus, concept_ids: Sequence[str] = ()) -> None:
    """Store one verdict, then move the cursor to the next undecided mention and rerun.

    On a BelError (e.g. an unknown concept id) nothing is stored and the message is shown
    where the curator clicked.
    """
    try:
        with store.begin() as session:
            decision = services.decide(session, linker, mention.key, status, concept_ids, curator=settings.curator)
    except BelError as e:
        st.error(widgets.md(e))
        return
    ids = f" → {', '.join(decision.concept_ids)}" if decision.concept_ids else ""
    state.flash(widgets.md(f"“{mention.text}”: {widgets.STATUS_LABELS[decision.status]}{ids}"))
    state.set_current_mention_key(review_flow.next_after_decision(order, mention.key, undecided - {mention.key}))
    st.rerun()


def link_concept(mention: Mention, result: LinkResult | None, concept_id: str) -> None:
    """Link the mention to one concept: ACCEPTED if it is the top candidate, else CORRECTED.

    The id is resolved first, so a typed alt id of the top candidate counts as accepting it;
    an unknown id is reported here and nothing is stored.
    """
    try:
        concept_id = linker.concept(concept_id).concept_id
    except BelError as e:
        st.error(widgets.md(e))
        return
    record_decision(mention, review_flow.status_for_concept(concept_id, result), [concept_id])


def move(offset: int) -> None:
    """Move the review cursor along the queue."""
    state.set_current_mention_key(review_flow.step(order, state.current_mention_key(), offset))


n_decided, n_mentions = progress_by_doc[doc_id]
progress_slot.progress(n_decided / n_mentions if n_mentions else 0.0, text=f"{n_decided} of {n_mentions} decided")

mention = items[current_key].mention if current_key else None
result = results.get(current_key) if current_key else None
candidates = result.candidates if result else ()

doc_col, panel_col = st.columns([5, 6], gap="large")

with doc_col:
    st.markdown(widgets.legend_html(), unsafe_allow_html=True)
    # Long documents scroll inside a fixed frame so the review panel stays beside them.
    with st.container(height=420 if len(document.text) > 1200 else "content", border=True):
        st.markdown(
            widgets.highlighted_text_html(
                document,
                mentions,
                review_flow.probabilities_by_key(results),
                current_key,
                {key: decision.status for key, decision in decisions.items()},
            ),
            unsafe_allow_html=True,
        )
    card_tab, search_tab, id_tab, history_tab, add_tab = st.tabs(
        ["Concept", "Search KB", "Link by id", "History", "Add mention"]
    )

with panel_col:
    if mention is None:
        st.info("This document has no mentions yet: add one by its offsets on the left.")
    else:
        nav_prev, nav_label, nav_next = st.columns([3, 4, 3], vertical_alignment="center")
        nav_prev.button("Previous", key="prev", shortcut="k", on_click=move, args=(-1,), width="stretch")
        nav_next.button("Next", key="next", shortcut="j", on_click=move, args=(1,), width="stretch")
        nav_label.markdown(
            f"Item **{order.index(mention.key) + 1}** of {len(order)} · {len(undecided)} undecided",
            text_alignment="center",
        )
        st.subheader(f"“{widgets.md(mention.text)}”", anchor=False)
        st.caption(
            widgets.md(
                f"characters {mention.start}-{mention.end} · {mention.origin.value}"
                + (f" · label {mention.label}" if mention.label else "")
                + (f" · file ids {'|'.join(mention.annotated_ids)}" if mention.annotated_ids else "")
            )
        )
        st.markdown(widgets.context_html(document, mention), unsafe_allow_html=True)
        latest = decisions.get(mention.key)
        if latest is not None:
            ids = f": {', '.join(latest.concept_ids)}" if latest.concept_ids else ""
            st.info(widgets.md(f"Latest decision: {widgets.STATUS_LABELS[latest.status]}{ids} (by {latest.curator})"))

        # A wrapping row: labels and shortcut hints stay whole at any window width.
        with st.container(horizontal=True, gap="small"):
            if st.button("Accept top", key="accept", shortcut="a", type="primary", disabled=not candidates):
                record_decision(mention, DecisionStatus.ACCEPTED, [candidates[0].concept_id])
            if st.button("NIL", key="nil", shortcut="n", help="An entity whose concept is not in the KB"):
                record_decision(mention, DecisionStatus.NIL)
            if st.button("Wrong span", key="wrong-span", shortcut="w"):
                record_decision(mention, DecisionStatus.WRONG_SPAN)
            if st.button("Not entity", key="not-entity", shortcut="x"):
                record_decision(mention, DecisionStatus.NOT_ENTITY)
            if st.button("Skip", key="skip", shortcut="s"):
                record_decision(mention, DecisionStatus.SKIPPED)

        if not candidates:
            st.warning("No KB candidates for this mention: search the KB on the left, or mark it NIL.")
        for rank, candidate in enumerate(candidates[:9], start=1):
            pick_col, name_col, score_col = st.columns([1, 8, 4], vertical_alignment="center")
            if pick_col.button(
                str(rank),
                key=f"pick-{rank}",
                shortcut=str(rank),
                type="primary" if rank == 1 else "secondary",
                help=f"Link to {candidate.name} ({candidate.concept_id})",
            ):
                link_concept(mention, result, candidate.concept_id)
            name_col.markdown(
                f"**{widgets.md(candidate.name)}** · {widgets.md(candidate.concept_id)}  \n"
                f":small[:gray[matched “{widgets.md(candidate.matched_alias)}” · {widgets.md(candidate.stage)}]]"
            )
            probability = candidate.calibrated_score
            score_col.progress(
                min(1.0, max(0.0, probability if probability is not None else candidate.raw_score)),
                text=(f"p {probability:.2f}" if probability is not None else "uncalibrated")
                + f" · raw {candidate.raw_score:.3f}",
            )

with add_tab:
    with st.form("add_mention", border=False):
        start_col, end_col, label_col = st.columns(3)
        start = start_col.number_input("Start", min_value=0, max_value=len(document.text), step=1, key="new-start")
        end = end_col.number_input("End", min_value=0, max_value=len(document.text), step=1, key="new-end")
        label = label_col.text_input("Label (optional)", key="new-label")
        add = st.form_submit_button("Add mention")
    if add:
        try:
            with store.begin() as session:
                added = services.add_manual_mention(
                    session, linker, doc_id, int(start), int(end), label.strip() or None
                )
        except BelError as e:
            st.error(widgets.md(e))
        else:
            state.flash(widgets.md(f"Added mention “{added.text}” ({added.start}-{added.end})"))
            state.set_current_mention_key(added.key)
            st.rerun()

if mention is None:
    st.stop()

with card_tab:
    if candidates:
        shown = st.selectbox(
            "Candidate",
            range(len(candidates)),
            format_func=lambda i: widgets.candidate_label(i + 1, candidates[i]),
            key=f"card-{doc_id}-{mention.start}-{mention.end}",
            label_visibility="collapsed",
        )
        try:
            concept = linker.concept(candidates[shown].concept_id)
        except BelError as e:
            st.error(widgets.md(e))
        else:
            st.markdown(widgets.concept_card(concept), unsafe_allow_html=True)
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
    else:
        st.caption("No candidate to show.")

with search_tab:
    query = st.text_input("Search by name, synonym or id", key="kb-query", placeholder="e.g. seizure, HP:0001250")
    if query.strip():
        hits = linker.search_kb(query.strip(), limit=10)
        if not hits:
            st.caption("No concept matches.")
        for concept in hits:
            text_col, link_col = st.columns([5, 1], vertical_alignment="center")
            synonyms = f"  \n:small[:gray[{widgets.md(', '.join(concept.synonyms[:6]))}]]" if concept.synonyms else ""
            text_col.markdown(f"**{widgets.md(concept.name)}** · {widgets.md(concept.concept_id)}{synonyms}")
            if link_col.button("Link", key=f"link-{concept.concept_id}", help="Link to this concept"):
                link_concept(mention, result, concept.concept_id)

with id_tab:
    with st.form("link_by_id", border=False):
        typed_id = st.text_input("Concept id", placeholder="e.g. HP:0001250", key="concept-id")
        link_by_id = st.form_submit_button("Link to this id")
    if link_by_id:
        concept_id = typed_id.strip()
        if not concept_id:
            st.error("Type a concept id first, e.g. HP:0001250.")
        else:
            link_concept(mention, result, concept_id)

with history_tab:
    with store() as session:
        history = repository.decision_history(session, mention.key)
    if not history:
        st.caption("No decisions yet for this mention.")
    else:
        # Newest first: the top row is the verdict that counts.
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "when": d.decided_at,
                        "status": d.status.value,
                        "concept_ids": ", ".join(d.concept_ids),
                        "curator": d.curator,
                        "note": d.note,
                    }
                    for d in reversed(history)
                ]
            ),
            hide_index=True,
            column_config={"when": st.column_config.DatetimeColumn("when", format="YYYY-MM-DD HH:mm:ss")},
        )
