"""The Review page's server side in the real app: queue order, cursor, side tabs, stored decisions.

The keys themselves are handled by the browser component (``tests/browser``); here AppTest
drives what Streamlit draws around it. The real LinkingPipeline runs on the tiny KB
(TF-IDF only), and every assertion about what was stored reads the store back.
"""

from __future__ import annotations

from bel_core.types import DecisionStatus
from db import repository
from pages.components.review_tabs import search_key
from pages.components.widgets import md
from tests.app.conftest import CLINICAL_TEXT, click, paste
from tests.fakes import FakeLinker
from usecases import services
from usecases.queue import review_queue

DOC = "case-1"


def _current(at):
    """The mention under the cursor: the remembered order at the remembered index."""
    order = at.session_state["bel_queue_order"][1]
    return tuple(order[at.session_state["bel_review_cursor"][1]])


def _review(app):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id=DOC)
    at.switch_page("pages/review.py").run()
    assert not at.exception
    return at


def test_review_opens_on_the_riskiest_mention_and_keeps_the_order(app, store, tiny_kb):
    at = _review(app)
    with store() as session:
        queue = review_queue(session, DOC, include_decided=True)
    assert _current(at) == queue[0].mention.key
    assert [tuple(k) for k in at.session_state["bel_queue_order"][1]] == [i.mention.key for i in queue]
    # A decision stored elsewhere does not reshuffle the queue under the curator.
    with store.begin() as session:
        services.decide(session, FakeLinker(tiny_kb), queue[0].mention.key, DecisionStatus.NIL, curator="tester")
    at.run()
    assert [tuple(k) for k in at.session_state["bel_queue_order"][1]] == [i.mention.key for i in queue]


def test_unknown_concept_id_shows_error_next_to_the_tabs_and_stores_nothing(app, store):
    at = _review(app)
    at.text_input(key="concept-id").input("HP:9999999")
    click(at, "Link to this id")
    assert any(md("Unknown concept id 'HP:9999999'") in e.value for e in at.error)
    with store() as session:
        assert repository.latest_decisions(session, DOC) == {}


def test_link_by_id_resolves_alt_ids_and_moves_the_cursor_on(app, store):
    at = _review(app)
    key = _current(at)
    at.text_input(key="concept-id").input("HP:0002279")  # alt id of Seizure
    click(at, "Link to this id")
    with store() as session:
        decision = repository.latest_decisions(session, DOC)[key]
    assert (decision.status, decision.concept_ids) == (DecisionStatus.CORRECTED, ("HP:0001250",))
    assert at.session_state["bel_review_goto"][1] == 1  # the component is told to show the next one


def test_kb_search_and_link(app, store):
    at = _review(app)
    key = _current(at)
    at.text_input(key=search_key(key)).input("hearing loss").run()
    assert any("Hearing impairment" in m.value for m in at.markdown)
    at.button(key="link-HP:0000365").click().run()
    assert not at.exception
    with store() as session:
        decision = repository.latest_decisions(session, DOC)[key]
    assert decision.concept_ids == ("HP:0000365",)
    # The next mention starts with an empty search, not the previous mention's hits.
    assert not [t for t in at.text_input if t.key == search_key(key)]


def test_history_lists_every_decision_latest_first(app, store, tiny_kb):
    at = _review(app)
    key = _current(at)
    with store.begin() as session:
        services.decide(session, FakeLinker(tiny_kb), key, DecisionStatus.ACCEPTED, curator="tester")
        services.decide(session, FakeLinker(tiny_kb), key, DecisionStatus.NOT_ENTITY, curator="tester")
    at.run()
    history = at.dataframe[-1].value
    assert list(history["status"]) == ["not_entity", "accepted"]


def test_an_added_mention_is_reviewed_next(app, store):
    at = _review(app)
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
    added = (DOC, start, start + len("Echocardiography"))
    assert _current(at) == added
    assert tuple(at.session_state["bel_queue_order"][1][1]) == added  # right after the cursor
    with store() as session:
        assert [m.origin.value for m in repository.list_mentions(session, DOC) if m.start == start] == ["manual"]


def test_review_without_documents_points_to_documents_page(app):
    at = app("review")
    assert any("No documents yet" in i.value for i in at.info)
