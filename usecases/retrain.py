"""Retraining from curator decisions: decisions -> splits -> model directory -> registry, as a job.

Stage: the learning loop. ``run_retrain`` is the one code path behind ``bel retrain``, the
Model page's "Train new version" button (which starts ``bel retrain --job-id N`` in its own
process with :func:`launch_retrain`) and the learning-curve benchmark. Documents are split
with ``training_export.split_documents`` (the seeded shuffle ``bel export-training`` uses;
with the same seed and ratios the splits are the same), so no document is in two splits.
The training itself lives in ``bel_core.training.retrain``; it is imported when a job runs,
so opening the page loads no model code.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from bel_core.config import Settings
from bel_core.errors import ConfigError
from usecases import jobs, registry
from usecases.training_export import Example, curated_examples, split_documents

if TYPE_CHECKING:
    from bel_core.training.retrain import CuratedSplit, RetrainConfig

logger = logging.getLogger(__name__)
JOB_KIND = "retrain"
# Progress stages of a retraining, in order: the share of the job each spans, and what it is doing.
_STAGES = {
    "dense": (0.0, 0.25, "encoding KB aliases for dense retrieval"),
    "bi_encoder": (0.25, 0.45, "fine-tuning the bi-encoder"),
    "tfidf": (0.45, 0.5, "building the TF-IDF index"),
    "train": (0.5, 0.8, "training and calibrating"),
    "dev": (0.8, 0.82, "scoring the dev pairs"),
    "load": (0.82, 0.9, "loading the new version"),
    "evaluate": (0.9, 0.99, "evaluating on the held-out documents"),
}


@dataclass(frozen=True, slots=True)
class RetrainOutcome:
    """A registered version and how long its retraining took."""

    version: str
    path: Path
    parent_version: str | None
    metrics: dict[str, Any]
    seconds: float


def curated_splits(examples: list[Example], seed: int, ratios: tuple[float, float, float]) -> dict[str, CuratedSplit]:
    """Curated examples as train/dev/test splits by document (curated ids in ``annotated_ids``)."""
    from bel_core.training.retrain import CuratedSplit

    assign = split_documents([e.mention.doc_id for e in examples], seed, ratios)
    out: dict[str, CuratedSplit] = {}
    for name in ("train", "dev", "test"):
        mine = [e for e in examples if assign[e.mention.doc_id] == name]
        mentions = tuple(replace(e.mention, annotated_ids=tuple(e.decision.concept_ids)) for e in mine)
        out[name] = CuratedSplit({e.document.doc_id: e.document for e in mine}, mentions)
    return out


def data_record(examples: list[Example], splits: Mapping[str, CuratedSplit]) -> dict[str, Any]:
    """What a version was trained on: decision counts, a hash of the document ids, split sizes."""
    from bel_core.training.retrain import split_counts

    doc_ids = sorted({e.mention.doc_id for e in examples})
    return {
        "n_decisions": len(examples),
        "statuses": dict(sorted(Counter(e.decision.status.value for e in examples).items())),
        "documents": len(doc_ids),
        "doc_ids_sha256": hashlib.sha256("\n".join(doc_ids).encode()).hexdigest(),
        "splits": split_counts(splits),
    }


class _JobProgress:
    """``progress(stage, done, total)`` -> the job row, at most once a second (a commit each), never backwards."""

    def __init__(self, store: sessionmaker[Session], job_id: int | None) -> None:
        self.store, self.job_id, self.last, self.fraction = store, job_id, 0.0, 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.job_id is None or stage not in _STAGES:
            return
        now = time.monotonic()
        if 0 < done < total and now - self.last < 1.0:
            return
        low, high, text = _STAGES[stage]
        self.fraction = max(self.fraction, low + (high - low) * (done / total if total else 1.0))
        counts = f" ({done:,}/{total:,})" if total > 1 else ""
        jobs.report_progress(self.store, self.job_id, self.fraction, text + counts)
        self.last = now


def run_retrain(
    store: sessionmaker[Session],
    settings: Settings,
    config: RetrainConfig,
    *,
    job_id: int | None = None,
    out: Path | None = None,
    command: str = "",
    examples: list[Example] | None = None,
) -> RetrainOutcome:
    """Retrain from the store's curated decisions and register the new version as a candidate.

    Args:
        store: the curation database.
        settings: the app's settings (KB, retrieval, data directory).
        config: retraining options.
        job_id: the job row to report progress to and end (None: run without a job).
        out: model directory to write (default: ``<data_dir>/models/<time>-job<N>``).
        command: recorded in the manifest.
        examples: curated examples to use instead of the store's (the benchmark's simulated curator).

    Raises:
        TrainingDataError: too few curated mentions; RegistryError: an identical version exists;
        ConfigError: ``out`` is a non-empty directory; BelError from loading the KB or models.
        A job is marked FAILED with the error first; a half-written ``out`` is removed.
    """
    from bel_core.training.retrain import config_json, retrain

    out = out or settings.resolved_data_dir / "models" / f"{time.strftime('%Y%m%d-%H%M%S')}-job{job_id or 0}"
    if out.exists() and any(out.iterdir()):
        error = ConfigError(f"{out} exists and is not empty: a new version needs a new model directory")
        if job_id is not None:
            jobs.fail_job(store, job_id, str(error))
        raise error
    try:
        with store.begin() as session:
            examples = examples if examples is not None else curated_examples(session)
            current = registry.promoted(session)
            parent = current.version if current else None
        splits = curated_splits(examples, config.seed, config.ratios)
        result = retrain(splits, settings, out, config, command=command, progress=_JobProgress(store, job_id))
        with store.begin() as session:
            registry.register_version(
                session,
                version=result.version,
                path=str(out),
                parent_version=parent,
                data=data_record(examples, splits) | {"training": result.training},
                config=config_json(config) | {"kb_source": settings.kb.source, "seconds": round(result.seconds, 1)},
                metrics=result.metrics,
            )
    except BaseException as e:  # the job must never stay "running" after its worker stopped
        if job_id is not None:
            jobs.fail_job(store, job_id, f"{type(e).__name__}: {e}")
        shutil.rmtree(out, ignore_errors=True)
        raise
    if job_id is not None:
        jobs.finish_job(store, job_id, result.version, f"trained in {result.seconds:.0f} s")
    return RetrainOutcome(result.version, out, parent, result.metrics, result.seconds)


def launch_retrain(
    store: sessionmaker[Session], settings: Settings, params: Mapping[str, Any], created_by: str
) -> int:
    """Queue a retraining job and start ``bel retrain --job-id N`` detached; returns the job id.

    The worker inherits this process's environment (``BEL_CONFIG``, ``BEL_*``), so it reads the
    same settings; its output goes to ``<data_dir>/logs/job-<N>.log``.

    Raises:
        JobError: a retraining is already queued or running.
    """
    job_id = jobs.create_job(store, JOB_KIND, params, created_by)
    logs = settings.resolved_data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "cli", "--db", settings.resolved_db_url, "retrain", "--job-id", str(job_id)]
    try:
        with (logs / f"job-{job_id}.log").open("ab") as log:
            subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # survives the page's rerun and the server's restart
                cwd=Path(__file__).resolve().parent.parent,
                env=dict(os.environ),
            )
    except OSError as e:
        jobs.fail_job(store, job_id, f"could not start the worker: {e}")
        raise
    return job_id
