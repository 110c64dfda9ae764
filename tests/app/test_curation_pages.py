"""Review actions beyond one click, and the team pages: login, adjudication, quality, team.

Every action is taken through the real page (AppTest), and what it stored is read back
from the SQLite file through ``db``.
"""

from __future__ import annotations

from sqlalchemy import select

from bel_core.types import DecisionStatus
from db import repository
from usecases import assignments
from usecases import auth
from usecases import decisions
from usecases import kb_extension
from usecases import services
from db.models import DecisionRow, Role
from pages.components.widgets import md
from tests.app.conftest import CLINICAL_TEXT, click, paste
from tests.fakes import FakeLinker

DOC = "case-1"
REPEATS = "Seizures at night. Later the seizures stopped. The boy had no ASD."


def _review(app, text: str = CLINICAL_TEXT, doc_id: str = DOC):
    at = app()
    paste(at, text, doc_id=doc_id)
    click(at, "Open in Review")
    return at


def _latest(store, doc_id: str = DOC):
    with store() as session:
        return repository.latest_decisions(session, doc_id)


def test_every_new_page_runs_on_an_empty_store(app):
    for page in ("quality", "adjudicate", "team"):
        at = app(page)
        assert not at.exception, page


def test_deferring_verdicts_and_undo(app, store):
    at = _review(app)
    first = at.session_state["bel_current_mention_key"]
    click(at, "Needs context")
    second = at.session_state["bel_current_mention_key"]
    assert second != first
    click(at, "Not entity")
    click(at, "Previous")
    assert at.session_state["bel_current_mention_key"] == second
    click(at, "Undo")
    latest = _latest(store)
    assert latest[first].status is DecisionStatus.NEEDS_CONTEXT
    assert latest[second].status is DecisionStatus.SKIPPED  # its only verdict was taken back
    with store() as session:
        history = decisions.history(session, second)
    assert [h.context.undoes_id for h in history] == [None, history[0].id]
    assert any("Undone" in t.value for t in at.toast)


def test_span_editor_moves_edges_by_word_and_keeps_the_concept(app, store):
    at = _review(app)
    key = at.session_state["bel_current_mention_key"]  # "ASD" in "...showed an ASD."
    click(at, "Accept top")
    accepted = _latest(store)[key].concept_ids
    at.session_state["bel_current_mention_key"] = key
    at.run()
    click(at, "Wrong span")
    click(at, "◀ start")  # widen to "an ASD"
    assert any("now " in m.value and "an ASD" in m.value for m in at.markdown)
    click(at, "Save span")
    new_key = at.session_state["bel_current_mention_key"]
    assert new_key == (DOC, key[1] - 3, key[2])
    latest = _latest(store)
    assert (latest[key].status, latest[key].corrected_span) == (DecisionStatus.WRONG_SPAN, new_key[1:])
    assert latest[new_key].concept_ids == accepted  # the concept survives the span edit


def test_composite_mention_links_several_concepts(app, store):
    at = _review(app)
    key = at.session_state["bel_current_mention_key"]
    options = at.multiselect[-1].options
    at.multiselect[-1].set_value(options[:2]).run()
    click(at, "Link all chosen")
    decision = _latest(store)[key]
    assert decision.status is DecisionStatus.CORRECTED and len(decision.concept_ids) == 2


def test_near_duplicates_are_previewed_and_decided_together(app, store):
    at = _review(app, REPEATS, "repeats")
    group = [m.value for m in at.markdown if "bel-context" in m.value and "repeats · " in m.value]
    if not group:  # the riskiest mention is not one of the pair: go to a seizure mention
        with store() as session:
            seizure = next(m for m in repository.list_mentions(session, "repeats") if m.text == "seizures")
        at.session_state["bel_current_mention_key"] = seizure.key
        at.run()
        group = [m.value for m in at.markdown if "bel-context" in m.value and "repeats · " in m.value]
    assert len(group) == 2 and "Seizures at night" in group[0] + group[1]
    click(at, "Accept top for all 2")
    latest = _latest(store, "repeats")
    assert sorted(k[1] for k, d in latest.items() if d.status is DecisionStatus.ACCEPTED) == [0, 29]


def test_add_as_synonym_extends_the_kb_and_is_exported(app, store):
    at = _review(app)
    key = at.session_state["bel_current_mention_key"]
    card = at.selectbox(key=f"card-{key[0]}-{key[1]}-{key[2]}")
    card.select(card.options[-1]).run()  # a concept that does not already have this name
    at.button(key="add-synonym").click().run()
    assert not at.exception
    with store() as session:
        [(alias, _)] = kb_extension.extension_pairs(session)
    assert alias == CLINICAL_TEXT[key[1] : key[2]]
    at.switch_page("pages/export.py").run()
    assert [b.proto.label for b in at.get("download_button")] == ["Download KB extension (JSONL)"]


