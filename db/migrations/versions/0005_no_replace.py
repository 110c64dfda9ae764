"""Refuse REPLACE on ``decisions`` (SQLite).

``INSERT OR REPLACE`` and ``REPLACE`` resolve a primary-key collision by deleting the stored
row, and SQLite fires no DELETE trigger for that unless ``recursive_triggers`` is on: a
stored verdict was silently overwritten. A ``BEFORE INSERT`` guard now refuses an insert
whose id is taken (``db.migrations.append_only``). PostgreSQL has no REPLACE and its guards
(revision 0001) already cover upserts, so there this revision changes nothing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from db.migrations.append_only import create_guards, drop_guards

revision: str = "0005"
# Also merges the two branches that leave 0007 (0004 login audit, 0008 review), so there is one head.
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUARDS = ("decisions_no_replace",)


def upgrade() -> None:
    """Install the REPLACE guard."""
    create_guards(GUARDS)


def downgrade() -> None:
    """Remove the REPLACE guard."""
    drop_guards(GUARDS)
