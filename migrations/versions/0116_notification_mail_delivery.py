"""notifications: e-mail delivery kept apart from the claim (claimed_at, attempts, mail_error)

A claim no longer marks a notification sent: `sent_at` is set once the SMTP server accepted it, a
claim older than the lease is claimed again (a worker killed between claim and send), failed
attempts are counted, and a notification that can never be delivered says why (`mail_error`).

Revision ID: 0116
Revises: 0115
Create Date: 2026-11-28 22:10:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0116"
down_revision = "0115"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("mail_error", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("mail_error")
        batch_op.drop_column("attempts")
        batch_op.drop_column("claimed_at")
