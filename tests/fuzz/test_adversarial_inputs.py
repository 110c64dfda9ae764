"""Hand-made hostile inputs: the crashes of issue 18 finding 6 and what fuzzing found, one test each.

Every input here crashed a reader or loader before (``XMLSyntaxError``, ``ValueError``,
``RecursionError``, ``OverflowError``, ``MemoryError``, ``zlib.error``, ``IndexError``) or
is an attack the readers must keep stopping (XXE, billion laughs). Each must now give a
problem or error naming the file and, where one applies, the line.
"""

from __future__ import annotations

import gzip
import io
import json
import time
import zipfile
from pathlib import Path

import pytest

from bel_core.errors import InputFormatError, KnowledgeBaseError
from bel_core.formats import read_any, read_bigbio, read_bioc_json, read_bioc_xml, read_brat, read_gsc, read_pubtator
from bel_core.kb.files import MAX_LINE_BYTES
from bel_core.kb.loaders import load_jsonl, load_kb, load_medic, load_obo
from tests.fuzz.fuzzing import FIXTURES, check, targets

DEEP = 100_000
MB = 1_000_000


def _bioc_json(passage_offset: object = 0, label: object = "Phenotype") -> str:
    passage = {
        "offset": passage_offset,
        "infons": {"type": "title"},
        "text": "Seizures.",
        "sentences": [],
        "relations": [],
        "annotations": [
            {
                "id": "A1",
                "infons": {"type": label, "identifier": "HP:1"},
                "text": "Seizures",
                "locations": [{"offset": 0, "length": 8}],
            }
        ],
    }
    doc = {"id": "1", "infons": {}, "passages": [passage], "annotations": [], "relations": []}
    return json.dumps({"source": "", "date": "", "key": "", "infons": {}, "documents": [doc]}, indent=1)


def _bioc_xml(body: str, doctype: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?>{doctype}\n<collection><source/><date/><key/>\n<document><id>1</id>\n'
        f"<passage><offset>0</offset><text>{body}</text></passage>\n</document></collection>"
    ).encode()


def _only_problem(parsed, filename: str) -> str:  # noqa: ANN001
    (problem,) = parsed.problems
    assert problem.filename == filename and problem.line is not None
    return problem.message


# --- issue 18 finding 6: `bel import` crashed on these -----------------------------------------


def test_bioc_xml_undefined_entity_is_a_problem_of_its_document():
    data = _bioc_xml("a &foo; b", '<!DOCTYPE collection SYSTEM "BioC.dtd">')
    parsed = read_bioc_xml("ent.xml", data)  # was XMLSyntaxError from the bioc decoder
    assert parsed.documents == ()
    assert "entity reference &foo; in a BioC document" in _only_problem(parsed, "ent.xml")


def test_bioc_json_passage_offset_zero_is_a_problem_of_its_document():
    parsed = read_bioc_json("zero.json", _bioc_json(passage_offset="zero"))  # was ValueError
    message = _only_problem(parsed, "zero.json")
    assert "passage offset must be an integer, got 'zero'" in message and "$.documents[0]" in message


@pytest.mark.parametrize(
    ("reader", "name", "data", "line"),
    [
        (read_bigbio, "deep.json", "[" * DEEP + "]" * DEEP, None),  # a JSON array (BigBio)
        (read_bioc_json, "deep.bioc.json", '{"documents": ' + "[" * DEEP + "]" * DEEP + "}", None),
    ],
)
def test_json_nested_100k_levels_is_refused(reader, name, data, line):  # noqa: ANN001
    with pytest.raises(InputFormatError, match="JSON nested too deeply") as e:  # was RecursionError
        reader(name, data)
    assert (e.value.filename, e.value.line) == (name, line)


def test_jsonl_line_nested_100k_levels_is_a_problem_of_its_line():
    good = (FIXTURES / "fmt_sample.bigbio.jsonl").read_text().splitlines()[0]
    parsed = read_bigbio("deep.jsonl", good + "\n" + '{"a": ' * DEEP + "}" * DEEP + "\n")  # was RecursionError
    assert [d.doc_id for d in parsed.documents] == ["100"]
    assert [(p.line, p.message) for p in parsed.problems if "nested" in p.message] == [
        (2, "JSON nested too deeply (the limit is 64 levels)")
    ]


def test_json_lone_surrogate_escape_is_refused_with_its_path():
    data = _bioc_json().replace('"Seizures."', '"Seizures\\ud800."')
    with pytest.raises(InputFormatError, match=r"surrogate pair .* at \$\.documents\[0\]\.passages\[0\]\.text"):
        read_bioc_json("s.json", data)  # was kept, then failed when stored (UnicodeEncodeError)


