"""Documents page: paste, upload (every format, bad lines, binary files), duplicates, limits, samples, escaping."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from bel_core.types import DecisionStatus, MentionOrigin
from db import repository
from pages.components.widgets import md
from tests.app.conftest import CLINICAL_TEXT, click, paste, review_data
from tests.conftest import FIXTURES

TITLE = "Seizures in a child"
ABSTRACT = "She also had short stature and hearing loss."
# Line 4 points at the wrong offsets; line 6 has too few fields. Lines 3 and 5 are good.
PUBTATOR = (
    f"111|t|{TITLE}\n"
    f"111|a|{ABSTRACT}\n"
    "111\t0\t8\tSeizures\tDisease\tHP:0001250\n"
    "111\t3\t9\tshort\tDisease\tHP:0004322\n"
    f"111\t{len(TITLE) + 1 + ABSTRACT.index('hearing loss')}\t"
    f"{len(TITLE) + 1 + ABSTRACT.index('hearing loss') + 12}\thearing loss\tDisease\t-1\n"
    "111\t5\n"
).encode()
GOOD_PUBTATOR = b"222|t|Seizures.\n222|a|\n222\t0\t8\tSeizures\tDisease\tHP:0001250\n"


def all_markdown(at) -> list[str]:
    """Every string the page sent through a Markdown renderer."""
    elements = [*at.markdown, *at.caption, *at.info, *at.success, *at.warning, *at.error, *at.toast]
    return [e.value for e in elements]


def test_every_page_runs_on_an_empty_store(app):
    for page in ("documents", "review", "export", "status"):
        at = app(page)
        assert not at.exception, page


def test_paste_lists_the_document_with_progress(app, store):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id="note-7")
    table = at.dataframe[0].value
    assert list(table["Document"]) == ["note-7"]
    assert list(table["Mentions"]) == [4]
    assert list(table["Progress"]) == [0.0]
    with store() as session:
        assert repository.get_document(session, "note-7").text == CLINICAL_TEXT


def test_pasting_the_same_text_twice_stores_it_once(app, store):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id="note-7")
    paste(at, CLINICAL_TEXT, doc_id="note-7")
    assert any("already stored" in i.value for i in at.info)
    with store() as session:
        assert len(repository.list_documents(session)) == 1


def test_empty_text_is_refused(app, store):
    at = app()
    paste(at, "   \n  ")
    assert at.error and any("the text is empty" in c.value for c in at.code)
    with store() as session:
        assert repository.list_documents(session) == []


def test_the_limit_is_stated_beside_each_input_and_holds_for_pasted_text(app, store, monkeypatch):
    monkeypatch.setenv("BEL_MAX_UPLOAD_BYTES", "100")
    at = app()
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Up to 0.0001 MB (100 bytes) of text") for c in captions)
    assert any(c.startswith("Limit: 0.0001 MB (100 bytes) per file") for c in captions)
    assert "100 bytes) per file" in at.file_uploader[0].label
    paste(at, "seizures " * 20)
    assert any("the text is 180 bytes, over the limit of 100" in c.value for c in at.code)
    with store() as session:
        assert repository.list_documents(session) == []


def test_the_same_text_under_another_id_offers_the_stored_document(app, store):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id="note-7")
    paste(at, CLINICAL_TEXT, doc_id="note-8")
    assert any(md("already stored as note-7") in i.value for i in at.info)
    click(at, md("Open note-7"))
    assert at.session_state["bel_current_doc_id"] == "note-7"
    with store() as session:
        assert [d.doc_id for d in repository.list_documents(session)] == ["note-7"]


def test_bioc_and_zip_uploads_are_stored(app, store):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("in/note.txt", "Seizures and obesity.")
        z.writestr("in/c.pubtator", GOOD_PUBTATOR)
    bioc = (FIXTURES / "fmt_sample.bioc.xml").read_bytes()
    at = app()
    at.file_uploader[0].set_value(
        [("s.xml", bioc, "application/xml"), ("corpus.zip", archive.getvalue(), "application/zip")]
    ).run()
    at.checkbox[1].check().run()  # the BioC sample has bad records on purpose
    click(at, "Import uploaded files")
    with store() as session:
        assert sorted(d.doc_id for d in repository.list_documents(session)) == ["100", "222", "note"]
    assert [w.value for w in at.warning] == ["Skipped bad records (3); the rest was stored:"]


def test_html_in_a_document_is_shown_as_text(app):
    hostile = '<script>alert("x")</script> The boy had seizures. <img src=x onerror=alert(1)>'
    at = app()
    paste(at, hostile, doc_id="<b>evil</b>")
    click(at, "Open in Review")
    rendered = all_markdown(at)
    assert not [v for v in rendered if "<script" in v or "<img" in v or "<b>evil" in v]
    # The Review component gets the text as data (view.js sets it as text, tests/browser check that).
    data = review_data(at)
    assert data["docs"]["<b>evil</b>"]["text"] == hostile
    assert [i["text"] for i in data["items"]] == ["seizures"]


def upload(at, *files: tuple[str, bytes]):
    at.file_uploader[0].set_value([(name, data, "text/plain") for name, data in files]).run()
    return at


def test_a_file_with_bad_spans_is_refused_with_line_numbers(app, store):
    at = upload(app(), ("corpus.pubtator", PUBTATOR), ("scan.txt", b"\x00\x01\x02binary"), ("note.txt", b"Fits."))
    click(at, "Import uploaded files")
    assert not at.success[1:] and [e.value for e in at.error] == ["Refused, nothing of it stored (4):"]
    refused = at.code[0].value.splitlines()
    assert refused[0].startswith("corpus.pubtator: not stored: 2 bad record(s)")
    assert refused[1].startswith("corpus.pubtator, line 4: mention text 'short' does not match")
    assert refused[2].startswith("corpus.pubtator, line 6:")
    assert refused[3] == "scan.txt: this looks like a binary file; upload UTF-8 plain text or PubTator"
    with store() as session:
        assert [d.doc_id for d in repository.list_documents(session)] == ["note"]


def test_store_without_the_bad_spans_keeps_the_rest(app, store):
    at = upload(app(), ("corpus.pubtator", PUBTATOR))
    at.checkbox[1].check().run()
    click(at, "Import uploaded files")
    assert [w.value for w in at.warning] == ["Skipped bad records (2); the rest was stored:"]
    assert [line.split(":")[0] for line in at.code[0].value.splitlines()] == [
        "corpus.pubtator, line 4",
        "corpus.pubtator, line 6",
    ]
    with store() as session:
        mentions = {m.text: m for m in repository.list_mentions(session, "111")}
    assert mentions["Seizures"].origin is MentionOrigin.IMPORTED
    assert mentions["Seizures"].annotated_ids == ("HP:0001250",)
    assert "hearing loss" in mentions and "short" not in mentions


def test_upload_as_gold_records_the_files_ids(app, store):
    at = upload(app(), ("corpus.pubtator", PUBTATOR))
    at.checkbox[0].check().run()
    at.checkbox[1].check().run()
    click(at, "Import uploaded files")
    with store() as session:
        decisions = repository.latest_decisions(session, "111")
    # Seizures (HP:0001250, the top candidate) is accepted; hearing loss (-1) is NIL.
    assert sorted(d.status for d in decisions.values()) == [DecisionStatus.ACCEPTED, DecisionStatus.NIL]
    assert {d.curator for d in decisions.values()} == {"import:corpus.pubtator"}


def test_load_sample_documents(app, store, app_env: Path, monkeypatch):
    samples = app_env / "samples"
    samples.mkdir()
    (samples / "a.txt").write_text("Migraine and obesity.", encoding="utf-8")
    (samples / "b.pubtator").write_bytes(GOOD_PUBTATOR)
    config = app_env / "bel.toml"
    config.write_text(f'sample_documents_dir = "{samples}"\n', encoding="utf-8")
    monkeypatch.setenv("BEL_CONFIG", str(config))
    at = app()
    click(at, "Load sample documents")
    with store() as session:
        assert sorted(d.doc_id for d in repository.list_documents(session)) == ["222", "a"]


def test_open_in_review_opens_the_chosen_document(app):
    at = app()
    paste(at, "The boy had seizures.", doc_id="first")
    paste(at, CLINICAL_TEXT, doc_id="second")
    at.selectbox[0].select("first").run()
    click(at, "Open in Review")
    assert at.session_state["bel_current_doc_id"] == "first"
    assert next(s for s in at.sidebar.selectbox if s.label == "Document").value == "first"
    data = review_data(at)
    assert list(data["docs"]) == ["first"] and [i["text"] for i in data["items"]] == ["seizures"]
