"""Rebuild an instance from its event log, on its own version or another, and compare.

Every event the engine records carries what is needed to repeat it: the start form's data and the
initiator, each completed task's element, data and actor, each message's payload and sender, each
timer firing's time, each claim. Replay applies them in order on a fresh instance with a clock set
to each event's time. Outcomes (`ended`, `error`) are not inputs; replay reproduces them.

A migration to a version that renamed a step (`versions.ProcessChanges.renamed`: the same step
under a new id) leaves the log naming it by its old id, and a migration by diff leaves the stored
data keyed by it (`data[element_id]`). So replay takes every event logged before a `migrated`
event through that migration's `renamed` map, the maps of several migrations one after the other
in the order they were made (`Renames`), and `compare` takes the stored data's keys through the
same maps. A migration put back by `undone` no longer counts: undo restores the newest snapshot,
and a snapshot is kept by each `migrated` and each `replayed`, so they pair up like a stack. A step
done before a migration that removed it cannot be repeated on a version without it: it is passed
over, and `compare` leaves its data out (`ReplayResult.passed_over`).

Tasks get new ids in a replay. An original task id is matched to the oldest ready replayed task of
the same element that is not matched yet, which is what happens in the original when several
tasks of one element are open (two change reviews).
"""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from .clock import ReplayClock
from .errors import EngineError
from .groups import GROUP_IDS
from .instances import Instance
from .tasks import Actor

INPUTS = {"started", "task_completed", "message_received", "timer_fired", "task_claimed", "task_unclaimed"}
REPAIRS = {"suspended", "resumed", "terminated", "retried", "task_skipped", "data_edited", "rewound"}
OUTCOMES = {"ended", "error"}
ANNOTATIONS = {
    "replayed",
    "undone",
    "migrated",
    "document_destroyed",
    "upload_destroyed",
}  # records about the log, not steps
SNAPSHOTS = {"migrated", "replayed"}  # each kept the state before it, which an `undone` put back


class Renames:
    """The `renamed` maps (old element id -> new) of migrations, oldest first.

    An id is taken through each map in turn, a later migration's after an earlier one's, so that a
    rename followed by a rename back gives the id it started with.
    """

    def __init__(self, maps=()):
        self.maps = tuple(m for m in maps if m)

    def __bool__(self):
        return bool(self.maps)

    def __repr__(self):
        return f"Renames({list(self.maps)!r})"

    def element(self, element_id):
        """The id that `element_id`, as logged before these migrations, has now."""
        for renamed in self.maps:
            element_id = renamed.get(element_id, element_id)
        return element_id

    def keys(self, data: dict) -> dict:
        """A copy of `data` whose keys that are renamed element ids are under their new ids;
        values are not looked into. Where a key moves onto a key that is already there and stays,
        the one already there wins: it can only have been written later, by the step done under
        its new id after the migration (a loop that passed the step again)."""
        for renamed in self.maps:
            moved = {}
            for key, value in data.items():
                new = renamed.get(key, key)
                if new != key and new in data and renamed.get(new, new) == new:
                    continue
                moved[new] = value
            data = moved
        return dict(data)


def _undone(events) -> set:
    """Positions of the `migrated`/`replayed` events whose state a later `undone` put back."""
    kept, undone = [], set()
    for at, event in enumerate(events):
        if event.type in SNAPSHOTS:
            kept.append(at)
        elif event.type == "undone" and kept:
            undone.add(kept.pop())
    return undone


def _translate(event, later: Renames):
    if not later or event.type not in INPUTS | REPAIRS:
        return event
    data = event.data
    if event.type == "data_edited" and data and data.get("changes"):
        # An edit names process variables; those that are a step's data are keyed by its id.
        data = {**data, "changes": later.keys(data["changes"])}
    return replace(event, task=later.element(event.task) if event.task else None, data=data)


def translate_events(events, renamed=None) -> tuple[list, Renames]:
    """The log (EventInfo, oldest first) with element ids as the current version names them.

    `renamed` is one more map, after every logged migration: that of a migration being made.
    Returns (translated events, the Renames that take an id from before every logged migration
    to now). The events given are not changed.
    """
    undone = _undone(events)
    later = Renames([renamed or {}])
    translated = []
    for at in reversed(range(len(events))):
        event = events[at]
        if event.type in SNAPSHOTS and at not in undone:
            later = Renames([(event.data or {}).get("renamed") or {}, *later.maps])
        translated.append(_translate(event, later))
    translated.reverse()
    return translated, later


@dataclass
class Divergence:
    """Where a replay stopped agreeing with the log, and why."""

    seq: int | None
    event: str | None
    reason: str


@dataclass
class ReplayResult:
    instance: Instance | None
    applied: int
    divergence: Divergence | None
    renamed: Renames = field(default_factory=Renames)  # for `compare`: the stored data's keys
    passed_over: frozenset = frozenset()  # steps a migration removed after they were done


def _actor(name, admin=False):
    # The original action was authorized when it happened; replay acts with the same name and
    # every group, so an assignee check (revise_request by its initiator) still holds.
    return Actor(name or "system", GROUP_IDS, is_admin=admin)


