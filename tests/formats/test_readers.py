"""Each reader on a small hand-written fixture: documents, spans, ids, and problems by line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bel_core.errors import InputFormatError
from bel_core.formats import read_bigbio, read_bioc_json, read_bioc_xml, read_brat, read_gsc, read_text
from tests.conftest import FIXTURES

TEXT = "Seizures in children. Microcephaly and atrial septal defect were seen."


def spans(parsed) -> list[tuple[str, int, int, str | None, tuple[str, ...]]]:
    return [(m.doc_id, m.start, m.end, m.label, m.annotated_ids) for m in parsed.mentions]


def problems(parsed) -> list[tuple[int | None, str]]:
    return [(p.line, p.message.split(";")[0]) for p in parsed.problems]


def test_bioc_xml_reads_passages_ids_and_reports_bad_records():
    parsed = read_bioc_xml("s.xml", (FIXTURES / "fmt_sample.bioc.xml").read_bytes())
    (doc,) = parsed.documents
    assert (doc.doc_id, doc.text, doc.title_end) == ("100", TEXT, 21)
    assert spans(parsed) == [
        ("100", 0, 8, "Phenotype", ("HP:0001250",)),
        ("100", 22, 34, "Phenotype", ("HP:0000252", "HP:0001631")),
        ("100", 39, 59, "Phenotype", ()),  # discontinuous -> covering span; -1 -> NIL
    ]
    lines = {line for line, _ in problems(parsed)}
    assert lines == {29, 36, 44}  # discontinuous note, wrong text, malformed document
    assert any("WRONG!" in p.message for p in parsed.problems)


def test_bioc_xml_syntax_error_names_the_line():
    with pytest.raises(InputFormatError, match=r"s\.xml, line 3: not well-formed XML"):
        read_bioc_xml("s.xml", b"<collection>\n<document>\n</collection>")


def test_bioc_json_keeps_good_documents_and_reports_malformed_ones():
    parsed = read_bioc_json("s.json", (FIXTURES / "fmt_sample.bioc.json").read_text())
    assert [d.doc_id for d in parsed.documents] == ["100"]
    assert spans(parsed)[2] == ("100", 39, 59, "Phenotype", ("HP:0001631",))
    assert [(p.line, "malformed" in p.message) for p in parsed.problems] == [(13, True)]


def test_bigbio_maps_db_names_and_skips_bad_lines():
    parsed = read_bigbio("s.jsonl", (FIXTURES / "fmt_sample.bigbio.jsonl").read_bytes())
    assert [d.doc_id for d in parsed.documents] == ["100", "102"]
    assert parsed.documents[0].text == TEXT and parsed.documents[0].title_end == 21
    assert spans(parsed) == [
        ("100", 0, 8, "Phenotype", ("HP:0001250",)),
        ("100", 22, 34, "Disease", ("D008831", "OMIM:251200")),
        ("100", 39, 59, "Phenotype", ()),
    ]
    assert [line for line, _ in problems(parsed)] == [1, 2, 3, 4]  # discontinuous, bad text, not JSON, no text
    assert "not valid JSON" in parsed.problems[2].message


def test_brat_reads_t_and_n_lines_and_reports_the_rest():
    parsed = read_brat(
        "fmt_sample.txt", (FIXTURES / "fmt_sample.txt").read_bytes(), (FIXTURES / "fmt_sample.ann").read_bytes()
    )
    (doc,) = parsed.documents
    assert (doc.doc_id, doc.text, doc.title_end) == ("fmt_sample", TEXT, 0)
    assert spans(parsed) == [
        ("fmt_sample", 0, 8, "Phenotype", ("HP:0001250",)),
        ("fmt_sample", 22, 34, "Disease", ("D008831", "OMIM:251200")),
        ("fmt_sample", 39, 59, "Phenotype", ()),
    ]
    found = problems(parsed)
    assert [line for line, _ in found] == [6, 7, 10, None]
    assert "discontinuous" in found[0][1] and "does not match" in found[1][1] and "malformed" in found[2][1]
    assert all(p.filename == "fmt_sample.ann" for p in parsed.problems)


def test_gsc_blocks():
    parsed = read_gsc("g.tsv", (FIXTURES / "fmt_sample.gsc.tsv").read_bytes())
    assert [d.doc_id for d in parsed.documents] == ["100", "101"]
    assert spans(parsed)[-1] == ("101", 0, 13, None, ("HP:0004322",))
    assert [line for line, _ in problems(parsed)] == [5, 6]  # text mismatch, bad offsets


def test_plain_text_is_one_document_named_by_its_stem(tmp_path: Path):
    parsed = read_text("notes/visit-1.txt", "Line one.\r\nLine two.")
    assert [(d.doc_id, d.text) for d in parsed.documents] == [("visit-1", "Line one.\nLine two.")]
    with pytest.raises(InputFormatError, match="not valid UTF-8"):
        read_text("latin.txt", "café".encode("latin-1"))


def test_a_malformed_annotation_is_skipped_and_its_document_kept():
    bioc = json.loads((FIXTURES / "fmt_sample.bioc.json").read_text())
    bioc["documents"][0]["passages"][0]["annotations"][0]["locations"][0]["length"] = "eight"
    parsed = read_bioc_json("s.json", json.dumps(bioc))
    assert [d.doc_id for d in parsed.documents] == ["100"] and len(parsed.mentions) == 2
    assert any("location length must be an integer, got 'eight'" in p.message for p in parsed.problems)

    record = json.loads((FIXTURES / "fmt_sample.bigbio.jsonl").read_text().splitlines()[0])
    record["entities"][0]["offsets"] = [[0, "8"], [1]]
    parsed = read_bigbio("s.jsonl", json.dumps(record))
    assert [d.doc_id for d in parsed.documents] == ["100"] and len(parsed.mentions) == 2
    assert [p.message.split(" (")[0] for p in parsed.problems][:1] == ["malformed entity of '100'"]
