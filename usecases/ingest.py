"""Ingest: documents and their annotations into the curation store, one path for every caller.

The Documents page (pasted text, uploads, samples) and ``bel import`` both call this
module, with the same behaviour:

- **Formats.** Files are read by ``bel_core.formats.inputs.iter_files``: every format it
  knows (PubTator, BioC XML/JSON, BigBio, brat pairs, GSC+, plain text) and zip archives
  of them. ``IngestOptions.max_bytes`` (``settings.max_upload_bytes``) holds for each file,
  each archive member and pasted text alike.
- **Refusals.** A file that cannot be read is refused with its reason. A file with bad
  records (a span that does not match its text, a malformed line) is refused whole, every
  bad record listed with file and line, unless ``skip_bad_spans`` stores its good records
  and lists the bad ones as skipped. A document whose id is stored with another text is
  refused alone. Each document has its own transaction, so a refusal changes nothing
  already stored, and the next file is read whatever happened to this one.
- **Duplicates.** A document whose text is already stored (under another id) is not stored
  again; the summary names the stored document so the caller can offer to open it.
- **Detection.** The detector runs on documents that came without spans. A file's own
  spans are its annotator's; detected mentions are mixed in only with ``detect_with_spans``.
- **Gold.** ``as_gold`` records the files' concept ids as decisions of curator
  ``import:<file>`` (``services.import_gold_decisions``: ids kept as written, primary ids
  beside them). An id the KB lacks is kept, and reported as a notice with file and line.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bel_core.errors import BelError
from bel_core.formats.documents import PASTE_NAME, InputProblem, document_from_text
from bel_core.formats.inputs import ReadFile, iter_files
from bel_core.linking.protocols import Linker
from bel_core.linking.protocols import MentionLinker as MentionLinker
from bel_core.types import Document, Mention
from db.mapping import sha256
from db.models import DocumentRow
from usecases import services
from usecases.services import IngestReport

if TYPE_CHECKING:
    from bel_core.linking.protocols import Linker, MentionLinker

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """How an import treats its input (the same defaults for the page and the CLI).

    Attributes:
        max_bytes: the largest file, archive member or pasted text accepted.
        format: one of ``bel_core.formats.IMPORT_FORMATS``; ``auto`` detects per file.
        as_gold: record the files' concept ids as decisions (a curated corpus).
        skip_bad_spans: store a file's good records and skip its bad ones, instead of
            refusing the whole file.
        detect_with_spans: also detect mentions in documents that came with spans.
    """

    max_bytes: int
    format: str = "auto"
    as_gold: bool = False
    skip_bad_spans: bool = False
    detect_with_spans: bool = False


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A document not stored because the same text is stored already."""

    doc_id: str  # the id the new document would have had
    source: str
    stored_doc_id: str


@dataclass(frozen=True, slots=True)
class IngestSummary:
    """What an import stored, and what it refused, skipped or wants the curator to know.

    Attributes:
        reports: one per document stored now or found identical in the store.
        duplicates: documents whose text is stored under another id (not stored again).
        n_gold: gold decisions recorded.
        refused: files, records and documents not stored, each with file and line.
        skipped: bad records left out of stored files (``skip_bad_spans``).
        notices: stored, but worth a look: gold ids the KB lacks (kept as given).
    """

    reports: tuple[IngestReport, ...] = ()
    duplicates: tuple[Duplicate, ...] = ()
    n_gold: int = 0
    refused: tuple[InputProblem, ...] = ()
    skipped: tuple[InputProblem, ...] = ()
    notices: tuple[InputProblem, ...] = ()

    @property
    def n_documents(self) -> int:
        """Documents that were not in the store before this import."""
        return sum(not r.already_stored for r in self.reports)

    @property
    def n_already_stored(self) -> int:
        """Identical documents that were already stored (nothing changed)."""
        return sum(r.already_stored for r in self.reports)

    @property
    def n_mentions(self) -> int:
        """Mentions stored (and linked) by this import."""
        return sum(r.n_new_mentions for r in self.reports)