class _Replayer:
    def __init__(self, definition, events):
        self.definition = definition
        self.events = events
        self.clock = ReplayClock(_at(events[0]) if events else None)
        self.instance = None
        self.task_ids = {}  # original task id -> replayed task id

    def task_for(self, event):
        if event.task_id in self.task_ids:
            return self.task_ids[event.task_id]
        matched = set(self.task_ids.values())
        candidates = [
            t for t in self.instance.ready_tasks() if t.element_id == event.task and t.id not in matched
        ]
        if not candidates:
            ready = sorted({t.element_id for t in self.instance.ready_tasks()})
            raise _Diverged(f"{event.task} is not ready in the replay (ready: {', '.join(ready) or 'none'})")
        self.task_ids[event.task_id] = candidates[0].id
        return candidates[0].id

    def rebuilt(self, event):
        """A replay that wrote, or a migration by replay, gave the tasks new ids (`task_ids` in
        its event: logged id -> new id); the steps logged after it name them by those. Each is
        the task its logged id was matched to here."""
        for old, new in ((event.data or {}).get("task_ids") or {}).items():
            if old in self.task_ids:
                self.task_ids[new] = self.task_ids[old]

    def message_name(self, element_id):
        spec = self.definition.task_spec(element_id)
        definition = getattr(spec, "event_definition", None)
        if definition is None:
            raise _Diverged(f"the version has no message event {element_id}")
        return definition.name

    def apply(self, event):
        self.clock.now = _at(event)
        kind = event.type
        if kind == "started":
            self.instance, _ = Instance.start(
                self.definition, event.data or {}, _actor(event.actor), self.clock
            )
        elif kind == "task_completed":
            self.instance.complete_task(self.task_for(event), event.data or {}, _actor(event.actor))
        elif kind == "message_received":
            self.instance.send_message(self.message_name(event.task), event.data or {}, _actor(event.actor))
        elif kind == "timer_fired":
            self.instance.fire_timers()
        elif kind == "task_claimed":
            self.instance.claim(self.task_for(event), _actor(event.actor))
        elif kind == "task_unclaimed":
            # An admin may give back someone else's claim; the log names who did it, not why
            # they were allowed to, so replay may do what the original was allowed to do.
            self.instance.unclaim(self.task_for(event), _actor(event.actor, admin=True))
        else:
            self.repair(event)

    def repair(self, event):
        admin = Actor(event.actor or "system", GROUP_IDS, is_admin=True)
        data = event.data or {}
        reason = data.get("reason", "")
        kind = event.type
        if kind == "suspended":
            self.instance.suspend(admin, reason)
        elif kind == "resumed":
            self.instance.resume(admin, reason)
        elif kind == "terminated":
            self.instance.terminate(admin, reason)
        elif kind == "retried":
            # A retry of the worker's incident, which was on the row alone, changed no state.
            if self.instance.status == "error":
                self.instance.retry(admin, reason)
        elif kind == "task_skipped":
            self.instance.skip(self.task_for(event), admin, reason, data.get("data"))
        elif kind == "data_edited":
            changes = {key: value["new"] for key, value in data.get("changes", {}).items()}
            self.instance.edit_data(admin, changes, reason)
        elif kind == "rewound":
            if event.task_id not in self.task_ids:
                raise _Diverged(f"the step {event.task} to rewind to was not replayed")
            self.instance.rewind(self.task_ids[event.task_id], admin, reason)


class _Diverged(Exception):
    pass


def _at(event):
    """When the event happened, zone-aware: SQLite hands stored times back without their zone
    (UTC), and a replay clock without one cannot be compared with a timer's due time."""
    at = datetime.fromisoformat(event.at) if isinstance(event.at, str) else event.at
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


STEP_INPUTS = {"task_completed", "task_claimed", "task_unclaimed", "task_skipped"}


def _removed_by_migrations(definition, events) -> tuple[list, frozenset]:
    """The log without the steps on elements `definition` does not have that were done before a
    (kept) migration: that migration removed a finished step, which stays in the log and its
    submission in the data, but no replay on a version without it can repeat it. Returns (the
    events, the element ids passed over)."""
    undone = _undone(events)
    last = max((at for at, e in enumerate(events) if e.type == "migrated" and at not in undone), default=-1)
    passed_over = {
        e.task
        for e in events[:last]
        if e.type in STEP_INPUTS and e.task and definition.task_spec(e.task) is None
    }
    if not passed_over:
        return events, frozenset()
    kept = [
        e
        for at, e in enumerate(events)
        if not (at < last and e.type in STEP_INPUTS and e.task in passed_over)
    ]
    return kept, frozenset(passed_over)


