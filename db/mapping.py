"""Conversions between ORM rows and ``bel_core.types`` records (no queries here).

Candidates appear twice in the schema: as ``candidates`` rows (the machine's output) and
as JSON inside ``decisions.shown`` (the snapshot a curator saw). Both go through this
module so they round-trip to the same ``Candidate``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from bel_core.types import Candidate, Decision, LinkResult, Mention, MentionKey
from db.models import CandidateRow, DecisionRow, MentionRow, utcnow


@dataclass(frozen=True, slots=True)
class DecisionContext:
    """What surrounded a decision beyond the ``Decision`` itself (stored with it, for audit).

    Attributes:
        link_run_id: the run whose candidates were on screen, None if there were none.
        kb_version: version of the KB the curator searched and linked against.
        model_version: the linker that produced the candidates.
        suggestions_hidden: blind review: no candidates or scores were shown.
        undoes_id: this decision takes back decision ``undoes_id`` (an undo).
        adjudicated: an adjudicator's resolution of a disagreement; it becomes gold.
        given_ids: imported gold: the ids as the file wrote them (``concept_ids`` are
            their primary ids); None for a curator's decision.
    """

    link_run_id: int | None = None
    kb_version: str | None = None
    model_version: str | None = None
    suggestions_hidden: bool = False
    undoes_id: int | None = None
    adjudicated: bool = False
    given_ids: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class StoredDecision:
    """A decision as stored: its row id (for optimistic concurrency and undo) and its context."""

    id: int
    decision: Decision
    context: DecisionContext


def sha256(text: str) -> str:
    """Hex digest of the UTF-8 text; identifies a document's content."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def to_mention(row: MentionRow, doc_id: str) -> Mention:
    """A stored mention as a ``Mention`` (the row knows its document only by primary key)."""
    return Mention(doc_id, row.start, row.end, row.text, row.label, row.origin, tuple(row.annotated_ids))


def mention_row(mention: Mention, *, document_id: int) -> MentionRow:
    """A new ``mentions`` row for ``mention`` in the document with primary key ``document_id``."""
    return MentionRow(
        document_id=document_id,
        start=mention.start,
        end=mention.end,
        text=mention.text,
        label=mention.label,
        origin=mention.origin,
        annotated_ids=list(mention.annotated_ids),
    )


def candidate_to_json(c: Candidate) -> dict[str, Any]:
    """A candidate as a JSON object (for ``decisions.shown``)."""
    return {
        "concept_id": c.concept_id,
        "name": c.name,
        "matched_alias": c.matched_alias,
        "stage": c.stage,
        "raw_score": c.raw_score,
        "calibrated_score": c.calibrated_score,
        "stage_scores": [[stage, score] for stage, score in c.stage_scores],
    }


def candidate_from_json(d: dict[str, Any]) -> Candidate:
    """Inverse of ``candidate_to_json``; JSON has no tuples, so they are rebuilt here."""
    return Candidate(**{**d, "stage_scores": tuple((stage, score) for stage, score in d["stage_scores"])})


def candidate_row(c: Candidate, *, mention_id: int, rank: int, nil_probability: float | None = None) -> CandidateRow:
    """A new ``candidates`` row for ``c`` at ``rank`` (0 = best), with the mention's P(NIL) at rank 0."""
    return CandidateRow(
        mention_id=mention_id,
        rank=rank,
        concept_id=c.concept_id,
        name=c.name,
        matched_alias=c.matched_alias,
        stage=c.stage,
        raw_score=c.raw_score,
        calibrated_score=c.calibrated_score,
        stage_scores=[[stage, score] for stage, score in c.stage_scores],
        nil_probability=nil_probability,
    )


def to_candidate(row: CandidateRow) -> Candidate:
    """A stored candidate as a ``Candidate``."""
    return Candidate(
        row.concept_id,
        row.name,
        row.matched_alias,
        row.stage,
        row.raw_score,
        row.calibrated_score,
        tuple((stage, score) for stage, score in row.stage_scores),
    )


def nil_probability(result: LinkResult) -> float | None:
    """The linker's P(NIL) for a result, None from linkers that do not estimate it.

    Read with ``getattr`` because the field is optional in the ``Linker`` protocol's results.
    """
    value = getattr(result, "nil_probability", None)
    return None if value is None else float(value)


def decision_row(decision: Decision, *, mention_id: int, context: DecisionContext) -> DecisionRow:
    """A new ``decisions`` row; a missing ``decided_at`` becomes now (UTC)."""
    start, end = decision.corrected_span or (None, None)
    return DecisionRow(
        mention_id=mention_id,
        status=decision.status,
        concept_ids=list(decision.concept_ids),
        curator=decision.curator,
        decided_at=decision.decided_at or utcnow(),
        note=decision.note,
        link_run_id=context.link_run_id,
        shown=[candidate_to_json(c) for c in decision.shown],
        corrected_start=start,
        corrected_end=end,
        kb_version=context.kb_version,
        model_version=context.model_version,
        suggestions_hidden=context.suggestions_hidden,
        undoes_id=context.undoes_id,
        adjudicated=context.adjudicated,
        given_ids=None if context.given_ids is None else list(context.given_ids),
    )


def to_decision(row: DecisionRow, key: MentionKey) -> Decision:
    """A stored decision as a ``Decision`` on the mention ``key``."""
    corrected = None
    if row.corrected_start is not None and row.corrected_end is not None:
        corrected = (row.corrected_start, row.corrected_end)
    return Decision(
        *key,
        status=row.status,
        concept_ids=tuple(row.concept_ids),
        curator=row.curator,
        decided_at=row.decided_at,
        note=row.note,
        shown=tuple(candidate_from_json(d) for d in row.shown),
        corrected_span=corrected,
    )


def to_stored_decision(row: DecisionRow, key: MentionKey) -> StoredDecision:
    """A stored decision with its id and context."""
    context = DecisionContext(
        row.link_run_id,
        row.kb_version,
        row.model_version,
        row.suggestions_hidden,
        row.undoes_id,
        row.adjudicated,
        None if row.given_ids is None else tuple(row.given_ids),
    )
    return StoredDecision(row.id, to_decision(row, key), context)
