"""The Review panel's two-model view: which ranking orders the list, disagreement flag, score text.

The pipeline (retriever, then reranker when the model has one) and the generative linker
each store their ranking; the panel merges them with ``bel_core.linking.compare`` so a curator
sees, per concept, the retriever rank, the reranker's probability and the generator's.
"""

from __future__ import annotations

from typing import cast

import streamlit as st

from bel_core.linking.compare import ComparedCandidate, Comparison, OrderBy, compare
from bel_core.types import LinkResult
from pages.components import widgets

ORDER_KEY = "review-order-by"
N_KEYED = 9  # rows reachable with the number keys
N_OTHER = 3  # the other model's best rows, shown even when they rank below the keyed ones
ORDER_LABELS: dict[str, str] = {"reranker": "Reranker", "generator": "Generator"}


def comparison(result: LinkResult | None, generated: LinkResult | None, *, default_order: str) -> Comparison:
    """Draw the order switch (only when the generator ranked this mention) and merge the two lists."""
    order_by: OrderBy = "reranker"
    if generated is not None and generated.candidates:
        choice = st.segmented_control(
            "Order candidates by",
            list(ORDER_LABELS),
            format_func=ORDER_LABELS.__getitem__,
            default=default_order,
            key=ORDER_KEY,
            help="Which model's ranking orders the list; number keys follow this order.",
        )
        order_by = cast(OrderBy, choice or default_order)
    merged = compare(result, generated, order_by)
    if merged.disagree and result is not None and generated is not None:
        ours, theirs = result.candidates[0], generated.candidates[0]
        st.warning(
            widgets.md(
                f"The models disagree: reranker → {ours.name} ({ours.concept_id}), "
                f"generator → {theirs.name} ({theirs.concept_id})."
            ),
            icon=":material/call_split:",
        )
    return merged


def visible_rows(merged: Comparison) -> list[tuple[int, ComparedCandidate]]:
    """(1-based position, row) to draw: the first nine, then the other model's top three if they fell below.

    Ordered by one model, the other's best proposals can rank past the nine number keys; they
    stay visible (and clickable) so a disagreement is never hidden from the curator.
    """
    other_rank = "retriever_rank" if merged.order_by == "generator" else "generator_rank"
    shown = list(enumerate(merged.rows, start=1))
    head = shown[:N_KEYED]
    tail = [(i, row) for i, row in shown[N_KEYED:] if (getattr(row, other_rank) or N_OTHER + 1) <= N_OTHER]
    return head + tail


def score_text(row: ComparedCandidate, *, two_models: bool) -> str:
    """What the score column says: each model's probability and rank (or that it did not propose it)."""
    candidate = row.candidate
    if not two_models:
        p = row.reranker_probability
        return (f"p {p:.2f}" if p is not None else "uncalibrated") + f" · raw {candidate.raw_score:.3f}"
    reranker = (
        "reranker —"
        if row.retriever_rank is None
        else f"reranker {_p(row.reranker_probability)} · retriever #{row.retriever_rank}"
    )
    if row.generator_rank is None:
        generator = "generator —"
    else:
        beams = "" if row.generator_calibrated else " (beam share)"
        generator = f"generator {_p(row.generator_probability)}{beams} · #{row.generator_rank}"
    return f"{reranker}  \n{generator}"


def bar_value(row: ComparedCandidate, order_by: str) -> float:
    """The progress bar shows the ordering model's probability (0 when it did not propose the concept)."""
    p = row.generator_probability if order_by == "generator" else row.reranker_probability
    if p is None and order_by != "generator" and row.retriever_rank is not None:
        p = row.candidate.raw_score  # an uncalibrated pipeline: its raw score, as before
    return min(1.0, max(0.0, p or 0.0))


def _p(value: float | None) -> str:
    return "p ?" if value is None else f"p {value:.2f}"
