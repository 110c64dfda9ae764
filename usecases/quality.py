"""Figures for the Quality page, read from the decisions table (no Streamlit, no plotting).

Every figure is built from what curators actually saw and did: throughput per curator
per day, the queue burn-down, the calibration of the top-1 probability shown against
whether the curator accepted it, and agreement pairs from double annotation.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bel_core.linking.agreement import AgreementPair, outcome
from bel_core.types import Decision, DecisionStatus
from db import queries
from db.mapping import MentionKey, to_stored_decision
from db.models import CandidateRow, DecisionRow, DocumentRow, MentionRow


@dataclass(frozen=True, slots=True)
class DecisionFacts:
    """Every decision with what the Quality page needs about its mention."""

    decision: Decision
    suggestions_hidden: bool
    adjudicated: bool
    is_undo: bool
    label: str | None


def _all_decisions(session: Session) -> list[DecisionFacts]:
    query = (
        select(DecisionRow, MentionRow, DocumentRow.doc_id)
        .join(MentionRow, MentionRow.id == DecisionRow.mention_id)
        .join(DocumentRow, DocumentRow.id == MentionRow.document_id)
        .order_by(DecisionRow.id)
    )
    out = []
    for row, mention, doc_id in session.execute(query):
        stored = to_stored_decision(row, (doc_id, mention.start, mention.end))
        ctx = stored.context
        out.append(
            DecisionFacts(
                stored.decision, ctx.suggestions_hidden, ctx.adjudicated, ctx.undoes_id is not None, mention.label
            )
        )
    return out


def decisions_per_curator_day(session: Session) -> dict[tuple[date, str], int]:
    """(day, curator) -> number of decisions recorded (undos included: they are work too)."""
    counts: Counter[tuple[date, str]] = Counter()
    for facts in _all_decisions(session):
        if facts.decision.decided_at is not None:
            counts[(facts.decision.decided_at.date(), facts.decision.curator)] += 1
    return dict(sorted(counts.items()))


def burn_down(session: Session) -> list[tuple[date, int, int]]:
    """Per day with activity: (day, mentions stored by then, of which still without a settled verdict).

    A mention counts as settled from its first verdict that is not SKIPPED/NEEDS_CONTEXT.
    """
    created = {i: t for i, t in session.execute(select(MentionRow.id, MentionRow.created_at))}
    settled: dict[int, date] = {}
    rows = session.execute(
        select(DecisionRow.mention_id, DecisionRow.status, DecisionRow.decided_at).order_by(DecisionRow.id)
    )
    for mention_id, status, decided_at in rows:
        if status not in queries.OPEN_STATUSES and mention_id not in settled:
            settled[mention_id] = decided_at.date()
    days = sorted({t.date() for t in created.values()} | set(settled.values()))
    return [
        (day, n := sum(t.date() <= day for t in created.values()), n - sum(d <= day for d in settled.values()))
        for day in days
    ]


def calibration_points(session: Session) -> list[tuple[float, bool]]:
    """(top-1 probability the curator saw, whether they accepted it) for each latest verdict.

    Only verdicts on the link count (accepted vs corrected or NIL), and only where
    suggestions were shown with a calibrated probability.
    """
    points = []
    for row, _, _ in queries.latest_decision_rows(session, None):
        if row.suggestions_hidden or not row.shown or row.status not in _LINK_VERDICTS:
            continue
        probability = row.shown[0].get("calibrated_score")
        if probability is not None:
            points.append((float(probability), row.status is DecisionStatus.ACCEPTED))
    return points


_LINK_VERDICTS = frozenset({DecisionStatus.ACCEPTED, DecisionStatus.CORRECTED, DecisionStatus.NIL})


def agreement_pairs(session: Session, types_of: Callable[[str], Sequence[str]] | None = None) -> list[AgreementPair]:
    """Per mention settled by two or more curators, the latest verdicts of the first two (by name).

    Adjudicated decisions are not one of the pair's judgements and are skipped. The type
    is the mention's label, else the first type of the first curator's first concept.
    """
    latest: dict[MentionKey, dict[str, DecisionFacts]] = defaultdict(dict)
    for facts in _all_decisions(session):
        if not facts.adjudicated:
            latest[facts.decision.mention_key][facts.decision.curator] = facts
    pairs = []
    for by_curator in latest.values():
        settled = [f for _, f in sorted(by_curator.items()) if f.decision.status not in queries.OPEN_STATUSES]
        if len(settled) < 2:
            continue
        a, b = settled[:2]
        semantic_type = a.label
        if semantic_type is None and types_of is not None and a.decision.concept_ids:
            semantic_type = next(iter(types_of(a.decision.concept_ids[0])), None)
        pairs.append(
            AgreementPair(a.decision, b.decision, semantic_type, a.suggestions_hidden or b.suggestions_hidden)
        )
    return pairs


def top1_outcomes(session: Session) -> list[tuple[Decision, str | None, bool]]:
    """(latest verdict, the top-1 concept of the run it was made on, suggestions hidden) per mention."""
    out = []
    for row, mention, doc_id in queries.latest_decision_rows(session, None):
        top = None
        if row.link_run_id is not None:
            top = session.scalar(
                select(CandidateRow.concept_id).where(
                    CandidateRow.link_run_id == row.link_run_id,
                    CandidateRow.mention_id == mention.id,
                    CandidateRow.rank == 0,
                )
            )
        stored = to_stored_decision(row, (doc_id, mention.start, mention.end))
        out.append((stored.decision, top, row.suggestions_hidden))
    return out


def open_disagreements(
    session: Session, types_of: Callable[[str], Sequence[str]] | None = None
) -> list[AgreementPair]:
    """Pairs whose verdicts differ on a mention no adjudicator has resolved yet (the adjudication queue)."""
    resolved = {(d, m.start, m.end) for _, m, d in queries.latest_decision_rows(session, None, adjudicated=True)}
    return [
        p
        for p in agreement_pairs(session, types_of)
        if outcome(p.a) != outcome(p.b) and p.a.mention_key not in resolved
    ]