def test_read_any_reports_each_bad_file_and_reads_the_good_ones():
    """The `bel import` path: every file of finding 6 is one problem with its name; nothing is lost."""
    files = [
        ("ent.xml", _bioc_xml("&foo;", '<!DOCTYPE collection SYSTEM "BioC.dtd">')),
        ("zero.json", _bioc_json(passage_offset="zero").encode()),
        ("deep.json", b"[" * DEEP + b"]" * DEEP),
        ("deep.jsonl", b'{"a": ' * DEEP + b"}" * DEEP),
        ("good.pubtator", (FIXTURES / "docs_good.pubtator").read_bytes()),
    ]
    parsed = read_any(files, max_bytes=MB)
    assert [d.doc_id for d in parsed.documents] == ["1001", "1002"]
    assert sorted(p.filename for p in parsed.problems) == ["deep.json", "deep.jsonl", "ent.xml", "zero.json"]
    assert not any("server log" in p.message for p in parsed.problems)  # no reader crashed


# --- found by tests/fuzz and by reading the readers --------------------------------------------


def test_pubtator_title_line_with_an_empty_id():
    parsed = read_pubtator("e.pubtator", "  |t|No id here\n1|t|Fine\n")  # was ValueError (Document)
    assert [d.doc_id for d in parsed.documents] == ["1"]
    assert [(p.line, p.message.split(";")[0]) for p in parsed.problems] == [(1, "empty document id before '|t|'")]


def test_gsc_offsets_that_str_isdigit_accepts_but_int_refuses():
    data = "1\nSeizures.\n\u00b2\t8\tSeizures\tHP:1\n0\t" + "9" * 5000 + "\tSeizures\tHP:1\n"
    parsed = read_gsc("g.tsv", data)  # was ValueError: '²' and a 5,000-digit number
    assert [p.line for p in parsed.problems] == [3, 4] and parsed.mentions == ()


def test_brat_offset_with_thousands_of_digits_is_a_malformed_line():
    parsed = read_brat("d.txt", "Seizures.", "T1\tPhenotype 0 " + "9" * 5000 + "\tSeizures\n")  # was ValueError
    assert [(p.line, p.message.split(":")[0]) for p in parsed.problems] == [(1, "malformed brat line")]


@pytest.mark.parametrize("offset", ["Infinity", "1e309", "1e15", "1.5"])
def test_bigbio_offsets_that_are_not_small_integers(offset: str):
    record = (FIXTURES / "fmt_sample.bigbio.jsonl").read_text().splitlines()[0]
    bad = record.replace('"offsets": [[0, 21]]', f'"offsets": [[{offset}, 21]]', 1)
    assert bad != record
    parsed = read_bigbio("b.jsonl", bad)  # was OverflowError (float infinity to int)
    assert parsed.documents == () and [p.line for p in parsed.problems] == [1]


def test_passage_offset_beyond_ten_million_characters_allocates_nothing():
    parsed = read_bioc_json("far.json", _bioc_json(passage_offset=10**15))  # was MemoryError
    assert "ends beyond 10,000,000 characters" in _only_problem(parsed, "far.json")


def test_bioc_label_that_is_an_object_is_refused():
    parsed = read_bioc_json("label.json", _bioc_json(label={"x": 1}))  # was kept as a dict label
    assert parsed.mentions == () and "must be a string" in _only_problem(parsed, "label.json")


def test_zip_with_a_corrupt_member_is_one_problem():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", "Seizures in a child. " * 50)
    data = bytearray(buffer.getvalue())
    data[60:64] = b"\xff\xff\xff\xff"  # inside the deflate stream
    parsed = read_any([("c.zip", bytes(data))], max_bytes=MB)  # was zlib.error
    assert parsed.documents == () and [p.filename for p in parsed.problems] == ["c.zip"]


def test_zip_member_with_an_empty_name_is_one_problem():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo(""), "Seizures.")
    parsed = read_any([("e.zip", buffer.getvalue())], max_bytes=MB)  # was IndexError (found by atheris)
    assert parsed.documents == () and [p.filename for p in parsed.problems] == ["e.zip"]


# --- attacks that must stay stopped ----------------------------------------------------------


def test_external_entity_is_never_read():
    doctype = '<!DOCTYPE collection [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    parsed = read_bioc_xml("xxe.xml", _bioc_xml("&x;", doctype))
    assert parsed.documents == () and "root:" not in str(parsed)


