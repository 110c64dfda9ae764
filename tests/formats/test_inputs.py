"""read_any: many files, zip archives (path traversal, bombs), format detection, brat pairing."""

from __future__ import annotations

import io
import zipfile

import pytest

from bel_core.formats import detect_format, iter_inputs, read_any
from bel_core.formats import inputs as inputs_module
from tests.conftest import FIXTURES

PUBTATOR = b"7|t|Short stature.\n7|a|\n7\t0\t13\tShort stature\tPhenotype\tHP:0004322\n"


def fixture(name: str) -> tuple[str, bytes]:
    return name, (FIXTURES / name).read_bytes()


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("a.xml", b"", "bioc-xml"),
        ("a.pubtator", b"", "pubtator"),
        ("a.jsonl", b"", "bigbio"),
        ("a.json", b'{"source": "", "documents": [{"id": "1"}]}', "bioc-json"),
        ("a.json", b'[{"id": "1", "passages": [], "entities": []}]', "bigbio"),
        ("a", b"<?xml version='1.0'?><collection/>", "bioc-xml"),
        ("a.txt", PUBTATOR, "pubtator"),
        ("a.tsv", b"12\nSome text.\n0\t4\tSome\tHP:1\n", "gsc"),
        ("a.txt", b"Just a note.", "text"),
    ],
)
def test_detect_format(name: str, data: bytes, expected: str):
    assert detect_format(name, data) == expected


def test_many_files_pair_brat_and_keep_going_after_a_bad_file():
    files = [
        fixture("fmt_sample.txt"),
        fixture("fmt_sample.ann"),
        fixture("fmt_sample.bioc.json"),
        ("broken.xml", b"<collection><document>"),
        ("orphan.ann", b"T1\tX 0 1\ta\n"),
        ("c.pubtator", PUBTATOR),
    ]
    seen: list[tuple[int, int]] = []
    parsed = read_any(files, max_bytes=100_000, progress=lambda stage, done, total: seen.append((done, total)))
    assert [d.doc_id for d in parsed.documents] == ["fmt_sample", "100", "7"]
    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    messages = [str(p) for p in parsed.problems]
    assert any(m.startswith("broken.xml, line 1: not well-formed XML") for m in messages)
    assert any(m.startswith("orphan.ann: brat .ann file without its .txt") for m in messages)


def test_zip_archives_are_expanded_safely():
    archive = zipped(
        {
            "corpus/fmt_sample.txt": (FIXTURES / "fmt_sample.txt").read_bytes(),
            "corpus/fmt_sample.ann": (FIXTURES / "fmt_sample.ann").read_bytes(),
            "corpus/c.pubtator": PUBTATOR,
            "../../etc/evil.txt": b"outside",
            "/abs.txt": b"absolute",
            "__MACOSX/._c.pubtator": b"junk",
            "big.txt": b"x" * 2000,
        }
    )
    parsed = read_any([("upload.zip", archive)], max_bytes=1500)
    assert [d.doc_id for d in parsed.documents] == ["fmt_sample", "7"]
    unsafe = [p for p in parsed.problems if "unsafe path" in p.message]
    assert [p.filename for p in unsafe] == ["upload.zip:../../etc/evil.txt", "upload.zip:/abs.txt"]
    assert any(p.filename == "upload.zip:big.txt" and "size limit" in p.message for p in parsed.problems)


def test_zip_bombs_and_member_floods_are_refused(monkeypatch: pytest.MonkeyPatch):
    bomb = zipped({f"part{i}.txt": b"a" * 50_000 for i in range(4)})  # compresses to almost nothing
    monkeypatch.setattr(inputs_module, "MAX_ARCHIVE_BYTES", 120_000)
    (problem,) = read_any([("bomb.zip", bomb)], max_bytes=100_000).problems
    assert problem.filename == "bomb.zip" and "unpacks to more than 120,000 bytes" in problem.message
    monkeypatch.setattr(inputs_module, "MAX_MEMBERS", 3)
    (problem,) = read_any([("many.zip", bomb)], max_bytes=100_000).problems
    assert "4 files, over the limit of 3" in problem.message


def test_oversized_plain_file_and_unknown_format():
    (problem,) = read_any([("big.txt", b"x" * 11)], max_bytes=10).problems
    assert "over the limit of 10" in problem.message
    with pytest.raises(ValueError, match="Unknown import format 'xls'"):
        list(iter_inputs([], format="xls", max_bytes=10))


def test_explicit_format_overrides_detection():
    parsed = read_any([("notes.txt", PUBTATOR)], format="text", max_bytes=1000)
    assert [(d.doc_id, len(parsed.mentions)) for d in parsed.documents] == [("notes", 0)]
