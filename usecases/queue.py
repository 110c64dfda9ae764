"""The review queue across documents: riskiest mentions first, filters, near-duplicate groups.

Risk is the probability that accepting the machine's top candidate would be wrong:
``1 - P(top-1 is right)``, raised to ``P(NIL)`` when the linker estimates that the right
concept is not among the candidates at all. A mention without a calibrated probability
(or without candidates) is maximally risky. Ties go to the smaller top-1/top-2 margin.

Near-duplicates are mentions with the same normalised text and the same top concept; the
Review page previews their contexts and can record one decision per member at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from bel_core.text import normalize
from bel_core.types import Candidate, Decision, DecisionStatus, Mention
from db import queries, repository
from db.mapping import MentionKey, to_mention
from db.models import AssignmentRow, CandidateRow, DocumentRow, LinkRunRow, MentionRow


@dataclass(frozen=True, slots=True)
class QueueItem:
    """A mention waiting for (or, with include_decided, having) a curator verdict."""

    mention: Mention
    top: Candidate | None
    top_probability: float | None
    margin: float | None
    status: DecisionStatus | None
    nil_probability: float | None = None
    risk: float = 1.0
    curator: str | None = None  # who made the latest decision counted
    generator_top: Candidate | None = None  # the generative linker's top-1, when it ran

    @property
    def models_disagree(self) -> bool:
        """Both model families proposed a top concept and the two differ."""
        return (
            self.top is not None
            and self.generator_top is not None
            and (self.top.concept_id != self.generator_top.concept_id)
        )

    @property
    def group_key(self) -> tuple[str, str] | None:
        """(normalised text, top concept id): equal keys are near-duplicates; None without a top."""
        return None if self.top is None else (normalize(self.mention.text), self.top.concept_id)


@dataclass(frozen=True, slots=True)
class QueueFilters:
    """Which mentions the queue shows; empty or None fields do not filter.

    Attributes:
        doc_ids: only these documents.
        semantic_type: mentions whose label, or whose top concept's types, include it.
        statuses: latest verdicts to show; ``None`` in the set stands for undecided.
        curator: mentions of documents assigned to this curator, or decided by them.
        disagreement: only mentions whose two model families' top concepts differ.
    """

    doc_ids: frozenset[str] = field(default_factory=frozenset)
    semantic_type: str | None = None
    statuses: frozenset[DecisionStatus | None] | None = None
    curator: str | None = None
    disagreement: bool = False


def risk(top_probability: float | None, p_nil: float | None) -> float:
    """P(accepting the top candidate is wrong): 1 - p(top), at least P(NIL); 1.0 when unknown."""
    wrong = 1.0 if top_probability is None else 1.0 - top_probability
    return max(wrong, p_nil or 0.0)


def margin(candidates: Sequence[Candidate]) -> float | None:
    """Top-1 minus top-2 score (calibrated when both have one, else raw); None without candidates."""
    if not candidates:
        return None
    pair = candidates[:2]
    calibrated = [c.calibrated_score for c in pair if c.calibrated_score is not None]
    scores = calibrated if len(calibrated) == len(pair) else [c.raw_score for c in pair]
    # A lone candidate has no rival: its margin is its own score.
    return scores[0] - (scores[1] if len(scores) > 1 else 0.0)


def _assigned_docs(session: Session, curator: str) -> set[str]:
    query = select(DocumentRow.doc_id).join(AssignmentRow).where(AssignmentRow.curator == curator)
    return set(session.scalars(query))


def review_queue(
    session: Session,
    doc_id: str | None = None,
    *,
    include_decided: bool = False,
    filters: QueueFilters | None = None,
    latest: Mapping[MentionKey, Decision] | None = None,
    types_of: Callable[[str], Sequence[str]] | None = None,
) -> list[QueueItem]:
    """Mentions in the order a curator should review them.

    Order: never decided, then deferred (SKIPPED, NEEDS_CONTEXT), then (only with
    ``include_decided``) decided; within each group the highest risk first, then the
    smallest margin, then doc_id and start.

    Args:
        session: an open session.
        doc_id: one document, or None for all.
        include_decided: keep mentions with a settled verdict.
        filters: narrow the queue (document, semantic type, status, curator, disagreement).
        latest: the latest decision per mention to go by (e.g. a curator's own on
            double-annotated documents); by default everyone's latest.
        types_of: concept id -> semantic types, needed by the semantic type filter.
    """
    filters = filters or QueueFilters()
    results = top_two(session, doc_id)
    generated = top_two(session, doc_id, linker="generator")
    decided = latest if latest is not None else repository.latest_decisions(session, doc_id)
    assigned = _assigned_docs(session, filters.curator) if filters.curator else set()
    items: list[tuple[tuple[Any, ...], QueueItem]] = []
    for row, d in session.execute(queries.mentions_query(doc_id)):
        key = (d, row.start, row.end)
        decision = decided.get(key)
        # An undo back to "undecided" leaves a row, but no verdict.
        status = decision.status if decision and decision.status is not DecisionStatus.UNDECIDED else None
        group = 0 if status is None else 1 if status in queries.OPEN_STATUSES else 2
        if (group == 2 and not include_decided) or (filters.doc_ids and d not in filters.doc_ids):
            continue
        if filters.statuses is not None and status not in filters.statuses:
            continue
        if filters.curator and d not in assigned and (decision is None or decision.curator != filters.curator):
            continue
        stored = results.get(key)
        candidates = stored.candidates if stored else ()
        top = candidates[0] if candidates else None
        if filters.semantic_type and filters.semantic_type not in item_types(row.label, top, types_of):
            continue
        prob = top.calibrated_score if top else None
        p_nil = stored.nil_probability if stored else None
        gap = margin(candidates)
        item_risk = risk(prob, p_nil)
        curator = decision.curator if decision else None
        by_generator = generated.get(key)
        generator_top = by_generator.candidates[0] if by_generator and by_generator.candidates else None
        item = QueueItem(to_mention(row, d), top, prob, gap, status, p_nil, item_risk, curator, generator_top)
        if filters.disagreement and not item.models_disagree:
            continue
        items.append(((group, -item_risk, gap is not None, gap or 0.0, d, row.start, row.end), item))
    return [item for _, item in sorted(items, key=lambda pair: pair[0])]


@dataclass(frozen=True, slots=True)
class TopTwo:
    """A mention's two best candidates from its newest run (without per-stage scores) and its P(NIL)."""

    candidates: tuple[Candidate, ...]
    nil_probability: float | None


