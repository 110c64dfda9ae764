"""Documents page: paste, upload (PubTator with bad lines, binary files), samples, escaping."""

from __future__ import annotations

from pathlib import Path

from bel_core.types import DecisionStatus, MentionOrigin
from db import repository
from pages.components.ingest import import_files
from pages.components.widgets import md
from tests.app.conftest import CLINICAL_TEXT, click, paste
from tests.fakes import FakeLinker

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
    assert any("the text is empty" in e.value for e in at.error)
    with store() as session:
        assert repository.list_documents(session) == []


def test_html_in_a_document_is_shown_as_text(app):
    hostile = '<script>alert("x")</script> The boy had seizures. <img src=x onerror=alert(1)>'
    at = app()
    paste(at, hostile, doc_id="<b>evil</b>")
    click(at, "Open in Review")
    rendered = all_markdown(at)
    assert not [v for v in rendered if "<script" in v or "<img" in v or "<b>evil" in v]
    document_html = next(v for v in rendered if 'class="bel-document"' in v)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in document_html
    assert ">seizures</mark>" in document_html


def test_upload_reports_bad_lines_and_keeps_the_rest(app, store):
    at = app()
    at.file_uploader[0].set_value(
        [
            ("corpus.pubtator", PUBTATOR, "text/plain"),
            ("scan.txt", b"\x00\x01\x02binary", "text/plain"),
            ("note.txt", b"Seizures and obesity.", "text/plain"),
        ]
    ).run()
    click(at, "Import uploaded files")
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 2
    assert warnings[0].startswith(md("corpus.pubtator, line 4:"))
    assert warnings[1].startswith(md("corpus.pubtator, line 6:"))
    assert [e.value for e in at.error] == [
        md("scan.txt: this looks like a binary file; upload UTF-8 plain text or PubTator")
    ]
    with store() as session:
        assert sorted(d.doc_id for d in repository.list_documents(session)) == ["111", "note"]
        mentions = {m.text: m for m in repository.list_mentions(session, "111")}
    assert mentions["Seizures"].origin is MentionOrigin.IMPORTED
    assert mentions["Seizures"].annotated_ids == ("HP:0001250",)
    assert "hearing loss" in mentions


def test_upload_as_gold_records_the_files_ids(app, store):
    at = app()
    at.file_uploader[0].set_value(("corpus.pubtator", PUBTATOR, "text/plain")).run()
    at.checkbox[0].check().run()
    click(at, "Import uploaded files")
    with store() as session:
        decisions = repository.latest_decisions(session, "111")
    # Seizures (HP:0001250, the top candidate) is accepted; hearing loss (-1) is NIL.
    assert sorted(d.status for d in decisions.values()) == [DecisionStatus.ACCEPTED, DecisionStatus.NIL]


def test_import_files_handler_directly(store, tiny_kb):
    """The upload handler without Streamlit: a failing file never loses stored documents."""
    outcome = import_files(
        store,
        FakeLinker(tiny_kb),
        [("corpus.pubtator", PUBTATOR), ("big.txt", b"x" * 101), ("empty.txt", b"  ")],
        max_bytes=100 + len(PUBTATOR),
    )
    assert [str(p).split(":")[0] for p in outcome.problems] == ["corpus.pubtator, line 4", "corpus.pubtator, line 6"]
    assert len(outcome.errors) == 1 and outcome.errors[0].startswith("empty.txt")
    assert outcome.n_new_documents == 2
    outcome = import_files(store, FakeLinker(tiny_kb), [("big.txt", b"y" * 50)], max_bytes=10)
    assert "over the upload limit" in outcome.errors[0]
    with store() as session:
        assert sorted(d.doc_id for d in repository.list_documents(session)) == ["111", "big"]


def test_load_sample_documents(app, store, app_env: Path, monkeypatch):
    samples = app_env / "samples"
    samples.mkdir()
    (samples / "a.txt").write_text("Migraine and obesity.", encoding="utf-8")
    (samples / "b.pubtator").write_bytes(PUBTATOR)
    config = app_env / "bel.toml"
    config.write_text(f'sample_documents_dir = "{samples}"\n', encoding="utf-8")
    monkeypatch.setenv("BEL_CONFIG", str(config))
    at = app()
    click(at, "Load sample documents")
    with store() as session:
        assert sorted(d.doc_id for d in repository.list_documents(session)) == ["111", "a"]


def test_open_in_review_opens_the_chosen_document(app):
    at = app()
    paste(at, "The boy had seizures.", doc_id="first")
    paste(at, CLINICAL_TEXT, doc_id="second")
    at.selectbox[0].select("first").run()
    click(at, "Open in Review")
    assert at.session_state["bel_current_doc_id"] == "first"
    assert at.selectbox[0].value == "first"
    assert any("seizures" in m.value and "bel-document" in m.value for m in at.markdown)
