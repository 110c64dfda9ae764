"""PubTator: the line format of the NCBI corpora (reader and writer in ``bel_core.formats.documents``).

This module adapts :func:`bel_core.formats.documents.parse_pubtator` and
:func:`bel_core.formats.documents.write_pubtator` to the ``read_*``/``write_*`` shape of the other
formats. What survives a round trip: document ids and text (``title + " " + abstract``),
the title boundary, spans, types and ids. Composite ids ``A|B`` and combinations ``A+B``
both become several ids of one mention and are written back joined by ``|``; ``-1`` (no
id) is read as a NIL mention and written back as ``-1``; relation lines
(``PMID<TAB>CID<TAB>chem<TAB>disease``) are skipped, because decisions are about single
mentions; the 7th column (composite part texts) is not kept. A text that is a title plus a
trailing space (an empty abstract) comes back without that space.
"""

from __future__ import annotations

from collections.abc import Sequence

from bel_core.formats import documents
from bel_core.formats.documents import ParsedInput
from bel_core.formats.common import Annotations, decode
from bel_core.types import Document


def read_pubtator(filename: str, data: bytes | str) -> ParsedInput:
    """Read a PubTator file; bad lines become problems with their line number.

    Raises:
        InputFormatError: not UTF-8, or no document at all in the file.
    """
    return documents.parse_pubtator(decode(filename, data), filename)


def write_pubtator(docs: Sequence[Document], annotations: Annotations) -> str:
    """Write PubTator text (see :func:`bel_core.formats.documents.write_pubtator`)."""
    return documents.write_pubtator(docs, annotations)
