"""Curation workflow: decision provenance, undo and adjudication, accounts, assignments, KB synonyms.

``candidates`` gains ``nil_probability`` (the linker's P(NIL) on a mention's rank-0 row).

``decisions`` gains ``kb_version``, ``model_version``, ``suggestions_hidden``,
``undoes_id`` and ``adjudicated``, and its status CHECK gains ``needs_context``. SQLite
cannot alter a CHECK constraint, so the table is rebuilt: renamed aside, created anew,
rows copied, the old copy dropped. Dropping a table drops its triggers, so the
append-only triggers are installed again on the new table. PostgreSQL alters the table
in place instead.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.migrations.append_only import create_guards, dialect, drop_guards

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
APPEND_ONLY_GUARDS = ("decisions_no_update", "decisions_no_delete", "decisions_no_truncate")
SET_ASIDE = "_decisions_before_0002"


def _enum(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _curation_columns() -> list[sa.Column[object]]:
    return [
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
        columns += _curation_columns()
    op.create_table(
        "decisions",
        *columns,
        sa.CheckConstraint(
            "(corrected_start IS NULL AND corrected_end IS NULL) OR "
            "(corrected_start >= 0 AND corrected_start < corrected_end)",
            name=op.f("ck_decisions_corrected_span"),
        ),
    )


def _rebuild_decisions(statuses: Sequence[str], *, curation_columns: bool, keep: str = "") -> None:
    """Rebuild ``decisions`` with the given schema, keeping every row (and the row ids)."""
    if dialect() == "postgresql":
        _alter_decisions(statuses, curation_columns=curation_columns, keep=keep)
        return
    drop_guards(APPEND_ONLY_GUARDS)
    op.drop_index(op.f("ix_decisions_mention_id"), table_name="decisions")
    op.rename_table("decisions", SET_ASIDE)
    _decisions_table(statuses, curation_columns=curation_columns)
    where = f" WHERE {keep}" if keep else ""
    op.execute(f"INSERT INTO decisions ({OLD_COLUMNS}) SELECT {OLD_COLUMNS} FROM {SET_ASIDE}{where}")
    op.drop_table(SET_ASIDE)
    op.create_index(op.f("ix_decisions_mention_id"), "decisions", ["mention_id"])
    create_guards(APPEND_ONLY_GUARDS)


def _alter_decisions(statuses: Sequence[str], *, curation_columns: bool, keep: str) -> None:
    """Alter ``decisions`` in place (PostgreSQL): a rebuild would reuse the old table's index and sequence names."""
    if keep:
        # The rows the narrower schema cannot hold; the guards refuse this DELETE, so lift them.
        drop_guards(APPEND_ONLY_GUARDS)
        op.execute(f"DELETE FROM decisions WHERE NOT ({keep})")
        create_guards(APPEND_ONLY_GUARDS)
    allowed = ", ".join(f"'{s}'" for s in statuses)
    # Plain SQL: the exact name, with no naming convention applied to it a second time.
    op.execute("ALTER TABLE decisions DROP CONSTRAINT ck_decisions_decision_status")
    op.execute(f"ALTER TABLE decisions ADD CONSTRAINT ck_decisions_decision_status CHECK (status IN ({allowed}))")
    if curation_columns:
        for column in _curation_columns():
            op.add_column("decisions", column)
    else:
        for column in reversed(_curation_columns()):
            op.drop_column("decisions", column.name)


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
    _rebuild_decisions(OLD_STATUSES, curation_columns=False, keep="status != 'needs_context'")
