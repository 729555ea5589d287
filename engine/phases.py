"""The regulation's phases (`pool.PHASES`) of instance rows, read without deserializing a
workflow: an instance is in the latest phase among the steps it waits at, and while it waits at
no step of any phase (for a timer, such as the monthly inspection, or only for a side task such
as the cost overrun review) it stays in the phase it was in. Each step writes it to the row
(`InstanceRecord.phase`, NULL for none yet), so counting and filtering by phase is plain SQL.
"""

from sqlalchemy import Integer, case, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from .models import InstanceRecord
from .pool import PHASES

NO_PHASE = "none"  # not yet at any step of a phase (or a process that has no phases)
PHASE_STEPS = frozenset(step for _, steps in PHASES for step in steps)


def phase_index(waiting_at: str | None) -> int:
    """The index in PHASES of the latest phase among the comma-separated steps, -1 if none."""
    waiting = set(waiting_at.split(",")) if waiting_at else set()
    return max((index for index, (_, steps) in enumerate(PHASES) if steps & waiting), default=-1)


def phase_name(index: int) -> str:
    """The name of PHASES[index], NO_PHASE for -1."""
    return PHASES[index][0] if index >= 0 else NO_PHASE


PHASE_INDEX = {name: index for index, (name, _) in enumerate(PHASES)}


def phase_after_step(waiting_at: str | None, previous: str | None) -> str | None:
    """The phase of an instance that now waits at `waiting_at` and was in `previous`."""
    index = phase_index(waiting_at)
    return phase_name(index) if index >= 0 else previous


def waits_at_clause(element_id: str):
    """SQL condition: the instance row waits at `element_id` (a whole id of its comma-separated
    `waiting_at`: `implement` is not `implementation_plan`; `_` and `%` are no wildcards; the
    case counts, as in the diagram: `Preliminary_Review` is another id)."""
    padded = literal(",") + InstanceRecord.waiting_at + literal(",")
    return _position(padded, literal(f",{element_id},")) > 0


class _position(FunctionElement):
    """Where the second text starts in the first (from 1; 0 when it is not in it), byte for
    byte on every database. Not LIKE: SQLite's LIKE ignores the case of ASCII letters, so a
    filter by `PRELIMINARY_REVIEW` found instances at `preliminary_review` there and not on
    PostgreSQL."""

    type = Integer()
    inherit_cache = True


@compiles(_position)
def _strpos(element, compiler, **kw):  # PostgreSQL
    return f"strpos({compiler.process(element.clauses, **kw)})"


@compiles(_position, "sqlite")
def _instr(element, compiler, **kw):
    return f"instr({compiler.process(element.clauses, **kw)})"


def phase_clause(phase: str):
    """SQL condition: the instance row is in `phase` (a name of PHASES or NO_PHASE)."""
    return InstanceRecord.phase.is_(None) if phase == NO_PHASE else InstanceRecord.phase == phase


def count_by_phase(session, *conditions) -> dict:
    """Instance rows meeting `conditions` per phase name (only phases some row is in)."""
    rows = session.execute(
        select(InstanceRecord.phase, func.count()).where(*conditions).group_by(InstanceRecord.phase)
    )
    return {phase or NO_PHASE: count for phase, count in rows}


def phase_index_of(element_column):
    """SQL: the index in PHASES of the phase an element id (e.g. an event's) belongs to, NULL
    for an element of no phase."""
    return case(*((element_column.in_(sorted(steps)), index) for index, (_, steps) in enumerate(PHASES)))
