"""instances: one index on (initiator, status) for "my running requests" (issue 7: lists at scale)

Revision ID: 0110
Revises: 0107
Create Date: 2026-11-28 10:30:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0110"
down_revision = "0107"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_instances_initiator_status", "instances", ["initiator", "status"], unique=False)


def downgrade():
    op.drop_index("ix_instances_initiator_status", table_name="instances")
