"""Shared pieces of the interchange readers and writers: decoding, ids, spans, problems.

Every reader turns one file into a :class:`~bel_core.formats.documents.ParsedInput` and never
repairs input: a record that does not fit (bad offsets, text that differs from the
document at its span, a missing field) becomes an :class:`InputProblem` naming the file
and line, and the rest of the file is kept. Every writer takes the documents plus, per
doc id, ``(mention, concept ids)`` pairs (:data:`Annotations`) and returns text; an empty
id tuple is a NIL mention (written as the format's "no id", e.g. PubTator's ``-1``).
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from collections.abc import Mapping, Sequence

from bel_core.formats.documents import InputProblem, ParsedInput, decode_upload
from bel_core.types import Document, Mention, MentionOrigin

Annotations = Mapping[str, Sequence[tuple[Mention, tuple[str, ...]]]]
"""Per doc id, the mentions to write with their concept ids (empty = NIL)."""

_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
# MeSH descriptor / supplementary ids as the corpora write them (bare, no "MESH:").
MESH_ID = re.compile(r"^[CD]\d{6,9}$")


def decode(filename: str, data: bytes | str) -> str:
    """UTF-8 text of a file without BOM and with ``\\n`` line ends.

    Raises:
        InputFormatError: a binary file, or bytes that are not UTF-8 (names the line); the same
            checks as uploads on the Documents page (``documents.decode_upload``).
    """
    text = data if isinstance(data, str) else decode_upload(filename, data)
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def file_stem(filename: str) -> str:
    """The base name of ``filename`` without its last extension (``a/b/123.ann`` -> ``123``)."""
    name = re.split(r"[\\/:]", filename)[-1]  # ":" separates an archive from its member
    return name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name


def doc_id_from_filename(filename: str, text: str) -> str:
    """The file stem with unsafe characters replaced; a hash id when nothing is left."""
    safe = _UNSAFE_NAME_CHARS.sub("_", file_stem(filename)).strip("._-")
    return safe or "upload-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def safe_file_names(doc_ids: Sequence[str]) -> dict[str, str]:
    """A distinct, path-safe file stem per doc id (brat writes one file pair per document).

    Ids that are already safe keep their name, so ordinary PMIDs and file stems round-trip;
    others get unsafe characters replaced and, on a clash, a ``-2``, ``-3``... suffix.
    """
    names: dict[str, str] = {}
    used: set[str] = set()
    for doc_id in doc_ids:
        base = _UNSAFE_NAME_CHARS.sub("_", doc_id).strip("._-") or "document"
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name)
        names[doc_id] = name
    return names


def split_ids(field: str) -> tuple[str, ...]:
    """Concept ids from a field joined by ``|``, ``,`` or ``;``; ``-1`` (no id) is dropped."""
    return tuple(dict.fromkeys(i.strip() for i in re.split(r"[|,;]", field) if i.strip() not in ("", "-1")))


def check_span(document: Document, start: int, end: int, text: str | None) -> str | None:
    """What is wrong with a span of ``document`` (None when it is a valid, matching span)."""
    if not 0 <= start < end <= len(document.text):
        return (
            f"span {start}-{end} is not inside document {document.doc_id!r} "
            f"(need 0 <= start < end <= {len(document.text)}); fix the offsets"
        )
    found = document.text[start:end]
    if text is not None and found != text:
        return (
            f"mention text {text!r} does not match the document text at {start}-{end} "
            f"({found!r}); fix the offsets or the text"
        )
    return None


def imported(document: Document, start: int, end: int, label: str | None, ids: Sequence[str]) -> Mention:
    """An IMPORTED mention of a checked span (text taken from the document)."""
    return Mention(
        document.doc_id,
        start,
        end,
        document.text[start:end],
        label=label or None,
        origin=MentionOrigin.IMPORTED,
        annotated_ids=tuple(ids),
    )


class LineFinder:
    """Line numbers of strings in a parsed text (best effort, for JSON that keeps no positions)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._breaks = [i for i, c in enumerate(text) if c == "\n"]

    def find(self, needle: str, start: int = 0) -> tuple[int | None, int]:
        """(1-based line, position) of the first ``needle`` at or after ``start``; (None, start) if absent."""
        at = self.text.find(needle, start)
        return (None, start) if at < 0 else (bisect_left(self._breaks, at) + 1, at)


