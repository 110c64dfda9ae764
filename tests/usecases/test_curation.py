"""Curation use cases on the store: concurrency, history and undo, span edits, groups, adjudication."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from bel_core.errors import DecisionError
from bel_core.types import Decision, DecisionStatus, Document
from db import repository
from db.models import DecisionRow, Role
from usecases import assignments, curation, decisions, export, services
from usecases.auth import User
from usecases.decisions import ConcurrentDecisionError
from usecases.queue import QueueFilters, near_duplicates, review_queue

SEIZURES = ("doc1", 12, 20)
SMALL_HEAD = ("doc1", 27, 37)
ASD = ("doc1", 39, 42)


def _latest_id(factory, key, curator="ann"):
    with factory() as session:
        found = decisions.latest_visible(session, key, decisions.perspective(session, curator))
    return None if found is None else found.id


def test_the_second_of_two_concurrent_curators_is_told_and_nothing_is_overwritten(factory, linker, ingested):
    # Both open the undecided mention: each saw "no decision".
    seen_by_ann = _latest_id(factory, ASD, "ann")
    seen_by_bob = _latest_id(factory, ASD, "bob")
    assert seen_by_ann is seen_by_bob is None
    with factory.begin() as ann:
        services.decide(
            ann, linker, ASD, DecisionStatus.CORRECTED, ["HP:0001631"], curator="ann",
            expected_latest_decision_id=seen_by_ann,
        )  # fmt: skip
    with pytest.raises(ConcurrentDecisionError, match="ann decided this mention meanwhile") as raised:
        with factory.begin() as bob:
            services.decide(
                bob, linker, ASD, DecisionStatus.CORRECTED, ["HP:0000729"], curator="bob",
                expected_latest_decision_id=seen_by_bob,
            )  # fmt: skip
    assert raised.value.latest.decision.concept_ids == ("HP:0001631",)
    with factory() as session:
        history = repository.decision_history(session, ASD)
    assert [(d.curator, d.concept_ids) for d in history] == [("ann", ("HP:0001631",))]
    # Having seen ann's decision, bob may now supersede it deliberately.
    with factory.begin() as bob:
        services.decide(
            bob, linker, ASD, DecisionStatus.CORRECTED, ["HP:0000729"], curator="bob",
            expected_latest_decision_id=raised.value.latest.id,
        )  # fmt: skip
    with factory() as session:
        assert repository.latest_decisions(session)[ASD].curator == "bob"


def test_interleaved_sessions_cannot_both_write(factory, linker, ingested):
    """Two open transactions: the first to commit wins, the second fails its check on insert."""
    first, second = factory(), factory()
    try:
        first.begin()
        second.begin()
        services.decide(first, linker, ASD, DecisionStatus.NIL, curator="ann", expected_latest_decision_id=None)
        first.commit()
        with pytest.raises(ConcurrentDecisionError):
            services.decide(second, linker, ASD, DecisionStatus.NIL, curator="bob", expected_latest_decision_id=None)
        second.rollback()
    finally:
        first.close()
        second.close()
    with factory() as session:
        assert [d.curator for d in repository.decision_history(session, ASD)] == ["ann"]


def test_decisions_store_versions_and_blind_mode(factory, linker, ingested):
    with factory.begin() as session:
        services.decide(session, linker, SEIZURES, DecisionStatus.ACCEPTED, curator="ann")
        services.decide(
            session, linker, ASD, DecisionStatus.CORRECTED, ["HP:0001631"], curator="ann", suggestions_hidden=True
        )
    with factory() as session:
        rows = {r.mention_id: r for r in session.scalars(select(DecisionRow))}
    assert {(r.kb_version, r.model_version) for r in rows.values()} == {("tiny-1", "fake-linker-1")}
    assert [(r.suggestions_hidden, len(r.shown)) for r in rows.values()] == [(False, 5), (True, 0)]


def test_undo_walks_back_through_the_history_without_deleting(factory, linker, ingested):
    with factory.begin() as session:
        services.decide(session, linker, ASD, DecisionStatus.CORRECTED, ["HP:0001631"], curator="ann")
        services.decide(session, linker, ASD, DecisionStatus.NIL, curator="ann")
    with factory.begin() as session:
        restored = curation.undo(session, ASD, curator="ann", expected_latest_decision_id=_latest_id(factory, ASD))
    assert (restored.status, restored.concept_ids) == (DecisionStatus.CORRECTED, ("HP:0001631",))
    with factory.begin() as session:
        back = curation.undo(session, ASD, curator="ann", expected_latest_decision_id=_latest_id(factory, ASD))
    assert back.status is DecisionStatus.UNDECIDED  # no verdict at all, not a deferral
    with factory() as session:
        history = decisions.history(session, ASD)
        assert [h.decision.status.value for h in history] == ["corrected", "nil", "corrected", "undecided"]
        assert [h.context.undoes_id for h in history] == [None, None, history[1].id, history[0].id]
        assert decisions.undo_target(history) is None
        # Back in the queue with the never-decided mentions, not with the deferred ones.
        queue = review_queue(session, "doc1", include_decided=True)
        assert next(item for item in queue if item.mention.key == ASD).status is None
        _, gold = repository.gold_annotations(session)
        assert ASD not in [g.mention.key for g in gold]
    with pytest.raises(DecisionError, match="Nothing to undo"), factory.begin() as session:
        curation.undo(session, ASD, curator="ann", expected_latest_decision_id=history[-1].id)


def test_span_correction_keeps_the_concept_on_the_new_span(factory, linker, ingested):
    with factory.begin() as session:
        services.decide(session, linker, SMALL_HEAD, DecisionStatus.ACCEPTED, curator="ann")
    with factory.begin() as session:
        new_key = curation.correct_span(
            session,
            linker,
            SMALL_HEAD,
            (25, 37),
            curator="ann",
            expected_latest_decision_id=_latest_id(factory, SMALL_HEAD),
        )
    assert new_key == ("doc1", 25, 37)
    with factory() as session:
        latest = repository.latest_decisions(session)
        assert repository.get_mention(session, new_key).text == "a small head"
    assert (latest[SMALL_HEAD].status, latest[SMALL_HEAD].corrected_span) == (DecisionStatus.WRONG_SPAN, (25, 37))
    assert latest[new_key].concept_ids == ("HP:0000252",)
    with pytest.raises(DecisionError, match="span itself"), factory.begin() as session:
        curation.correct_span(session, linker, ASD, (39, 42), curator="ann", expected_latest_decision_id=None)


def test_group_decision_records_one_decision_per_member(factory, linker, tiny_kb):
    doc = Document("d2", "Seizures began early. Later seizures were rare. No ASD.")
    with factory.begin() as session:
        services.ingest_document(session, linker, doc)
        groups = near_duplicates(review_queue(session, "d2"))
    [(group_key, members)] = groups.items()
    assert group_key == ("seizures", "HP:0001250") and len(members) == 2
    with factory.begin() as session:
        stored = curation.decide_group(
            session, linker, {m.mention.key: None for m in members}, DecisionStatus.ACCEPTED, curator="ann"
        )
    assert [d.concept_ids for d in stored] == [("HP:0001250",)] * 2
    with factory() as session:
        assert len(session.scalars(select(DecisionRow)).all()) == 2


def test_queue_filters_and_risk_order(factory, linker, ingested):
    with factory.begin() as session:
        services.decide(session, linker, SEIZURES, DecisionStatus.NEEDS_CONTEXT, curator="ann")
        services.decide(session, linker, ASD, DecisionStatus.NIL, curator="bob")
        queue = review_queue(session, include_decided=True)
        types = {c.concept_id: c.types for c in linker.kb}
        nervous = review_queue(
            session, include_decided=True, filters=QueueFilters(semantic_type="Abnormality of the nervous system"),
            types_of=types.__getitem__,
        )  # fmt: skip
        by_bob = review_queue(session, include_decided=True, filters=QueueFilters(curator="bob"))
        undecided = review_queue(session, include_decided=True, filters=QueueFilters(statuses=frozenset({None})))
    assert [i.status for i in queue][-2:] == [DecisionStatus.NEEDS_CONTEXT, DecisionStatus.NIL]
    risks = [i.risk for i in queue if i.status is None]
    assert risks == sorted(risks, reverse=True)
    assert [i.mention.text for i in nervous] == ["seizures"]
    assert [i.mention.key for i in by_bob] == [ASD]
    assert len(undecided) == 3


def test_adjudicated_decision_becomes_gold(factory, linker, ingested):
    with factory.begin() as session:
        services.decide(session, linker, ASD, DecisionStatus.CORRECTED, ["HP:0001631"], curator="ann")
        curation.adjudicate(
            session, linker, ASD, DecisionStatus.CORRECTED, ["HP:0000729"], adjudicator="judy", role=Role.ADJUDICATOR
        )
        services.decide(session, linker, ASD, DecisionStatus.CORRECTED, ["HP:0001631"], curator="bob")
        with pytest.raises(curation.PermissionDeniedError):
            curation.adjudicate(session, linker, ASD, DecisionStatus.NIL, adjudicator="ann", role=Role.CURATOR)
    with factory() as session:
        [content] = export.gold_files(session, "jsonl", User("admin", Role.ADMIN)).values()
        [line] = content.splitlines()
    assert json.loads(line)["concept_ids"] == ["HP:0000729"]


def test_double_annotated_documents_show_each_curator_only_their_own(factory, linker, ingested):
    with factory.begin() as session:
        assert assignments.assign_documents(session, ["ann", "bob"], double_fraction=1.0) == {"doc1": ["ann", "bob"]}
        services.decide(session, linker, ASD, DecisionStatus.NIL, curator="ann", expected_latest_decision_id=None)
        # bob saw nothing (ann's verdict is hidden from him), so this is no conflict.
        services.decide(
            session,
            linker,
            ASD,
            DecisionStatus.CORRECTED,
            ["HP:0000729"],
            curator="bob",
            expected_latest_decision_id=None,
        )
        bob_view = decisions.visible_latest_all(session, decisions.perspective(session, "bob"))
        judy_view = decisions.visible_latest_all(session, decisions.perspective(session, "judy"))
    assert bob_view[ASD].curator == "bob" and judy_view[ASD].curator == "bob"


def test_assignment_is_deterministic_and_balanced(factory, linker):
    with factory.begin() as session:
        for i in range(10):
            services.ingest_document(session, linker, Document(f"d{i}", f"Text {i} with seizures."))
        new = assignments.assign_documents(session, ["ann", "bob", "cy"], double_fraction=0.3)
        again = assignments.assign_documents(session, ["ann", "bob", "cy"], double_fraction=0.3)
    assert again == {}
    doubles = sorted(d for d, names in new.items() if len(names) == 2)
    assert doubles == sorted(d for d in new if assignments.hash_fraction("double", d) < 0.3)
    loads = [sum(c in names for names in new.values()) for c in ("ann", "bob", "cy")]
    assert max(loads) - min(loads) <= 1


def test_upgrade_from_0001_keeps_decisions_and_the_append_only_triggers(tmp_path, linker, tiny_kb):
    from db.engine import make_engine, make_session_factory, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO documents VALUES (1, 'd', 'seizures', 'x', 0, 'h', '2025-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO mentions VALUES (1, 1, 0, 8, 'seizures', NULL, 'manual', '[]', '2025-01-01')"))
        conn.execute(
            text(
                "INSERT INTO decisions VALUES "
                "(7, 1, 'nil', '[]', 'ann', '2025-01-02 00:00:00', '', NULL, '[]', NULL, NULL)"
            )
        )
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        [stored] = decisions.history(session, ("d", 0, 8))
    assert (stored.id, stored.decision.status, stored.context.suggestions_hidden) == (7, DecisionStatus.NIL, False)
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM decisions"))
    engine.dispose()


def test_decision_record_round_trip_keeps_needs_context(factory, ingested):
    with factory.begin() as session:
        repository.add_decision(session, Decision(*SEIZURES, DecisionStatus.NEEDS_CONTEXT, curator="ann"))
    with factory() as session:
        assert repository.latest_decisions(session)[SEIZURES].status is DecisionStatus.NEEDS_CONTEXT
        assert repository.list_documents(session)[0].n_decided == 0


def test_nil_probability_from_the_linker_raises_the_risk(factory, linker, ingested):
    from dataclasses import dataclass

    from bel_core.types import LinkResult

    @dataclass(frozen=True, slots=True)
    class NilAwareResult(LinkResult):  # what a NIL-aware linker returns
        nil_probability: float | None = None

    with factory.begin() as session:
        short = repository.get_mention(session, ("doc1", 76, 89))  # "Short fingers": a confident exact name
        [plain] = linker.link([short])
        repository.add_link_run(
            session, "doc1", [NilAwareResult(short, plain.candidates, "nil-aware", "tiny-1", 0.97)]
        )
        queue = review_queue(session, "doc1")
    assert (queue[0].mention.key, queue[0].nil_probability, queue[0].risk) == (short.key, 0.97, 0.97)
