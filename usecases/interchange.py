"""Import and export use cases over the curation store, in the interchange formats.

Import: parsed inputs (``bel_core.formats.iter_inputs``) are stored document by document,
one transaction per document, so a document the store refuses (same id, other text) is
reported as a problem and rolls back alone while everything before and after it stays.
Imported annotations are stored as mentions whose ids are suggestions to review, or,
``as_gold``, also recorded as corpus-gold decisions (``services.import_gold_decisions``).

Export: the gold (``repository.gold_annotations``) written by ``bel_core.formats``; a
mention is written when its decision links concepts (its ids) or says NIL (the format's
"no id"); WRONG_SPAN and NOT_ENTITY decisions are not gold links and are left out. CSV
and JSONL carry every gold decision with its status. brat gives several files.

KB updates: ``decisions_affected`` lists stored decisions whose concept ids a new KB
release retired or merged (``bel_core.kb.diff``).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from bel_core.formats.documents import InputProblem, ParsedInput
from bel_core.errors import BelError
from bel_core.formats.gold import GoldAnnotation, gold_jsonl
from bel_core.formats import WRITERS, write_brat, write_csv
from bel_core.kb.diff import KBDiff
from bel_core.types import DecisionStatus, Mention
from db import repository
from usecases import services

if TYPE_CHECKING:
    from bel_core.linking.pipeline import Linker

EXPORT_FORMATS = ("pubtator", "bioc-xml", "bioc-json", "bigbio", "brat", "csv", "jsonl", "gsc")
_SUFFIX = {"pubtator": ".pubtator", "bioc-xml": ".xml", "bioc-json": ".json", "bigbio": ".jsonl", "gsc": ".tsv"}


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What ``import_inputs`` stored, and every problem met on the way."""

    n_documents: int  # newly stored documents
    n_already_stored: int  # identical documents that were already there (nothing changed)
    n_mentions: int  # newly stored mentions
    n_gold: int  # gold decisions recorded
    problems: tuple[InputProblem, ...]


def import_inputs(
    factory: sessionmaker[Session],
    linker: Linker,
    parts: Iterable[ParsedInput],
    *,
    as_gold: bool,
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Store parsed inputs, one transaction per document.

    Args:
        factory: session factory of the store.
        linker: links the new mentions (and detects some in documents without any).
        parts: parsed files, consumed one at a time (a generator keeps memory flat).
        as_gold: also record the imported ids as decisions (curator ``import:<source>``).
        progress: called as ``progress(documents done, documents known so far)``.

    Returns:
        The counts, and the parsing problems plus one problem per refused document.
    """
    problems: list[InputProblem] = []
    n_new = n_old = n_mentions = n_gold = done = known = 0
    for part in parts:
        problems += part.problems
        known += len(part.documents)
        by_doc: dict[str, list[Mention]] = {}
        for mention in part.mentions:
            by_doc.setdefault(mention.doc_id, []).append(mention)
        for document in part.documents:
            spans = by_doc.get(document.doc_id, [])
            try:
                with factory.begin() as session:
                    report = services.ingest_document(session, linker, document, spans, detect=not spans)
                    if as_gold:
                        curator = f"import:{document.source}"
                        n_gold += services.import_gold_decisions(session, linker, spans, curator=curator)
            except BelError as e:
                problems.append(InputProblem(document.source, None, f"document {document.doc_id!r} not stored: {e}"))
            else:
                n_old += report.already_stored
                n_new += not report.already_stored
                n_mentions += report.n_new_mentions
            done += 1
            if progress is not None:
                progress(done, known)
    return ImportSummary(n_new, n_old, n_mentions, n_gold, tuple(problems))


def _annotations(records: Iterable[GoldAnnotation]) -> dict[str, list[tuple[Mention, tuple[str, ...]]]]:
    annotations: dict[str, list[tuple[Mention, tuple[str, ...]]]] = {}
    for record in records:
        status = record.decision.status
        if status.links_concept or status is DecisionStatus.NIL:
            annotations.setdefault(record.mention.doc_id, []).append((record.mention, record.decision.concept_ids))
    return annotations


def gold_files(session: Session, fmt: str) -> dict[str, str]:
    """The current gold as ``{file name: content}``: one ``gold.<ext>`` file, or brat's pairs.

    Raises:
        ValueError: ``fmt`` is not one of :data:`EXPORT_FORMATS`.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    documents, records = repository.gold_annotations(session)
    if fmt == "csv":
        return {"gold.csv": write_csv(records)}
    if fmt == "jsonl":
        return {"gold.jsonl": gold_jsonl(records)}
    annotations = _annotations(records)
    if fmt == "brat":
        return write_brat(documents, annotations)
    return {f"gold{_SUFFIX[fmt]}": WRITERS[fmt](documents, annotations)}


def write_gold(session: Session, fmt: str, out: Path) -> int:
    """Write the current gold to ``out``; returns the number of files written.

    Single-file formats are written to ``out`` itself. brat is written into the directory
    ``out`` (created), or into a zip archive when ``out`` ends with ``.zip``.
    """
    files = gold_files(session, fmt)
    if fmt != "brat":
        out.write_text(next(iter(files.values())), encoding="utf-8")
        return 1
    if out.suffix.lower() == ".zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in files.items():
                archive.writestr(name, content)
        out.write_bytes(buffer.getvalue())
    else:
        out.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (out / name).write_text(content, encoding="utf-8")
    return len(files)


@dataclass(frozen=True, slots=True)
class AffectedDecision:
    """A stored decision linking to an id that a new KB release retired or merged."""

    key: tuple[str, int, int]
    status: DecisionStatus
    concept_id: str
    change: str  # "retired" or "merged"
    replacement: str | None  # the new primary id when merged


def decisions_affected(session: Session, diff: KBDiff) -> list[AffectedDecision]:
    """The latest decisions (by mention key) that use an id ``diff`` retires or merges."""
    changes = diff.changes()
    affected = []
    for key, decision in sorted(repository.latest_decisions(session).items()):
        for concept_id in decision.concept_ids:
            if concept_id in changes:
                new = changes[concept_id]
                affected.append(
                    AffectedDecision(key, decision.status, concept_id, "retired" if new is None else "merged", new)
                )
    return affected