def test_billion_laughs_is_refused_at_once():
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    doctype = f'<!DOCTYPE collection [<!ENTITY l0 "lol">{entities}]>'
    started = time.perf_counter()
    try:
        assert read_bioc_xml("lol.xml", _bioc_xml("&l9;", doctype)).documents == ()
    except InputFormatError as e:  # libxml2 itself may stop the amplification
        assert e.filename == "lol.xml" and "entity" in e.reason
    assert time.perf_counter() - started < 1


# --- KB loaders --------------------------------------------------------------------------------


def _write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def test_obo_tag_without_a_value(tmp_path: Path):
    path = _write(tmp_path / "e.obo", "[Term]\nid: X:1\nname: one\nis_a:\n")
    with pytest.raises(KnowledgeBaseError, match=r"e\.obo, line 4: expected an id after 'is_a:'"):  # was IndexError
        load_obo(path)


def test_obo_is_a_chain_deeper_than_the_recursion_limit(tmp_path: Path):
    # Children first, so that walking the first term climbs the whole chain.
    terms = "".join(
        f"[Term]\nid: X:{i}\nname: term {i}\n" + (f"is_a: X:{i - 1}\n" if i else "") for i in reversed(range(3000))
    )
    kb = load_obo(_write(tmp_path / "chain.obo", terms))  # was RecursionError
    assert len(kb) == 3000 and kb.get("X:2999").types == ("term 1",)


def test_medic_header_with_an_unknown_month(tmp_path: Path):
    sample = (FIXTURES / "kb_medic_sample.tsv").read_text()
    path = _write(tmp_path / "CTD_diseases.tsv", sample.replace("Tue Jun 06", "Tue Foo 06"))
    assert len(load_medic(path)) > 0  # was ValueError from list.index


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"a": ' * DEEP + "}" * DEEP, "JSON nested too deeply"),  # was RecursionError
        ('{"concept_id": "X:1", "name": "a", "n": ' + "9" * 5000 + "}", "not valid JSON"),  # was ValueError
        ('{"concept_id": "X:1", "name": "a", "synonyms": ' + "[" * 900 + "]" * 900 + "}", "'synonyms' must be a list"),
        (
            '{"concept_id": "X:1", "name": "a\\udfff"}',
            "a \\\\u escape of half a surrogate pair",
        ),  # was UnicodeEncodeError
    ],
)
def test_kb_jsonl_hostile_lines(tmp_path: Path, line: str, message: str):
    path = _write(tmp_path / "kb.jsonl", line + "\n")
    with pytest.raises(KnowledgeBaseError, match=rf"kb\.jsonl, line 1: {message}"):
        load_jsonl(path)


def test_gzip_with_a_corrupt_deflate_stream(tmp_path: Path):
    data = bytearray(gzip.compress((FIXTURES / "kb_small.obo").read_bytes() * 5, mtime=0))
    data[40:44] = b"\xff\xff\xff\xff"
    with pytest.raises(KnowledgeBaseError, match=r"kb\.obo\.gz: cannot read the file"):  # was zlib.error
        load_kb(str(_write(tmp_path / "kb.obo.gz", bytes(data))), cache_dir=tmp_path)


def test_gzip_bomb_without_line_breaks_is_refused_by_line_length(tmp_path: Path):
    path = _write(tmp_path / "bomb.txt", gzip.compress(b"a" * (MAX_LINE_BYTES + 10), mtime=0))
    with pytest.raises(KnowledgeBaseError, match=r"bomb\.txt, line 1: line longer than"):
        load_kb(f"dict:{path}", cache_dir=tmp_path)


def test_a_directory_given_as_a_kb_file(tmp_path: Path):
    with pytest.raises(KnowledgeBaseError, match="does not exist"):
        load_obo(tmp_path)
    with pytest.raises(KnowledgeBaseError, match="does not exist"):
        load_kb(str(tmp_path), cache_dir=tmp_path)  # a directory without a `bel kb-import` KB


# --- the property on every hostile input above, for every reader -----------------------------

HOSTILE = (
    b"",
    b"\xef\xbb\xbf",
    b"\x00" * 64,
    b"\xff\xfe" + "text".encode("utf-16-le"),
    b"[" * DEEP,
    b"<a>" * DEEP,
    b"9" * 5000,
    b"\t" * 100 + b"\n" * 100,
    b"|t|\n|a|\n\t\t\t\t\t\n",
    b"PK\x03\x04" + b"\x00" * 100,
    b"\x1f\x8b\x08\x00" + b"\x00" * 20,
)


@pytest.mark.parametrize("name", sorted(targets()))
def test_every_target_refuses_or_reads_hostile_blobs(name: str):
    target = targets()[name]
    for data in HOSTILE:
        check(target, data)
