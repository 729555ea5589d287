"""uploads: destroyed when their category's retention is up (R4.3.5), as document versions are

Revision ID: 0118
Revises: 0117
Create Date: 2026-11-29 04:05:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0118"
down_revision = "0117"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("uploads", sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("uploads", sa.Column("destroyed_by", sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_column("destroyed_by")
        batch_op.drop_column("destroyed_at")
