"""Plain text: one file, one document, no annotations (the doc id is the file stem)."""

from __future__ import annotations

from bel_core.formats.common import decode, doc_id_from_filename
from bel_core.formats.documents import ParsedInput, document_from_text


def read_text(filename: str, data: bytes | str) -> ParsedInput:
    """One document with the file's text, kept verbatim (only line ends normalised).

    Raises:
        InputFormatError: binary, not UTF-8, or empty.
    """
    text = decode(filename, data)
    document = document_from_text(text, doc_id=doc_id_from_filename(filename, text), source=filename)
    return ParsedInput(documents=(document,), mentions=(), problems=())
