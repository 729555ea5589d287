"""notifications: found by task (a task no longer ready is told from one that never was)

Revision ID: 0114
Revises: 0113
Create Date: 2026-11-28 18:50:00
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0114"
down_revision = "0113"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_task_id"), ["task_id"], unique=False)


def downgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_task_id"))
