"""The Review page's queue filters (in the sidebar): document, semantic type, status, curator, model disagreement."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from bel_core.types import DecisionStatus
from pages.components import state
from pages.components.widgets import STATUS_LABELS
from usecases.queue import QueueFilters

ALL = ""  # the "no filter" option of the select boxes
UNDECIDED = "undecided"
STATUS_OPTIONS: dict[str, DecisionStatus | None] = {
    UNDECIDED: None,
    **{STATUS_LABELS[s]: s for s in DecisionStatus if s is not DecisionStatus.UNDECIDED},
}


def render(doc_ids: Sequence[str], types: Sequence[str], curators: Sequence[str]) -> QueueFilters:
    """Draw the filters, one under the other, and return the chosen ones; the document choice is remembered."""
    current = state.current_doc_id()
    doc_options = [ALL, *doc_ids]
    doc_id = st.selectbox(
        "Document",
        doc_options,
        index=doc_options.index(current) if current in doc_options else 0,
        format_func=lambda d: d or "All documents",
    )
    state.set_current_doc_id(doc_id or None)
    semantic_type = st.selectbox("Semantic type", [ALL, *types], format_func=lambda t: t or "All types")
    statuses = st.multiselect("Status", list(STATUS_OPTIONS), placeholder="Any status")
    curator = st.selectbox("Curator", [ALL, *curators], format_func=lambda c: c or "Anyone")
    disagreement = st.checkbox(
        "Models differ",
        key="filter-disagreement",
        help="Only mentions where the reranker's and the generator's top concepts differ.",
    )
    return QueueFilters(
        doc_ids=frozenset({doc_id}) if doc_id else frozenset(),
        semantic_type=semantic_type or None,
        statuses=frozenset(STATUS_OPTIONS[s] for s in statuses) if statuses else None,
        curator=curator or None,
        disagreement=disagreement,
    )


def scope(filters: QueueFilters) -> str:
    """A stable name for a filter choice, so the remembered queue order belongs to it."""
    statuses = sorted(str(s) for s in filters.statuses) if filters.statuses is not None else None
    return repr((sorted(filters.doc_ids), filters.semantic_type, statuses, filters.curator, filters.disagreement))
