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

from bel_core.formats.documents import ParsedInput
from bel_core.errors import InputFormatError
from bel_core.formats.common import (
    MESH_ID,
    Annotations,
    Collector,
    assemble_passages,
    check_annotations,
    decode,
    sorted_annotations,
    split_passages,
)
from bel_core.types import Document


def _records(filename: str, text: str) -> Iterator[tuple[int, Any]]:
    """(line, record) for JSONL, or for each element of a JSON array / the single object."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            array = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputFormatError(filename, f"not valid JSON ({e.msg})", line=e.lineno) from e
        yield from ((1, record) for record in array)
        return
    for n, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            try:
                yield n, json.loads(line)
            except json.JSONDecodeError as e:
                # A pretty-printed single object spans lines; try the whole text once.
                if n == 1 and stripped.startswith("{"):
                    try:
                        yield 1, json.loads(text)
                        return
                    except json.JSONDecodeError:
                        pass
                yield n, f"not valid JSON ({e.msg})"


def _concept_id(norm: Any) -> str:
    db_name, db_id = str(norm.get("db_name") or ""), str(norm["db_id"]).strip()
    if ":" in db_id or db_name.casefold() in ("", "mesh"):
        return db_id
    return f"{db_name}:{db_id}"


def _add(out: Collector, line: int, record: Any) -> None:
    """Convert one BigBio document record (KeyError/TypeError/ValueError when malformed)."""
    doc_id = str(record.get("document_id") or record["id"])
    passages = sorted(
        (int(p["offsets"][0][0]), " ".join(p["text"]), str(p.get("type", ""))) for p in record.get("passages", [])
    )
    assembled = assemble_passages(passages)
    if isinstance(assembled, str) or not assembled[0].strip():
        out.problem(line, f"document {doc_id!r}: {assembled if isinstance(assembled, str) else 'no text'}; skipped")
        return
    document = Document(doc_id, assembled[0], source=out.filename, title_end=assembled[1])
    if not out.add_document(document, line):
        return
    for entity in record.get("entities", []):
        spans = sorted((int(s), int(e)) for s, e in entity["offsets"])
        if not spans:
            out.problem(line, f"entity {entity.get('id')!r} of {doc_id!r} has no offsets; skipped")
            continue
        text = " ".join(entity["text"]) if len(spans) == 1 else None
        if len(spans) > 1:
            out.problem(line, f"entity {entity.get('id')!r} is discontinuous {spans}; imported as its covering span")
        ids = tuple(dict.fromkeys(_concept_id(n) for n in entity.get("normalized", []) if str(n["db_id"]) != "-1"))
        out.add_mention(document, (spans[0][0], spans[-1][1]), text, entity.get("type"), ids, line)


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
