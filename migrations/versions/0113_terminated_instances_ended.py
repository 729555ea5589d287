"""instances: a terminated instance has ended too (ended_at); fill it for those terminated before

Revision ID: 0113
Revises: 0112
Create Date: 2026-11-28 18:20:00

Only completed instances got `ended_at`, so a terminated project never reached the end its
documents' retention counts from (R4.3.5). Rows terminated before this revision take the time of
their last change, which is the termination (nothing changes a terminated instance after it).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0113"
down_revision = "0112"
branch_labels = None
depends_on = None


def upgrade():
    instances = sa.table("instances", sa.column("status"), sa.column("ended_at"), sa.column("updated_at"))
    op.execute(
        instances.update()
        .where(instances.c.status == "terminated", instances.c.ended_at.is_(None))
        .values(ended_at=instances.c.updated_at)
    )


def downgrade():
    pass  # the times stay: they are true of the rows either way
