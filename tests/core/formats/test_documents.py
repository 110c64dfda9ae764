"""Tests for bel_core.formats.documents, .text and .pubtator: pasted text, files, PubTator reading and writing."""

from __future__ import annotations

import hashlib

import pytest

from bel_core.errors import InputFormatError
from bel_core.formats import read_any, read_text
from bel_core.formats.documents import InputProblem, check_mention, document_from_text
from bel_core.formats.pubtator import parse_pubtator, read_pubtator, write_pubtator
from bel_core.types import Document, Mention, MentionOrigin
from tests.conftest import FIXTURES, REPO_ROOT, SHARED_DATA

NCBI_DEV = SHARED_DATA / "ncbi_disease" / "NCBIdevelopset_corpus.txt"
MB = 1_000_000


def _fixture(name: str):
    data = (FIXTURES / name).read_bytes()
    return read_pubtator(name, data) if name.endswith(".pubtator") else read_text(name, data)


# --- pasted text ---------------------------------------------------------------------------


def test_document_from_text_default_id_and_verbatim_html():
    text = "<script>alert(1)</script> Seizures &amp; ASD"
    doc = document_from_text(text)
    assert doc.text == text
    assert doc.doc_id == "paste-" + hashlib.sha256(text.encode()).hexdigest()[:10]
    assert (doc.source, doc.title_end) == ("paste", 0)


def test_document_from_text_normalises_crlf_and_bom_and_keeps_given_id():
    doc = document_from_text("\ufeffline one\r\nline two\r\n", doc_id="d1", source="notes.txt")
    assert (doc.doc_id, doc.text, doc.source) == ("d1", "line one\nline two\n", "notes.txt")


@pytest.mark.parametrize("text", ["", "   \n\t  "])
def test_document_from_text_rejects_empty(text):
    with pytest.raises(InputFormatError, match=r"^<pasted text>: the text is empty") as e:
        document_from_text(text)
    assert e.value.line is None


# --- uploads: bad files --------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"text\x00with a NUL", bytes(range(1, 32)) * 10 + b"abc"])
def test_upload_binary_rejected(data):
    with pytest.raises(InputFormatError, match=r"^scan\.pdf: this looks like a binary file"):
        read_text("scan.pdf", data)


def test_upload_non_utf8_names_line_of_first_bad_byte():
    with pytest.raises(InputFormatError) as e:
        _fixture("docs_latin1.txt")
    assert e.value.line == 1
    assert str(e.value).startswith("docs_latin1.txt, line 1: the file is not valid UTF-8 (byte 0xe9 at offset 12)")
    with pytest.raises(InputFormatError) as e:
        read_text("x.txt", "ok\r\nfine\n\xe9t\xe9".encode() + b"\n\xff")
    assert e.value.line == 4


@pytest.mark.parametrize("data", [b"", b"  \n\r\n\t", b"\xef\xbb\xbf\n"])
def test_upload_empty_rejected(data):
    with pytest.raises(InputFormatError, match=r"^empty\.txt: the text is empty"):
        read_text("empty.txt", data)


# --- uploads: plain text -------------------------------------------------------------------


def test_upload_txt_one_document_stem_id_bom_crlf():
    parsed = read_text("case report #1.txt", b"\xef\xbb\xbfA boy with <b>seizures</b>.\r\nSecond line.")
    (doc,) = parsed.documents
    assert doc == Document("case_report_1", "A boy with <b>seizures</b>.\nSecond line.", source="case report #1.txt")
    assert (parsed.mentions, parsed.problems) == ((), ())


@pytest.mark.parametrize(
    ("filename", "doc_id"),
    [("dir/sub/report.v2.txt", "report.v2"), ("C:\\docs\\note.TXT", "note"), ("###.txt", None), ("ünï.md", "n")],
)
def test_upload_txt_doc_id_is_sanitised_stem(filename, doc_id):
    (doc,) = read_text(filename, b"Some text.").documents
    expected = doc_id or "upload-" + hashlib.sha256(b"Some text.").hexdigest()[:10]
    assert doc.doc_id == expected


# --- PubTator ------------------------------------------------------------------------------


def test_pubtator_detected_by_content_regardless_of_extension():
    data = (FIXTURES / "docs_good.pubtator").read_bytes()
    assert len(read_any([("weird.txt", data)], max_bytes=MB).documents) == 2
    assert len(read_any([("weird.dat", b"\n\n" + data)], max_bytes=MB).documents) == 2