@dataclass
class _Run:
    """The state of one import: the store, the linkers, the options and what happened."""

    store: sessionmaker[Session]
    linker: Linker
    options: IngestOptions
    generator: MentionLinker | None = None
    progress: Progress | None = None
    done: int = 0  # documents handled (stored, found, duplicate or refused)
    known: int = 0  # documents in the files read so far
    reports: list[IngestReport] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    refused: list[InputProblem] = field(default_factory=list)
    skipped: list[InputProblem] = field(default_factory=list)
    notices: list[InputProblem] = field(default_factory=list)
    n_gold: int = 0

    def summary(self) -> IngestSummary:
        return IngestSummary(
            tuple(self.reports),
            tuple(self.duplicates),
            self.n_gold,
            tuple(self.refused),
            tuple(self.skipped),
            tuple(self.notices),
        )

    def store_document(self, document: Document, spans: Sequence[Mention], lines: _LineIndex | None = None) -> None:
        """One document with its spans (and gold) in its own transaction; a refusal rolls back alone."""
        try:
            with self.store.begin() as session:
                stored_as = same_text(session, document.text)
                if stored_as is not None and stored_as != document.doc_id:
                    self.duplicates.append(Duplicate(document.doc_id, document.source, stored_as))
                    return
                detect = self.options.detect_with_spans or not spans
                report = services.ingest_document(
                    session, self.linker, document, spans, detect=detect, generator=self.generator
                )
                n_gold = 0
                if self.options.as_gold and spans:
                    curator = f"import:{document.source}"
                    n_gold = services.import_gold_decisions(session, self.linker, spans, curator=curator)
        except BelError as e:
            self.refused.append(InputProblem(document.source, None, f"document {document.doc_id!r} not stored: {e}"))
            return
        self.reports.append(report)
        self.n_gold += n_gold
        if n_gold:
            self.notices += _ids_not_in_kb(self.linker, document.source, spans, lines or _LineIndex(()))

    def read(self, read: ReadFile) -> None:
        """Store one file's documents, or refuse it."""
        parsed = read.parsed
        if not parsed.documents:
            self.refused += parsed.problems
            return
        if parsed.problems and not self.options.skip_bad_spans:
            reason = (
                f"not stored: {len(parsed.problems)} bad record(s), listed below; fix them, "
                "or store the file without them (Documents page: 'store without the bad spans', "
                "bel import: --skip-bad-spans)"
            )
            self.refused += (InputProblem(read.name, None, reason), *parsed.problems)
            return
        self.skipped += parsed.problems
        by_doc: dict[str, list[Mention]] = defaultdict(list)
        for mention in parsed.mentions:
            by_doc[mention.doc_id].append(mention)
        self.known += len(parsed.documents)
        lines = _LineIndex(read.raw)
        for document in parsed.documents:
            self.store_document(document, by_doc[document.doc_id], lines)
            self.done += 1
            if self.progress is not None:
                self.progress(self.done, self.known)


def same_text(session: Session, text: str) -> str | None:
    """The doc id of a stored document with exactly this text, or None."""
    return session.scalar(select(DocumentRow.doc_id).where(DocumentRow.text_sha256 == sha256(text)).limit(1))


_TOKEN_SEPARATORS = re.compile(rb"[\s|+,;:\"'<>=\[\]{}()]+")


class _LineIndex:
    """Which lines of a file name a token, built on first use (only imports with notices pay for it)."""

    def __init__(self, raw: tuple[bytes, ...]) -> None:
        self._raw = raw
        self._index: dict[bytes, list[tuple[int, frozenset[bytes]]]] | None = None

    def _tokens(self, token: str) -> list[tuple[int, frozenset[bytes]]]:
        if self._index is None:
            self._index = defaultdict(list)
            for data in self._raw:
                for n, line in enumerate(data.split(b"\n"), start=1):
                    tokens = frozenset(_TOKEN_SEPARATORS.split(line))
                    for t in tokens:
                        self._index[t].append((n, tokens))
        return self._index.get(token.encode("utf-8"), [])

    def line_of(self, mention: Mention, concept_id: str) -> int | None:
        """The first line naming both the id and the mention's start offset (None when no line
        does, as in formats that put offsets and ids on separate lines)."""
        start = str(mention.start).encode()
        # Ids are matched whole and so are offsets; "MESH:D1" is split like the file's tokens.
        parts = [p for p in _TOKEN_SEPARATORS.split(concept_id.encode("utf-8")) if p]
        for n, tokens in self._tokens(parts[-1].decode("utf-8")) if parts else ():
            if start in tokens and all(p in tokens for p in parts):
                return n
        return None


