"""Document input: pasted text, uploaded files and PubTator, with problems reported by line.

Stage: the entry point, before detection and linking. It turns bytes or text into
:class:`~bel_core.types.Document` and imported :class:`~bel_core.types.Mention` records and
writes them back as PubTator. It never repairs input: a mention whose text does not match
the document at its offsets is reported (file, line, both strings) and skipped, because a
silently shifted span would become wrong gold. It does not detect or link mentions.

PubTator, as read here::

    PMID|t|title
    PMID|a|abstract
    PMID<TAB>start<TAB>end<TAB>text<TAB>type<TAB>id[|id...][<TAB>composite texts]
    PMID<TAB>CID<TAB>chemical_id<TAB>disease_id        (relation: skipped)

The document text is ``title + " " + abstract`` (just the title when the abstract is
empty) and offsets are character offsets into it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bel_core.errors import InputFormatError
from bel_core.types import Document, Mention, MentionOrigin

PASTE_NAME = "<pasted text>"
_TITLE_OR_ABSTRACT = re.compile(r"^([^\t|]+)\|([ta])\|(.*)$")
# Content sniffing: a PubTator file starts with "ID|t|" (or "ID|a|", so that an abstract
# written before its title is reported as out of order rather than read as plain text).
_PUBTATOR_FIRST_LINE = re.compile(r"^\S+\|[ta]\|")
_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
# Share of control bytes (other than tab/newline/CR/form feed) above which a file is binary.
_MAX_CONTROL_SHARE = 0.1
_CONTROL_BYTES = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D}
_MAX_PROBLEMS_IN_ERROR = 5


@dataclass(frozen=True, slots=True)
class InputProblem:
    """One bad line (or record) that was skipped while the rest of the file was kept."""

    filename: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.filename}, line {self.line}" if self.line is not None else self.filename
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class ParsedInput:
    """What one input yielded: documents, imported mentions and the problems found."""

    documents: tuple[Document, ...]
    mentions: tuple[Mention, ...]
    problems: tuple[InputProblem, ...]


def document_from_text(text: str, *, doc_id: str | None = None, source: str = "paste") -> Document:
    """Make a document from pasted or uploaded plain text.

    The text is kept verbatim (HTML stays text; the UI escapes it when rendering); only
    ``\\r\\n`` line ends become ``\\n`` so that offsets do not depend on the platform.

    Args:
        text: the document text.
        doc_id: external id; default ``paste-`` + the first 10 hex digits of sha256(text).
        source: where the text came from (``paste`` or a file name).

    Returns:
        The document, with ``title_end == 0``.

    Raises:
        InputFormatError: the text is empty or only whitespace.
    """
    name = PASTE_NAME if source == "paste" else source
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    if not text.strip():
        raise InputFormatError(name, "the text is empty; paste or upload a document with some text")
    if doc_id is None:
        doc_id = "paste-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return Document(doc_id=doc_id, text=text, source=source)


def parse_upload(filename: str, data: bytes, *, max_bytes: int) -> ParsedInput:
    """Read an uploaded file: PubTator (by content or ``.pubtator``) or one plain-text document.

    Args:
        filename: the name the user gave the file (used for the doc id and in messages).
        data: the raw bytes.
        max_bytes: the upload size limit.

    Returns:
        The parsed input; for plain text, one document whose id is the sanitised file stem.

    Raises:
        InputFormatError: the file is too large, binary, not UTF-8, empty, or PubTator
            with no usable document.
    """
    if len(data) > max_bytes:
        raise InputFormatError(
            filename,
            f"the file is {len(data):,} bytes, over the upload limit of {max_bytes:,} bytes; "
            "split it into smaller files or raise max_upload_bytes",
        )
    text = decode_upload(filename, data).replace("\r\n", "\n")
    if not text.strip():
        raise InputFormatError(filename, "the file is empty; upload a file with some text")
    first_line = next(line for line in text.split("\n") if line.strip())
    if _PUBTATOR_FIRST_LINE.match(first_line) or filename.lower().endswith(".pubtator"):
        return parse_pubtator(text, filename)
    document = document_from_text(text, doc_id=_doc_id_from_filename(filename, text), source=filename)
    return ParsedInput(documents=(document,), mentions=(), problems=())


def decode_upload(filename: str, data: bytes) -> str:
    """UTF-8 text of an upload without its BOM; InputFormatError for binary or non-UTF-8 data."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    sample = data[:65536]
    if b"\x00" in data or (sample and sum(b in _CONTROL_BYTES for b in sample) / len(sample) > _MAX_CONTROL_SHARE):
        raise InputFormatError(filename, "this looks like a binary file; upload UTF-8 plain text or PubTator")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputFormatError(
            filename,
            f"the file is not valid UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); re-save it as UTF-8",
            line=data[: e.start].count(b"\n") + 1,
        ) from e


