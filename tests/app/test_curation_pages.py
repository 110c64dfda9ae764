"""Review actions beyond one click, and the team pages: login, adjudication, quality, team.

Every action is taken through the real page (AppTest): the side tabs' widgets, and the
Review component's "sync"/"search" triggers sent as ``view.js`` sends them (its keys are
checked in ``tests/browser``). What it stored is read back from the store through ``db``.
"""

from __future__ import annotations

from sqlalchemy import select

from bel_core.types import DecisionStatus
from db import repository
from db.models import DecisionRow, Role
from tests.app.conftest import CLINICAL_TEXT, click, current, ok, paste, review_data, send
from tests.fakes import FakeLinker
from usecases import assignments, auth, decisions, kb_extension, services

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


def _item(at, key):
    return next(i for i in review_data(at)["items"] if tuple(i["key"]) == key)


def _sync(at, *actions, cursor=None):
    """The component sends its outbox (every action not yet answered) and its cursor, as view.js does."""
    outbox = [{**a, "key": list(a["key"])} for a in actions]
    return send(at, "sync", {"outbox": outbox, "cursor": cursor, "seq": len(outbox)})


def _answer(at, action_id):
    return review_data(at)["acks"][action_id]


def test_deferring_verdicts_and_undo(app, store):
    at = _review(app)
    order = [tuple(k) for k in at.session_state["bel_queue_order"][1]]
    first, second = order[0], order[1]
    defer = {"id": "a1", "kind": "decide", "key": first, "status": "needs_context", "expected": None}
    _sync(at, defer, cursor=1)
    assert current(at) == second and _answer(at, "a1")["ok"]
    reject = {"id": "a2", "kind": "decide", "key": second, "status": "not_entity", "expected": None}
    _sync(at, reject, cursor=2)
    _sync(at, cursor=1)  # back to the second mention
    assert current(at) == second
    _sync(at, {"id": "a3", "kind": "undo", "key": second, "expected": _answer(at, "a2")["decision_id"]}, cursor=1)
    assert _answer(at, "a3")["ok"] and _answer(at, "a3")["status"] is None
    latest = _latest(store)
    assert latest[first].status is DecisionStatus.NEEDS_CONTEXT
    assert latest[second].status is DecisionStatus.UNDECIDED  # its only verdict was taken back
    with store() as session:
        history = decisions.history(session, second)
    assert [h.context.undoes_id for h in history] == [None, history[0].id]
    # The window the component gets shows the undone mention as undecided again.
    assert (_item(at, first)["status"], _item(at, second)["status"]) == ("needs_context", None)


def test_a_span_fix_keeps_the_concept_and_the_queue_place(app, store):
    at = _review(app)
    key = current(at)  # "ASD" in "...showed an ASD."
    top = _item(at, key)["candidates"][0]["id"]
    _sync(at, {"id": "s1", "kind": "decide", "key": key, "status": "accepted", "concept_ids": [top], "expected": None})
    widened = (key[1] - 3, key[2])  # "an ASD"
    fix = {"id": "s2", "kind": "span", "key": key, "span": list(widened), "after": "s1"}
    _sync(at, fix, cursor=0)
    new_key = (DOC, *widened)
    assert tuple(_answer(at, "s2")["new_key"]) == new_key
    assert current(at) == new_key and tuple(at.session_state["bel_queue_order"][1][0]) == new_key
    assert _item(at, new_key)["text"] == "an ASD"
    latest = _latest(store)
    assert (latest[key].status, latest[key].corrected_span) == (DecisionStatus.WRONG_SPAN, widened)
    assert latest[new_key].concept_ids == (top,)  # the concept survives the span edit


def test_composite_mention_links_several_concepts(app, store):
    at = _review(app)
    key = current(at)
    chosen = next(m for m in at.multiselect if m.key and m.key.startswith("composite"))
    chosen.set_value(chosen.options[:2]).run()
    click(at, "Link all chosen")
    decision = _latest(store)[key]
    assert decision.status is DecisionStatus.CORRECTED and len(decision.concept_ids) == 2


def test_near_duplicates_are_counted_and_decided_together(app, store):
    at = _review(app, REPEATS, "repeats")
    with store() as session:
        seizure = next(m for m in repository.list_mentions(session, "repeats") if m.text == "seizures")
    assert _item(at, seizure.key)["same_document"] == 1  # "Seizures at night" is the other one
    group = {"id": "g1", "kind": "group", "key": seizure.key, "status": "accepted", "expected": None}
    _sync(at, group)
    assert len(_answer(at, "g1")["keys"]) == 2
    latest = _latest(store, "repeats")
    assert sorted(k[1] for k, d in latest.items() if d.status is DecisionStatus.ACCEPTED) == [0, 29]


