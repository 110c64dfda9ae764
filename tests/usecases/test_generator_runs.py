"""The generative linker's runs are stored beside the pipeline's and found by the queue."""

from __future__ import annotations

from bel_core.types import Document
from db import queries, repository
from tests.conftest import TEXT
from tests.fakes import FakeGenerator
from usecases import services
from usecases.queue import QueueFilters, review_queue


def test_generator_run_is_stored_as_its_own_family(factory, linker, tiny_kb):
    with factory.begin() as session:
        services.ingest_document(session, linker, Document("doc1", TEXT, source="t"), generator=FakeGenerator(tiny_kb))
    with factory() as session:
        pipeline = repository.latest_link_results(session, "doc1")
        generated = repository.latest_link_results(session, "doc1", linker="generator")
    assert pipeline.keys() == generated.keys()
    assert {r.model_version for r in pipeline.values()} == {linker.model_version}
    assert {r.model_version for r in generated.values()} == {"fake-generator-1"}


def test_a_later_generator_run_does_not_hide_the_pipeline_candidates(factory, linker, ingested, tiny_kb):
    with factory() as session:
        before = repository.latest_link_results(session, "doc1")
    with factory.begin() as session:
        assert services.link_with_generator(session, FakeGenerator(tiny_kb), "doc1") is not None
    with factory() as session:
        assert repository.latest_link_results(session, "doc1") == before
        assert queries.latest_results(session, "doc1", linker="generator")


def test_queue_filter_keeps_only_disagreements(factory, linker, ingested, tiny_kb):
    with factory.begin() as session:
        services.link_with_generator(session, FakeGenerator(tiny_kb), "doc1")
    with factory() as session:
        everything = review_queue(session)
        differ = review_queue(session, filters=QueueFilters(disagreement=True))
    expected = {i.mention.key for i in everything if i.top and i.generator_top and i.top != i.generator_top}
    assert expected and {i.mention.key for i in differ} == expected
    assert all(i.models_disagree for i in differ)
    assert len(differ) < len(everything)  # capitalised mentions keep the pipeline's order


def test_without_generator_runs_the_filter_shows_nothing(factory, ingested):
    with factory() as session:
        assert review_queue(session, filters=QueueFilters(disagreement=True)) == []
        assert all(i.generator_top is None for i in review_queue(session))
