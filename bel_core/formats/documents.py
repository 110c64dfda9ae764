"""Documents from text, the result type every reader returns, and checks of curator spans.

Stage: the entry point, before detection and linking. :func:`document_from_text` turns
pasted text into a :class:`~bel_core.types.Document`; :class:`ParsedInput` and
:class:`InputProblem` are what the readers in ``bel_core.formats`` (one module per format,
PubTator in ``bel_core.formats.pubtator``) return; :func:`check_mention` validates a span a
curator selects. Nothing here repairs input, detects or links mentions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bel_core.errors import InputFormatError
from bel_core.types import Document, Mention, MentionOrigin

PASTE_NAME = "<pasted text>"


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
