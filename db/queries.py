"""SELECT statements shared by the repository: scoping by document/span and "latest" rows.

"Latest" is the highest id: ``latest_results`` takes, per mention, the newest link run that
proposed candidates for it; ``latest_decision_ids`` the newest decision. Both filter by
document inside their GROUP BY subquery, so asking about one document does not group the
whole table. Nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session

from bel_core.errors import DecisionError, DocumentNotFoundError
from bel_core.types import DecisionStatus, LinkResult
from db.mapping import MentionKey, to_candidate, to_mention
from db.models import CandidateRow, DecisionRow, DocumentRow, LinkRunRow, MentionRow

# Verdicts that defer the mention instead of settling it: not progress, never gold.
OPEN_STATUSES = frozenset({DecisionStatus.SKIPPED, DecisionStatus.NEEDS_CONTEXT, DecisionStatus.UNDECIDED})


def document_row(session: Session, doc_id: str) -> DocumentRow:
    """The row of document ``doc_id``; DocumentNotFoundError if it is not stored."""
    row = session.scalar(select(DocumentRow).where(DocumentRow.doc_id == doc_id))
    if row is None:
        raise DocumentNotFoundError(doc_id)
    return row


def scope(doc_id: str | None, span: tuple[int, int] | None = None) -> list[ColumnElement[bool]]:
    """WHERE conditions for one document (or all) and optionally one span; needs mentions joined to documents."""
    conditions = [] if doc_id is None else [DocumentRow.doc_id == doc_id]
    if span is not None:
        conditions += [MentionRow.start == span[0], MentionRow.end == span[1]]
    return conditions


def mention_id(session: Session, key: MentionKey) -> int:
    """The primary key of mention ``key``; DecisionError if it is not stored."""
    doc_id, start, end = key
    found = session.scalar(select(MentionRow.id).join(DocumentRow).where(*scope(doc_id, (start, end))))
    if found is None:
        raise DecisionError(f"No mention {start}-{end} in document {doc_id!r}; add the span as a mention first")
    return found


def mentions_query(doc_id: str | None) -> Select[MentionRow, str]:
    """(mention row, doc_id) of one document or of all, by doc_id, start, end."""
    query = select(MentionRow, DocumentRow.doc_id).join(DocumentRow).where(*scope(doc_id))
    return query.order_by(DocumentRow.doc_id, MentionRow.start, MentionRow.end)


@dataclass(frozen=True, slots=True)
class StoredResult:
    """A mention's newest link result, the run it came from, and the P(NIL) stored with it."""

    result: LinkResult
    run_id: int
    nil_probability: float | None


def latest_results(
    session: Session, doc_id: str | None, span: tuple[int, int] | None = None, *, linker: str = "retriever"
) -> dict[MentionKey, StoredResult]:
    """Per mention in scope, its newest link result that has candidates, with the run id.

    Only runs of ``linker``'s family count ("retriever" or "generator"), so a generator run
    never hides the retriever's candidates and vice versa.
    """
    latest = (
        select(CandidateRow.mention_id, func.max(CandidateRow.link_run_id).label("run_id"))
        .join(MentionRow, MentionRow.id == CandidateRow.mention_id)
        .join(DocumentRow, DocumentRow.id == MentionRow.document_id)
        .join(LinkRunRow, LinkRunRow.id == CandidateRow.link_run_id)
        .where(*scope(doc_id, span), LinkRunRow.linker == linker)
        .group_by(CandidateRow.mention_id)
        .subquery()
    )
    query = (
        select(CandidateRow, MentionRow, DocumentRow.doc_id, LinkRunRow)
        .join(
            latest, and_(latest.c.mention_id == CandidateRow.mention_id, latest.c.run_id == CandidateRow.link_run_id)
        )
        .join(MentionRow, MentionRow.id == CandidateRow.mention_id)
        .join(DocumentRow, DocumentRow.id == MentionRow.document_id)
        .join(LinkRunRow, LinkRunRow.id == CandidateRow.link_run_id)
        .order_by(CandidateRow.mention_id, CandidateRow.rank)
    )
    grouped: dict[MentionKey, list[tuple[CandidateRow, MentionRow, str, LinkRunRow]]] = defaultdict(list)
    for row in session.execute(query):
        grouped[(row[2], row[1].start, row[1].end)].append(row)
    out: dict[MentionKey, StoredResult] = {}
    for key, rows in grouped.items():
        _, mention, d, run = rows[0]
        candidates = tuple(to_candidate(r[0]) for r in rows)
        result = LinkResult(to_mention(mention, d), candidates, run.model_version, run.kb_version)
        out[key] = StoredResult(result, run.id, rows[0][0].nil_probability)
    return out


def latest_decision_ids(doc_id: str | None = None, *, adjudicated: bool = False) -> Select[int, int]:
    """(mention_id, id of its newest decision) for the mentions of one document, or of all.

    With ``adjudicated``, only adjudicators' resolutions count.
    """
    query = (
        select(DecisionRow.mention_id, func.max(DecisionRow.id).label("decision_id"))
        .join(MentionRow, MentionRow.id == DecisionRow.mention_id)
        .join(DocumentRow, DocumentRow.id == MentionRow.document_id)
        .where(*scope(doc_id))
    )
    if adjudicated:
        query = query.where(DecisionRow.adjudicated)
    return query.group_by(DecisionRow.mention_id)


def latest_decision_rows(
    session: Session, doc_id: str | None, *, adjudicated: bool = False
) -> Iterable[tuple[DecisionRow, MentionRow, str]]:
    """(newest decision, its mention, doc_id) per decided mention, by doc_id, start, end."""
    latest = latest_decision_ids(doc_id, adjudicated=adjudicated).subquery()
    query = (
        select(DecisionRow, MentionRow, DocumentRow.doc_id)
        .join(latest, latest.c.decision_id == DecisionRow.id)
        .join(MentionRow, MentionRow.id == DecisionRow.mention_id)
        .join(DocumentRow, DocumentRow.id == MentionRow.document_id)
        .order_by(DocumentRow.doc_id, MentionRow.start, MentionRow.end)
    )
    return session.execute(query)
