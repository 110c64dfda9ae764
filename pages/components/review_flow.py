"""Cursor arithmetic for the review queue and small decision helpers (no Streamlit calls).

The queue order comes from ``usecases.queue.review_queue`` (riskiest first); this module only
decides where the cursor goes next, how the span editor moves a boundary, and which
mentions are reviewed blind, so the rules are testable without a page.
"""

from __future__ import annotations

from collections.abc import Sequence

from bel_core.types import DecisionStatus, LinkResult, MentionKey


def merge_order(remembered: Sequence[MentionKey], fresh: Sequence[MentionKey]) -> list[MentionKey]:
    """The stable review order: the remembered one, updated with the database's queue.

    The repository puts decided mentions last, so re-reading its queue after each click
    would move the mention just decided out from under "previous". Keeping the order the
    document was opened with (dropping vanished mentions, appending new ones in queue
    order) gives the curator a list that stays put while they work through it.
    """
    present = set(fresh)
    kept = [key for key in remembered if key in present]
    known = set(kept)
    return [*kept, *(key for key in fresh if key not in known)]


def step(order: Sequence[MentionKey], current: MentionKey | None, offset: int) -> MentionKey | None:
    """The key ``offset`` places from ``current`` in ``order``, clamped to the ends.

    An unknown ``current`` starts from the first item; an empty queue gives None.
    """
    if not order:
        return None
    if current not in order:
        return order[0]
    index = order.index(current) + offset
    return order[max(0, min(len(order) - 1, index))]


def next_after_decision(
    order: Sequence[MentionKey],
    current: MentionKey,
    undecided: set[MentionKey],
) -> MentionKey:
    """Where the cursor goes after a decision: the next undecided mention in queue order.

    Searching forward from the current position (wrapping around) keeps the curator
    moving through the queue instead of jumping back to its top after every click. When
    nothing is left undecided the cursor stays on the mention just decided.
    """
    if current not in order:
        return next(iter(k for k in order if k in undecided), current)
    start = order.index(current)
    rotated = [*order[start + 1 :], *order[:start]]
    return next((k for k in rotated if k in undecided), current)


def top_probability(result: LinkResult | None) -> float | None:
    """The calibrated probability of the top candidate; None when there are no candidates.

    An uncalibrated pipeline leaves ``calibrated_score`` empty; its raw score then stands
    in so the highlight still ranks mentions, rather than greying out every one of them.
    """
    if result is None or result.top is None:
        return None
    top = result.top
    return top.calibrated_score if top.calibrated_score is not None else top.raw_score


def status_for_concept(concept_id: str, result: LinkResult | None) -> DecisionStatus:
    """ACCEPTED when the chosen concept is the machine's top candidate, else CORRECTED."""
    if result is not None and result.top is not None and result.top.concept_id == concept_id:
        return DecisionStatus.ACCEPTED
    return DecisionStatus.CORRECTED
