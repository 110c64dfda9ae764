"""Background training jobs: queued by the page, run by a separate process, polled by the page.

Stage: the learning loop. A job row is created QUEUED with its parameters; the worker
(``bel retrain --job-id N``) marks it RUNNING, writes progress (0..1) and a message as it
goes, and ends it SUCCEEDED with the version it registered or FAILED with the error. Each
function commits its own short transaction, because the worker's progress must be visible
to the page while the training is still running.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bel_core.errors import JobError
from db.models import JobStatus, TrainingJobRow, utcnow

ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
NEVER_STARTED = timedelta(minutes=5)  # a job still queued this long after creation lost its worker


def create_job(store: sessionmaker[Session], kind: str, params: Mapping[str, Any], created_by: str) -> int:
    """Queue a job; returns its id. A job of the kind queued for ``NEVER_STARTED`` is failed first.

    Raises:
        JobError: a job of the same kind is queued or running (one retraining at a time).
    """
    with store.begin() as session:
        busy = session.scalar(
            select(TrainingJobRow).where(TrainingJobRow.kind == kind, TrainingJobRow.status.in_(ACTIVE))
        )
        if busy is not None and busy.status is JobStatus.QUEUED and utcnow() - busy.created_at > NEVER_STARTED:
            busy.status, busy.finished_at, busy.message = JobStatus.FAILED, utcnow(), "failed"
            busy.error = f"its worker never started (see logs/job-{busy.id}.log in the data directory)"
        elif busy is not None:
            raise JobError(f"Training job {busy.id} is still {kind} work in progress; wait for it to finish")
        row = TrainingJobRow(
            kind=kind,
            status=JobStatus.QUEUED,
            progress=0.0,
            message="queued",
            params=dict(params),
            created_by=created_by,
        )
        session.add(row)
        session.flush()
        return row.id


def _row(session: Session, job_id: int) -> TrainingJobRow:
    row = session.get(TrainingJobRow, job_id)
    if row is None:
        raise JobError(f"No training job {job_id}")
    return row


def start_job(store: sessionmaker[Session], job_id: int) -> dict[str, Any]:
    """Mark a queued job running; returns its parameters.

    Raises:
        JobError: no such job, or it is not queued (a job runs once).
    """
    with store.begin() as session:
        row = _row(session, job_id)
        if row.status is not JobStatus.QUEUED:
            raise JobError(f"Training job {job_id} is {row.status.value}, not queued; queue a new one")
        row.status, row.started_at, row.message = JobStatus.RUNNING, utcnow(), "started"
        return dict(row.params)


def report_progress(store: sessionmaker[Session], job_id: int, progress: float, message: str) -> None:
    """Record how far a running job is (``progress`` clipped to 0..1)."""
    with store.begin() as session:
        row = _row(session, job_id)
        row.progress, row.message = min(max(progress, 0.0), 1.0), message


def finish_job(store: sessionmaker[Session], job_id: int, version: str, message: str) -> None:
    """End a job successfully with the version it registered."""
    with store.begin() as session:
        row = _row(session, job_id)
        row.status, row.progress, row.message = JobStatus.SUCCEEDED, 1.0, message
        row.result_version, row.finished_at = version, utcnow()


def fail_job(store: sessionmaker[Session], job_id: int, error: str) -> None:
    """End a job with the error that stopped it (shown on the Model page)."""
    with store.begin() as session:
        row = _row(session, job_id)
        row.status, row.error, row.finished_at = JobStatus.FAILED, error, utcnow()
        row.message = "failed"


def get_job(session: Session, job_id: int) -> TrainingJobRow:
    """The row of job ``job_id`` (JobError when unknown)."""
    return _row(session, job_id)


def recent_jobs(session: Session, limit: int = 10) -> list[TrainingJobRow]:
    """The newest jobs first."""
    return list(session.scalars(select(TrainingJobRow).order_by(TrainingJobRow.id.desc()).limit(limit)))