def top_two(session: Session, doc_id: str | None, *, linker: str = "retriever") -> dict[MentionKey, TopTwo]:
    """Per mention, the rank-0 and rank-1 candidates of its newest run of ``linker``'s family.

    The queue needs only these to order by risk and margin; reading plain columns of two
    rows per mention (not every candidate as an ORM object) keeps opening Review on a
    corpus of 50,000 mentions to seconds.
    """
    latest = (
        select(CandidateRow.mention_id, func.max(CandidateRow.link_run_id).label("run_id"))
        .join(MentionRow, MentionRow.id == CandidateRow.mention_id)
        .join(DocumentRow, DocumentRow.id == MentionRow.document_id)
        .join(LinkRunRow, LinkRunRow.id == CandidateRow.link_run_id)
        .where(*queries.scope(doc_id), LinkRunRow.linker == linker)
        .group_by(CandidateRow.mention_id)
        .subquery()
    )
    query = (
        select(
            DocumentRow.doc_id,
            MentionRow.start,
            MentionRow.end,
            CandidateRow.concept_id,
            CandidateRow.name,
            CandidateRow.matched_alias,
            CandidateRow.stage,
            CandidateRow.raw_score,
            CandidateRow.calibrated_score,
            CandidateRow.nil_probability,
        )  # fmt: skip
        .join(
            latest, and_(latest.c.mention_id == CandidateRow.mention_id, latest.c.run_id == CandidateRow.link_run_id)
        )
        .join(MentionRow, MentionRow.id == CandidateRow.mention_id)
        .join(DocumentRow, DocumentRow.id == MentionRow.document_id)
        .where(CandidateRow.rank < 2)
        .order_by(CandidateRow.mention_id, CandidateRow.rank)
    )
    grouped: dict[MentionKey, list[Candidate]] = defaultdict(list)
    nil: dict[MentionKey, float | None] = {}
    for d, start, end, concept_id, name, alias, stage, raw, calibrated, p_nil in session.execute(query):
        key = (d, start, end)
        if key not in nil:
            nil[key] = p_nil
        grouped[key].append(Candidate(concept_id, name, alias, stage, raw, calibrated))
    return {key: TopTwo(tuple(found), nil[key]) for key, found in grouped.items()}


def item_types(
    label: str | None, top: Candidate | None, types_of: Callable[[str], Sequence[str]] | None
) -> tuple[str, ...]:
    """A mention's semantic types: its label (from an imported file), then its top concept's types."""
    found = [label] if label else []
    if top is not None and types_of is not None:
        found += [t for t in types_of(top.concept_id) if t not in found]
    return tuple(found)


def near_duplicates(items: Iterable[QueueItem]) -> dict[tuple[str, str], list[QueueItem]]:
    """Groups of two or more items with the same normalised text and top concept, in queue order."""
    groups: dict[tuple[str, str], list[QueueItem]] = defaultdict(list)
    for item in items:
        if item.group_key is not None:
            groups[item.group_key].append(item)
    return {k: members for k, members in groups.items() if len(members) > 1}
