"""Typed records that flow between the linking stages.

Document -> Mention -> LinkResult (ranked Candidates) -> Decision; plus the two shapes every
layer shares, ``MentionKey`` and the ``Progress`` callback.

Every record is a frozen, slotted dataclass: stages never mutate what they receive, and
the records are safe to cache and to share between Streamlit sessions. Offsets are
always character offsets into ``Document.text``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

MentionKey = tuple[str, int, int]  # (doc_id, start, end): identifies a mention in every layer
Progress = Callable[[str, int, int], None]  # progress(stage, done, total), for the UI's bars and the CLI's logs


class DecisionStatus(StrEnum):
    """What a curator concluded about one mention (one verdict, never a set of flags)."""

    ACCEPTED = "accepted"  # the top-ranked candidate is right
    CORRECTED = "corrected"  # another candidate, or a concept found by KB search, is right
    NIL = "nil"  # the mention is an entity, but its concept is not in the KB
    WRONG_SPAN = "wrong_span"  # the span boundaries are wrong
    NOT_ENTITY = "not_entity"  # the span is not an entity of interest at all
    SKIPPED = "skipped"  # looked at, deferred
    NEEDS_CONTEXT = "needs_context"  # deferred: the text around the mention does not settle it
    UNDECIDED = "undecided"  # an undo back to no verdict at all: the mention is open again

    @property
    def links_concept(self) -> bool:
        """True when the decision carries concept ids (gold links)."""
        return self in (DecisionStatus.ACCEPTED, DecisionStatus.CORRECTED)


class MentionOrigin(StrEnum):
    """Where a mention span came from."""

    DETECTED = "detected"  # the dictionary matcher found it
    MANUAL = "manual"  # a curator added it by giving its span
    IMPORTED = "imported"  # it came with the uploaded file (e.g. PubTator lines)


@dataclass(frozen=True, slots=True)
class Document:
    """A text to curate. ``doc_id`` is the external id (PMID, file name, paste id)."""

    doc_id: str
    text: str
    source: str = "paste"
    title_end: int = 0  # text[:title_end] is the title (PubTator's |t| line), 0 when there is none

    def __post_init__(self) -> None:
        if not self.doc_id or not self.doc_id.strip():
            raise ValueError("Document.doc_id must be a non-empty string")
        if not 0 <= self.title_end <= len(self.text):
            raise ValueError(f"Document.title_end must be in [0, {len(self.text)}], got {self.title_end}")


@dataclass(frozen=True, slots=True)
class Mention:
    """A span of a document that should be linked to a KB concept.

    ``annotated_ids`` holds concept ids that came with an imported file (PubTator's 6th
    column); they are suggestions or gold depending on how the file was imported.
    """

    doc_id: str
    start: int
    end: int
    text: str
    label: str | None = None
    origin: MentionOrigin = MentionOrigin.DETECTED
    annotated_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (0 <= self.start < self.end):
            raise ValueError(f"Mention span must satisfy 0 <= start < end, got ({self.start}, {self.end})")
        if len(self.text) != self.end - self.start:
            raise ValueError(
                f"Mention text {self.text!r} has length {len(self.text)} but the span "
                f"({self.start}, {self.end}) covers {self.end - self.start} characters"
            )

    @property
    def key(self) -> MentionKey:
        """Identity of a mention: (doc_id, start, end)."""
        return (self.doc_id, self.start, self.end)


@dataclass(frozen=True, slots=True)
class Concept:
    """A knowledge-base concept (UMLS/MeSH/HPO style)."""

    concept_id: str
    name: str
    synonyms: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    definition: str | None = None
    parents: tuple[str, ...] = ()
    xrefs: tuple[str, ...] = ()
    alt_ids: tuple[str, ...] = ()  # retired/secondary ids that resolve to this concept

    @property
    def names(self) -> tuple[str, ...]:
        """Preferred name first, then synonyms."""
        return (self.name, *self.synonyms)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One ranked KB concept proposed for a mention, with its provenance.

    Attributes:
        concept_id: KB id of the proposed concept.
        name: the concept's preferred name (snapshot at link time).
        matched_alias: the KB name or synonym that matched the mention best.
        stage: which stage produced the score shown (``tfidf``, ``dense``, ``hybrid``, ...).
        raw_score: the stage's uncalibrated score.
        calibrated_score: P(this candidate is the right concept), or None if uncalibrated.
        stage_scores: per-stage raw scores that fed ``raw_score`` (e.g. tfidf and dense).
    """

    concept_id: str
    name: str
    matched_alias: str
    stage: str
    raw_score: float
    calibrated_score: float | None = None
    stage_scores: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class LinkResult:
    """The machine's answer for one mention: candidates in rank order (best first)."""

    mention: Mention
    candidates: tuple[Candidate, ...]
    model_version: str
    kb_version: str
    nil_probability: float | None = None  # P(the right concept is not among the candidates)

    @property
    def top(self) -> Candidate | None:
        """Best candidate, or None when retrieval found nothing."""
        return self.candidates[0] if self.candidates else None


@dataclass(frozen=True, slots=True)
class Decision:
    """A curator's verdict on one mention. Decisions are append-only; the latest wins.

    ``shown`` records the candidates (with scores) the curator saw when deciding, and
    ``corrected_span`` the new (start, end) for a WRONG_SPAN verdict when given.
    """

    doc_id: str
    start: int
    end: int
    status: DecisionStatus
    concept_ids: tuple[str, ...] = ()
    curator: str = "local"
    decided_at: datetime | None = None
    note: str = ""
    shown: tuple[Candidate, ...] = field(default_factory=tuple)
    corrected_span: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.status.links_concept and not self.concept_ids:
            raise ValueError(f"A {self.status.value} decision needs at least one concept id")
        if not self.status.links_concept and self.concept_ids:
            raise ValueError(f"A {self.status.value} decision carries no concept ids, got {self.concept_ids}")

    @property
    def mention_key(self) -> MentionKey:
        """The (doc_id, start, end) of the decided mention."""
        return (self.doc_id, self.start, self.end)
