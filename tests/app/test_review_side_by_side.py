"""Both model families on the Review page: merged list, order switch, disagreement flag and filter.

The real pipeline runs on the tiny KB; the generative linker is ``FakeGenerator`` (the
pipeline's list reversed for lower-case mentions), injected where the app loads it.
"""

from __future__ import annotations

import pytest

from bel_core.linking.compare import top_concept
from db import repository
from pages.components import resources
from tests.app.conftest import CLINICAL_TEXT, paste
from tests.fakes import FakeGenerator
from usecases import review

DOC = "case-2"


@pytest.fixture
def with_generator(monkeypatch):
    monkeypatch.setattr(resources, "load_generator_linker", lambda settings, kb: FakeGenerator(kb))


def _results(store):
    with store() as session:
        return repository.latest_link_results(session, DOC), repository.latest_link_results(
            session, DOC, linker="generator"
        )


def test_pasting_stores_both_rankings_and_the_review_window_carries_both(app, store, with_generator):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id=DOC)
    pipeline, generated = _results(store)
    assert generated.keys() == pipeline.keys() and generated
    at.switch_page("pages/review.py").run()
    assert not at.exception
    with store() as session:
        documents = review.load_documents(session, [DOC])
    for key, result in pipeline.items():
        assert [c["id"] for c in documents[DOC].candidates[key]] == [c.concept_id for c in result.candidates][:9]
        assert [c["id"] for c in documents[DOC].generated[key]] == [c.concept_id for c in generated[key].candidates][
            :9
        ]


def test_disagreement_filter_limits_the_queue(app, store, with_generator):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id=DOC)
    pipeline, generated = _results(store)
    differ = {k for k in pipeline if top_concept(pipeline[k]) != top_concept(generated.get(k))}
    at.switch_page("pages/review.py").run()
    at.checkbox(key="filter-disagreement").check().run()
    assert not at.exception
    assert differ and {tuple(k) for k in at.session_state["bel_queue_order"][1]} == differ
