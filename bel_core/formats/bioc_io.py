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

from bel_core.errors import InputFormatError
from bel_core.formats.common import (
    Annotations,
    Collector,
    LineFinder,
    assemble_passages,
    check_annotations,
    decode,
    int_field,
    load_json,
    sorted_annotations,
    split_ids,
    split_passages,
)
from bel_core.formats.documents import ParsedInput
from bel_core.types import Document

_ID_KEYS = ("identifier", "mesh", "cui")
# What decoding a malformed record raises (the bioc decoders index and convert blindly).
_DECODE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError, etree.XMLSyntaxError)
_EMPTY_COLLECTION = "<collection><source/><date/><key/>{}</collection>"


def _quoted(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _str(value: Any, what: str) -> str:
    """A text field as a string (None is empty); ValueError naming the field for lists and objects."""
    if value is None:
        return ""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{what} must be a string, got {type(value).__name__}")


def _infons(obj: Any) -> dict[str, str]:
    infons = obj.infons
    if not isinstance(infons, dict):
        raise ValueError(f"infons must be an object, got {type(infons).__name__}")
    return {str(k): _str(v, f"infon {str(k)[:20]!r}") for k, v in infons.items()}


def _ids(infons: dict[str, str]) -> tuple[str, ...]:
    for key, value in infons.items():
        if key.casefold() in _ID_KEYS and value:
            return split_ids(value)
    return ()


def _annotations(doc: Any) -> Iterable[Any]:
    yield from doc.annotations
    for passage in doc.passages:
        yield from passage.annotations
        for sentence in passage.sentences:
            yield from sentence.annotations


def _add_document(out: Collector, doc: Any, line: int | None, ann_line: dict[str, int | None]) -> None:
    """Convert one decoded BioC document into the collector (problems for what does not fit).

    A malformed annotation is reported and skipped; the document is kept.

    Raises:
        ValueError, TypeError, AttributeError: a document field of the wrong type (the
            caller reports the document as malformed, and nothing of it is kept).
    """
    doc_id = _str(doc.id, "document id").strip()
    passages = sorted(
        (int_field(p.offset, "passage offset"), _str(p.text, "passage text"), _infons(p).get("type", ""))
        for p in doc.passages
    )
    assembled = assemble_passages(passages)
    if isinstance(assembled, str) or not assembled[0].strip():
        out.problem(line, f"document {doc_id!r}: {assembled if isinstance(assembled, str) else 'no text'}; skipped")
        return
    if not doc_id:
        out.problem(line, "document without an id; skipped")
        return
    document = Document(doc_id, assembled[0], source=out.filename, title_end=assembled[1])
    if not out.add_document(document, line):
        return
    for ann in _annotations(doc):
        where = ann_line.get(str(ann.id)) or line
        try:
            _add_annotation(out, document, ann, where)
        except _DECODE_ERRORS as e:
            out.problem(
                where, f"malformed annotation {str(ann.id)[:40]!r} of document {doc_id!r} ({_reason(e)}); skipped"
            )


def _add_annotation(out: Collector, document: Document, ann: Any, where: int | None) -> None:
    ann_id = _str(ann.id, "annotation id")
    spans = sorted(_span(loc) for loc in ann.locations)
    if not spans:
        out.problem(where, f"annotation {ann_id!r} of document {document.doc_id!r} has no location; skipped")
        return
    text = _str(ann.text, "annotation text") if len(spans) == 1 else None
    if len(spans) > 1:
        out.problem(where, f"annotation {ann_id!r} is discontinuous {spans}; imported as its covering span")
    infons = _infons(ann)
    out.add_mention(document, (spans[0][0], spans[-1][1]), text, infons.get("type"), _ids(infons), where)


def _span(location: Any) -> tuple[int, int]:
    start = int_field(location.offset, "location offset")
    return start, start + int_field(location.length, "location length")


def _entity_reference(element: Any) -> str | None:
    """The first entity reference in ``element`` (they are never expanded: entity-expansion attacks)."""
    return next((str(e.text) for e in element.iter(etree.Entity)), None)


def read_bioc_xml(filename: str, data: bytes | str) -> ParsedInput:
    """Read a BioC XML collection; each ``<document>`` is decoded on its own.

    DTD entities are never expanded (no external entities, no entity-expansion bombs): a
    document that uses one (``&nbsp;``) is reported and skipped.

    Raises:
        InputFormatError: the file is not well-formed XML (with the line), or not UTF-8.
    """
    raw = decode(filename, data).encode("utf-8")
    try:
        root = etree.fromstring(raw, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as e:
        raise InputFormatError(filename, f"not well-formed XML ({e.msg})", line=e.lineno) from e
    if root is None:  # lxml's recover mode is off, but an empty tree can still come back
        raise InputFormatError(filename, "no XML element found; expected a BioC <collection>")
    out = Collector(filename)
    for element in root.iter("document"):
        entity = _entity_reference(element)
        if entity is not None:
            out.problem(
                element.sourceline,
                f"entity reference {entity} in a BioC document: entities are not expanded (a safety rule); "
                "write the character itself; skipped",
            )
            continue
        ann_line = {str(a.get("id")): a.sourceline for a in element.iter("annotation")}
        try:
            piece = _EMPTY_COLLECTION.format(etree.tostring(element, encoding="unicode"))
            _add_document(out, biocxml.loads(piece).documents[0], element.sourceline, ann_line)
        except _DECODE_ERRORS as e:
            out.problem(element.sourceline, f"malformed BioC document ({type(e).__name__}: {e}); skipped")
    return out.result()


def read_bioc_json(filename: str, data: bytes | str) -> ParsedInput:
    """Read a BioC JSON collection; each document object is decoded on its own.

    Raises:
        InputFormatError: not JSON (with the line), nested too deeply, not a collection
            object, or not UTF-8.
    """
    text = decode(filename, data)
    obj = load_json(filename, text)
    if not isinstance(obj, dict) or not isinstance(obj.get("documents"), list):
        raise InputFormatError(filename, 'expected a BioC collection object with a "documents" list')
    out = Collector(filename)
    lines, cursor = LineFinder(text), 0  # ids are searched in document order
    for n, record in enumerate(obj["documents"]):
        doc_id = str(record["id"]) if isinstance(record, dict) and _is_text(record.get("id")) else "?"
        line, cursor = lines.find(_quoted(doc_id), cursor)
        try:
            doc = biocjson.decoder.parse_doc(record)
            ann_line = {str(a.id): lines.find(f'"id": {_quoted(str(a.id))}', cursor)[0] for a in _annotations(doc)}
            _add_document(out, doc, line, ann_line)
        except _DECODE_ERRORS as e:
            out.problem(line, f"malformed BioC document {doc_id!r} at $.documents[{n}] ({_reason(e)}); skipped")
    return out.result()


def _is_text(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def _reason(error: Exception) -> str:
    """What is wrong, in words: a KeyError from the decoder is a missing field."""
    return f"missing field {error}" if isinstance(error, KeyError) else str(error)


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
