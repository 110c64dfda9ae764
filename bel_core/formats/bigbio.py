"""BigBio KB schema (``bigbio_kb``) documents as JSON Lines, a JSON array or one object.

Schema, one object per document (BigBIO ``bigbio/utils/schemas/kb.py``)::

    id            string   record id (written: the doc id)
    document_id   string   the document's external id (read: falls back to ``id``)
    passages      list of {id, type, text: [string], offsets: [[start, end]]}
                  written: "title" and "abstract" (or one "text") passages
    entities      list of {id, type, text: [string], offsets: [[start, end], ...],
                           normalized: [{db_name, db_id}]}
    events, coreferences, relations   lists, written empty and ignored on reading

Reading: passage texts are placed at their offsets (gaps filled with spaces); entities
become IMPORTED mentions. An entity with several offsets (discontinuous) is imported as
its covering span with a problem note. Ids: ``db_id`` as written when it holds a ``:``
or when ``db_name`` is empty or MeSH (the project writes MeSH ids bare), else
``<db_name>:<db_id>`` (``{"db_name": "OMIM", "db_id": "601"}`` -> ``OMIM:601``).
Writing: ``db_name`` is the id's prefix (``HP``, ``OMIM``), ``MESH`` for bare MeSH ids and
``""`` otherwise, and ``db_id`` is always the full id, so ids come back unchanged.
A NIL mention has ``normalized: []``. Problems carry the JSONL line (1 for a JSON array).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from bel_core.errors import InputFormatError
from bel_core.formats.common import (
    MESH_ID,
    Annotations,
    Collector,
    assemble_passages,
    check_annotations,
    decode,
    int_field,
    load_json,
    sorted_annotations,
    split_passages,
)
from bel_core.formats.documents import ParsedInput
from bel_core.types import Document


def _records(filename: str, text: str) -> Iterator[tuple[int, Any]]:
    """(line, record) for JSONL, or for each element of a JSON array / the single object.

    A JSONL line that is not JSON is yielded as its error (a string), so the other lines
    are still read.

    Raises:
        InputFormatError: a JSON array that does not parse, or is nested too deeply.
    """
    stripped = text.lstrip()
    if stripped.startswith("["):
        array = load_json(filename, text)
        if not isinstance(array, list):
            raise InputFormatError(filename, "expected a JSON array of BigBio documents")
        yield from ((1, record) for record in array)
        return
    for n, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            try:
                yield n, load_json(filename, line, n)
            except InputFormatError as e:
                # A pretty-printed single object spans lines; try the whole text once.
                if n == 1 and stripped.startswith("{"):
                    try:
                        yield 1, load_json(filename, text)
                        return
                    except InputFormatError:
                        pass
                yield n, e.reason


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {type(value).__name__}")
    return value


def _texts(value: Any, what: str) -> str:
    """A BigBio ``text`` field (a list of strings) joined by spaces."""
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list of strings, got {type(value).__name__}")
    return " ".join(_text(v, what) for v in value)


def _offsets(value: Any, what: str) -> list[tuple[int, int]]:
    """``[[start, end], ...]`` as sorted int pairs."""
    if not isinstance(value, list) or not all(isinstance(p, list) and len(p) == 2 for p in value):
        raise ValueError(f"{what} must be a list of [start, end] pairs")
    return sorted((int_field(s, what), int_field(e, what)) for s, e in value)


def _concept_id(norm: Any) -> str:
    db_name, db_id = str(norm.get("db_name") or ""), _id_text(norm["db_id"]).strip()
    if ":" in db_id or db_name.casefold() in ("", "mesh"):
        return db_id
    return f"{db_name}:{db_id}"


def _id_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"db_id must be a string, got {type(value).__name__}")
    return str(value)


def _add(out: Collector, line: int, record: Any) -> None:
    """Convert one BigBio document record (KeyError/TypeError/ValueError/AttributeError when malformed)."""
    doc_id = _id_text(record.get("document_id") or record["id"]).strip()
    passages = sorted(
        (_offsets(p["offsets"], "passage offsets")[0][0], _texts(p["text"], "passage text"), str(p.get("type", "")))
        for p in record.get("passages", [])
    )
    entities = record.get("entities", [])
    if not isinstance(entities, list):
        raise ValueError(f"entities must be a list, got {type(entities).__name__}")
    assembled = assemble_passages(passages)
    if isinstance(assembled, str) or not assembled[0].strip() or not doc_id:
        wrong = assembled if isinstance(assembled, str) else "no text" if doc_id else "empty id"
        out.problem(line, f"document {doc_id!r}: {wrong}; skipped")
        return
    document = Document(doc_id, assembled[0], source=out.filename, title_end=assembled[1])
    if not out.add_document(document, line):
        return
    for entity in entities:
        try:
            _add_entity(out, document, entity, line)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            out.problem(line, f"malformed entity of {doc_id!r} ({type(e).__name__}: {e}); skipped")


def _add_entity(out: Collector, document: Document, entity: Any, line: int) -> None:
    spans = _offsets(entity["offsets"], "entity offsets")
    if not spans:
        out.problem(line, f"entity {entity.get('id')!r} of {document.doc_id!r} has no offsets; skipped")
        return
    text = _texts(entity["text"], "entity text") if len(spans) == 1 else None
    if len(spans) > 1:
        out.problem(line, f"entity {entity.get('id')!r} is discontinuous {spans}; imported as its covering span")
    ids = tuple(dict.fromkeys(_concept_id(n) for n in entity.get("normalized", []) if _id_text(n["db_id"]) != "-1"))
    label = entity.get("type")
    out.add_mention(document, (spans[0][0], spans[-1][1]), text, None if label is None else str(label), ids, line)


def read_bigbio(filename: str, data: bytes | str) -> ParsedInput:
    """Read BigBio KB-schema documents; a malformed record is reported by line and skipped.

    Raises:
        InputFormatError: not UTF-8, or a JSON array that does not parse.
    """
    out = Collector(filename)
    for line, record in _records(filename, decode(filename, data)):
        if isinstance(record, str):
            out.problem(line, record)
            continue
        try:
            _add(out, line, record)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
            out.problem(line, f"malformed BigBio record ({type(e).__name__}: {e}); skipped")
    return out.result()


def _normalized(concept_id: str) -> dict[str, str]:
    prefix, sep, _ = concept_id.partition(":")
    db_name = prefix if sep else "MESH" if MESH_ID.match(concept_id) else ""
    return {"db_name": db_name, "db_id": concept_id}


def _record(document: Document, annotations: Annotations) -> dict[str, Any]:
    doc_id = document.doc_id
    passages = [
        {"id": f"{doc_id}_p{n}", "type": kind, "text": [text], "offsets": [[offset, offset + len(text)]]}
        for n, (offset, text, kind) in enumerate(split_passages(document))
    ]
    entities = [
        {
            "id": f"{doc_id}_e{n}",
            "type": mention.label or "Entity",
            "text": [mention.text],
            "offsets": [[mention.start, mention.end]],
            "normalized": [_normalized(i) for i in ids],
        }
        for n, (mention, ids) in enumerate(sorted_annotations(annotations, doc_id))
    ]
    return {
        "id": doc_id,
        "document_id": doc_id,
        "passages": passages,
        "entities": entities,
        "events": [],
        "coreferences": [],
        "relations": [],
    }


def write_bigbio(documents: Sequence[Document], annotations: Annotations) -> str:
    """Write one BigBio KB-schema JSON object per line (schema in the module docstring).

    Raises:
        ValueError: an annotation does not match its document.
    """
    check_annotations(documents, annotations)
    return "".join(json.dumps(_record(d, annotations), ensure_ascii=False) + "\n" for d in documents)