def test_pubtator_good_file():
    parsed = _fixture("docs_good.pubtator")
    d1, d2 = parsed.documents
    assert d1.doc_id == "1001" and d1.title_end == len("Atrial septal defect and seizures in two sibs.")
    assert d1.text == (
        "Atrial septal defect and seizures in two sibs. Both children had an atrial septal defect (ASD) "
        "and focal seizures. The younger sib also had short stature and brachydactyly."
    )
    assert d2.text.endswith("<b>hypotonia</b> is described.")  # HTML stays text
    assert parsed.problems == ()
    got = [(m.doc_id, m.start, m.end, m.text, m.label, m.annotated_ids) for m in parsed.mentions]
    assert got == [
        ("1001", 0, 20, "Atrial septal defect", "Phenotype", ("HP:0001631",)),
        ("1001", 25, 33, "seizures", "Phenotype", ("HP:0001250",)),
        ("1001", 68, 88, "atrial septal defect", "Phenotype", ("HP:0001631",)),
        ("1001", 90, 93, "ASD", "Phenotype", ("HP:0001631",)),
        ("1001", 99, 113, "focal seizures", "Phenotype", ("HP:0007359",)),
        ("1001", 140, 171, "short stature and brachydactyly", "Composite", ("HP:0004322", "HP:0001156")),
        ("1002", 0, 12, "Hearing loss", "Phenotype", ("HP:0000365",)),  # leading space stripped
        ("1002", 18, 30, "microcephaly", "Phenotype", ("HP:0000252", "HP:0000256")),  # '+' split
        ("1002", 44, 56, "hearing loss", "Phenotype", ()),  # -1 dropped
        ("1002", 78, 87, "hypotonia", "Phenotype", ("HP:0001252",)),
    ]
    assert {m.origin for m in parsed.mentions} == {MentionOrigin.IMPORTED}


def test_pubtator_bad_lines_reported_good_records_kept():
    parsed = _fixture("docs_bad.pubtator")
    assert [(d.doc_id, d.text) for d in parsed.documents] == [
        ("2001", "Short stature in a boy. He had short stature and seizures."),
        ("2002", "A title after its abstract."),
        ("2003", "Good third document. With hypotonia."),
    ]
    assert [m.key for m in parsed.mentions] == [("2001", 0, 13), ("2001", 49, 57), ("2003", 26, 35)]
    name = "docs_bad.pubtator"
    assert parsed.problems == (
        InputProblem(
            name,
            4,
            "mention text 'seizures' does not match the document text at 48-56 (' seizure'); "
            "fix the offsets or the text",
        ),
        InputProblem(name, 5, "expected at least 6 tab-separated fields (PMID, start, end, text, type, id), found 5"),
        InputProblem(name, 6, "offsets must be integers, found start='x' end='57'"),
        InputProblem(name, 7, "mention for unknown document '9999': no '9999|t|' and '9999|a|' lines come before it"),
        InputProblem(
            name,
            10,
            "abstract line for '2002' without its title line just before it; "
            "write '2002|t|title' first, then '2002|a|abstract'",
        ),
        InputProblem(
            name,
            13,
            "duplicate document id '2001' (first at line 1); "
            "this record and its mention lines are skipped, the first one is kept",
        ),
        InputProblem(
            name, 17, "not a PubTator line: expected 'PMID|t|title', 'PMID|a|abstract' or a tab-separated mention line"
        ),
        InputProblem(name, 21, "duplicate mention span 26-35 in '2003'; the first one is kept"),
        InputProblem(
            name,
            22,
            "span 30-20 of 'hypotonia' is not inside document '2003' (need 0 <= start < end <= 36); fix the offsets",
        ),
    )
    assert str(parsed.problems[2]) == "docs_bad.pubtator, line 6: offsets must be integers, found start='x' end='57'"


def test_pubtator_without_documents_raises_with_problems():
    with pytest.raises(InputFormatError) as e:
        _fixture("docs_nodocs.pubtator")
    message = str(e.value)
    assert message.startswith("docs_nodocs.pubtator: no document found: expected 'PMID|t|title'")
    assert "docs_nodocs.pubtator, line 1: expected at least 6 tab-separated fields" in message
    assert "docs_nodocs.pubtator, line 2: not a PubTator line" in message


def test_pubtator_crlf_bom_relation_and_composite_column():
    text = "\ufeff7|t|Fits.\r\n7|a|Fits again.\r\n7\t0\t4\tFits\tDisease\tD1|D2\tFits|Fits\r\n7\tCID\tD9\tD1\r\n"
    parsed = parse_pubtator(text, "f.pubtator")
    assert parsed.documents == (Document("7", "Fits. Fits again.", source="f.pubtator", title_end=5),)
    assert [(m.key, m.annotated_ids) for m in parsed.mentions] == [(("7", 0, 4), ("D1", "D2"))]
    assert parsed.problems == ()


