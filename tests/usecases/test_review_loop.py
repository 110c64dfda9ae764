"""The Review loop's server side: queued browser actions persisted in order, answered by id, and the window."""

from __future__ import annotations

import pytest

from bel_core.types import DecisionStatus, Document
from db import repository
from tests.conftest import TEXT
from usecases import decisions, services
from usecases import review as loop

SEIZURES = ("doc1", 12, 20)
ASD = ("doc1", 39, 42)


@pytest.fixture
def ingested(factory, linker):
    """The storage tests' document, stored with its five detected mentions, linked once."""
    with factory.begin() as session:
        services.ingest_document(session, linker, Document("doc1", TEXT, source="test"))


def _action(id_: str, kind: str, key, **fields) -> loop.Action:
    return loop.parse_action({"id": id_, "kind": kind, "key": list(key), **fields})


def _statuses(factory, key) -> list[str]:
    with factory() as session:
        return [d.status.value for d in repository.decision_history(session, key)]


def test_a_decision_and_its_undo_queued_together_leave_the_mention_undecided(factory, linker, ingested):
    batch = [
        _action("a1", "decide", ASD, status="accepted", expected=None),
        _action("a2", "decide", SEIZURES, status="nil", expected=None),
        _action("a3", "undo", ASD, after="a1"),  # queued before a1 was answered
    ]
    answers = loop.apply_all(factory, linker, batch, curator="ann", answered={})
    assert [answers[a].ok for a in ("a1", "a2", "a3")] == [True, True, True]
    assert (answers["a1"].status, answers["a2"].status, answers["a3"].status) == ("accepted", "nil", None)
    assert answers["a3"].decision_id > answers["a1"].decision_id
    assert _statuses(factory, ASD) == ["accepted", "undecided"]


def test_a_resent_action_is_answered_as_stored_and_not_stored_twice(factory, linker, ingested):
    action = _action("b1", "decide", ASD, status="corrected", concept_ids=["HP:0001631"], expected=None)
    first = loop.apply_all(factory, linker, [action], curator="ann", answered={})["b1"]
    # A reload after the tab closed: a new session knows no answers and sends b1 again.
    again = loop.apply_all(factory, linker, [action], curator="ann", answered={})["b1"]
    assert first.ok and again.ok and again.decision_id == first.decision_id
    assert _statuses(factory, ASD) == ["corrected"]


def test_someone_elses_decision_meanwhile_refuses_the_action_and_what_was_queued_after_it(factory, linker, ingested):
    with factory.begin() as session:
        services.decide(session, linker, ASD, DecisionStatus.NIL, curator="bob")
    batch = [
        _action("c1", "decide", ASD, status="accepted", expected=None),  # ann saw no decision
        _action("c2", "undo", ASD, after="c1"),
        _action("c3", "decide", SEIZURES, status="not_entity", expected=None),
    ]
    answers = loop.apply_all(factory, linker, batch, curator="ann", answered={})
    assert not answers["c1"].ok and "bob decided this mention meanwhile" in answers["c1"].error
    assert not answers["c2"].ok and not answers["c2"].retry
    assert answers["c3"].ok  # other mentions go on
    assert _statuses(factory, ASD) == ["nil"]


def test_an_undo_sent_later_names_the_decision_it_takes_back(factory, linker, ingested):
    first = loop.apply_all(
        factory, linker, [_action("d1", "decide", ASD, status="nil", expected=None)], curator="ann", answered={}
    )
    later = loop.apply_all(factory, linker, [_action("d2", "undo", ASD, after="d1")], curator="ann", answered=first)
    assert later["d2"].ok and later["d2"].status is None
    with factory() as session:
        latest = decisions.latest_visible(session, ASD, decisions.perspective(session, "ann"))
    assert latest is not None and latest.context.undoes_id == first["d1"].decision_id


def test_blind_mentions_carry_no_score_in_the_window(factory, linker, ingested):
    with factory() as session:
        order = [m.key for m in repository.list_mentions(session, "doc1")]
        documents = loop.load_documents(session, ["doc1"])
        latest = loop.latest_by_mention(session, "ann", ["doc1"])
        counts = loop.text_counts(session)
    blind = {key for key in order if loop.is_blind(key, 0.5)}
    assert blind and blind != set(order)  # the fixture has both kinds at this fraction
    payload = loop.window(
        order, 0, len(order), documents, latest, blind_fraction=0.5, caption=lambda m: m.doc_id, counts=counts
    )
    for item in payload["items"]:
        assert item["blind"] == (tuple(item["key"]) in blind)
        assert bool(item["candidates"]) != item["blind"] and (item["nil_p"] is None or not item["blind"])
    for span in payload["docs"]["doc1"]["mentions"]:
        assert (span["p"] is None) == (("doc1", span["s"], span["e"]) in blind)
    assert payload["docs"]["doc1"]["text"] == TEXT


def test_a_malformed_action_is_refused_by_name():
    for raw in ({"id": "x", "kind": "erase", "key": ["d", 0, 1]}, {"id": "y", "kind": "decide", "key": ["d", 0]}):
        try:
            loop.parse_action(raw)
        except loop.ActionError as e:
            assert "malformed review action" in str(e)
        else:
            raise AssertionError(f"{raw} was accepted")


def test_a_group_verdict_covers_the_undecided_with_the_same_text_and_one_undo_takes_it_back(factory, linker):
    text = "ASD here. ASD there. And ASD again."
    with factory.begin() as session:
        services.ingest_document(session, linker, Document("g", text, source="test"))
        keys = [m.key for m in repository.list_mentions(session, "g")]
        services.decide(session, linker, keys[2], DecisionStatus.NIL, curator="ann")  # decided: left alone
    assert len(keys) == 3
    group = _action("g1", "group", keys[0], status="not_entity", expected=None)
    answers = loop.apply_all(factory, linker, [group], curator="ann", answered={})
    assert answers["g1"].ok and answers["g1"].keys == (keys[0], keys[1])
    assert [_statuses(factory, k) for k in keys] == [["not_entity"], ["not_entity"], ["nil"]]
    undo = loop.apply_all(
        factory, linker, [_action("g2", "undo", keys[0], after="g1")], curator="ann", answered=answers
    )
    assert undo["g2"].ok
    assert [_statuses(factory, k) for k in keys] == [["not_entity", "undecided"]] * 2 + [["nil"]]


def test_a_span_fix_answers_with_the_new_mention(factory, linker, ingested):
    fix = _action("s1", "span", ASD, span=[36, 42], expected=None)  # "ASD" widened to "d. ASD"
    answer = loop.apply_all(factory, linker, [fix], curator="ann", answered={})["s1"]
    assert answer.ok and answer.new_key == ("doc1", 36, 42)
    assert _statuses(factory, ASD) == ["wrong_span"]
