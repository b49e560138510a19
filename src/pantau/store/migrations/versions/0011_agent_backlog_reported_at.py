"""agent.backlog_reported_at: when the agent measured the backlog the hub shows

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 15:05:00

A request held up by a cut link can reach the hub after later ones (TCP delivers it when the
link comes back, long after the agent gave up on it). Its backlog is then stale; the hub keeps
a backlog report only if the agent measured it no earlier than the one it holds.
"""

import sqlalchemy as sa
from alembic import op

import pantau.store.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("backlog_reported_at", pantau.store.types.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.drop_column("backlog_reported_at")
