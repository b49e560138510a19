"""site.history_simulated_until: the end of a site's simulated (demo) history

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 10:45:00

`pantau demo` fills the past with data generated from the simulator's ground truth; every
observation, health sample, incident and verdict of a site before this instant (UTC) came
from there, not from a camera. NULL: the site has no simulated data.
"""

import sqlalchemy as sa
from alembic import op

import pantau.store.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("history_simulated_until", pantau.store.types.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_column("history_simulated_until")
