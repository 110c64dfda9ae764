"""Login audit log: every login attempt with its outcome, also counted for throttling.

``login_attempts`` holds who tried (the name as typed), from which client address, when,
and what came of it (logged in, wrong password, refused while waiting or locked). Admins
read it on the Team page; ``usecases.auth.log_in`` counts recent failures per account and
per client from it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
# Reserved number 0004 chained after the newest file in the tree (0008) so the history has one head.
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``login_attempts`` with indexes on time, name and client."""
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_name", sa.String(255), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
    )
    for column in ("at", "user_name", "client"):
        op.create_index(op.f(f"ix_login_attempts_{column}"), "login_attempts", [column])


def downgrade() -> None:
    """Drop ``login_attempts``."""
    op.drop_table("login_attempts")
