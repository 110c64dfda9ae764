"""brat standoff: a ``.txt`` file (the document text) and its ``.ann`` annotation file.

Read from the ``.ann`` file (other line kinds, ``R``/``E``/``A``/``#``..., are ignored)::

    T<n><TAB><type> <start> <end>[;<start> <end>...]<TAB><text>
    N<n><TAB>Reference T<n> <db>:<id><TAB><name>

A text-bound ``T`` line is one mention; its ``N`` lines give its ids. ``MESH:`` is dropped
from ids (the corpora and the CTD loaders write MeSH ids bare) and so is ``ID:``, the
placeholder the writer puts before ids without a prefix (brat requires ``db:id``); other
ids (``HP:0001250``, ``OMIM:601``) are kept as written. A discontinuous span
(``0 5;10 15``) is imported as its covering span with a problem note: a mention here is one
span, and the covering span is how the PubTator corpora annotate composite mentions.
The doc id is the file stem, and brat has no title, so ``title_end`` is 0.

Written: one ``<name>.txt`` with the exact document text and one ``<name>.ann`` per
document, ``T<n>`` by span (type = label with whitespace as ``_``, ``Entity`` when none) and
one ``N`` line per id; NIL mentions have no ``N`` line. ``<name>`` is the doc id when it
is a safe file name (see :func:`~bel_core.formats.common.safe_file_names`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bel_core.errors import InputFormatError
from bel_core.formats.common import (
    MESH_ID,
    Annotations,
    Collector,
    check_annotations,
    decode,
    doc_id_from_filename,
    one_line,
    safe_file_names,
    sorted_annotations,
)
from bel_core.formats.documents import ParsedInput
from bel_core.types import Document

# Offsets are ASCII digits of bounded length: int() of a 5,000-digit string raises.
_T_LINE = re.compile(r"^(T\d+)\t(\S+) ([0-9]{1,18} [0-9]{1,18}(?:;[0-9]{1,18} [0-9]{1,18})*)\t(.*)$")
_N_LINE = re.compile(r"^(N\d+)\tReference (T\d+) (\S+?:\S+)(?:\t.*)?$")
_DROPPED_PREFIXES = ("MESH:", "ID:")


def _concept_id(ref: str) -> str:
    for prefix in _DROPPED_PREFIXES:
        if ref.startswith(prefix):
            return ref.removeprefix(prefix)
    return ref


def read_brat(filename: str, data: bytes | str, ann: bytes | str = "", ann_name: str | None = None) -> ParsedInput:
    """Read one brat document: the ``.txt`` content and the ``.ann`` content.

    Args:
        filename: the ``.txt`` file name (its stem is the doc id).
        data: the text file.
        ann: the annotation file (empty: the document has no annotations).
        ann_name: the ``.ann`` file name used in problems (default: derived from ``filename``).

    Raises:
        InputFormatError: either file is not UTF-8, or the text is empty.
    """
    text = decode(filename, data)
    if not text.strip():
        raise InputFormatError(filename, "the text file is empty")
    ann_name = ann_name or filename.rsplit(".", 1)[0] + ".ann"
    out = Collector(ann_name)
    document = Document(doc_id_from_filename(filename, text), text, source=filename)
    out.add_document(document)
    spans: dict[str, tuple[tuple[int, int], str, int]] = {}
    ids: dict[str, list[str]] = {}
    for n, line in enumerate(decode(ann_name, ann).split("\n"), start=1):
        if not line.strip() or line[0] not in "TN":
            continue
        if t := _T_LINE.match(line):
            fragments = sorted(tuple(map(int, f.split())) for f in t[3].split(";"))
            if len(fragments) > 1:
                out.problem(n, f"{t[1]} is discontinuous ({t[3]}); imported as its covering span")
            span = (fragments[0][0], fragments[-1][1])
            if len(fragments) == 1 and 0 <= span[0] < span[1] <= len(text) and one_line(text[slice(*span)]) != t[4]:
                out.problem(n, f"{t[1]} text {t[4]!r} does not match the document at {t[3]}; fix the offsets")
                continue
            spans[t[1]] = (span, t[2], n)
        elif m := _N_LINE.match(line):
            ids.setdefault(m[2], []).append(_concept_id(m[3]))
        else:
            out.problem(
                n,
                "malformed brat line: expected 'T1<TAB>Type start end<TAB>text' or "
                "'N1<TAB>Reference T1 db:id<TAB>name'",
            )
    for tid, (span, label, n) in spans.items():
        out.add_mention(document, span, None, label, ids.pop(tid, []), n)
    for tid in ids:
        out.problem(None, f"normalization for {tid}, which is not a text-bound annotation here; ignored")
    return out.result()


def _reference(concept_id: str) -> str:
    if concept_id.startswith(_DROPPED_PREFIXES):
        return f"ID:{concept_id}"  # the reader drops one prefix, so "MESH:C535662" comes back as written
    if ":" in concept_id:
        return concept_id
    return f"MESH:{concept_id}" if MESH_ID.match(concept_id) else f"ID:{concept_id}"


def write_brat(documents: Sequence[Document], annotations: Annotations) -> dict[str, str]:
    """Write brat standoff: ``{file name: content}`` with a ``.txt`` and ``.ann`` per document.

    Raises:
        ValueError: an annotation does not match its document.
    """
    check_annotations(documents, annotations)
    names = safe_file_names([d.doc_id for d in documents])
    files: dict[str, str] = {}
    for document in documents:
        lines: list[str] = []
        n_norm = 0
        for t, (mention, ids) in enumerate(sorted_annotations(annotations, document.doc_id), start=1):
            label = re.sub(r"\s+", "_", mention.label or "Entity")
            # Line breaks inside a span cannot sit on one .ann line; offsets stay exact.
            lines.append(f"T{t}\t{label} {mention.start} {mention.end}\t{one_line(mention.text)}")
            for concept_id in ids:
                n_norm += 1
                lines.append(f"N{n_norm}\tReference T{t} {_reference(concept_id)}\t{concept_id}")
        name = names[document.doc_id]
        files[f"{name}.txt"] = document.text
        files[f"{name}.ann"] = "".join(f"{line}\n" for line in lines)
    return files
