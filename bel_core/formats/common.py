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
import json
import re
import zipfile
import zlib
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bel_core.errors import InputFormatError
from bel_core.formats.documents import InputProblem, ParsedInput
from bel_core.types import Document, Mention, MentionOrigin

Annotations = Mapping[str, Sequence[tuple[Mention, tuple[str, ...]]]]
"""Per doc id, the mentions to write with their concept ids (empty = NIL)."""

_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
# MeSH descriptor / supplementary ids as the corpora write them (bare, no "MESH:").
MESH_ID = re.compile(r"^[CD]\d{6,9}$")
# Share of control bytes (other than tab/newline/CR/form feed) above which a file is binary.
_MAX_CONTROL_SHARE = 0.1
_CONTROL_BYTES = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D}
_INTEGER = re.compile(r"\s*-?[0-9]{1,18}\s*")
MAX_DOCUMENT_CHARS = 10_000_000
"""Longest document text a reader assembles from passage offsets (gaps are filled with
spaces, so an absurd offset would otherwise allocate gigabytes)."""
MAX_JSON_DEPTH = 64
"""Deepest JSON nesting a reader accepts; BioC and BigBio need about 6 levels."""
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


ARCHIVE_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,  # a corrupt deflate stream
    EOFError,  # a member cut short
    ValueError,  # offsets before the start of the file ("negative seek value")
    NotImplementedError,  # a compression method zipfile cannot read
    RuntimeError,  # an encrypted member
    IndexError,  # a member with an empty name (ZipInfo.is_dir)
)
"""What reading a damaged zip archive raises (found by ``tests/fuzz`` and ``bench/fuzz_readers.py --atheris``)."""


def decode(filename: str, data: bytes | str) -> str:
    """UTF-8 text of a file without BOM and with ``\\n`` line ends.

    Raises:
        InputFormatError: a binary file, or bytes that are not UTF-8 (names the line and offset).
    """
    if isinstance(data, bytes):
        raw = data.removeprefix(b"\xef\xbb\xbf")
        sample = raw[:65536]
        if b"\x00" in raw or (sample and sum(b in _CONTROL_BYTES for b in sample) / len(sample) > _MAX_CONTROL_SHARE):
            raise InputFormatError(filename, "this looks like a binary file; upload UTF-8 plain text or PubTator")
        try:
            data = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InputFormatError(
                filename,
                f"the file is not valid UTF-8 (byte 0x{raw[e.start]:02x} at offset {e.start}); re-save it as UTF-8",
                line=raw[: e.start].count(b"\n") + 1,
            ) from e
    return data.removeprefix("\ufeff").replace("\r\n", "\n")


def load_json(filename: str, text: str, line: int | None = None) -> Any:
    """Parse JSON text whose nesting is at most :data:`MAX_JSON_DEPTH` levels.

    Args:
        filename: used in the error.
        text: one JSON value (a whole file, or one JSON Lines line).
        line: the line ``text`` starts on (JSON Lines); errors inside ``text`` add to it.

    Raises:
        InputFormatError: not JSON (with the line), a number too long to convert, nesting
            deeper than the limit or a lone surrogate escape (with the JSON path of the node).
    """
    first = line or 1
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputFormatError(filename, f"not valid JSON ({e.msg})", line=first + e.lineno - 1) from e
    except RecursionError as e:  # the C decoder stops near the interpreter's recursion limit
        raise InputFormatError(filename, f"JSON nested too deeply (the limit is {MAX_JSON_DEPTH} levels)", line) from e
    except ValueError as e:  # e.g. an integer literal of more than 4300 digits
        raise InputFormatError(filename, f"not valid JSON ({e})", line) from e
    wrong = _invalid_node(value, strings=bool(_SURROGATE_ESCAPE.search(text)))
    if wrong is not None:
        raise InputFormatError(filename, wrong, line)
    return value


def _invalid_node(value: Any, *, strings: bool) -> str | None:
    """What is wrong with the first node too deep (or, with ``strings``, holding a lone surrogate).

    Iterative, so that checking never recurses; readers then handle values without
    hitting the recursion limit (``str()`` of a nested list recurses). A ``\\ud800``
    escape without its pair decodes to a string that cannot be encoded, so it would fail
    when stored; ``strings`` is set only when the text has such an escape at all.
    """
    stack: list[tuple[Any, str, int]] = [(value, "$", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            where = path if len(path) <= 120 else path[:60] + "..." + path[-60:]
            return f"JSON nested deeper than {MAX_JSON_DEPTH} levels at {where}; BioC and BigBio need about 6"
        texts: Iterable[str] = ()
        if isinstance(node, dict):
            stack.extend((v, f"{path}.{str(k)[:20]}", depth + 1) for k, v in node.items())
            texts = node.keys()
        elif isinstance(node, list):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(node))
        elif isinstance(node, str):
            texts = (node,)
        if strings and not all(map(_encodable, texts)):
            return f"a \\u escape of half a surrogate pair (\\ud800-\\udfff) at {path}: it is not a character"
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def int_field(value: Any, what: str) -> int:
    """An offset or length read from JSON or XML: an int, or a string of at most 18 ASCII digits.

    Raises:
        ValueError: anything else, naming the field (floats, ``"zero"``, ``1e309``, booleans).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    raise ValueError(f"{what} must be an integer, got {str(value)[:40]!r}")


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
        if offset + len(body) > MAX_DOCUMENT_CHARS:
            return f"passage at offset {offset} ends beyond {MAX_DOCUMENT_CHARS:,} characters; fix the offset"
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
