"""instances: the regulation's phase each step leaves the instance in (dashboard and filters)

Revision ID: 0111
Revises: 0110
Create Date: 2026-11-28 11:30:00

Filled for existing rows from the steps they wait at, else from the last step of a phase they
completed (an instance waiting only for a timer stays in the phase it was in), by the phase table
of engine/phases.py as it stands when the revision runs.
"""

import sqlalchemy as sa
from alembic import op

from engine.phases import PHASE_STEPS, phase_index, phase_name

# revision identifiers, used by Alembic.
revision = "0111"
down_revision = "0110"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phase", sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f("ix_instances_phase"), ["phase"], unique=False)
    bind = op.get_bind()
    instances = sa.table("instances", sa.column("id"), sa.column("waiting_at"), sa.column("phase"))
    events = sa.table(
        "events", sa.column("seq"), sa.column("instance_id"), sa.column("type"), sa.column("element_id")
    )
    phases = {}
    for instance_id, element_id in bind.execute(
        sa.select(events.c.instance_id, events.c.element_id)
        .where(events.c.type == "task_completed", events.c.element_id.in_(sorted(PHASE_STEPS)))
        .order_by(events.c.instance_id, events.c.seq)
    ):
        phases[instance_id] = phase_name(phase_index(element_id))  # the last one wins
    by_phase = {}
    for instance_id, waiting_at in bind.execute(sa.select(instances.c.id, instances.c.waiting_at)).all():
        index = phase_index(waiting_at)
        phase = phase_name(index) if index >= 0 else phases.get(instance_id)
        if phase is not None:
            by_phase.setdefault(phase, []).append(instance_id)
    for phase, ids in by_phase.items():
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            bind.execute(instances.update().where(instances.c.id.in_(chunk)).values(phase=phase))


def downgrade():
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instances_phase"))
        batch_op.drop_column("phase")