def replay(definition, events, renamed=None) -> ReplayResult:
    """Apply an instance's logged events (EventInfo, oldest first) to a fresh instance.

    Element ids logged before a migration are taken through the renames of the migrations after
    them; `renamed` (old id -> new id) is applied to every event after those, for a migration
    being made to `definition`. Returns ReplayResult; `divergence` names the first event that
    could not be repeated, `renamed` is what `compare` needs.
    """
    events, renames = translate_events(events, renamed)
    events, passed_over = _removed_by_migrations(definition, events)
    events = _inputs_and_rebuilds(events)
    if not events or events[0].type != "started":
        divergence = Divergence(None, None, "the log does not begin with the start")
        return ReplayResult(None, 0, divergence, renames, passed_over)
    replayer = _Replayer(definition, events)
    applied = 0
    for event in events:
        if event.type in SNAPSHOTS:
            replayer.rebuilt(event)
            continue
        if event.type not in INPUTS | REPAIRS:
            divergence = Divergence(event.seq, event.type, "unknown event type")
            return ReplayResult(replayer.instance, applied, divergence, renames, passed_over)
        try:
            replayer.apply(event)
        except (_Diverged, EngineError) as error:
            divergence = Divergence(event.seq, event.type, str(error))
            return ReplayResult(replayer.instance, applied, divergence, renames, passed_over)
        applied += 1
    replayer.instance.alias_tasks(replayer.task_ids)  # the log's task ids, for a later rewind
    return ReplayResult(replayer.instance, applied, None, renames, passed_over)


def _inputs_and_rebuilds(events) -> list:
    """The steps to repeat, and the replays and migrations (not undone) that gave the tasks new
    ids (`_Replayer.rebuilt`); outcomes and other records about the log left out."""
    undone = _undone(events)
    return [
        e
        for at, e in enumerate(events)
        if e.type not in OUTCOMES | ANNOTATIONS
        or (e.type in SNAPSHOTS and at not in undone and (e.data or {}).get("task_ids"))
    ]


def replay_through_migrations(events, version_definition, migrate) -> ReplayResult | None:
    """Replay a log whose migrations were all made by diff as they happened: the events before
    each `migrated` on the version they were made on (`version_definition(number)`), the instance
    then moved as the migration moved it (`migrate(instance, definition, number)`), and the rest
    on the version it went to. A replay of the whole log on the last version alone cannot repeat
    what a version added before the point an instance was moved at (a step the old version did
    not have). A migration or replay that an `undone` took back does not count. Returns None when
    no migration counts, or one was made by replay, or a replay (written) rebuilt the instance on
    another version than it was on: `replay` is the way then."""
    undone = _undone(events)
    events = [e for at, e in enumerate(events) if at not in undone and e.type != "undone"]
    moves = [e for e in events if e.type == "migrated"]
    if not moves or any((e.data or {}).get("method") != "diff" for e in moves):
        return None
    on = moves[0].data.get("from")
    for event in events:
        if event.type == "migrated":
            on = event.data.get("to")
        elif event.type == "replayed" and (event.data or {}).get("version") != on:
            return None  # rebuilt from the whole log on that version: as `replay` does
    events = [
        e
        for e in events
        if e.type not in OUTCOMES | (ANNOTATIONS - {"migrated", "replayed"})
        and (e.type != "replayed" or (e.data or {}).get("task_ids"))
    ]
    if not events or events[0].type != "started":
        return ReplayResult(None, 0, Divergence(None, None, "the log does not begin with the start"))
    replayer = _Replayer(version_definition(moves[0].data["from"]), events)
    applied = 0  # the steps repeated (a migration is none)
    for event in events:
        try:
            if event.type == "replayed":
                replayer.rebuilt(event)
                continue
            if event.type == "migrated":
                replayer.clock.now = _at(event)
                replayer.definition = version_definition(event.data["to"])
                replayer.instance = migrate(replayer.instance, replayer.definition, event.data["to"])
                continue
            if event.type not in INPUTS | REPAIRS:
                return ReplayResult(
                    replayer.instance, applied, Divergence(event.seq, event.type, "unknown event type")
                )
            replayer.apply(event)
        except (_Diverged, EngineError) as error:
            return ReplayResult(replayer.instance, applied, Divergence(event.seq, event.type, str(error)))
        applied += 1
    replayer.instance.alias_tasks(replayer.task_ids)
    return ReplayResult(replayer.instance, applied, None)


def compare(
    stored: Instance, replayed: Instance, renamed: Renames | None = None, passed_over=frozenset()
) -> str | None:
    """None when the two instances agree on status, waiting tasks and data; else what differs.

    `renamed` (ReplayResult.renamed) takes the stored data's keys that are element ids from
    before a migration to the ids a replay stores them under; nothing else is translated. The
    data of steps `passed_over` (ReplayResult.passed_over) is not compared.
    """
    if stored.status != replayed.status:
        return f"status {stored.status} in the stored state, {replayed.status} in the replay"
    waiting = sorted(t.element_id for t in stored.ready_tasks())
    again = sorted(t.element_id for t in replayed.ready_tasks())
    if waiting != again:
        return f"waiting at {waiting} in the stored state, {again} in the replay"
    data, data_again = (renamed.keys(stored.data) if renamed else stored.data), replayed.data
    for key in sorted((set(data) | set(data_again)) - passed_over):
        if data.get(key) != data_again.get(key):
            return f"data {key!r} differs"
    return None
