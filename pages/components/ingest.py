"""Importing documents from the Documents page: pasted text, uploaded files, samples.

Each document is stored in its own transaction, so a bad file or a clashing id loses
nothing that was already stored, and the good documents of a file are kept next to its
bad lines. Problems are collected and returned for the page to show; nothing here calls
Streamlit, which keeps the upload path testable with plain pytest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bel_core.linking.compare import SecondLinker
from bel_core.formats.documents import InputProblem, document_from_text, parse_upload
from bel_core.errors import BelError
from bel_core.linking.pipeline import Linker
from bel_core.types import Document, Mention
from usecases import services
from usecases.services import IngestReport

# Plain text and PubTator are what parse_upload understands; the uploader filters by these.
UPLOAD_TYPES = ("txt", "pubtator")


@dataclass
class ImportOutcome:
    """What an import stored and what it could not use.

    Attributes:
        reports: one per document stored (or found already stored).
        problems: skipped lines, with file and line, from files that were otherwise read.
        errors: messages for whole files or documents that were rejected.
        n_gold_decisions: decisions recorded from the files' own concept ids.
    """

    reports: list[IngestReport] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    n_gold_decisions: int = 0

    @property
    def n_new_documents(self) -> int:
        """Documents that were not in the store before this import."""
        return sum(not r.already_stored for r in self.reports)

    @property
    def n_new_mentions(self) -> int:
        """Mentions stored (and linked) by this import."""
        return sum(r.n_new_mentions for r in self.reports)


def _ingest(
    store: sessionmaker[Session],
    linker: Linker,
    document: Document,
    mentions: Sequence[Mention],
    outcome: ImportOutcome,
    *,
    gold_curator: str | None = None,
    generator: SecondLinker | None = None,
) -> None:
    """Store one document with its mentions in its own transaction, recording any error.

    With ``gold_curator``, the concept ids that came with the mentions are recorded as
    that curator's decisions in the same transaction (a corpus imported as gold). With a
    ``generator``, its ranking of the new mentions is stored beside the pipeline's.
    """
    try:
        with store.begin() as session:
            report = services.ingest_document(session, linker, document, mentions, generator=generator)
            if gold_curator is not None and mentions:
                outcome.n_gold_decisions += services.import_gold_decisions(
                    session, linker, mentions, curator=gold_curator
                )
            outcome.reports.append(report)
    except BelError as e:
        outcome.errors.append(str(e))


def import_text(
    store: sessionmaker[Session],
    linker: Linker,
    text: str,
    doc_id: str | None,
    generator: SecondLinker | None = None,
) -> ImportOutcome:
    """Store pasted text as a document, detect and link its mentions.

    Args:
        store: session factory.
        linker: the linking pipeline.
        text: the pasted text (kept verbatim).
        doc_id: optional external id; blank means the default ``paste-<hash>`` id.
        generator: the generative linker, when one serves beside the pipeline.
    """
    outcome = ImportOutcome()
    try:
        document = document_from_text(text, doc_id=(doc_id or "").strip() or None)
    except BelError as e:
        outcome.errors.append(str(e))
        return outcome
    _ingest(store, linker, document, (), outcome, generator=generator)
    return outcome


def import_files(
    store: sessionmaker[Session],
    linker: Linker,
    files: Iterable[tuple[str, bytes]],
    *,
    max_bytes: int,
    gold_curator: str | None = None,
    generator: SecondLinker | None = None,
) -> ImportOutcome:
    """Parse uploaded files (plain text or PubTator) and store every document they hold.

    Args:
        store: session factory.
        linker: the linking pipeline.
        files: (file name, content) pairs.
        max_bytes: the largest file accepted (``settings.max_upload_bytes``).
        gold_curator: record the files' concept ids (PubTator) as this curator's
            decisions; None imports the spans only.
        generator: the generative linker, when one serves beside the pipeline.

    Returns:
        Reports for stored documents, line problems, and file-level errors.
    """
    outcome = ImportOutcome()
    for filename, data in files:
        try:
            parsed = parse_upload(filename, data, max_bytes=max_bytes)
        except BelError as e:
            outcome.errors.append(str(e))
            continue
        outcome.problems.extend(parsed.problems)
        by_doc: dict[str, list[Mention]] = defaultdict(list)
        for mention in parsed.mentions:
            by_doc[mention.doc_id].append(mention)
        for document in parsed.documents:
            _ingest(
                store,
                linker,
                document,
                by_doc[document.doc_id],
                outcome,
                gold_curator=gold_curator,
                generator=generator,
            )
    return outcome


def run_generator(store: sessionmaker[Session], generator: SecondLinker, doc_ids: Iterable[str]) -> list[str]:
    """Store the generator's ranking of every mention of these documents, one transaction each.

    Returns:
        Error messages, one per document that could not be linked (the others are stored).
    """
    errors = []
    for doc_id in doc_ids:
        try:
            with store.begin() as session:
                services.link_with_generator(session, generator, doc_id)
        except BelError as e:
            errors.append(f"{doc_id}: {e}")
    return errors


def sample_files(directory: Path) -> list[Path]:
    """The sample documents shipped with the app, sorted by name (empty if none)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lstrip(".") in UPLOAD_TYPES)
