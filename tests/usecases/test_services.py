"""Use cases: ingest, manual mentions, decisions (validated before writing), gold export."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bel_core.errors import DecisionError, InputFormatError, UnknownConceptError
from bel_core.types import DecisionStatus, Mention, MentionOrigin
from db import repository
from db.models import CandidateRow, DecisionRow, DocumentRow, LinkRunRow, MentionRow
from usecases import services

SEIZURES = ("doc1", 12, 20)
ASD = ("doc1", 39, 42)


def _counts(factory) -> dict[str, int]:
    with factory() as session:
        return {
            row.__tablename__: session.scalar(select(func.count()).select_from(row))
            for row in (DocumentRow, MentionRow, LinkRunRow, CandidateRow, DecisionRow)
        }


def test_ingest_detects_links_and_reports(factory, linker, document):
    with factory.begin() as session:
        report = services.ingest_document(session, linker, document)
    assert report == services.IngestReport("doc1", 5, 5, report.link_run_id, already_stored=False)
    assert report.link_run_id is not None
    with factory() as session:
        results = repository.latest_link_results(session, "doc1")
    assert [r.top.concept_id for r in results.values()] == [
        "HP:0001250",
        "HP:0000252",
        "HP:0000729",
        "HP:0004322",
        "HP:0001156",
    ]


def test_ingesting_the_same_document_again_changes_nothing(factory, linker, ingested):
    before = _counts(factory)
    with factory.begin() as session:
        report = services.ingest_document(session, linker, ingested, [Mention("doc1", 0, 3, "The")])
    assert report == services.IngestReport("doc1", 5, 0, None, already_stored=True)
    assert _counts(factory) == before


def test_imported_mentions_win_over_detected_ones(factory, linker, document):
    imported = Mention(*SEIZURES, "seizures", "Phenotype", MentionOrigin.IMPORTED, ("HP:0001250",))
    with factory.begin() as session:
        report = services.ingest_document(session, linker, document, [imported])
        assert report.n_new_mentions == 5
        assert repository.list_mentions(session, "doc1")[0] == imported


def test_a_bad_span_stores_nothing(factory, linker, document):
    with pytest.raises(InputFormatError, match="does not match the text"), factory.begin() as session:
        services.ingest_document(session, linker, document, [Mention("doc1", 0, 3, "Boy")])
    assert set(_counts(factory).values()) == {0}


def test_manual_mention_is_stored_linked_and_idempotent(factory, linker, ingested):
    with factory.begin() as session:
        mention = services.add_manual_mention(session, linker, "doc1", 4, 7, label="Person")
        again = services.add_manual_mention(session, linker, "doc1", 4, 7)
        result = repository.latest_link_results(session, "doc1").get(mention.key)
    assert mention == Mention("doc1", 4, 7, "boy", "Person", MentionOrigin.MANUAL)
    assert again == mention
    assert (result.mention, result.top.concept_id) == (mention, "HP:0001513")  # FakeLinker: "boy" ~ "Obesity"
    with pytest.raises(InputFormatError, match="whitespace"), factory.begin() as session:
        services.add_manual_mention(session, linker, "doc1", 3, 4)


def test_accept_takes_the_top_candidate_and_records_what_was_shown(factory, linker, ingested):
    with factory.begin() as session:
        decision = services.decide(session, linker, SEIZURES, DecisionStatus.ACCEPTED, curator="ann")
        shown = repository.latest_link_result(session, SEIZURES)
    assert decision.concept_ids == ("HP:0001250",)
    assert decision.shown == shown[0].candidates and len(decision.shown) == 5
    with factory() as session:
        assert session.scalar(select(DecisionRow.link_run_id)) == shown[1]
        assert repository.latest_decisions(session) == {SEIZURES: decision}


def test_alt_ids_resolve_to_primary_ids(factory, linker, ingested):
    with factory.begin() as session:
        decision = services.decide(
            session, linker, SEIZURES, DecisionStatus.CORRECTED, ["HP:0002279", "HP:0001250"], curator="ann"
        )
    assert decision.concept_ids == ("HP:0001250",)


def test_unknown_concept_stores_nothing_and_keeps_earlier_decisions(factory, linker, ingested):
    with factory.begin() as session:
        first = services.decide(session, linker, ASD, DecisionStatus.CORRECTED, ["HP:0001631"], curator="ann")
    with pytest.raises(UnknownConceptError, match="HP:9999999"), factory.begin() as session:
        services.decide(session, linker, ASD, DecisionStatus.CORRECTED, ["HP:0000729", "HP:9999999"], curator="bob")
    with factory() as session:
        assert repository.decision_history(session, ASD) == [first]


@pytest.mark.parametrize(
    ("key", "status", "ids", "message"),
    [
        (("doc1", 0, 3), DecisionStatus.NIL, (), "No mention 0-3"),
        (("nope", 0, 3), DecisionStatus.NIL, (), "No mention 0-3 in document 'nope'"),
        (SEIZURES, DecisionStatus.NIL, ("HP:0001250",), "nil decision takes no concept ids"),
        (SEIZURES, DecisionStatus.CORRECTED, (), "corrected decision needs at least one"),
    ],
)
def test_inconsistent_decisions_are_refused(factory, linker, ingested, key, status, ids, message):
    with pytest.raises(DecisionError, match=message), factory.begin() as session:
        services.decide(session, linker, key, status, ids, curator="ann")
    assert _counts(factory)["decisions"] == 0


def test_wrong_span_keeps_the_corrected_span(factory, linker, ingested):
    with factory.begin() as session:
        services.decide(
            session, linker, ("doc1", 27, 37), DecisionStatus.WRONG_SPAN, curator="ann", corrected_span=(33, 37)
        )
        with pytest.raises(DecisionError, match="not a non-empty span"):
            services.decide(
                session, linker, SEIZURES, DecisionStatus.WRONG_SPAN, curator="ann", corrected_span=(5, 500)
            )
    with factory() as session:
        assert repository.latest_decisions(session)[("doc1", 27, 37)].corrected_span == (33, 37)


def test_relinking_never_touches_decisions(factory, linker, ingested, tiny_kb):
    with factory.begin() as session:
        decision = services.decide(session, linker, SEIZURES, DecisionStatus.ACCEPTED, curator="ann")
        newer = type(linker)(tiny_kb, top_k=1)
        repository.add_link_run(session, "doc1", newer.link([repository.get_mention(session, SEIZURES)]))
    with factory() as session:
        assert len(repository.latest_link_results(session, "doc1")[SEIZURES].candidates) == 1
        assert repository.latest_decisions(session)[SEIZURES] == decision
        assert len(decision.shown) == 5


def test_import_gold_decisions(factory, linker, document):
    mentions = [
        Mention(*SEIZURES, "seizures", origin=MentionOrigin.IMPORTED, annotated_ids=("HP:0001250",)),
        Mention(*ASD, "ASD", origin=MentionOrigin.IMPORTED, annotated_ids=("HP:0001631",)),
        Mention("doc1", 27, 37, "small head", origin=MentionOrigin.IMPORTED, annotated_ids=("OMIM:1",)),
        Mention("doc1", 57, 70, "short stature", origin=MentionOrigin.IMPORTED),
    ]
    with factory.begin() as session:
        services.ingest_document(session, linker, document, mentions, detect=False)
        assert services.import_gold_decisions(session, linker, mentions, curator="import") == 4
        assert services.import_gold_decisions(session, linker, mentions, curator="import") == 0
        decided = repository.latest_decisions(session)
    assert [(d.status, d.concept_ids, d.note) for d in decided.values()] == [
        (DecisionStatus.ACCEPTED, ("HP:0001250",), ""),
        (DecisionStatus.CORRECTED, ("OMIM:1",), "not in KB tiny-1: OMIM:1"),  # kept, never NIL
        (DecisionStatus.CORRECTED, ("HP:0001631",), ""),
        (DecisionStatus.NIL, (), ""),
    ]