def _ids_not_in_kb(linker: Linker, source: str, mentions: Sequence[Mention], lines: _LineIndex) -> list[InputProblem]:
    notices = []
    for mention in mentions:
        for cid in services.resolve_given(linker, mention.annotated_ids)[1]:
            where = f"{mention.doc_id} {mention.start}-{mention.end} {mention.text!r}"
            message = f"{where}: id {cid}: not in KB {linker.kb_version}; kept as given"
            notices.append(InputProblem(source, lines.line_of(mention, cid), message))
    return notices


def ingest_text(
    store: sessionmaker[Session],
    linker: Linker,
    text: str,
    *,
    options: IngestOptions,
    doc_id: str | None = None,
    generator: MentionLinker | None = None,
) -> IngestSummary:
    """Store pasted text as one document, detect and link its mentions.

    Args:
        store: session factory.
        linker: detects and links.
        text: the pasted text (kept verbatim); refused over ``options.max_bytes`` bytes.
        options: the import options (only ``max_bytes`` matters for text).
        doc_id: external id; blank or None means ``paste-<hash of the text>``.
        generator: the generative linker, when one serves beside the pipeline.
    """
    run = _Run(store, linker, options, generator)
    size = len(text.encode("utf-8"))
    if size > options.max_bytes:
        reason = f"the text is {size:,} bytes, over the limit of {options.max_bytes:,}; paste a shorter text"
        run.refused.append(InputProblem(PASTE_NAME, None, reason))
        return run.summary()
    try:
        document = document_from_text(text, doc_id=(doc_id or "").strip() or None)
    except BelError as e:
        run.refused.append(InputProblem(PASTE_NAME, None, getattr(e, "reason", str(e))))
        return run.summary()
    run.store_document(document, ())
    return run.summary()


def ingest_files(
    store: sessionmaker[Session],
    linker: Linker,
    files: Sequence[tuple[str, bytes]],
    *,
    options: IngestOptions,
    generator: MentionLinker | None = None,
    progress: Progress | None = None,
) -> IngestSummary:
    """Read every file and store its documents, one transaction per document (see the module doc).

    Args:
        store: session factory.
        linker: detects and links; resolves gold ids.
        files: (file name, content) pairs; zip archives are expanded.
        options: format, size limit, gold, bad records, detection.
        generator: the generative linker, when one serves beside the pipeline.
        progress: called as ``progress(documents done, documents known so far)``.

    Raises:
        ValueError: ``options.format`` is not a known format.
    """
    run = _Run(store, linker, options, generator, progress)
    _read_all(run, files)
    return run.summary()


def ingest_paths(
    store: sessionmaker[Session],
    linker: Linker,
    paths: Iterable[str],
    *,
    options: IngestOptions,
    progress: Progress | None = None,
) -> IngestSummary:
    """Like :func:`ingest_files` for files on disk; a path that cannot be read is refused, the rest go on."""
    run = _Run(store, linker, options, progress=progress)
    files = []
    for path in paths:
        try:
            files.append((path, Path(path).read_bytes()))
        except IsADirectoryError:
            run.refused.append(InputProblem(path, None, "is a directory; give the files in it, or a zip archive"))
        except OSError as e:
            run.refused.append(InputProblem(path, None, f"cannot be read: {e.strerror or e}"))
    _read_all(run, files)
    return run.summary()


def _read_all(run: _Run, files: Sequence[tuple[str, bytes]]) -> None:
    for read in iter_files(files, format=run.options.format, max_bytes=run.options.max_bytes):
        run.read(read)


def rank_with_generator(store: sessionmaker[Session], generator: MentionLinker, doc_ids: Iterable[str]) -> list[str]:
    """Store the generator's ranking of every mention of these stored documents, one transaction each.

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
