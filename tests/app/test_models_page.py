"""The Model versions page (AppTest): versions table and charts, promote, roll back, job progress, start a job."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from bel_core.config import Settings
from bel_core.training.retrain import RetrainConfig
from db.models import DocumentRow, JobStatus, LinkRunRow
from pages.components.widgets import md
from tests.app.conftest import CLINICAL_TEXT, click, paste
from tests.curated_store import seed_curated
from usecases import jobs, registry, retrain, serving
from usecases.retrain import run_retrain

METRICS = {
    "n": 9,
    "acc@1": 0.8,
    "acc@5": 0.9,
    "recall@64": 1.0,
    "ece": 0.1,
    "brier": 0.2,
    "reliability": [[0.35, 0.5, 2], [0.95, 1.0, 7]],
    "nil_rate": 0.25,
    "per_type": {"Phenotype": {"n": 9, "acc@1": 0.8}},
    "calibration": "logistic",
}


def _register(store: sessionmaker[Session], version: str, parent: str | None = None) -> None:
    with store.begin() as session:
        registry.register_version(
            session,
            version=version,
            path=f"/models/{version}",
            parent_version=parent,
            data={"n_decisions": 12, "splits": {"train": {"mentions": 8}, "dev": {"mentions": 2}}},
            config={"seconds": 3.0},
            metrics=METRICS,
        )


def _statuses(store: sessionmaker[Session]) -> dict[str, str]:
    with store() as session:
        return {r.version: r.status.value for r in registry.list_versions(session)}


def _pick(at: AppTest, version: str) -> AppTest:
    box = at.selectbox(key="models_version")
    box.set_value(next(o for o in box.options if o.endswith(version))).run()
    return at


def test_empty_registry_explains_how_to_get_a_version(app):
    at = app("models")
    assert any("No version registered yet" in i.value for i in at.info)
    assert any(md("built-in default linker") in m.value for m in at.markdown)


def test_versions_table_charts_promote_and_roll_back(app, store):
    _register(store, "v-one")
    _register(store, "v-two", parent="v-one")
    at = app("models")
    table = at.dataframe[0].value
    assert list(table["version"]) == ["v-two", "v-one"] and list(table["acc@1"]) == [0.8, 0.8]
    assert len(at.get("plotly_chart")) == 4  # accuracy, calibration, per type, reliability

    click(_pick(at, "v-one"), "Promote")
    assert _statuses(store) == {"v-one": "promoted", "v-two": "candidate"}
    assert any(md("v-one") in m.value for m in at.markdown if m.value.startswith("Serving"))
    click(_pick(at, "v-two"), "Promote")
    assert _statuses(store) == {"v-one": "retired", "v-two": "promoted"}
    click(at, "Roll back")
    assert _statuses(store) == {"v-one": "promoted", "v-two": "retired"}
    assert next(b for b in at.button if b.label == "Roll back").disabled  # v-one has no parent


def test_job_panel_shows_progress_then_result_or_error(app, store):
    job_id = jobs.create_job(store, "retrain", {}, "tester")
    jobs.start_job(store, job_id)
    jobs.report_progress(store, job_id, 0.4, "tfidf 1/1")
    at = app("models")
    bars = at.get("progress")
    assert len(bars) == 1 and bars[0].proto.value == 40 and "tfidf 1/1" in bars[0].proto.text
    submit = next(b for b in at.button if b.label == "Train new version from decisions")
    assert submit.disabled  # one job at a time

    jobs.fail_job(store, job_id, "TrainingDataError: Not enough curated links")
    at.run()
    assert any(md("Not enough curated links") in e.value for e in at.error)

    second = jobs.create_job(store, "retrain", {}, "tester")
    jobs.start_job(store, second)
    jobs.finish_job(store, second, "v-new", "trained in 3 s")
    at.run()
    assert any(md("new candidate version v-new") in s.value for s in at.success)


def test_train_button_queues_a_job_and_starts_the_worker(app, store, monkeypatch):
    started: list[list[str]] = []

    class FakePopen:
        def __init__(self, command: list[str], **kwargs: object) -> None:
            started.append(command)

    # Only usecases.retrain's view of subprocess: the rest of the process keeps the real one.
    fake = SimpleNamespace(Popen=FakePopen, STDOUT=subprocess.STDOUT, DEVNULL=subprocess.DEVNULL)
    monkeypatch.setattr(retrain, "subprocess", fake)
    at = app("models")
    at.checkbox[0].check()
    click(at, "Train new version from decisions")
    with store() as session:
        (job,) = jobs.recent_jobs(session)
    assert job.status is JobStatus.QUEUED and job.params == {"train_reranker": True, "finetune_encoder": False}
    assert len(started) == 1 and started[0][-3:] == ["retrain", "--job-id", str(job.id)]


def test_the_app_links_with_the_promoted_version(app, store, app_env: Path, tiny_kb_path: Path, tiny_kb, monkeypatch):
    # Promoted from outside the app (like `bel models promote`): seen at the next registry check.
    monkeypatch.setattr(serving, "PROMOTION_CHECK_S", 0.0)
    seed_curated(store, tiny_kb, 16)
    settings = Settings.load(env={"BEL_DATA_DIR": str(app_env), "BEL_KB": str(tiny_kb_path)})
    settings = replace(settings, retrieval=replace(settings.retrieval, dense_enabled=False))
    outcome = run_retrain(store, settings, RetrainConfig())
    at = app("status")
    assert outcome.version not in at.dataframe[0].value["value"].tolist()  # a candidate does not serve
    with store.begin() as session:
        registry.promote(session, outcome.version)
    at.run()
    assert outcome.version in at.dataframe[0].value["value"].tolist()
    # Documents linked from now on record the promoted version with their link run.
    paste(app("documents"), CLINICAL_TEXT, doc_id="after-promotion")
    with store() as session:
        query = select(LinkRunRow.model_version).join(DocumentRow).where(DocumentRow.doc_id == "after-promotion")
        runs = session.scalars(query).all()
    assert runs == [outcome.version]
