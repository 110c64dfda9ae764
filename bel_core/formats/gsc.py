"""GSC+ blocks (the PhenoTagger release of the GSC+ HPO corpus), read and written.

Format: blocks separated by a blank line; line 1 the PMID, line 2 the text (one line),
then one ``start<TAB>end<TAB>mention<TAB>id[|id...]`` line per mention, offsets into the
text line. The corpus has one id per line; several ids are joined with ``|`` when
written. A text with line breaks is written with spaces in their place (offsets stay
valid), and there is no title (``title_end`` is 0).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bel_core.formats.common import (
    Annotations,
    Collector,
    check_annotations,
    decode,
    one_line,
    sorted_annotations,
    split_ids,
)
from bel_core.formats.documents import ParsedInput
from bel_core.types import Document

# ASCII digits of bounded length: str.isdigit() accepts "²", which int() refuses.
_OFFSET = re.compile(r"[0-9]{1,18}")


def read_gsc(filename: str, data: bytes | str) -> ParsedInput:
    """Read GSC+ blocks; a bad mention line or a block without text is reported and skipped.

    Raises:
        InputFormatError: not UTF-8.
    """
    out = Collector(filename)
    block: list[tuple[int, str]] = []
    for n, line in [*enumerate(decode(filename, data).split("\n"), start=1), (0, "")]:
        if line.strip():
            block.append((n, line))
            continue
        if block:
            _block(out, block)
            block = []
    return out.result()


def _block(out: Collector, block: list[tuple[int, str]]) -> None:
    (first, doc_id), rest = block[0], block[1:]
    if not rest or "\t" in doc_id:
        out.problem(first, "expected a block: PMID line, text line, then 'start<TAB>end<TAB>mention<TAB>id' lines")
        return
    document = Document(doc_id.strip(), rest[0][1], source=out.filename)
    if not out.add_document(document, first):
        return
    for n, line in rest[1:]:
        fields = line.split("\t")
        if len(fields) != 4 or not _OFFSET.fullmatch(fields[0]) or not _OFFSET.fullmatch(fields[1]):
            out.problem(n, f"expected 'start<TAB>end<TAB>mention<TAB>id' with integer offsets, got {line!r}")
            continue
        out.add_mention(document, (int(fields[0]), int(fields[1])), fields[2], None, split_ids(fields[3]), n)


def write_gsc(documents: Sequence[Document], annotations: Annotations) -> str:
    """Write GSC+ blocks, one per document, mentions by span; NIL ids are written ``-1``.

    Raises:
        ValueError: an annotation does not match its document.
    """
    check_annotations(documents, annotations)
    blocks = []
    for document in documents:
        lines = [document.doc_id, one_line(document.text)]
        for mention, ids in sorted_annotations(annotations, document.doc_id):
            lines.append(f"{mention.start}\t{mention.end}\t{one_line(mention.text)}\t{'|'.join(ids) or '-1'}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)
