"""document_versions: a version whose review an administrator terminated is under review no more
(it stayed "in review" for good: it could not be submitted again)

Revision ID: 0120
Revises: 0119
Create Date: 2026-11-29 14:20:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0120"
down_revision = "0119"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        sa.text(
            "UPDATE document_versions SET review_instance_id = NULL "
            "WHERE archived_at IS NULL AND review_instance_id IN "
            "(SELECT id FROM instances WHERE status = 'terminated')"
        )
    )


def downgrade():
    pass  # which versions were released is not kept: they stay free to be submitted again
