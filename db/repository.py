"""Repository: functions(session, ...) that map ORM rows to and from ``bel_core.types``.

Every function takes a Session first and only ``flush``es: the caller owns the
transaction (``with factory.begin() as session:``), so a use case that fails half-way
leaves nothing behind. Mentions are addressed by their key ``(doc_id, start, end)``.

"Latest" always means the highest id: the newest link run per mention, and the newest
decision per mention (decisions are append-only; older ones are history).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bel_core.errors import DecisionError, InputFormatError
from bel_core.formats.gold import GoldAnnotation
from bel_core.types import Decision, Document, LinkResult, Mention
from db import queries
from db.mapping import (
    DecisionContext,
    MentionKey,
    candidate_row,
    decision_row,
    mention_row,
    nil_probability,
    sha256,
    to_decision,
    to_mention,
)
from db.models import DecisionRow, DocumentRow, LinkRunRow, MentionRow


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    """One line of the document list, with curation progress."""

    doc_id: str
    source: str
    created_at: datetime
    n_mentions: int
    n_decided: int  # mentions whose latest decision is a verdict (SKIPPED does not count)


def add_document(session: Session, document: Document) -> bool:
    """Store ``document`` unless it is already there.

    Returns:
        True if stored now; False if the same doc_id with the same text is already stored.

    Raises:
        InputFormatError: the doc_id is stored with a different text.
    """
    digest = sha256(document.text)
    stored = session.scalar(select(DocumentRow).where(DocumentRow.doc_id == document.doc_id))
    if stored is not None:
        if stored.text_sha256 == digest:
            return False
        raise InputFormatError(
            document.doc_id,
            "a document with this id is already stored with a different text; rename the file or give it another id",
        )
    session.add(
        DocumentRow(
            doc_id=document.doc_id,
            text=document.text,
            source=document.source,
            title_end=document.title_end,
            text_sha256=digest,
        )
    )
    session.flush()
    return True


def get_document(session: Session, doc_id: str) -> Document:
    """The stored document ``doc_id``; DecisionError if it is unknown."""
    row = queries.document_row(session, doc_id)
    return Document(row.doc_id, row.text, row.source, row.title_end)


def list_documents(session: Session) -> list[DocumentSummary]:
    """All documents, newest first, with how many mentions they have and how many are decided."""
    latest = queries.latest_decision_ids().subquery()
    decided = (
        select(MentionRow.document_id, func.count().label("n"))
        .join(latest, latest.c.mention_id == MentionRow.id)
        .join(DecisionRow, DecisionRow.id == latest.c.decision_id)
        .where(DecisionRow.status.not_in(queries.OPEN_STATUSES))
        .group_by(MentionRow.document_id)
        .subquery()
    )
    counts = select(MentionRow.document_id, func.count().label("n")).group_by(MentionRow.document_id).subquery()
    rows = session.execute(
        select(DocumentRow, func.coalesce(counts.c.n, 0), func.coalesce(decided.c.n, 0))
        .outerjoin(counts, counts.c.document_id == DocumentRow.id)
        .outerjoin(decided, decided.c.document_id == DocumentRow.id)
        .order_by(DocumentRow.created_at.desc(), DocumentRow.id.desc())
    )
    return [DocumentSummary(d.doc_id, d.source, d.created_at, n, k) for d, n, k in rows]


def add_mentions(session: Session, mentions: Sequence[Mention]) -> list[Mention]:
    """Store the mentions whose spans are new; stored spans are kept as they are.

    Returns:
        The mentions stored now, in input order (the first of duplicate spans wins).

    Raises:
        DecisionError: a mention's document is not stored.
        InputFormatError: a mention's text is not the document text at its span.
    """
    documents: dict[str, tuple[DocumentRow, set[tuple[int, int]]]] = {}
    added: list[Mention] = []
    for mention in mentions:
        if mention.doc_id not in documents:
            row = queries.document_row(session, mention.doc_id)
            spans = session.execute(select(MentionRow.start, MentionRow.end).where(MentionRow.document_id == row.id))
            documents[mention.doc_id] = (row, {(start, end) for start, end in spans})
        doc, stored = documents[mention.doc_id]
        found = doc.text[mention.start : mention.end]
        if found != mention.text:
            raise InputFormatError(
                mention.doc_id,
                f"mention {mention.text!r} at {mention.start}-{mention.end} does not match the text there "
                f"({found!r}); check the offsets",
            )
        if (mention.start, mention.end) not in stored:
            stored.add((mention.start, mention.end))
            session.add(mention_row(mention, document_id=doc.id))
            added.append(mention)
    session.flush()
    return added


def get_mention(session: Session, key: MentionKey) -> Mention:
    """The stored mention ``key``; DecisionError if there is none."""
    doc_id, start, end = key
    found = session.execute(queries.mentions_query(doc_id).where(*queries.scope(None, (start, end)))).first()
    if found is None:
        raise DecisionError(f"No mention {start}-{end} in document {doc_id!r}; add the span as a mention first")
    return to_mention(*found)


def list_mentions(session: Session, doc_id: str) -> list[Mention]:
    """The mentions of a document, by start offset."""
    return [to_mention(row, d) for row, d in session.execute(queries.mentions_query(doc_id))]


def add_link_run(
    session: Session, doc_id: str, results: Sequence[LinkResult], *, config_hash: str = "", linker: str = "retriever"
) -> int:
    """Store one linker run over mentions of ``doc_id``; returns the run id.

    ``linker`` names the model family ("retriever" or "generator") the run belongs to.

    Raises:
        ValueError: ``results`` is empty, or mixes documents or model/KB versions.
        DecisionError: a result's mention is not stored.
    """
    if not results:
        raise ValueError("add_link_run needs at least one LinkResult; skip the run when nothing was linked")
    versions = {(r.model_version, r.kb_version) for r in results}
    if len(versions) > 1 or any(r.mention.doc_id != doc_id for r in results):
        raise ValueError(f"One link run covers one document and one model/KB version; got {sorted(versions)}")
    model_version, kb_version = versions.pop()
    run = LinkRunRow(
        document_id=queries.document_row(session, doc_id).id,
        model_version=model_version,
        kb_version=kb_version,
        config_hash=config_hash,
        linker=linker,
    )
    for result in results:
        mention_id = queries.mention_id(session, result.mention.key)
        p_nil = nil_probability(result)
        run.candidates.extend(
            candidate_row(c, mention_id=mention_id, rank=rank, nil_probability=p_nil if rank == 0 else None)
            for rank, c in enumerate(result.candidates)
        )
    session.add(run)
    session.flush()
    return run.id


def documents_linked_by(session: Session, linker: str) -> set[str]:
    """The doc ids with at least one run of ``linker``'s family ("retriever" or "generator")."""
    query = select(DocumentRow.doc_id).join(LinkRunRow, LinkRunRow.document_id == DocumentRow.id)
    return set(session.scalars(query.where(LinkRunRow.linker == linker).distinct()))