class Collector:
    """Accumulates documents, mentions and problems of one file, rejecting duplicates."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.documents: dict[str, Document] = {}
        self.mentions: list[Mention] = []
        self.problems: list[InputProblem] = []
        self._spans: set[tuple[str, int, int]] = set()

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(InputProblem(self.filename, line, message))

    def add_document(self, document: Document, line: int | None = None) -> bool:
        """Keep ``document`` unless its id was seen in this file (then a problem; False)."""
        if document.doc_id in self.documents:
            self.problem(line, f"duplicate document id {document.doc_id!r}; the first one is kept")
            return False
        self.documents[document.doc_id] = document
        return True

    def add_mention(
        self,
        document: Document,
        span: tuple[int, int],
        text: str | None,
        label: str | None,
        ids: Sequence[str],
        line: int | None = None,
    ) -> None:
        """Check the span against the document and keep the mention, or record why not."""
        start, end = span
        wrong = check_span(document, start, end, text)
        if wrong is None and (document.doc_id, start, end) in self._spans:
            wrong = f"duplicate mention span {start}-{end} in {document.doc_id!r}; the first one is kept"
        if wrong is not None:
            self.problem(line, wrong)
            return
        self._spans.add((document.doc_id, start, end))
        self.mentions.append(imported(document, start, end, label, ids))

    def result(self) -> ParsedInput:
        return ParsedInput(tuple(self.documents.values()), tuple(self.mentions), tuple(self.problems))


def one_line(s: str) -> str:
    """Line-based formats cannot hold line breaks or tabs; a space keeps every offset valid."""
    return s.replace("\r", " ").replace("\n", " ").replace("\t", " ")


def sorted_annotations(annotations: Annotations, doc_id: str) -> list[tuple[Mention, tuple[str, ...]]]:
    """The annotations of one document, by span."""
    return sorted(annotations.get(doc_id, ()), key=lambda a: (a[0].start, a[0].end))


def check_annotations(documents: Sequence[Document], annotations: Annotations) -> None:
    """ValueError unless every annotation belongs to a given document and matches its text."""
    by_id = {d.doc_id: d for d in documents}
    unknown = sorted(set(annotations) - set(by_id))
    if unknown:
        raise ValueError(f"annotations for documents that are not being written: {unknown}")
    for doc_id, pairs in annotations.items():
        text = by_id[doc_id].text
        for mention, _ in pairs:
            if text[mention.start : mention.end] != mention.text:
                raise ValueError(f"mention {mention.key} text {mention.text!r} does not match its document")


def assemble_passages(passages: Sequence[tuple[int, str, str]]) -> tuple[str, int] | str:
    """Document text and title end from ``(offset, text, type)`` passages, or what is wrong.

    Passages are placed at their offsets and gaps are filled with spaces, which is how
    PubTator-derived BioC and BigBio write ``title + " " + abstract``; overlapping or
    unordered passages are refused. A first passage typed ``title`` (or ``front``) sets
    ``title_end``.
    """
    text = ""
    for offset, body, _ in passages:
        if offset < len(text):
            return f"passage at offset {offset} overlaps the text before it (which ends at {len(text)})"
        text += " " * (offset - len(text)) + body
    title_end = 0
    if passages and passages[0][2].casefold() in ("title", "front") and passages[0][0] == 0:
        title_end = len(passages[0][1])
    return text, title_end


def split_passages(document: Document) -> list[tuple[int, str, str]]:
    """The inverse of :func:`assemble_passages`: title and abstract passages (or one ``text``).

    The character after the title is dropped when it is the PubTator space, so that the
    abstract starts at ``title_end + 1`` as in PubTator-derived BioC.
    """
    text, cut = document.text, document.title_end
    if cut == 0:
        return [(0, text, "text")]
    rest = cut + 1 if text[cut : cut + 1] == " " else cut
    passages = [(0, text[:cut], "title")]
    if rest < len(text) or rest > cut:
        passages.append((rest, text[rest:], "abstract"))
    return passages