def _doc_id_from_filename(filename: str, text: str) -> str:
    """The file stem with unsafe characters replaced; a hash id when nothing is left."""
    name = re.split(r"[\\/]", filename)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    safe = _UNSAFE_ID_CHARS.sub("_", stem).strip("._-")
    return safe or "upload-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


class _PubTatorReader:
    """Line-by-line PubTator state machine; collects documents, mentions and problems."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.documents: dict[str, Document] = {}
        self.first_line: dict[str, int] = {}
        self.mentions: list[Mention] = []
        self.spans: set[tuple[str, int, int]] = set()
        self.problems: list[InputProblem] = []
        self.pending: tuple[str, str, int] | None = None  # (pmid, title, line) awaiting |a|
        self.skipping: str | None = None  # pmid of a duplicate record being skipped

    def problem(self, line: int, message: str) -> None:
        self.problems.append(InputProblem(self.filename, line, message))

    def finish_pending(self, abstract: str = "") -> None:
        if self.pending is not None:
            pmid, title, line = self.pending
            text = f"{title} {abstract}" if abstract else title
            self.documents[pmid] = Document(pmid, text, source=self.filename, title_end=len(title))
            self.first_line[pmid] = line
            self.pending = None

    def title_or_abstract(self, n: int, pmid: str, kind: str, body: str) -> None:
        if kind == "t":
            self.finish_pending()
            self.skipping = None
            if pmid in self.documents:
                self.skipping = pmid
                self.problem(
                    n,
                    f"duplicate document id {pmid!r} (first at line {self.first_line[pmid]}); "
                    "this record and its mention lines are skipped, the first one is kept",
                )
            else:
                self.pending = (pmid, body, n)
        elif self.pending is not None and self.pending[0] == pmid:
            self.finish_pending(body)
        elif pmid != self.skipping:
            self.problem(
                n,
                f"abstract line for {pmid!r} without its title line just before it; "
                f"write '{pmid}|t|title' first, then '{pmid}|a|abstract'",
            )

    def tab_line(self, n: int, line: str) -> None:
        self.finish_pending()
        fields = line.split("\t")
        if len(fields) == 4 and not fields[1].strip().isdigit():
            return  # a relation line (PMID CID chemical disease): not a mention
        if fields[0].strip() == self.skipping:
            return
        result = self.mention(fields)
        if isinstance(result, str):
            self.problem(n, result)
        else:
            self.spans.add(result.key)
            self.mentions.append(result)

    def mention(self, fields: list[str]) -> Mention | str:
        """The mention on a tab-separated line, or what is wrong with the line."""
        if len(fields) < 6:
            return f"expected at least 6 tab-separated fields (PMID, start, end, text, type, id), found {len(fields)}"
        pmid, text = fields[0].strip(), fields[3]
        try:
            start, end = int(fields[1]), int(fields[2])
        except ValueError:
            return f"offsets must be integers, found start={fields[1]!r} end={fields[2]!r}"
        document = self.documents.get(pmid)
        if document is None:
            return f"mention for unknown document {pmid!r}: no '{pmid}|t|' and '{pmid}|a|' lines come before it"
        if not 0 <= start < end <= len(document.text):
            return (
                f"span {start}-{end} of {text!r} is not inside document {pmid!r} "
                f"(need 0 <= start < end <= {len(document.text)}); fix the offsets"
            )
        if document.text[start:end] != text:
            return (
                f"mention text {text!r} does not match the document text at {start}-{end} "
                f"({document.text[start:end]!r}); fix the offsets or the text"
            )
        if (pmid, start, end) in self.spans:
            return f"duplicate mention span {start}-{end} in {pmid!r}; the first one is kept"
        ids = tuple(i.strip() for i in re.split(r"[|+]", fields[5]) if i.strip() not in ("", "-1"))
        label = fields[4].strip() or None
        return Mention(pmid, start, end, text, label=label, origin=MentionOrigin.IMPORTED, annotated_ids=ids)

    def read(self, text: str) -> ParsedInput:
        for n, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                self.finish_pending()
                continue
            match = _TITLE_OR_ABSTRACT.match(line)
            if match:
                self.title_or_abstract(n, match.group(1).strip(), match.group(2), match.group(3))
            elif "\t" in line:
                self.tab_line(n, line)
            else:
                self.finish_pending()
                self.problem(
                    n,
                    "not a PubTator line: expected 'PMID|t|title', 'PMID|a|abstract' or a tab-separated mention line",
                )
        self.finish_pending()
        return ParsedInput(tuple(self.documents.values()), tuple(self.mentions), tuple(self.problems))


def parse_pubtator(text: str, filename: str) -> ParsedInput:
    """Parse PubTator text; bad lines become :class:`InputProblem` and the rest is kept.

    Mention ids are split on ``|`` and ``+``, stripped of whitespace, kept otherwise as
    written (the KB resolves prefixes), and ``-1`` (no id) is dropped. The 7th column of
    composite mentions is ignored; relation lines are skipped silently.

    Args:
        text: the file content.
        filename: used in problems and as each document's ``source``.

    Returns:
        Documents in file order, imported mentions in line order, and the problems.

    Raises:
        InputFormatError: no document could be read at all.
    """
    parsed = _PubTatorReader(filename).read(text.removeprefix("\ufeff").replace("\r\n", "\n"))
    if not parsed.documents:
        shown = "; ".join(str(p) for p in parsed.problems[:_MAX_PROBLEMS_IN_ERROR])
        raise InputFormatError(
            filename,
            "no document found: expected 'PMID|t|title' and 'PMID|a|abstract' lines"
            + (f" (problems: {shown})" if shown else ""),
        )
    return parsed


def check_mention(document: Document, start: int, end: int) -> Mention:
    """Validate a curator-given span and make a MANUAL mention of it.

    Raises:
        InputFormatError: the span is out of the text, empty, or only whitespace.
    """
    where = f"document {document.doc_id}"
    if not 0 <= start < end <= len(document.text):
        raise InputFormatError(
            where, f"span {start}-{end} is not a non-empty span inside the text (0-{len(document.text)})"
        )
    text = document.text[start:end]
    if not text.strip():
        raise InputFormatError(where, f"span {start}-{end} covers only whitespace; select a word")
    return Mention(document.doc_id, start, end, text, label=None, origin=MentionOrigin.MANUAL)


def _one_line(s: str) -> str:
    """PubTator fields cannot hold line breaks or tabs; a space keeps every offset valid."""
    return s.replace("\r", " ").replace("\n", " ").replace("\t", " ")


def write_pubtator(
    documents: Sequence[Document], annotations: Mapping[str, Sequence[tuple[Mention, tuple[str, ...]]]]
) -> str:
    """Write documents and mention annotations as PubTator (the inverse of :func:`parse_pubtator`).

    Args:
        documents: in output order.
        annotations: per doc id, (mention, concept ids) pairs; empty ids are written ``-1``,
            a missing label ``Entity``. Mentions are written sorted by span.

    Returns:
        PubTator text: one block per document, blocks separated by a blank line.

    Raises:
        ValueError: a doc id has '|' or whitespace, an annotation names a document not
            given, or a mention's text does not match its document.
    """
    by_id = {d.doc_id: d for d in documents}
    unknown = sorted(set(annotations) - set(by_id))
    if unknown:
        raise ValueError(f"annotations for documents that are not being written: {unknown}")
    blocks = []
    for document in documents:
        if re.search(r"[|\s]", document.doc_id):
            raise ValueError(f"doc id {document.doc_id!r} cannot be written as a PubTator id (no '|' or spaces)")
        text, cut = document.text, document.title_end
        if 0 < cut and (cut == len(text) or text[cut] == " "):
            title, abstract = text[:cut], text[cut + 1 :]
        else:
            # No title (plain text), or a title not followed by the PubTator space: the whole
            # text goes on the title line so that every offset stays valid.
            title, abstract = text, ""
        lines = [f"{document.doc_id}|t|{_one_line(title)}", f"{document.doc_id}|a|{_one_line(abstract)}"]
        for mention, ids in sorted(annotations.get(document.doc_id, ()), key=lambda a: (a[0].start, a[0].end)):
            if text[mention.start : mention.end] != mention.text:
                raise ValueError(f"mention {mention.key} text {mention.text!r} does not match its document")
            lines.append(
                f"{document.doc_id}\t{mention.start}\t{mention.end}\t{_one_line(mention.text)}\t"
                f"{mention.label or 'Entity'}\t{'|'.join(ids) or '-1'}"
            )
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)
