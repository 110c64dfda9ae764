"""Imported gold keeps its ids as written; documents are found by their text.

``decisions.given_ids`` holds the concept ids exactly as an imported file wrote them
(alternate ids, ids the loaded KB lacks), while ``concept_ids`` holds the primary ids the
KB resolves them to, for linking and evaluation. NULL for every decision a curator made:
their ids are ``concept_ids``. Exports write ``given_ids`` unless normalized ids are asked for.

``documents.text_sha256`` gets an index: an import looks up the same text stored under
another id (a duplicate paste or upload) before it stores a document.

The column is added in place (no table copy) so the append-only triggers on
``decisions`` stay as they are.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``decisions.given_ids`` and the index on ``documents.text_sha256``."""
    op.add_column("decisions", sa.Column("given_ids", sa.JSON(), nullable=True))
    op.create_index("ix_documents_text_sha256", "documents", ["text_sha256"])


def downgrade() -> None:
    """Drop the index and the column."""
    op.drop_index("ix_documents_text_sha256", table_name="documents")
    op.drop_column("decisions", "given_ids")  # in place too (SQLite >= 3.35): the triggers stay
