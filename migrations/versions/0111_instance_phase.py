"""instances: the regulation's phase each step leaves the instance in (dashboard and filters)

Revision ID: 0111
Revises: 0110
Create Date: 2026-11-28 11:30:00

Filled for existing rows from the steps they wait at, else from the last step of a phase they
completed (an instance waiting only for a timer stays in the phase it was in), by the phase table
of engine/pool.py as it stands when the revision runs, in one UPDATE (offline too).
"""

import sqlalchemy as sa
from alembic import op

from engine.phases import PHASE_STEPS
from engine.pool import PHASES

# revision identifiers, used by Alembic.
revision = "0111"
down_revision = "0110"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phase", sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f("ix_instances_phase"), ["phase"], unique=False)
    # One UPDATE the database evaluates (so `upgrade --sql` writes it too): the latest phase among
    # the steps a row waits at, else the phase of the last phase step it completed.
    instances = sa.table("instances", sa.column("id"), sa.column("waiting_at"), sa.column("phase"))
    events = sa.table(
        "events", sa.column("seq"), sa.column("instance_id"), sa.column("type"), sa.column("element_id")
    )
    waiting = sa.literal(",") + instances.c.waiting_at + sa.literal(",")
    waits_in = [
        (sa.or_(*(waiting.contains(f",{step},", autoescape=True) for step in sorted(steps))), name)
        for name, steps in reversed(PHASES)  # the latest phase first
    ]
    last_completed = (
        sa.select(sa.case(*((events.c.element_id.in_(sorted(steps)), name) for name, steps in PHASES)))
        .where(
            events.c.instance_id == instances.c.id,
            events.c.type == "task_completed",
            events.c.element_id.in_(sorted(PHASE_STEPS)),
        )
        .order_by(events.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    op.execute(instances.update().values(phase=sa.func.coalesce(sa.case(*waits_in), last_completed)))


def downgrade():
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instances_phase"))
        batch_op.drop_column("phase")
