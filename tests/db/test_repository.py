"""Repository: row <-> record mapping, latest-wins queries, review order, gold selection."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bel_core.errors import DecisionError, DocumentNotFoundError, InputFormatError
from bel_core.types import Candidate, Decision, DecisionStatus, Document, LinkResult, Mention, MentionOrigin
from db import repository
from usecases.queue import review_queue


def _candidate(concept_id: str, raw: float, calibrated: float | None) -> Candidate:
    return Candidate(
        concept_id, f"name {concept_id}", f"alias {concept_id}", "hybrid", raw, calibrated, (("tfidf", raw),)
    )


def test_add_document_is_idempotent_and_refuses_a_changed_text(factory, document):
    with factory.begin() as session:
        assert repository.add_document(session, document) is True
        assert repository.add_document(session, document) is False
        with pytest.raises(InputFormatError, match="different text"):
            repository.add_document(session, Document("doc1", "Another text."))
        assert repository.get_document(session, "doc1") == document


def test_get_document_unknown(factory):
    with factory() as session, pytest.raises(DocumentNotFoundError, match="'nope' is not stored"):
        repository.get_document(session, "nope")


def test_add_mentions_keeps_stored_spans_and_rejects_bad_offsets(factory, document):
    first = Mention(
        "doc1", 12, 20, "seizures", label="Phenotype", origin=MentionOrigin.IMPORTED, annotated_ids=("HP:1",)
    )
    with factory.begin() as session:
        repository.add_document(session, document)
        assert repository.add_mentions(session, [first, first]) == [first]
        assert repository.add_mentions(session, [Mention("doc1", 12, 20, "seizures")]) == []
        with pytest.raises(InputFormatError, match="does not match the text"):
            repository.add_mentions(session, [Mention("doc1", 0, 3, "Boy")])
        assert repository.list_mentions(session, "doc1") == [first]


def test_latest_link_results_take_the_newest_run_per_mention(factory, ingested, linker):
    key = ("doc1", 12, 20)
    mention = Mention(*key, "seizures")
    rerun = LinkResult(mention, (_candidate("HP:9", 0.7, 0.6),), "model-2", "kb-2")
    with factory.begin() as session:
        run_id = repository.add_link_run(session, "doc1", [rerun], config_hash="abc")
        results = repository.latest_link_results(session, "doc1")
        assert results[key] == rerun
        assert repository.latest_link_result(session, key) == (rerun, run_id)
        # The other mentions keep the candidates of the first run.
        assert results[("doc1", 27, 37)].model_version == linker.model_version
        assert len(results) == 5


def test_candidates_round_trip_with_provenance(factory, document):
    mention = Mention("doc1", 12, 20, "seizures")
    result = LinkResult(mention, (_candidate("HP:1", 0.9, None), _candidate("HP:2", 0.4, 0.2)), "m", "k")
    with factory.begin() as session:
        repository.add_document(session, document)
        repository.add_mentions(session, [mention])
        repository.add_link_run(session, "doc1", [result])
        assert repository.latest_link_results(session, "doc1") == {mention.key: result}


def test_latest_decision_wins_and_history_is_kept(factory, ingested):
    key = ("doc1", 39, 42)
    t0 = datetime(2025, 1, 1, 12, tzinfo=UTC)
    first = Decision(*key, DecisionStatus.ACCEPTED, ("HP:0001631",), "ann", t0)
    second = Decision(*key, DecisionStatus.CORRECTED, ("HP:0000729",), "bob", t0.replace(hour=13), note="autism here")
    with factory.begin() as session:
        repository.add_decision(session, first)
        repository.add_decision(session, second)
    with factory() as session:
        assert repository.latest_decisions(session) == {key: second}
        assert repository.latest_decisions(session, "doc1") == {key: second}
        assert repository.decision_history(session, key) == [first, second]
        assert repository.decision_history(session, ("doc1", 12, 20)) == []


def test_decision_times_are_stored_in_utc(factory, ingested):
    from zoneinfo import ZoneInfo

    paris = datetime(2025, 6, 1, 14, 0, tzinfo=ZoneInfo("Europe/Paris"))
    with factory.begin() as session:
        repository.add_decision(session, Decision("doc1", 12, 20, DecisionStatus.NIL, decided_at=paris))
    with factory() as session:
        stored = repository.latest_decisions(session)[("doc1", 12, 20)].decided_at
    assert stored == paris and stored.tzinfo is UTC and stored.hour == 12


def test_add_decision_on_an_unknown_mention(factory, ingested):
    with factory.begin() as session, pytest.raises(DecisionError, match="No mention 0-3"):
        repository.add_decision(session, Decision("doc1", 0, 3, DecisionStatus.NIL))


def test_review_queue_order(factory, document):
    spans = {"a": (0, 3), "b": (4, 7), "c": (8, 11), "d": (12, 20), "e": (21, 24), "f": (27, 32)}
    m = {name: Mention("doc1", s, e, document.text[s:e]) for name, (s, e) in spans.items()}
    results = [
        LinkResult(m["a"], (_candidate("X", 0.9, 0.9), _candidate("Y", 0.1, 0.1)), "m", "k"),  # sure
        LinkResult(m["b"], (_candidate("X", 0.8, 0.5), _candidate("Y", 0.5, 0.1)), "m", "k"),  # margin 0.4
        LinkResult(m["c"], (), "m", "k"),  # no candidates: riskiest
        LinkResult(m["d"], (_candidate("X", 0.8, 0.5), _candidate("Y", 0.7, 0.4)), "m", "k"),  # margin 0.1
        LinkResult(m["e"], (_candidate("X", 0.1, 0.05),), "m", "k"),  # least probable, but decided
        LinkResult(m["f"], (_candidate("X", 0.2, 0.2),), "m", "k"),  # skipped: after undecided
    ]
    with factory.begin() as session:
        repository.add_document(session, document)
        repository.add_mentions(session, list(m.values()))
        repository.add_link_run(session, "doc1", results)
        repository.add_decision(session, Decision(*m["e"].key, DecisionStatus.NIL))
        repository.add_decision(session, Decision(*m["f"].key, DecisionStatus.SKIPPED))
    with factory() as session:
        queue = review_queue(session)
        full = review_queue(session, "doc1", include_decided=True)
    assert [item.mention for item in queue] == [m["c"], m["d"], m["b"], m["a"], m["f"]]
    assert [item.mention for item in full] == [m["c"], m["d"], m["b"], m["a"], m["f"], m["e"]]
    c, d = queue[0], queue[1]
    assert (c.top, c.top_probability, c.margin, c.status) == (None, None, None, None)
    assert (d.top.concept_id, d.top_probability, round(d.margin, 6), d.status) == ("X", 0.5, 0.1, None)
    assert queue[-1].status is DecisionStatus.SKIPPED and queue[-1].margin == 0.2


def test_list_documents_reports_progress_newest_first(factory, ingested, linker):
    with factory.begin() as session:
        repository.add_document(session, Document("doc2", "Obesity.", source="paste"))
        repository.add_decision(session, Decision("doc1", 12, 20, DecisionStatus.NIL))
        repository.add_decision(session, Decision("doc1", 27, 37, DecisionStatus.SKIPPED))
    with factory() as session:
        summaries = repository.list_documents(session)
    assert [(s.doc_id, s.source, s.n_mentions, s.n_decided) for s in summaries] == [
        ("doc2", "paste", 0, 0),
        ("doc1", "test", 5, 1),
    ]
    assert summaries[0].created_at.tzinfo is UTC


def test_gold_annotations_skip_skipped_and_use_the_latest(factory, ingested):
    with factory.begin() as session:
        repository.add_decision(session, Decision("doc1", 12, 20, DecisionStatus.SKIPPED))
        repository.add_decision(session, Decision("doc1", 27, 37, DecisionStatus.SKIPPED))
        repository.add_decision(session, Decision("doc1", 27, 37, DecisionStatus.ACCEPTED, ("HP:0000252",)))
    with factory() as session:
        documents, records = repository.gold_annotations(session)
    assert documents == [ingested]
    assert [(r.mention.key, r.decision.status) for r in records] == [(("doc1", 27, 37), DecisionStatus.ACCEPTED)]
