"""Models & KB: rebuilding the retriever with the stored curator synonyms; Review's KB search by type."""

from __future__ import annotations

from db import repository
from db.models import Role
from pages.components.review_tabs import search_key
from pages.components.widgets import md
from tests.app.conftest import CLINICAL_TEXT, accept_top, click, current, ok, paste
from tests.fakes import FakeLinker
from usecases import auth, kb_extension

HEADACHE = "HP:0002315"


def _rebuild_button(at):
    [button] = [b for b in at.button if b.label.startswith("Rebuild retriever")]
    return button


def _shown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_rebuild_picks_up_a_stored_synonym_and_keeps_decisions(app, store, tiny_kb):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id="case-1")
    click(at, "Open in Review")
    accept_top(at)
    at.switch_page("pages/status.py").run()
    assert md("Curator synonyms in use: extension none") in _shown(at)
    assert _rebuild_button(at).disabled  # nothing stored beyond what is indexed

    with store.begin() as session:  # a curator adds a synonym (Review's "add as synonym")
        kb_extension.add_synonym(session, FakeLinker(tiny_kb), "head pain", HEADACHE, curator="tester")
        version = kb_extension.extension_version(session)
    at.run()
    assert md(f"Stored now: 1 synonym(s), extension {version}") in _shown(at)
    button = _rebuild_button(at)
    assert button.label == md(f"Rebuild retriever with 1 curator synonyms (extension version {version})")
    assert not button.disabled
    button.click().run()
    assert not at.exception
    assert any(md(version) in s.value for s in at.success)
    assert md(f"Curator synonyms in use: extension {version}") in _shown(at)
    assert _rebuild_button(at).disabled

    # The rebuilt linker detects the new synonym and ranks its concept first; earlier decisions stay.
    at.switch_page("pages/documents.py").run()
    paste(at, "Severe head pain since Monday.", doc_id="case-2")
    with store() as session:
        [result] = repository.latest_link_results(session, "case-2").values()
        assert (result.mention.text, result.top.concept_id) == ("head pain", HEADACHE)
        assert result.kb_version.startswith(f"TinyHPO:tiny-1+{version}:")
        assert len(repository.latest_decisions(session, "case-1")) == 1


def test_only_admins_may_rebuild(app, store, monkeypatch):
    monkeypatch.setenv("BEL_AUTH_REQUIRED", "1")
    with store.begin() as session:
        auth.add_user(session, "cy", "a long password", Role.CURATOR)
    at = app()
    at.text_input[0].input("cy")
    at.text_input[1].input("a long password")
    click(at, "Log in")
    at.switch_page("pages/status.py").run()
    assert not at.exception
    assert _rebuild_button(at).disabled
    assert any("An admin can rebuild" in c.value for c in at.caption)


def test_review_kb_search_filters_by_semantic_type(app):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id="case-1")
    click(at, "Open in Review")
    at.text_input(key=search_key(current(at))).input("head").run()
    linked = [b.key for b in at.button if b.key and b.key.startswith("link-HP:")]
    assert linked == ["link-HP:0002315", "link-HP:0000256", "link-HP:0002076", "link-HP:0000252"]
    types = at.multiselect(key="kb-query-types")
    assert "Abnormality of head or neck" in types.options
    types.select("Abnormality of head or neck").run()
    ok(at)
    assert [b.key for b in at.button if b.key and b.key.startswith("link-HP:")] == [
        "link-HP:0000256",
        "link-HP:0000252",
    ]