def latest_link_results(session: Session, doc_id: str, *, linker: str = "retriever") -> dict[MentionKey, LinkResult]:
    """For each mention of ``doc_id``, the result of ``linker``'s newest run that proposed candidates for it.

    Mentions no run found candidates for are absent (the UI shows "no candidates").
    """
    return {k: stored.result for k, stored in queries.latest_results(session, doc_id, linker=linker).items()}


def latest_link_result(session: Session, key: MentionKey) -> tuple[LinkResult, int] | None:
    """The newest link result for one mention and its run id, or None if it has no candidates."""
    stored = queries.latest_results(session, key[0], key[1:]).get(key)
    return None if stored is None else (stored.result, stored.run_id)


def add_decision(
    session: Session,
    decision: Decision,
    *,
    link_run_id: int | None = None,
    context: DecisionContext | None = None,
) -> int:
    """Append a curator decision; returns its id. Earlier decisions stay as history.

    Args:
        session: the caller's session.
        decision: the verdict.
        link_run_id: the run whose candidates were shown (overrides ``context.link_run_id``).
        context: versions, blind mode, undo and adjudication marks.

    Raises:
        DecisionError: the mention is not stored.
        ValueError: ``decision.decided_at`` is naive (only UTC-aware times are stored).
    """
    context = context or DecisionContext()
    if link_run_id is not None:
        context = replace(context, link_run_id=link_run_id)
    row = decision_row(decision, mention_id=queries.mention_id(session, decision.mention_key), context=context)
    session.add(row)
    session.flush()
    return row.id


def latest_decisions(session: Session, doc_id: str | None = None) -> dict[MentionKey, Decision]:
    """The newest decision per mention (of one document, or of all)."""
    out: dict[MentionKey, Decision] = {}
    for row, mention, d in queries.latest_decision_rows(session, doc_id):
        key = (d, mention.start, mention.end)
        out[key] = to_decision(row, key)
    return out


def decision_history(session: Session, key: MentionKey) -> list[Decision]:
    """Every decision on one mention, oldest first; empty if it was never decided."""
    doc_id, start, end = key
    rows = session.scalars(
        select(DecisionRow)
        .join(MentionRow, MentionRow.id == DecisionRow.mention_id)
        .join(DocumentRow, DocumentRow.id == MentionRow.document_id)
        .where(*queries.scope(doc_id, (start, end)))
        .order_by(DecisionRow.id)
    )
    return [to_decision(row, key) for row in rows]


def gold_annotations(session: Session) -> tuple[list[Document], list[GoldAnnotation]]:
    """The gold decision per mention, with the documents they belong to.

    Gold is the latest adjudicated decision of a mention if an adjudicator resolved it,
    else its latest decision; open verdicts (SKIPPED, NEEDS_CONTEXT) are left out.

    Returns:
        Documents that have at least one gold decision (by doc_id), and the annotations
        ordered by doc_id, start, end.
    """
    adjudicated = {m.id: row for row, m, _ in queries.latest_decision_rows(session, None, adjudicated=True)}
    records: list[GoldAnnotation] = []
    documents: dict[str, Document] = {}
    for latest, mention, d in queries.latest_decision_rows(session, None):
        row = adjudicated.get(mention.id, latest)
        if row.status in queries.OPEN_STATUSES:
            continue
        key = (d, mention.start, mention.end)
        records.append(GoldAnnotation(to_mention(mention, d), to_decision(row, key)))
        if d not in documents:
            documents[d] = get_document(session, d)
    return list(documents.values()), records
