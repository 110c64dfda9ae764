"""The curator's main path through the real app: paste, review, decide, export.

The real LinkingPipeline runs on the tiny KB (TF-IDF only), and every assertion about
what was stored reads the SQLite file back through ``db.repository``.
"""

from __future__ import annotations

import json

from bel_core.types import DecisionStatus
from db import repository
from usecases import services
from usecases.queue import review_queue
from pages.components.widgets import md
from tests.app.conftest import CLINICAL_TEXT, click, paste

DOC = "case-1"


def _queue(store):
    with store() as session:
        return review_queue(session, DOC, include_decided=True)


def test_paste_review_decide_and_export(app, store):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id=DOC)
    assert [s.value for s in at.success] == [md("case-1: stored with 4 mention(s), linked and ready to review.")]

    click(at, "Open in Review")
    queue = _queue(store)
    assert sorted(item.mention.text for item in queue) == ["ASD", "migraine headache", "seizures", "short stature"]
    assert queue[0].mention.text == "ASD"  # the ambiguous alias is the riskiest
    first, second, third = (item.mention for item in queue[:3])
    assert at.session_state["bel_current_mention_key"] == first.key

    # 1. Accept the top candidate of the riskiest mention; the cursor moves on.
    click(at, "Accept top")
    assert at.session_state["bel_current_mention_key"] == second.key
    # 2. Correct the next one by picking its second candidate.
    second_candidate = queue[1]
    with store() as session:
        result = repository.latest_link_results(session, DOC)[second.key]
    at.button(key="pick-2").click().run()
    assert not at.exception
    # 3. The third is an entity the KB lacks.
    click(at, "NIL")

    with store() as session:
        decisions = repository.latest_decisions(session, DOC)
    assert {key: d.status for key, d in decisions.items()} == {
        first.key: DecisionStatus.ACCEPTED,
        second.key: DecisionStatus.CORRECTED,
        third.key: DecisionStatus.NIL,
    }
    assert decisions[first.key].concept_ids == (queue[0].top.concept_id,)
    assert decisions[second.key].concept_ids == (result.candidates[1].concept_id,)
    assert second_candidate.top.concept_id != result.candidates[1].concept_id
    assert decisions[third.key].concept_ids == ()
    assert {d.curator for d in decisions.values()} == {"tester"}
    # What the curator saw is recorded with the verdict.
    assert decisions[first.key].shown[0].concept_id == queue[0].top.concept_id

    at.switch_page("pages/export.py").run()
    assert not at.exception
    assert [m.value for m in at.metric] == ["1", "4", "3"]
    with store() as session:
        expected_jsonl = services.export_gold(session, "jsonl")
        expected_pubtator = services.export_gold(session, "pubtator")
    rows = [json.loads(line) for line in at.code[0].value.splitlines()]
    assert rows == [json.loads(line) for line in expected_jsonl.splitlines()]
    assert {(r["text"], r["status"]) for r in rows} == {
        (first.text, "accepted"),
        (second.text, "corrected"),
        (third.text, "nil"),
    }
    assert at.get("download_button")[0].proto.label == "Download bel_gold.jsonl"

    at.radio[0].set_value("pubtator").run()
    assert not at.exception
    pubtator = at.code[0].value
    assert pubtator == expected_pubtator.strip("\n")
    assert pubtator.startswith(f"{DOC}|t|")
    assert f"{DOC}\t{third.start}\t{third.end}\t{third.text}\tEntity\t-1" in pubtator


def test_unknown_concept_id_shows_error_and_stores_nothing(app, store):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id=DOC)
    at.switch_page("pages/review.py").run()
    at.text_input(key="concept-id").input("HP:9999999")
    click(at, "Link to this id")
    assert any(md("Unknown concept id 'HP:9999999'") in e.value for e in at.error)
    with store() as session:
        assert repository.latest_decisions(session, DOC) == {}


def test_link_by_id_resolves_alt_ids(app, store):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id=DOC)
    at.switch_page("pages/review.py").run()
    key = at.session_state["bel_current_mention_key"]
    at.text_input(key="concept-id").input("HP:0002279")  # alt id of Seizure
    click(at, "Link to this id")
    with store() as session:
        decision = repository.latest_decisions(session, DOC)[key]
    assert (decision.status, decision.concept_ids) == (DecisionStatus.CORRECTED, ("HP:0001250",))


def test_kb_search_and_link(app, store):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id=DOC)
    at.switch_page("pages/review.py").run()
    key = at.session_state["bel_current_mention_key"]
    at.text_input(key="kb-query").input("hearing loss").run()
    assert any("Hearing impairment" in m.value for m in at.markdown)
    at.button(key="link-HP:0000365").click().run()
    assert not at.exception
    with store() as session:
        decision = repository.latest_decisions(session, DOC)[key]
    assert decision.concept_ids == ("HP:0000365",)


def test_history_lists_every_decision_latest_first(app, store):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id=DOC)
    at.switch_page("pages/review.py").run()
    key = at.session_state["bel_current_mention_key"]
    click(at, "Accept top")
    click(at, "Previous")
    assert at.session_state["bel_current_mention_key"] == key
    click(at, "Not entity")
    click(at, "Previous")
    history = at.dataframe[-1].value
    assert list(history["status"]) == ["not_entity", "accepted"]
    assert any(md("Latest decision: not an entity") in i.value for i in at.info)
    with store() as session:
        assert repository.latest_decisions(session, DOC)[key].status is DecisionStatus.NOT_ENTITY
        assert len(repository.decision_history(session, key)) == 2


def test_next_and_previous_walk_the_queue(app):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id=DOC)
    at.switch_page("pages/review.py").run()
    assert any("Item **1** of 4" in m.value for m in at.markdown)
    click(at, "Next")
    assert any("Item **2** of 4" in m.value for m in at.markdown)
    click(at, "Previous")
    click(at, "Previous")  # clamped at the first item
    assert any("Item **1** of 4" in m.value for m in at.markdown)


def test_add_mention_validates_offsets(app, store):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id=DOC)
    at.switch_page("pages/review.py").run()
    at.number_input(key="new-start").set_value(10)
    at.number_input(key="new-end").set_value(10)
    click(at, "Add mention")
    assert at.error, "an empty span must be refused"
    with store() as session:
        assert len(repository.list_mentions(session, DOC)) == 4

    start = CLINICAL_TEXT.index("Echocardiography")
    at.number_input(key="new-start").set_value(start)
    at.number_input(key="new-end").set_value(start + len("Echocardiography"))
    click(at, "Add mention")
    assert not at.error
    assert at.session_state["bel_current_mention_key"] == (DOC, start, start + len("Echocardiography"))
    with store() as session:
        added = [m for m in repository.list_mentions(session, DOC) if m.start == start]
    assert [m.origin.value for m in added] == ["manual"]


def test_review_without_documents_points_to_documents_page(app):
    at = app("review")
    assert any("No documents yet" in i.value for i in at.info)
