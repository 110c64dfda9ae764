"""Tests for bel_core.formats.gold: gold JSON Lines and gold PubTator."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bel_core.formats.gold import GoldAnnotation, gold_jsonl, gold_pubtator
from bel_core.formats.pubtator import parse_pubtator
from bel_core.types import Decision, DecisionStatus, Document, Mention

TEXT = "Short stature. A boy with seizures, ASD and Ünusual fits."
DOC = Document("42", TEXT, source="x", title_end=14)
OTHER = Document("7", "Hypotonia only.")
WHEN = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)


def _record(
    doc: Document,
    start: int,
    end: int,
    status: DecisionStatus,
    ids: tuple[str, ...] = (),
    label: str | None = None,
    note: str = "",
) -> GoldAnnotation:
    mention = Mention(doc.doc_id, start, end, doc.text[start:end], label=label)
    decision = Decision(doc.doc_id, start, end, status, ids, curator="ann", decided_at=WHEN, note=note)
    return GoldAnnotation(mention, decision)


@pytest.fixture
def records() -> list[GoldAnnotation]:
    return [
        _record(DOC, 26, 34, DecisionStatus.CORRECTED, ("HP:0001250",)),
        _record(DOC, 0, 13, DecisionStatus.ACCEPTED, ("HP:0004322",), label="Phenotype"),
        _record(DOC, 36, 39, DecisionStatus.NIL, note='says "ASD"'),
        _record(DOC, 44, 56, DecisionStatus.WRONG_SPAN),
        _record(DOC, 52, 56, DecisionStatus.NOT_ENTITY),
        _record(DOC, 15, 16, DecisionStatus.SKIPPED),
        _record(OTHER, 0, 9, DecisionStatus.CORRECTED, ("HP:0001252", "HP:0000001")),
    ]


def test_gold_jsonl_exact_lines_sorted_with_fixed_key_order(records):
    out = gold_jsonl(records)
    lines = out.splitlines()
    assert out.endswith("\n") and len(lines) == 7
    assert lines[0] == (
        '{"doc_id": "42", "start": 0, "end": 13, "text": "Short stature", "label": "Phenotype", '
        '"status": "accepted", "concept_ids": ["HP:0004322"], "curator": "ann", '
        '"decided_at": "2025-03-01T12:30:00+00:00", "note": ""}'
    )
    assert lines[2] == (
        '{"doc_id": "42", "start": 26, "end": 34, "text": "seizures", "label": null, '
        '"status": "corrected", "concept_ids": ["HP:0001250"], "curator": "ann", '
        '"decided_at": "2025-03-01T12:30:00+00:00", "note": ""}'
    )
    assert lines[3] == (
        '{"doc_id": "42", "start": 36, "end": 39, "text": "ASD", "label": null, "status": "nil", '
        '"concept_ids": [], "curator": "ann", "decided_at": "2025-03-01T12:30:00+00:00", '
        '"note": "says \\"ASD\\""}'
    )
    rows = [json.loads(line) for line in lines]
    assert [(r["doc_id"], r["start"], r["status"]) for r in rows] == [
        ("42", 0, "accepted"),
        ("42", 15, "skipped"),
        ("42", 26, "corrected"),
        ("42", 36, "nil"),
        ("42", 44, "wrong_span"),
        ("42", 52, "not_entity"),
        ("7", 0, "corrected"),
    ]
    assert rows[4]["text"] == "Ünusual fits"  # non-ASCII kept as is
    assert "Ünusual" in out
    assert all(
        list(r)
        == ["doc_id", "start", "end", "text", "label", "status", "concept_ids", "curator", "decided_at", "note"]
        for r in rows
    )


def test_gold_jsonl_empty_and_unknown_time():
    assert gold_jsonl([]) == ""
    mention = Mention("7", 0, 9, "Hypotonia")
    decision = Decision("7", 0, 9, DecisionStatus.NIL)
    assert json.loads(gold_jsonl([GoldAnnotation(mention, decision)]))["decided_at"] is None


def test_gold_annotation_rejects_mismatched_decision():
    with pytest.raises(ValueError, match="does not belong to mention"):
        GoldAnnotation(Mention("7", 0, 9, "Hypotonia"), Decision("7", 0, 8, DecisionStatus.NIL))


def test_gold_pubtator_exact_lines(records):
    out = gold_pubtator([DOC, OTHER, Document("empty", "Nothing decided.")], records)
    assert out == (
        "42|t|Short stature.\n"
        "42|a|A boy with seizures, ASD and Ünusual fits.\n"
        "42\t0\t13\tShort stature\tPhenotype\tHP:0004322\n"
        "42\t26\t34\tseizures\tEntity\tHP:0001250\n"
        "42\t36\t39\tASD\tEntity\t-1\n"
        "\n"
        "7|t|Hypotonia only.\n"
        "7|a|\n"
        "7\t0\t9\tHypotonia\tEntity\tHP:0001252|HP:0000001\n"
        "\n"
        "empty|t|Nothing decided.\n"
        "empty|a|\n"
    )
    parsed = parse_pubtator(out, "gold.pubtator")
    assert parsed.problems == ()
    assert [(m.key, m.annotated_ids) for m in parsed.mentions] == [
        (("42", 0, 13), ("HP:0004322",)),
        (("42", 26, 34), ("HP:0001250",)),
        (("42", 36, 39), ()),
        (("7", 0, 9), ("HP:0001252", "HP:0000001")),
    ]


def test_gold_pubtator_record_for_missing_document(records):
    with pytest.raises(ValueError, match="not being written"):
        gold_pubtator([DOC], records)
