"""Both model families on the Review page: merged list, order switch, disagreement flag and filter.

The real pipeline runs on the tiny KB; the generative linker is ``FakeGenerator`` (the
pipeline's list reversed for lower-case mentions), injected where the app loads it.
"""

from __future__ import annotations

import pytest

from bel_core.linking.compare import top_concept
from db import repository
from pages.components import resources
from tests.app.conftest import CLINICAL_TEXT, click, paste
from tests.fakes import FakeGenerator

DOC = "case-2"


@pytest.fixture
def with_generator(monkeypatch):
    monkeypatch.setattr(resources, "load_generator_linker", lambda settings, kb: FakeGenerator(kb))


def _results(store):
    with store() as session:
        return repository.latest_link_results(session, DOC), repository.latest_link_results(
            session, DOC, linker="generator"
        )


def test_pasting_stores_both_rankings_and_review_merges_them(app, store, with_generator):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id=DOC)
    pipeline, generated = _results(store)
    assert generated.keys() == pipeline.keys() and generated

    click(at, "Open in Review")
    key = tuple(at.session_state["bel_current_mention_key"])
    ours, theirs = pipeline[key], generated[key]
    control = at.get("button_group")
    assert control, "the order switch is shown when the generator ranked the mention"
    first_help = at.button(key="pick-1").help
    assert top_concept(ours) in first_help
    if top_concept(ours) != top_concept(theirs):
        assert any("models disagree" in w.value for w in at.warning)

    control[0].set_value("generator").run()
    assert not at.exception
    assert top_concept(theirs) in at.button(key="pick-1").help
    # Number keys follow the chosen order: "1" now links the generator's top concept.
    at.button(key="pick-1").click().run()
    with store() as session:
        decision = repository.latest_decisions(session, DOC)[key]
    assert decision.concept_ids == (top_concept(theirs),)


def test_disagreement_filter_limits_the_queue(app, store, with_generator):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id=DOC)
    pipeline, generated = _results(store)
    differ = {k for k in pipeline if top_concept(pipeline[k]) != top_concept(generated.get(k))}
    click(at, "Open in Review")
    at.checkbox(key="filter-disagreement").check().run()
    assert not at.exception
    assert differ and tuple(at.session_state["bel_current_mention_key"]) in differ
    assert any(f"of {len(differ)} ·" in m.value for m in at.markdown), [m.value for m in at.markdown]


def test_without_a_generator_the_panel_is_unchanged(app, store):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id=DOC)
    click(at, "Open in Review")
    assert not at.get("button_group")
    assert not any("models disagree" in w.value for w in at.warning)


def test_the_other_models_best_rows_stay_visible_below_the_keyed_nine():
    from bel_core.linking.compare import compare
    from bel_core.types import Candidate, LinkResult, Mention
    from pages.components.review_compare import visible_rows

    mention = Mention("d", 0, 1, "x")
    pipeline = LinkResult(mention, tuple(Candidate(f"P{i}", "n", "n", "s", 0.1, 0.1) for i in range(12)), "m", "k")
    generated = LinkResult(
        mention, (Candidate("G1", "n", "n", "g", 0.9, 0.9), Candidate("P11", "n", "n", "g", 0.1)), "g", "k"
    )
    shown = visible_rows(compare(pipeline, generated, "reranker"))
    positions = [(i, r.concept_id) for i, r in shown]
    assert positions[:9] == [(i + 1, f"P{i}") for i in range(9)]
    assert positions[9:] == [(12, "P11"), (13, "G1")]  # the generator's top two, below the keyed rows
