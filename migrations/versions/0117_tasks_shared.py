"""tasks: `shared`, a task open to more than one group or to candidate users (the inbox finds it
for each of them, not only for its first group)

Revision ID: 0117
Revises: 0116
Create Date: 2026-11-29 04:00:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0117"
down_revision = "0116"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("tasks", sa.Column("shared", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index(op.f("ix_tasks_shared"), "tasks", ["shared"], unique=False)
    # json_array_length is SQLite's and PostgreSQL's both (a JSON column on each).
    op.execute(
        "UPDATE tasks SET shared = TRUE WHERE json_array_length(groups) > 1 OR json_array_length(users) > 0"
    )


def downgrade():
    op.drop_index(op.f("ix_tasks_shared"), table_name="tasks")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("shared")
