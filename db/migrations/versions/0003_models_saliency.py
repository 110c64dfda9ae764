"""Model registry, background training jobs and the saliency cache.

``model_versions`` is the registry: one row per trained model version with the data it
was trained on, its config, its metrics and its parent (lineage); ``status`` says whether
it is a candidate, the promoted one, or retired (rolled back). ``link_runs.model_version``
holds the same version string, so a run names the version that produced it.

``training_jobs`` records background retraining: progress and messages written by the
worker, so the page that started it can stay usable and poll.

``link_runs`` gains ``linker``: which family produced the run ("retriever" for the
retrieve-rerank pipeline, "generator" for the generative linker), so the Review page can
show both models' latest candidates side by side and the queue can find disagreements.

``saliency_cache`` keeps token attributions keyed by what they explain (model version,
linker kind, a hash of the input pair and the attribution settings), so a curator who
opens the same explanation twice waits once.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MODEL_STATUSES = ("candidate", "promoted", "retired")
JOB_STATUSES = ("queued", "running", "succeeded", "failed")


def _enum(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    """Add ``link_runs.linker``; create ``model_versions``, ``training_jobs`` and ``saliency_cache``."""
    with op.batch_alter_table("link_runs") as batch:
        batch.add_column(sa.Column("linker", sa.String(32), nullable=False, server_default="retriever"))
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("parent_version", sa.String(255), nullable=True),
        sa.Column("status", _enum(MODEL_STATUSES, "model_status"), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("promoted_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("version", name=op.f("uq_model_versions_version")),
    )
    op.create_table(
        "training_jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", _enum(JOB_STATUSES, "job_status"), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("result_version", sa.String(255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "saliency_cache",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("model_version", sa.String(255), nullable=False),
        sa.Column("linker", sa.String(32), nullable=False),
        sa.Column("input_sha256", sa.String(64), nullable=False),
        sa.Column("concept_id", sa.String(255), nullable=False),
        sa.Column("settings", sa.String(255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint(
            "model_version",
            "linker",
            "input_sha256",
            "concept_id",
            "settings",
            name=op.f("uq_saliency_cache_model_version_linker_input_sha256_concept_id_settings"),
        ),
    )


def downgrade() -> None:
    """Drop the three tables and ``link_runs.linker``."""
    op.drop_table("saliency_cache")
    op.drop_table("training_jobs")
    op.drop_table("model_versions")
    with op.batch_alter_table("link_runs") as batch:
        batch.drop_column("linker")
