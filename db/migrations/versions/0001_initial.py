"""Initial schema: documents, mentions, link runs, candidates, append-only decisions.

Revision ID: 0001
Revises:
Create Date: 2025-01-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.migrations.append_only import create_guards, drop_guards, drop_pg_function

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MENTION_ORIGINS = ("detected", "manual", "imported")
DECISION_STATUSES = ("accepted", "corrected", "nil", "wrong_span", "not_entity", "skipped")

# A verdict, once written, is history: the database refuses to change or remove it.
APPEND_ONLY_GUARDS = ("decisions_no_update", "decisions_no_delete", "decisions_no_truncate")


def _enum(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    """Create the tables and the append-only triggers."""
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("doc_id", sa.String(255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("title_end", sa.Integer(), nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("doc_id", name=op.f("uq_documents_doc_id")),
    )
    op.create_table(
        "mentions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "document_id",
            sa.Integer(),
            sa.ForeignKey("documents.id", name=op.f("fk_mentions_document_id_documents"), ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("label", sa.String(255), nullable=True),
        sa.Column("origin", _enum(MENTION_ORIGINS, "mention_origin"), nullable=False),
        sa.Column("annotated_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("document_id", "start", "end", name=op.f("uq_mentions_document_id_start_end")),
        sa.CheckConstraint('start >= 0 AND start < "end"', name=op.f("ck_mentions_span")),
    )
    op.create_index(op.f("ix_mentions_document_id"), "mentions", ["document_id"])
    op.create_table(
        "link_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "document_id",
            sa.Integer(),
            sa.ForeignKey("documents.id", name=op.f("fk_link_runs_document_id_documents"), ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("model_version", sa.String(255), nullable=False),
        sa.Column("kb_version", sa.String(255), nullable=False),
        sa.Column("config_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index(op.f("ix_link_runs_document_id"), "link_runs", ["document_id"])
    op.create_table(
        "candidates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "link_run_id",
            sa.Integer(),
            sa.ForeignKey("link_runs.id", name=op.f("fk_candidates_link_run_id_link_runs"), ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "mention_id",
            sa.Integer(),
            sa.ForeignKey("mentions.id", name=op.f("fk_candidates_mention_id_mentions"), ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("concept_id", sa.String(255), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("matched_alias", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("raw_score", sa.Float(), nullable=False),
        sa.Column("calibrated_score", sa.Float(), nullable=True),
        sa.Column("stage_scores", sa.JSON(), nullable=False),
        sa.UniqueConstraint(
            "link_run_id", "mention_id", "rank", name=op.f("uq_candidates_link_run_id_mention_id_rank")
        ),
        sa.CheckConstraint("rank >= 0", name=op.f("ck_candidates_rank")),
    )
    op.create_index(op.f("ix_candidates_mention_id"), "candidates", ["mention_id"])
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "mention_id",
            sa.Integer(),
            sa.ForeignKey("mentions.id", name=op.f("fk_decisions_mention_id_mentions")),
            nullable=False,
        ),
        sa.Column("status", _enum(DECISION_STATUSES, "decision_status"), nullable=False),
        sa.Column("concept_ids", sa.JSON(), nullable=False),
        sa.Column("curator", sa.String(255), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "link_run_id",
            sa.Integer(),
            sa.ForeignKey("link_runs.id", name=op.f("fk_decisions_link_run_id_link_runs")),
            nullable=True,
        ),
        sa.Column("shown", sa.JSON(), nullable=False),
        sa.Column("corrected_start", sa.Integer(), nullable=True),
        sa.Column("corrected_end", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(corrected_start IS NULL AND corrected_end IS NULL) OR "
            "(corrected_start >= 0 AND corrected_start < corrected_end)",
            name=op.f("ck_decisions_corrected_span"),
        ),
    )
    op.create_index(op.f("ix_decisions_mention_id"), "decisions", ["mention_id"])
    create_guards(APPEND_ONLY_GUARDS)


def downgrade() -> None:
    """Drop everything ``upgrade`` created (this erases all curation data)."""
    drop_guards(APPEND_ONLY_GUARDS)
    for table in ("decisions", "candidates", "link_runs", "mentions", "documents"):
        op.drop_table(table)
    drop_pg_function()