def test_pubtator_ids_kept_as_written_and_missing_abstract():
    parsed = parse_pubtator("8|t|Gout here\n8\t0\t4\tGout\tDisease\tMESH:D006073 + OMIM:1\n", "g")
    assert parsed.documents == (Document("8", "Gout here", source="g", title_end=9),)
    assert parsed.mentions[0].annotated_ids == ("MESH:D006073", "OMIM:1")


# --- manual spans --------------------------------------------------------------------------


def test_check_mention_ok_and_errors():
    doc = Document("d", "A  seizure.")
    assert check_mention(doc, 3, 10) == Mention("d", 3, 10, "seizure", origin=MentionOrigin.MANUAL)
    for start, end, fragment in [
        (5, 5, "not a non-empty span"),
        (-1, 3, "not a non-empty span"),
        (3, 12, "inside the text (0-11)"),
        (1, 3, "covers only whitespace"),
    ]:
        with pytest.raises(InputFormatError, match=r"^document d: span") as e:
            check_mention(doc, start, end)
        assert fragment in str(e.value)


# --- writing -------------------------------------------------------------------------------


def test_write_pubtator_exact_lines_and_round_trip():
    doc = Document("9", "Title x. Body\twith\nbreaks.", title_end=8)
    plain = Document("p1", "No title\nat all.")
    m1 = Mention("9", 14, 18, "with", label="Disease")
    m2 = Mention("9", 0, 5, "Title")
    m3 = Mention("p1", 3, 14, "title\nat al")
    out = write_pubtator([doc, plain], {"9": [(m1, ()), (m2, ("A", "B"))], "p1": [(m3, ("C",))]})
    assert out == (
        "9|t|Title x.\n9|a|Body with breaks.\n9\t0\t5\tTitle\tEntity\tA|B\n9\t14\t18\twith\tDisease\t-1\n"
        "\n"
        "p1|t|No title at all.\np1|a|\np1\t3\t14\ttitle at al\tEntity\tC\n"
    )
    again = parse_pubtator(out, "o")
    assert [d.text for d in again.documents] == ["Title x. Body with breaks.", "No title at all."]
    assert [(m.key, m.annotated_ids) for m in again.mentions] == [
        (("9", 0, 5), ("A", "B")),
        (("9", 14, 18), ()),
        (("p1", 3, 14), ("C",)),
    ]


def test_write_pubtator_rejects_programmer_errors():
    doc = Document("9", "abc def")
    with pytest.raises(ValueError, match="not being written"):
        write_pubtator([doc], {"other": []})
    with pytest.raises(ValueError, match="does not match its document"):
        write_pubtator([doc], {"9": [(Mention("9", 0, 3, "xyz"), ())]})
    with pytest.raises(ValueError, match="cannot be written as a PubTator id"):
        write_pubtator([Document("a|b", "t")], {})


@pytest.mark.skipif(not NCBI_DEV.exists(), reason=f"shared corpus not available at {NCBI_DEV}")
def test_pubtator_round_trip_on_ncbi_dev_corpus():
    first = read_pubtator(NCBI_DEV.name, NCBI_DEV.read_bytes())
    assert (len(first.documents), len(first.mentions), first.problems) == (100, 787, ())
    annotations: dict[str, list[tuple[Mention, tuple[str, ...]]]] = {}
    for m in first.mentions:
        annotations.setdefault(m.doc_id, []).append((m, m.annotated_ids))
    second = parse_pubtator(write_pubtator(first.documents, annotations), NCBI_DEV.name)
    assert second.problems == ()
    assert second.documents == first.documents
    assert second.mentions == first.mentions


# --- sample data ---------------------------------------------------------------------------

SAMPLE_DOCUMENTS = REPO_ROOT / "sample_data" / "documents"


def test_sample_reports_are_short_plain_text_documents():
    files = sorted(SAMPLE_DOCUMENTS.glob("*.txt"))
    assert len(files) == 5
    for path in files:
        (doc,) = read_text(path.name, path.read_bytes()).documents
        assert doc.doc_id == path.stem
        assert 80 <= len(doc.text.split("\n\n", 1)[1].split()) <= 200


def test_sample_pubtator_offsets_match_and_texts_match_the_txt_files():
    path = SAMPLE_DOCUMENTS / "case_reports.pubtator"
    parsed = read_pubtator(path.name, path.read_bytes())
    assert parsed.problems == ()
    assert [d.doc_id for d in parsed.documents] == ["case_report_01", "case_report_03"]
    assert len(parsed.mentions) == 38
    assert all(m.label == "Phenotype" and len(m.annotated_ids) == 1 for m in parsed.mentions)
    for doc in parsed.documents:
        (txt,) = SAMPLE_DOCUMENTS.glob(doc.doc_id + "_*.txt")
        title, _, body = txt.read_text(encoding="utf-8").partition("\n\n")
        assert doc.text == f"{title} {body.strip()}" and doc.title_end == len(title)
