"""Export: the gold a user may see, in every interchange format (one path for page and CLI).

Gold is, per mention, the latest adjudicated decision if an adjudicator resolved it, else
the latest decision; open verdicts (SKIPPED, NEEDS_CONTEXT) are left out.

Who sees what: adjudicators and admins (and ``bel export``, run by whoever holds the
database) export everyone's decisions. A curator never sees another curator's
independent verdicts: on a document assigned to two or more curators (double annotation)
only their own and adjudicated decisions count. No format writes candidate scores, so a
blind mention's scores do not leave through an export either.

Ids: imported gold is written with the ids as the file gave them (``decisions.given_ids``:
alternate ids, ids the KB lacks); ``normalized`` writes the primary ids instead. A
curator's own decisions always carry primary ids.

Formats: the document formats (PubTator, BioC XML/JSON, BigBio, GSC+, brat) write each
concept-linking or NIL decision (``bel_core.formats.gold.gold_links``); CSV and JSONL carry
every gold decision with its status; brat gives a ``.txt``/``.ann`` pair per document,
zipped for a download.
"""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bel_core.formats import WRITERS, write_brat, write_csv
from bel_core.formats.gold import GoldAnnotation, gold_jsonl, gold_links
from bel_core.types import Document
from db import queries, repository
from db.mapping import to_decision, to_mention
from db.models import AssignmentRow, DecisionRow, DocumentRow, MentionRow, Role
from usecases.auth import User


@dataclass(frozen=True, slots=True)
class ExportFormat:
    """One export format as offered for download."""

    name: str
    label: str
    file_name: str
    mime: str


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("jsonl", "JSON Lines (every decision with its status)", "bel_gold.jsonl", "application/jsonl"),
        ExportFormat("pubtator", "PubTator", "bel_gold.pubtator", "text/plain"),
        ExportFormat("bioc-xml", "BioC XML", "bel_gold.xml", "application/xml"),
        ExportFormat("bioc-json", "BioC JSON", "bel_gold.json", "application/json"),
        ExportFormat("bigbio", "BigBio KB (JSON Lines)", "bel_gold.bigbio.jsonl", "application/jsonl"),
        ExportFormat("gsc", "GSC+ (tab-separated)", "bel_gold.tsv", "text/tab-separated-values"),
        ExportFormat("csv", "CSV (decisions, no text)", "bel_gold.csv", "text/csv"),
        ExportFormat("brat", "brat standoff (zip of .txt and .ann)", "bel_gold_brat.zip", "application/zip"),
    )
}
EXPORT_FORMATS = tuple(FORMATS)


def sees_everyone(user: User) -> bool:
    """True for the roles that export every curator's decisions (adjudicators, admins)."""
    return user.can(Role.ADJUDICATOR)


def _double_annotated(session: Session) -> set[str]:
    query = (
        select(DocumentRow.doc_id)
        .join(AssignmentRow, AssignmentRow.document_id == DocumentRow.id)
        .group_by(DocumentRow.doc_id)
        .having(func.count(func.distinct(AssignmentRow.curator)) > 1)
    )
    return set(session.scalars(query))


def gold_records(
    session: Session, user: User, *, normalized: bool = False
) -> tuple[list[Document], list[GoldAnnotation]]:
    """The gold ``user`` may see (module doc): documents with gold, and records by doc_id, start, end."""
    hidden_docs = set() if sees_everyone(user) else _double_annotated(session)
    query = (
        select(DecisionRow, MentionRow, DocumentRow.doc_id)
        .join(MentionRow, MentionRow.id == DecisionRow.mention_id)
        .join(DocumentRow, DocumentRow.id == MentionRow.document_id)
        .order_by(DecisionRow.id)
    )
    latest: dict[int, tuple[DecisionRow, MentionRow, str]] = {}
    adjudicated: dict[int, DecisionRow] = {}
    for row, mention, doc_id in session.execute(query):
        if row.adjudicated:
            adjudicated[mention.id] = row
        if row.adjudicated or doc_id not in hidden_docs or row.curator == user.name:
            latest[mention.id] = (row, mention, doc_id)  # ascending ids: the last one wins
    records: list[GoldAnnotation] = []
    for mention_id, (row, mention, doc_id) in latest.items():
        row = adjudicated.get(mention_id, row)
        if row.status in queries.OPEN_STATUSES:
            continue
        key = (doc_id, mention.start, mention.end)
        decision = to_decision(row, key)
        if row.given_ids is not None and not normalized:
            decision = replace(decision, concept_ids=tuple(row.given_ids))
        records.append(GoldAnnotation(to_mention(mention, doc_id), decision))
    records.sort(key=lambda r: r.mention.key)
    doc_ids = dict.fromkeys(r.mention.doc_id for r in records)
    return [repository.get_document(session, d) for d in doc_ids], records


def status_counts(records: list[GoldAnnotation]) -> Counter[str]:
    """Gold decisions per status value (what the Export page tabulates)."""
    return Counter(r.decision.status.value for r in records)


def gold_files(session: Session, fmt: str, user: User, *, normalized: bool = False) -> dict[str, str]:
    """The gold ``user`` may see as ``{file name: content}``: one file, or brat's pairs.

    Raises:
        ValueError: ``fmt`` is not one of :data:`EXPORT_FORMATS`.
    """
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    documents, records = gold_records(session, user, normalized=normalized)
    return render(fmt, documents, records)


def render(fmt: str, documents: list[Document], records: list[GoldAnnotation]) -> dict[str, str]:
    """Selected gold in one format (see :func:`gold_files`)."""
    name = FORMATS[fmt].file_name
    if fmt == "csv":
        return {name: write_csv(records)}
    if fmt == "jsonl":
        return {name: gold_jsonl(records)}
    if fmt == "brat":
        return write_brat(documents, gold_links(records))
    return {name: WRITERS[fmt](documents, gold_links(records))}


def as_download(fmt: str, files: dict[str, str]) -> bytes:
    """One file's bytes, or a zip archive of brat's files."""
    if fmt != "brat":
        return next(iter(files.values())).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def write_gold(session: Session, fmt: str, out: Path, user: User, *, normalized: bool = False) -> int:
    """Write the gold ``user`` may see to ``out``; returns the number of files written.

    Single-file formats are written to ``out`` itself. brat is written into the directory
    ``out`` (created), or into a zip archive when ``out`` ends with ``.zip``.
    """
    files = gold_files(session, fmt, user, normalized=normalized)
    if fmt != "brat" or out.suffix.lower() == ".zip":
        out.write_bytes(as_download(fmt, files))
        return 1 if fmt != "brat" else len(files)
    out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (out / name).write_text(content, encoding="utf-8")
    return len(files)
