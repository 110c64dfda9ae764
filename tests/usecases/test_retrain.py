"""Retraining from curated decisions on the tiny KB: splits, the fast train path, the registry record, jobs."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bel_core.config import KBConfig, RetrievalConfig, Settings
from bel_core.errors import TrainingDataError
from bel_core.linking.pipeline import LinkingPipeline
from bel_core.retrieve.dense import DenseRetriever, resolve_encoder
from bel_core.runtime.model_dir import read_manifest
from bel_core.training.retrain import RetrainConfig
from bel_core.types import Mention
from db.models import JobStatus, ModelStatus, utcnow
from tests.core.conftest import tiny_model_dir as tiny_encoder_dir  # noqa: F401 (a fixture)
from tests.core.tiny_cross_encoder import save_tiny_cross_encoder
from tests.curated_store import NOGGIN, curated_document, seed_curated
from tests.fakes import FakeLinker
from usecases import jobs, registry, services
from usecases.retrain import curated_splits, launch_retrain, run_retrain
from usecases.training_export import curated_examples

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(tmp_path: Path, tiny_kb_path: Path) -> Settings:
    """The tiny KB, TF-IDF only (no encoder to load), data under tmp_path."""
    return Settings(
        data_dir=tmp_path / "data",
        kb=KBConfig(source=str(tiny_kb_path)),
        retrieval=replace(RetrievalConfig(), dense_enabled=False),
    )


@pytest.fixture
def curated(factory: sessionmaker[Session], tiny_kb) -> sessionmaker[Session]:
    seed_curated(factory, tiny_kb, 16)
    return factory


def test_curated_splits_are_by_document_deterministic_and_keep_nil(curated):
    with curated() as session:
        examples = curated_examples(session)
    splits = curated_splits(examples, seed=13, ratios=(0.7, 0.15, 0.15))
    docs = {name: {m.doc_id for m in s.mentions} for name, s in splits.items()}
    assert [len(docs[s]) for s in ("train", "dev", "test")] == [11, 2, 3]
    assert not (docs["train"] & docs["dev"] or docs["train"] & docs["test"] or docs["dev"] & docs["test"])
    assert len(splits["test"].nil_mentions) == 3  # one "zorbitis" NIL per document
    again = curated_splits(list(reversed(examples)), seed=13, ratios=(0.7, 0.15, 0.15))
    assert {n: {m.doc_id for m in s.mentions} for n, s in again.items()} == docs
    other = curated_splits(examples, seed=14, ratios=(0.7, 0.15, 0.15))
    assert {m.doc_id for m in other["test"].mentions} != docs["test"]


def test_retrain_registers_the_version_the_app_loads_with_metrics_and_lineage(curated, settings):
    outcome = run_retrain(curated, settings, RetrainConfig())
    app_linker = LinkingPipeline.from_model_dir(outcome.path, settings)
    assert outcome.version == app_linker.model_version and "priors[" in outcome.version
    with curated() as session:
        row = registry.get_version(session, outcome.version)
    assert row.status is ModelStatus.CANDIDATE and row.parent_version is None
    assert row.data["n_decisions"] == 64 and row.data["documents"] == 16 and len(row.data["doc_ids_sha256"]) == 64
    assert row.data["splits"]["test"] == {"documents": 3, "mentions": 12, "nil": 3}
    assert row.config["train_reranker"] is False and row.config["kb_source"] == settings.kb.source
    m = row.metrics
    assert m["n"] == 9 and m["n_nil"] == 3 and m["gold_nil_rate"] == 0.25
    assert m["acc@1"] == 1.0 and m["recall@64"] == 1.0  # "big noggin" was learned as an alias
    assert 0.0 <= m["ece"] <= 1.0 and 0.0 <= m["brier"] <= 1.0 and sum(b[2] for b in m["reliability"]) == 9
    assert m["per_type"] == {"Phenotype": {"n": 9, "acc@1": 1.0}}
    assert m["calibration"] in {"logistic", "combined"} and m["rerank"] is False

    # The default linker does not know "big noggin"; the retrained one links it to Macrocephaly.
    document, mentions = curated_document(99)
    noggin = next(x for x in mentions if x.text == NOGGIN)
    default = LinkingPipeline.from_settings(settings)
    assert default.link([noggin], documents={document.doc_id: document})[0].candidates[0].concept_id != "HP:0000256"
    assert app_linker.link([noggin], documents={document.doc_id: document})[0].candidates[0].concept_id == "HP:0000256"

    # A second version trained while the first serves names it as its parent.
    with curated.begin() as session:
        registry.promote(session, outcome.version)
    document, mentions = curated_document(40)
    with curated.begin() as session:
        services.ingest_document(session, FakeLinker(app_linker.kb), document, mentions, detect=False)
        services.import_gold_decisions(session, FakeLinker(app_linker.kb), mentions, curator="tester")
    second = run_retrain(curated, settings, RetrainConfig(), out=settings.resolved_data_dir / "second")
    assert second.parent_version == outcome.version and second.version != outcome.version


def test_retrain_job_succeeds_with_progress_and_result(curated, settings):
    job_id = jobs.create_job(curated, "retrain", {"seed": 13}, "tester")
    jobs.start_job(curated, job_id)
    outcome = run_retrain(curated, settings, RetrainConfig(), job_id=job_id)
    with curated() as session:
        job = jobs.get_job(session, job_id)
    assert job.status is JobStatus.SUCCEEDED and job.progress == 1.0 and job.result_version == outcome.version
    assert job.started_at is not None and job.finished_at is not None and job.error is None


def test_retrain_without_enough_decisions_fails_the_job_with_the_error(factory, settings, tiny_kb):
    seed_curated(factory, tiny_kb, 2)
    job_id = jobs.create_job(factory, "retrain", {}, "tester")
    jobs.start_job(factory, job_id)
    with pytest.raises(TrainingDataError, match="Not enough curated links"):
        run_retrain(factory, settings, RetrainConfig(), job_id=job_id)
    with factory() as session:
        job = jobs.get_job(session, job_id)
        assert registry.list_versions(session) == []
    assert job.status is JobStatus.FAILED and "Not enough curated links" in job.error and job.finished_at
    models = settings.resolved_data_dir / "models"
    assert not models.exists() or not any(models.iterdir())  # the half-written directory is removed


def test_job_lifecycle_rules(factory):
    job_id = jobs.create_job(factory, "retrain", {"train_reranker": False}, "alice")
    with pytest.raises(jobs.JobError, match="still"):
        jobs.create_job(factory, "retrain", {}, "bob")  # one retraining at a time
    assert jobs.start_job(factory, job_id) == {"train_reranker": False}
    with pytest.raises(jobs.JobError, match="not queued"):
        jobs.start_job(factory, job_id)
    jobs.report_progress(factory, job_id, 1.7, "tfidf 1/1")
    with factory() as session:
        job = jobs.get_job(session, job_id)
        assert (job.status, job.progress, job.message) == (JobStatus.RUNNING, 1.0, "tfidf 1/1")
    jobs.fail_job(factory, job_id, "boom")
    assert jobs.create_job(factory, "retrain", {}, "bob") == job_id + 1  # the failed one no longer blocks
    with factory() as session, pytest.raises(jobs.JobError, match="No training job 99"):
        jobs.get_job(session, 99)


def test_a_job_whose_worker_never_started_does_not_block_the_next_one(factory):
    stale = jobs.create_job(factory, "retrain", {}, "alice")
    with factory.begin() as session:
        jobs.get_job(session, stale).created_at = utcnow() - jobs.NEVER_STARTED - timedelta(seconds=1)
    fresh = jobs.create_job(factory, "retrain", {}, "bob")
    with factory() as session:
        old = jobs.get_job(session, stale)
        assert old.status is JobStatus.FAILED and "never started" in old.error
        assert jobs.get_job(session, fresh).status is JobStatus.QUEUED


def test_launch_retrain_runs_the_job_in_another_process(curated, settings, db_url, tiny_kb_path, monkeypatch):
    # The worker reads its settings from the environment, as it does when the page starts it.
    monkeypatch.setenv("BEL_DATA_DIR", str(settings.resolved_data_dir))
    monkeypatch.setenv("BEL_KB", str(tiny_kb_path))
    monkeypatch.setenv("BEL_DENSE_ENABLED", "0")
    monkeypatch.delenv("BEL_CONFIG", raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), *sys.path]))
    settings = replace(settings, db_url=db_url)
    job_id = launch_retrain(curated, settings, {"seed": 13}, "tester")
    deadline = time.monotonic() + 240
    while True:
        with curated() as session:
            job = jobs.get_job(session, job_id)
        if job.status not in jobs.ACTIVE or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    log = (settings.resolved_data_dir / "logs" / f"job-{job_id}.log").read_text()
    assert job.status is JobStatus.SUCCEEDED, (job.status, job.error, log[-2000:])
    with curated() as session:
        assert registry.get_version(session, job.result_version).status is ModelStatus.CANDIDATE


def test_mentions_keep_their_curated_ids_through_the_split(curated):
    with curated() as session:
        examples = curated_examples(session)
    splits = curated_splits(examples, seed=13, ratios=(0.7, 0.15, 0.15))
    train: tuple[Mention, ...] = splits["train"].mentions
    assert {m.text: m.annotated_ids for m in train}[NOGGIN] == ("HP:0000256",)


def test_retrain_with_dense_retrieval_encodes_only_the_new_training_aliases(
    curated,
    settings,
    tiny_encoder_dir,  # noqa: F811 (the imported fixture, requested by name)
    tiny_kb,
    monkeypatch,
):
    encoder = str(tiny_encoder_dir)
    settings = replace(settings, retrieval=replace(settings.retrieval, dense_enabled=True, dense_model=encoder))
    spec = resolve_encoder(encoder, cache_dir=settings.cache_dir)
    DenseRetriever.build(tiny_kb, spec, cache_dir=settings.cache_dir)  # the app built the base index earlier
    encoded: list[str] = []  # aliases encoded for an index (queries are encoded elsewhere)
    real_encode_all = DenseRetriever._encode_all

    def counting(self, texts, batch_size, progress, known=None):
        encoded.extend(t for t in texts if t not in (known or {}))
        return real_encode_all(self, texts, batch_size, progress, known)

    monkeypatch.setattr(DenseRetriever, "_encode_all", counting)
    outcome = run_retrain(curated, settings, RetrainConfig())  # base model "": the dense model of settings
    assert sorted(encoded) == ["big noggin"]  # the one training alias the KB lacks
    assert "dense[" in outcome.version
    encoded.clear()
    app_linker = LinkingPipeline.from_model_dir(outcome.path, settings)
    assert app_linker.model_version == outcome.version and encoded == []  # the app finds the index cached


def test_retrain_with_the_cross_encoder_compares_margin_calibrations(curated, settings, tmp_path):
    base = save_tiny_cross_encoder(tmp_path / "base", num_labels=1)
    outcome = run_retrain(curated, settings, RetrainConfig(train_reranker=True, base_model=str(base)))
    manifest = read_manifest(outcome.path)
    assert "reranker" in manifest.components
    tried = manifest.metrics["calibration"]["with_reranker"]["methods"]
    assert "temperature_bucket" in tried  # temperature + per-bucket offsets on the reranker's margins
    assert outcome.metrics["rerank"] == manifest.linker["rerank"]  # kept only when it helped on dev
    assert outcome.version == LinkingPipeline.from_model_dir(outcome.path, settings).model_version
