"""Export and Models & KB pages: counts, previews, the download, the linker description."""

from __future__ import annotations

from bel_core.types import DecisionStatus
from pages.components.widgets import md
from tests.app.conftest import CLINICAL_TEXT, accept_top, click, paste, send
from tests.fakes import FakeLinker
from usecases import export, services


def test_export_without_decisions_says_so(app):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id="case-1")
    at.switch_page("pages/export.py").run()
    assert not at.exception
    assert [m.value for m in at.metric] == ["0", "0"]
    assert any("Nothing to export yet" in i.value for i in at.info)
    assert not at.get("download_button")


def export_page(app, store, tiny_kb, text: str, doc_id: str):
    """The Export page after pasting ``text`` and calling its "seizures" NIL."""
    at = app()
    paste(at, text, doc_id=doc_id)
    start = text.index("seizures")
    with store.begin() as session:
        services.decide(session, FakeLinker(tiny_kb), (doc_id, start, start + 8), DecisionStatus.NIL, curator="tester")
    return at.switch_page("pages/export.py").run()


def test_export_preview_is_code_not_html(app, store, tiny_kb):
    at = export_page(app, store, tiny_kb, "<b>Bold</b> claim: the boy had seizures.", "html-doc")
    at.selectbox[0].set_value("pubtator").run()
    assert at.code[0].value.startswith("html-doc|t|<b>Bold</b> claim")
    assert not [m.value for m in at.markdown if "<b>" in m.value]


def test_every_format_is_offered_for_download(app, store, tiny_kb):
    at = export_page(app, store, tiny_kb, "The boy had seizures.", "d")
    assert at.selectbox[0].options == [export.FORMATS[f].label for f in export.EXPORT_FORMATS]
    for fmt in export.EXPORT_FORMATS:
        at.selectbox[0].set_value(fmt).run()
        assert not at.exception, fmt
        [download] = at.get("download_button")
        assert download.proto.label == f"Download {export.FORMATS[fmt].file_name}", fmt


def test_status_page_describes_the_linker_and_the_store(app):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id="case-1")
    click(at, "Open in Review")
    accept_top(at)
    nil = {"id": "nil-1", "kind": "decide", "key": at.session_state["bel_queue_order"][1][1], "status": "nil"}
    send(at, "sync", {"outbox": [nil], "cursor": 2})
    at.switch_page("pages/status.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Concepts"] == "16"
    assert metrics["Documents"] == "1" and metrics["Decided"] == "2"
    linker_table = at.dataframe[0].value
    settings = dict(zip(linker_table["setting"], linker_table["value"], strict=True))
    assert settings["retrievers"] == "TF-IDF (char n-grams) only"
    assert settings["model version"].startswith("tfidf-char2-4+cal-")
    assert any("TinyHPO" in m.value for m in at.markdown)
    # Calibration bars and the curator reliability diagram.
    assert len(at.get("plotly_chart")) == 2


def test_a_missing_kb_is_reported_not_raised(app, app_env, monkeypatch):
    monkeypatch.setenv("BEL_KB", str(app_env / "missing.jsonl"))
    at = app("status")
    assert at.error and md("missing.jsonl") in at.error[0].value
    assert not at.get("plotly_chart")


def test_a_bad_setting_is_reported_not_raised(app, monkeypatch):
    monkeypatch.setenv("BEL_DENSE_ENABLED", "maybe")
    at = app("documents")
    assert [e.value for e in at.error] == [md("retrieval.dense_enabled: expected bool, got 'maybe'")]
