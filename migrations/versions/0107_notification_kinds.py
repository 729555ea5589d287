"""notifications: kind, task and a de-duplication key (issue 7: outbox of assigned, due, ended)

Revision ID: 0107
Revises: 0006
Create Date: 2026-11-28 08:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0107"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("task_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("key", sa.String(length=80), nullable=True))
        batch_op.create_index(batch_op.f("ix_notifications_key"), ["key"], unique=True)
        batch_op.create_index(batch_op.f("ix_notifications_sent_at"), ["sent_at"], unique=False)


def downgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_sent_at"))
        batch_op.drop_index(batch_op.f("ix_notifications_key"))
        batch_op.drop_column("key")
        batch_op.drop_column("task_id")
        batch_op.drop_column("kind")
