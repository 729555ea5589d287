"""instances: the process data as the last step left it, so that the instance list answers with
each instance's data without reading its state (issue 3: list items carry data and tasks)

Revision ID: 0119
Revises: 0118
Create Date: 2026-11-29 04:10:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0119"
down_revision = "0118"
branch_labels = None
depends_on = None


def upgrade():
    # Filled by each step from now on; an instance saved before is read from its state.
    op.add_column("instances", sa.Column("data", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_column("data")
