"""Curation workflow: decision provenance, undo and adjudication, accounts, assignments, KB synonyms.

``candidates`` gains ``nil_probability`` (the linker's P(NIL) on a mention's rank-0 row).

``decisions`` gains ``kb_version``, ``model_version``, ``suggestions_hidden``,
``undoes_id`` and ``adjudicated``, and its status CHECK gains ``needs_context``. SQLite
cannot alter a CHECK constraint, so the table is rebuilt: renamed aside, created anew,
rows copied, the old copy dropped. Dropping a table drops its triggers, so the
append-only triggers are installed again on the new table.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = ("accepted", "corrected", "nil", "wrong_span", "not_entity", "skipped")
NEW_STATUSES = (*OLD_STATUSES, "needs_context")
ROLES = ("curator", "adjudicator", "admin")
OLD_COLUMNS = (
    "id, mention_id, status, concept_ids, curator, decided_at, note, link_run_id, shown, "
    "corrected_start, corrected_end"
)
APPEND_ONLY_TRIGGERS = {"decisions_no_update": "UPDATE", "decisions_no_delete": "DELETE"}
SET_ASIDE = "_decisions_before_0002"


def _enum(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _drop_triggers() -> None:
    for trigger in APPEND_ONLY_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")


def _create_triggers() -> None:
    for trigger, action in APPEND_ONLY_TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {trigger} BEFORE {action} ON decisions "
            f"BEGIN SELECT RAISE(ABORT, 'decisions are append-only: {action} refused; "
            "record a new decision instead'); END"
        )


def _decisions_table(statuses: Sequence[str], *, curation_columns: bool) -> None:
    columns: list[sa.schema.SchemaItem] = [
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "mention_id",
            sa.Integer(),
            sa.ForeignKey("mentions.id", name=op.f("fk_decisions_mention_id_mentions")),
            nullable=False,
        ),
        sa.Column("status", _enum(statuses, "decision_status"), nullable=False),
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
    ]
    if curation_columns:
        columns += [
            sa.Column("kb_version", sa.String(255), nullable=True),
            sa.Column("model_version", sa.String(255), nullable=True),
            sa.Column("suggestions_hidden", sa.Boolean(), nullable=False, server_default=sa.false()),
            sa.Column(
                "undoes_id",
                sa.Integer(),
                sa.ForeignKey("decisions.id", name=op.f("fk_decisions_undoes_id_decisions")),
                nullable=True,
            ),
            sa.Column("adjudicated", sa.Boolean(), nullable=False, server_default=sa.false()),
        ]
    op.create_table(
        "decisions",
        *columns,
        sa.CheckConstraint(
            "(corrected_start IS NULL AND corrected_end IS NULL) OR "
            "(corrected_start >= 0 AND corrected_start < corrected_end)",
            name=op.f("ck_decisions_corrected_span"),
        ),
    )


def _rebuild_decisions(statuses: Sequence[str], *, curation_columns: bool, copy_where: str = "") -> None:
    """Rebuild ``decisions`` with the given schema, keeping every row (and the row ids)."""
    _drop_triggers()
    op.drop_index(op.f("ix_decisions_mention_id"), table_name="decisions")
    op.rename_table("decisions", SET_ASIDE)
    _decisions_table(statuses, curation_columns=curation_columns)
    op.execute(f"INSERT INTO decisions ({OLD_COLUMNS}) SELECT {OLD_COLUMNS} FROM {SET_ASIDE} {copy_where}")
    op.drop_table(SET_ASIDE)
    op.create_index(op.f("ix_decisions_mention_id"), "decisions", ["mention_id"])
    _create_triggers()


def upgrade() -> None:
    """Rebuild ``decisions`` with the new columns; create users, assignments and kb_synonyms."""
    _rebuild_decisions(NEW_STATUSES, curation_columns=True)
    with op.batch_alter_table("candidates") as batch:
        batch.add_column(sa.Column("nil_probability", sa.Float(), nullable=True))
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("role", _enum(ROLES, "user_role"), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "document_id",
            sa.Integer(),
            sa.ForeignKey("documents.id", name=op.f("fk_assignments_document_id_documents"), ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("curator", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("document_id", "curator", name=op.f("uq_assignments_document_id_curator")),
    )
    op.create_index(op.f("ix_assignments_document_id"), "assignments", ["document_id"])
    op.create_table(
        "kb_synonyms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("alias", sa.Text(), nullable=False),
        sa.Column("alias_norm", sa.Text(), nullable=False),
        sa.Column("concept_id", sa.String(255), nullable=False),
        sa.Column("kb_version", sa.String(255), nullable=False),
        sa.Column("curator", sa.String(255), nullable=False),
        sa.Column(
            "mention_id",
            sa.Integer(),
            sa.ForeignKey("mentions.id", name=op.f("fk_kb_synonyms_mention_id_mentions")),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("alias_norm", "concept_id", name=op.f("uq_kb_synonyms_alias_norm_concept_id")),
    )


def downgrade() -> None:
    """Drop the new tables and columns; NEEDS_CONTEXT decisions cannot be kept and are lost."""
    op.drop_table("kb_synonyms")
    op.drop_index(op.f("ix_assignments_document_id"), table_name="assignments")
    op.drop_table("assignments")
    op.drop_table("users")
    with op.batch_alter_table("candidates") as batch:
        batch.drop_column("nil_probability")
    _rebuild_decisions(OLD_STATUSES, curation_columns=False, copy_where="WHERE status != 'needs_context'")
