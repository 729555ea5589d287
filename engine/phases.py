"""The regulation's phases (`pool.PHASES`) of instance rows, read without deserializing a
workflow: an instance is in the latest phase among the steps it waits at (`pool.phase_of`).

`waiting_at` takes few distinct values (the combinations of ready steps the diagrams allow), so
they are read grouped (one aggregate query) and classified here, and a filter by phase becomes
`waiting_at IN (...)`: no per-row pattern matching over the instance table.
"""

from sqlalchemy import case, func, or_, select

from .models import InstanceRecord
from .pool import PHASES

NO_PHASE = "none"  # waiting at no step of any phase (e.g. only for a timer)
PHASE_STEPS = frozenset(step for _, steps in PHASES for step in steps)


def phase_index(waiting_at: str | None) -> int:
    """The index in PHASES of the latest phase among the comma-separated steps, -1 if none."""
    waiting = set(waiting_at.split(",")) if waiting_at else set()
    return max((index for index, (_, steps) in enumerate(PHASES) if steps & waiting), default=-1)


def phase_name(index: int) -> str:
    """The name of PHASES[index], NO_PHASE for -1."""
    return PHASES[index][0] if index >= 0 else NO_PHASE


def phase_clause(session, phase: str):
    """SQL condition: the instance row is in `phase` (a name of PHASES or NO_PHASE). Reads the
    distinct `waiting_at` values (one grouped query)."""
    values = session.scalars(select(InstanceRecord.waiting_at).group_by(InstanceRecord.waiting_at))
    matching = [w for w in values if w is not None and phase_name(phase_index(w)) == phase]
    clause = InstanceRecord.waiting_at.in_(matching)
    return or_(clause, InstanceRecord.waiting_at.is_(None)) if phase == NO_PHASE else clause


def count_by_phase(session, *conditions) -> dict:
    """Instance rows meeting `conditions` per phase name (only phases some row is in)."""
    counts = {}
    rows = session.execute(
        select(InstanceRecord.waiting_at, func.count()).where(*conditions).group_by(InstanceRecord.waiting_at)
    )
    for waiting_at, count in rows:
        name = phase_name(phase_index(waiting_at))
        counts[name] = counts.get(name, 0) + count
    return counts


def phase_index_of(element_column):
    """SQL: the index in PHASES of the phase an element id (e.g. an event's) belongs to, NULL
    for an element of no phase."""
    return case(*((element_column.in_(sorted(steps)), index) for index, (_, steps) in enumerate(PHASES)))
