"""BioC XML and BioC JSON (through the ``bioc`` package), read and written the same way.

Reading: each BioC document becomes one :class:`~bel_core.types.Document` whose text is
its passages placed at their offsets (gaps filled with spaces, so PubTator-derived BioC
gives ``title + " " + abstract``); a first passage of type ``title``/``front`` sets the
title boundary. Annotations of the document, its passages and their sentences become
IMPORTED mentions: ``infons["type"]`` is the label and ``infons["identifier"]`` (also
``Identifier``, ``MESH``, ``CUI``) holds the ids, split on ``,``, ``;`` or ``|``, ``-1``
meaning no id. A discontinuous annotation (several locations) is imported as its covering
span, with a problem note, because a mention here is one span and the covering span is
what the corpora annotate for composite mentions. Documents are decoded one at a time, so
a malformed document is reported (with its line in XML) and the others are kept.

Writing (schema)::

    collection   source "BEL Curator", date "", key "bel-curator.key"
    document     id = doc id
      passage    infons.type "title" (offset 0) and "abstract" (offset title_end + 1),
                 or one "text" passage when the document has no title
        annotation   id "A<n>" (per document, by span); infons.type = label ("Entity" when
                     none), infons.identifier = ids joined by "," or "-1" (NIL);
                     one location (offset, length); text = the mention text
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import bioc  # type: ignore[import-untyped]
from bioc import biocjson, biocxml
from lxml import etree  # type: ignore[import-untyped]

from bel_core.formats.documents import ParsedInput
from bel_core.errors import InputFormatError
from bel_core.formats.common import (
    Annotations,
    Collector,
    LineFinder,
    assemble_passages,
    check_annotations,
    decode,
    sorted_annotations,
    split_ids,
    split_passages,
)
from bel_core.types import Document

_ID_KEYS = ("identifier", "mesh", "cui")
_DECODE_ERRORS = (KeyError, TypeError, ValueError, AttributeError)
_EMPTY_COLLECTION = "<collection><source/><date/><key/>{}</collection>"


def _quoted(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _ids(infons: dict[str, str]) -> tuple[str, ...]:
    for key, value in infons.items():
        if key.casefold() in _ID_KEYS and value:
            return split_ids(str(value))
    return ()


def _annotations(doc: Any) -> Iterable[Any]:
    yield from doc.annotations
    for passage in doc.passages:
        yield from passage.annotations
        for sentence in passage.sentences:
            yield from sentence.annotations


def _add_document(out: Collector, doc: Any, line: int | None, ann_line: dict[str, int | None]) -> None:
    """Convert one decoded BioC document into the collector (problems for what does not fit)."""
    passages = sorted(
        ((int(p.offset), p.text or "", str(p.infons.get("type", ""))) for p in doc.passages), key=lambda t: t[0]
    )
    assembled = assemble_passages(passages)
    if isinstance(assembled, str) or not assembled[0].strip():
        out.problem(line, f"document {doc.id!r}: {assembled if isinstance(assembled, str) else 'no text'}; skipped")
        return
    if not str(doc.id or "").strip():
        out.problem(line, "document without an id; skipped")
        return
    document = Document(str(doc.id), assembled[0], source=out.filename, title_end=assembled[1])
    if not out.add_document(document, line):
        return
    for ann in _annotations(doc):
        where = ann_line.get(str(ann.id)) or line
        spans = sorted((int(loc.offset), int(loc.offset) + int(loc.length)) for loc in ann.locations)
        if not spans:
            out.problem(where, f"annotation {ann.id!r} of document {doc.id!r} has no location; skipped")
            continue
        text = ann.text if len(spans) == 1 else None
        if len(spans) > 1:
            out.problem(where, f"annotation {ann.id!r} is discontinuous {spans}; imported as its covering span")
        out.add_mention(document, (spans[0][0], spans[-1][1]), text, ann.infons.get("type"), _ids(ann.infons), where)


def read_bioc_xml(filename: str, data: bytes | str) -> ParsedInput:
    """Read a BioC XML collection; each ``<document>`` is decoded on its own.

    Raises:
        InputFormatError: the file is not well-formed XML (with the line), or not UTF-8.
    """
    raw = decode(filename, data).encode("utf-8")
    try:
        root = etree.fromstring(raw, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as e:
        raise InputFormatError(filename, f"not well-formed XML ({e.msg})", line=e.lineno) from e
    out = Collector(filename)
    for element in root.iter("document"):
        ann_line = {str(a.get("id")): a.sourceline for a in element.iter("annotation")}
        try:
            piece = _EMPTY_COLLECTION.format(etree.tostring(element, encoding="unicode"))
            doc = biocxml.loads(piece).documents[0]
        except _DECODE_ERRORS as e:
            out.problem(element.sourceline, f"malformed BioC document ({type(e).__name__}: {e}); skipped")
            continue
        _add_document(out, doc, element.sourceline, ann_line)
    return out.result()


def read_bioc_json(filename: str, data: bytes | str) -> ParsedInput:
    """Read a BioC JSON collection; each document object is decoded on its own.

    Raises:
        InputFormatError: not JSON (with the line), not a collection object, or not UTF-8.
    """
    text = decode(filename, data)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputFormatError(filename, f"not valid JSON ({e.msg})", line=e.lineno) from e
    if not isinstance(obj, dict) or not isinstance(obj.get("documents"), list):
        raise InputFormatError(filename, 'expected a BioC collection object with a "documents" list')
    out = Collector(filename)
    lines, cursor = LineFinder(text), 0  # ids are searched in document order
    for record in obj["documents"]:
        doc_id = str(record.get("id")) if isinstance(record, dict) else "?"
        line, cursor = lines.find(_quoted(doc_id), cursor)
        try:
            doc = biocjson.decoder.parse_doc(record)
        except _DECODE_ERRORS as e:
            out.problem(line, f"malformed BioC document {doc_id!r} (missing or wrong {e}); skipped")
            continue
        ann_line = {str(a.id): lines.find(f'"id": {_quoted(str(a.id))}', cursor)[0] for a in _annotations(doc)}
        _add_document(out, doc, line, ann_line)
    return out.result()


def _collection(documents: Sequence[Document], annotations: Annotations) -> Any:
    check_annotations(documents, annotations)
    collection = bioc.BioCCollection()
    # A fixed date keeps exports byte-for-byte reproducible (the library defaults to today).
    collection.source, collection.date, collection.key = "BEL Curator", "", "bel-curator.key"
    for document in documents:
        doc = bioc.BioCDocument()
        doc.id = document.doc_id
        passages = []
        for offset, text, kind in split_passages(document):
            passage = bioc.BioCPassage()
            passage.offset, passage.text = offset, text
            passage.infons["type"] = kind
            doc.add_passage(passage)
            passages.append(passage)
        for n, (mention, ids) in enumerate(sorted_annotations(annotations, document.doc_id), start=1):
            ann = bioc.BioCAnnotation()
            ann.id, ann.text = f"A{n}", mention.text
            ann.infons["type"] = mention.label or "Entity"
            ann.infons["identifier"] = ",".join(ids) or "-1"
            ann.add_location(bioc.BioCLocation(mention.start, mention.end - mention.start))
            # A mention belongs to the last passage starting at or before it.
            next(p for p in reversed(passages) if p.offset <= mention.start).add_annotation(ann)
        collection.add_document(doc)
    return collection


def write_bioc_xml(documents: Sequence[Document], annotations: Annotations) -> str:
    """Write a BioC XML collection (schema in the module docstring).

    Raises:
        ValueError: an annotation does not match its document, or a text holds characters
            XML cannot carry (control characters other than tab and newline).
    """
    return str(biocxml.dumps(_collection(documents, annotations)))


def write_bioc_json(documents: Sequence[Document], annotations: Annotations) -> str:
    """Write a BioC JSON collection (schema in the module docstring).

    Raises:
        ValueError: an annotation does not match its document.
    """
    return str(biocjson.dumps(_collection(documents, annotations), indent=1, ensure_ascii=False))