def test_a_malformed_action_is_answered_by_id_and_the_rest_is_stored(app, store):
    at = _review(app)
    key = current(at)
    bad = {"id": "m1", "kind": "delete", "key": key}
    good = {"id": "m2", "kind": "decide", "key": key, "status": "nil", "expected": None}
    _sync(at, bad, good)
    assert not _answer(at, "m1")["ok"] and "unknown action kind 'delete'" in _answer(at, "m1")["error"]
    assert _answer(at, "m2")["ok"] and _latest(store)[key].status is DecisionStatus.NIL


def test_the_component_search_is_answered_with_its_sequence_number(app):
    at = _review(app)
    send(at, "search", {"query": "  hearing loss ", "seq": 7})
    answer = review_data(at)["search"]
    assert (answer["seq"], answer["query"], answer["error"]) == (7, "hearing loss", "")
    assert answer["hits"][0]["id"] == "HP:0000365" and answer["hits"][0]["name"] == "Hearing impairment"


def test_add_as_synonym_extends_the_kb_and_is_exported(app, store):
    at = _review(app)
    key = current(at)
    card = at.selectbox(key=f"card-{key[0]}-{key[1]}-{key[2]}")
    card.select(card.options[-1]).run()  # a concept that does not already have this name
    at.button(key="add-synonym").click().run()
    ok(at)
    with store() as session:
        [(alias, _)] = kb_extension.extension_pairs(session)
    assert alias == CLINICAL_TEXT[key[1] : key[2]]
    at.switch_page("pages/export.py").run()
    assert [b.proto.label for b in at.get("download_button")] == ["Download KB extension (JSONL)"]


def test_a_concurrent_decision_is_reported_and_not_overwritten(app, store, tiny_kb):
    at = _review(app)
    key = current(at)
    with store.begin() as session:  # another curator decides while the page is open
        services.decide(session, FakeLinker(tiny_kb), key, DecisionStatus.NOT_ENTITY, curator="bob")
    # A side tab drawn before bob's decision: refused, said next to the tabs.
    at.text_input(key="concept-id").input("HP:0001631")
    click(at, "Link to this id")
    assert any("bob decided this mention meanwhile" in w.value for w in at.warning)
    # A key press in the component queued against the same stale view: refused, answered by id.
    _sync(at, {"id": "c1", "kind": "decide", "key": key, "status": "nil", "expected": None})
    answer = _answer(at, "c1")
    assert not answer["ok"] and "bob decided this mention meanwhile" in answer["error"]
    assert _item(at, key)["status"] == "not_entity"  # the component now shows bob's verdict
    with store() as session:
        assert [d.curator for d in repository.decision_history(session, key)] == ["bob"]


def test_blind_mode_hides_suggestions_and_records_it(app, store, monkeypatch):
    monkeypatch.setenv("BEL_BLIND_FRACTION", "1")
    at = _review(app)
    key = current(at)
    items = review_data(at)["items"]
    assert items and all(i["blind"] and not i["candidates"] and i["nil_p"] is None for i in items)
    assert not [b for b in at.button if b.key and b.key.startswith("pick-")]
    at.text_input(key="concept-id").input("HP:0001631")
    click(at, "Link to this id")
    with store() as session:
        row = session.scalars(select(DecisionRow)).one()
    assert (row.suggestions_hidden, row.shown, row.concept_ids) == (True, [], ["HP:0001631"])
    assert _latest(store)[key].concept_ids == ("HP:0001631",)


def test_filters_narrow_the_queue(app):
    at = _review(app)
    assert review_data(at)["total"] == 4
    type_box = next(s for s in at.sidebar.selectbox if s.label == "Semantic type")
    type_box.select("Growth abnormality").run()
    assert review_data(at)["total"] == 1
    status_box = next(m for m in at.sidebar.multiselect if m.label == "Status")
    status_box.set_value(["accepted"]).run()
    ok(at)
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
    at = app()
    paste(at, CLINICAL_TEXT, doc_id=DOC)
    with store.begin() as session:  # an accepted top-1 with suggestions shown, as the Review page records it
        key = repository.list_mentions(session, DOC)[-1].key
        top = repository.latest_link_result(session, key)[0].candidates[0].concept_id
        services.decide(session, FakeLinker(tiny_kb), key, DecisionStatus.ACCEPTED, [top], curator="tester")
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
