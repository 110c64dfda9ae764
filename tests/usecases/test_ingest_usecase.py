"""usecases.ingest: every format in, refusals with file and line, duplicates, gold ids verbatim."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bel_core.formats import WRITERS, inputs, write_brat
from bel_core.types import DecisionStatus, Document, Mention, MentionOrigin
from db import repository
from tests.conftest import FIXTURES
from usecases import decisions
from usecases.ingest import IngestOptions, ingest_files, ingest_paths, ingest_text

OPTIONS = IngestOptions(max_bytes=1_000_000)
GOLD = IngestOptions(max_bytes=1_000_000, as_gold=True)
TITLE = "Seizures in a child"
ABSTRACT = "She also had short stature and fits."
STATURE = len(TITLE) + 1 + ABSTRACT.index("short stature")
FITS = len(TITLE) + 1 + ABSTRACT.index("fits")
# Line 4's offsets do not match its text; the other mention lines are good.
BAD_SPANS = (
    f"111|t|{TITLE}\n111|a|{ABSTRACT}\n"
    "111\t0\t8\tSeizures\tDisease\tHP:0001250\n"
    "111\t3\t9\tshort\tDisease\tHP:0004322\n"
    f"111\t{STATURE}\t{STATURE + 13}\tshort stature\tDisease\tHP:0004322\n"
).encode()
# An alternate id (HP:0002279 is Seizure's), an id the tiny KB lacks, and a NIL.
GOLD_FILE = (
    f"222|t|{TITLE}\n222|a|{ABSTRACT}\n"
    "222\t0\t8\tSeizures\tDisease\tHP:0002279\n"
    f"222\t{STATURE}\t{STATURE + 13}\tshort stature\tDisease\tOMIM:613825\n"
    f"222\t{FITS}\t{FITS + 4}\tfits\tDisease\t-1\n"
).encode()


def fixture(name: str) -> tuple[str, bytes]:
    return name, (FIXTURES / name).read_bytes()


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def stored_ids(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return sorted(d.doc_id for d in repository.list_documents(session))


def written(fmt: str) -> dict[str, bytes]:
    """One document in ``fmt``, its text naming the format (so no two formats share a text)."""
    text = f"In {fmt}: the boy had seizures."
    document = Document(f"doc-{fmt}", text, source="w")
    start = text.index("seizures")
    mention = Mention(document.doc_id, start, start + 8, "seizures", label="Phenotype")
    if fmt == "brat":
        files = write_brat([document], {document.doc_id: [(mention, ("HP:0001250",))]})
    else:
        files = {f"doc.{fmt}": WRITERS[fmt]([document], {document.doc_id: [(mention, ("HP:0001250",))]})}
    return {name: content.encode() for name, content in files.items()}


def test_every_format_is_stored_from_files_and_a_zip(factory, linker):
    files = [(f"{fmt}-{name}", data) for fmt in WRITERS for name, data in written(fmt).items()]
    files.append(("note.txt", b"The boy had seizures."))
    files.append(("brat.zip", zipped(written("brat"))))
    summary = ingest_files(factory, linker, files, options=OPTIONS)
    assert summary.refused == () and summary.skipped == () and summary.duplicates == ()
    assert stored_ids(factory) == sorted([*(f"doc-{fmt}" for fmt in WRITERS), "doc-brat", "note"])
    with factory() as session:
        for fmt in [*WRITERS, "brat"]:
            [imported] = repository.list_mentions(session, f"doc-{fmt}")
            assert (imported.text, imported.annotated_ids) == ("seizures", ("HP:0001250",)), fmt


def test_a_file_with_bad_spans_is_refused_with_lines_and_nothing_changes(factory, linker):
    summary = ingest_files(factory, linker, [("c.pubtator", BAD_SPANS), ("note.txt", b"Fits.")], options=OPTIONS)
    refused = [str(p) for p in summary.refused]
    assert refused[0].startswith("c.pubtator: not stored: 1 bad record(s)")
    assert refused[1].startswith("c.pubtator, line 4: mention text 'short' does not match")
    assert stored_ids(factory) == ["note"]  # the next file was still read

    summary = ingest_files(
        factory, linker, [("c.pubtator", BAD_SPANS)], options=IngestOptions(max_bytes=10**6, skip_bad_spans=True)
    )
    assert summary.refused == () and [p.line for p in summary.skipped] == [4]
    with factory() as session:
        imported = [m for m in repository.list_mentions(session, "111") if m.origin is MentionOrigin.IMPORTED]
    assert [m.text for m in imported] == ["Seizures", "short stature"]


def test_a_refused_document_leaves_the_stored_one_as_it_was(factory, linker):
    with factory.begin() as session:
        repository.add_document(session, Document("111", "Another text with the same id.", source="x"))
    summary = ingest_files(
        factory, linker, [("c.pubtator", BAD_SPANS)], options=IngestOptions(10**6, skip_bad_spans=True)
    )
    assert "document '111' not stored" in summary.refused[0].message
    with factory() as session:
        assert repository.get_document(session, "111").text == "Another text with the same id."
        assert repository.list_mentions(session, "111") == []


def test_unreadable_inputs_are_refused_and_the_rest_goes_on(factory, linker, tmp_path: Path, monkeypatch):
    def broken(name: str, data: bytes) -> object:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setitem(inputs.READERS, "bioc-json", broken)
    (tmp_path / "good.txt").write_text("The boy had seizures.", encoding="utf-8")
    (tmp_path / "deep.json").write_text('{"documents": [', encoding="utf-8")
    (tmp_path / "big.txt").write_text("x" * 200, encoding="utf-8")
    paths = [
        str(tmp_path),
        str(tmp_path / "missing.txt"),
        str(tmp_path / "deep.json"),
        str(tmp_path / "big.txt"),
        str(tmp_path / "good.txt"),
    ]
    summary = ingest_paths(factory, linker, paths, options=IngestOptions(max_bytes=100))
    reasons = [p.message for p in summary.refused]
    assert reasons[0].startswith("is a directory") and reasons[1].startswith("cannot be read")
    assert "over the limit of 100" in reasons[2]
    assert reasons[3].startswith("could not be read (RecursionError")
    assert stored_ids(factory) == ["good"]


def test_pasted_text_is_held_to_the_limit(factory, linker):
    summary = ingest_text(factory, linker, "x" * 101, options=IngestOptions(max_bytes=100))
    assert "over the limit of 100" in summary.refused[0].message
    summary = ingest_text(factory, linker, "  \n ", options=OPTIONS)
    assert "the text is empty" in summary.refused[0].message
    assert stored_ids(factory) == []


def test_the_same_text_again_is_recognised(factory, linker):
    first = ingest_text(factory, linker, "The boy had seizures.", options=OPTIONS, doc_id="note-1")
    again = ingest_text(factory, linker, "The boy had seizures.", options=OPTIONS, doc_id="note-1")
    other_id = ingest_text(factory, linker, "The boy had seizures.", options=OPTIONS)
    upload = ingest_files(factory, linker, [("same.txt", b"The boy had seizures.")], options=OPTIONS)
    assert first.n_documents == 1 and again.n_already_stored == 1
    assert [d.stored_doc_id for d in (*other_id.duplicates, *upload.duplicates)] == ["note-1", "note-1"]
    assert stored_ids(factory) == ["note-1"]


def test_detection_runs_only_where_no_spans_came(factory, linker):
    good = BAD_SPANS.replace(b"111\t3\t9\tshort\tDisease\tHP:0004322\n", b"")
    ingest_files(factory, linker, [("c.pubtator", good), ("n.txt", b"She had fits.")], options=OPTIONS)
    with factory() as session:
        assert {m.origin for m in repository.list_mentions(session, "111")} == {MentionOrigin.IMPORTED}
        assert [m.text for m in repository.list_mentions(session, "n")] == ["fits"]
    ingest_files(
        factory,
        linker,
        [("d.pubtator", good.replace(b"111", b"112").replace(b"She also", b"Tom also"))],
        options=IngestOptions(10**6, detect_with_spans=True),
    )
    with factory() as session:
        assert MentionOrigin.DETECTED in {m.origin for m in repository.list_mentions(session, "112")}


def test_gold_keeps_ids_verbatim_and_reports_ids_not_in_the_kb(factory, linker):
    summary = ingest_files(factory, linker, [("g.pubtator", GOLD_FILE)], options=GOLD)
    assert summary.n_gold == 3 and summary.refused == ()
    [notice] = summary.notices
    assert (notice.filename, notice.line) == ("g.pubtator", 4)
    assert "id OMIM:613825: not in KB" in notice.message
    with factory() as session:
        history = {k: decisions.history(session, k)[-1] for k in repository.latest_decisions(session, "222")}
    by_text = {key[1]: stored for key, stored in history.items()}
    seizure, stature, fits = by_text[0], by_text[STATURE], by_text[FITS]
    assert seizure.decision.concept_ids == ("HP:0001250",) and seizure.context.given_ids == ("HP:0002279",)
    assert stature.decision.status is not DecisionStatus.NIL
    assert stature.decision.concept_ids == ("OMIM:613825",) == stature.context.given_ids
    assert fits.decision.status is DecisionStatus.NIL and fits.context.given_ids == ()
    assert all(s.decision.curator == "import:g.pubtator" for s in history.values())
