"""The regulation's phases (`pool.PHASES`) as SQL expressions, so that counting or listing
instances by phase reads the rows alone: no workflow is deserialized and no row leaves the
database to be classified in Python.

An instance row is in the latest phase among the steps it waits at (`pool.phase_of`); an event
belongs to the phase of its element.
"""

from sqlalchemy import case, func, or_

from .models import InstanceRecord
from .pool import PHASES

NO_PHASE = "none"  # running, but waiting at no step of any phase (e.g. only for a timer)
PHASE_STEPS = frozenset(step for _, steps in PHASES for step in steps)


def _waits_at_any(steps):
    # waiting_at holds comma-separated element ids; match whole ids only, and `_` literally.
    padded = "," + func.coalesce(InstanceRecord.waiting_at, "") + ","
    return or_(*(padded.contains(f",{step},", autoescape=True) for step in sorted(steps)))


def current_phase():
    """SQL: the name of the phase an instance row is in by `waiting_at`, NO_PHASE when it waits
    at no step of any phase (status is not looked at: callers filter on it)."""
    return case(*((_waits_at_any(steps), name) for name, steps in reversed(PHASES)), else_=NO_PHASE)


def current_phase_index():
    """SQL: the index in PHASES of the phase an instance row is in by `waiting_at`, -1 when none."""
    indexed = reversed(list(enumerate(PHASES)))
    return case(*((_waits_at_any(steps), index) for index, (_, steps) in indexed), else_=-1)


def phase_index_of(element_column):
    """SQL: the index in PHASES of the phase an element id (e.g. an event's) belongs to, NULL
    for an element of no phase."""
    return case(*((element_column.in_(sorted(steps)), index) for index, (_, steps) in enumerate(PHASES)))