def test_a_concurrent_decision_is_reported_and_not_overwritten(app, store, tiny_kb):
    at = _review(app)
    key = at.session_state["bel_current_mention_key"]
    with store.begin() as session:  # another curator decides while the page is open
        services.decide(session, FakeLinker(tiny_kb), key, DecisionStatus.NOT_ENTITY, curator="bob")
    click(at, "NIL")
    assert any("bob decided this mention meanwhile" in w.value for w in at.warning)
    assert any(md("Latest decision: not an entity") in i.value for i in at.info)
    with store() as session:
        assert [d.curator for d in repository.decision_history(session, key)] == ["bob"]


def test_blind_mode_hides_suggestions_and_records_it(app, store, monkeypatch):
    monkeypatch.setenv("BEL_BLIND_FRACTION", "1")
    at = _review(app)
    key = at.session_state["bel_current_mention_key"]
    assert any("Blind review" in w.value for w in at.warning)
    assert not [b for b in at.button if b.key and b.key.startswith("pick-")]
    at.text_input(key="concept-id").input("HP:0001631")
    click(at, "Link to this id")
    with store() as session:
        row = session.scalars(select(DecisionRow)).one()
    assert (row.suggestions_hidden, row.shown, row.concept_ids) == (True, [], ["HP:0001631"])
    assert _latest(store)[key].concept_ids == ("HP:0001631",)


def test_filters_narrow_the_queue(app):
    at = _review(app)
    assert any("Item **1** of 4" in m.value for m in at.markdown)
    type_box = next(s for s in at.selectbox if s.label == "Semantic type")
    type_box.select("Growth abnormality").run()
    assert any("Item **1** of 1" in m.value for m in at.markdown)
    status_box = next(m for m in at.multiselect if m.label == "Status")
    status_box.set_value(["accepted"]).run()
    assert any("No mention matches" in i.value for i in at.info)


def test_login_is_required_when_configured(app, store, monkeypatch):
    monkeypatch.setenv("BEL_AUTH_REQUIRED", "1")
    at = app()
    assert any("No accounts yet" in i.value for i in at.info)
    with store.begin() as session:
        auth.add_user(session, "ann", "a long password", Role.CURATOR)
    at.text_input[0].input("ann")
    at.text_input[1].input("wrong password")
    click(at, "Log in")
    assert any("Unknown user or wrong password" in e.value for e in at.error)
    at.text_input[1].input("a long password")
    click(at, "Log in")
    assert at.session_state["bel_user"] == ("ann", "curator")
    assert [t.value for t in at.title] == ["Account"]
    assert any("Logged in as ann" in m.value for m in at.markdown)
    at.switch_page("pages/review.py").run()
    assert [t.value for t in at.title] == ["Review"]
    at.switch_page("pages/login.py").run()
    click(at, "Log out")
    assert at.session_state["bel_user"] is None and [t.value for t in at.title] == ["Log in"]


def _two_curators_disagree(store, tiny_kb):
    linker = FakeLinker(tiny_kb)
    with store.begin() as session:
        assignments.assign_documents(session, ["ann", "bob"], double_fraction=1.0)
        key = repository.list_mentions(session, DOC)[0].key
        services.decide(session, linker, key, DecisionStatus.NIL, curator="ann")
        services.decide(session, linker, key, DecisionStatus.NOT_ENTITY, curator="bob")
    return key


def test_adjudication_lists_disagreements_and_the_choice_becomes_gold(app, store, tiny_kb):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id=DOC)
    key = _two_curators_disagree(store, tiny_kb)
    at.switch_page("pages/adjudicate.py").run()
    assert any("1 open disagreement" in c.value for c in at.caption)
    click(at, "Take ann's")
    assert any("No open disagreements" in i.value for i in at.info)
    with store() as session:
        _, gold = repository.gold_annotations(session)
    [record] = [g for g in gold if g.mention.key == key]
    assert (record.decision.status, record.decision.curator) == (DecisionStatus.NIL, "tester")


def test_quality_page_draws_its_charts(app, store, tiny_kb):
    at = _review(app)
    click(at, "Accept top")
    _two_curators_disagree(store, tiny_kb)
    at.switch_page("pages/quality.py").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 4
    table = at.dataframe[0].value
    assert list(table["mentions"]) == ["all", "suggestions shown", "suggestions hidden"]
    assert list(table["pairs"]) == [1, 1, 0]


def test_team_page_assigns_documents(app, store):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id=DOC)
    with store.begin() as session:
        auth.add_user(session, "ann", "a long password", Role.CURATOR)
        auth.add_user(session, "bob", "a long password", Role.CURATOR)
    at.switch_page("pages/team.py").run()
    at.slider[0].set_value(1.0)
    click(at, "Assign unassigned documents")
    with store() as session:
        assert assignments.assignments(session) == {DOC: ["ann", "bob"]}
