"""What changed between two versions of a process: elements added, removed, changed or renamed,
per diagram.

Alignment is SpiffWorkflow's `SpecDiff` (by element id first, then by position in the flow);
only real BPMN elements are reported, not SpiffWorkflow's own bookkeeping specs (Start, EndJoin).
An element aligned by position with an element of another id is *renamed*: the same step under a
new id. Migration and replay need that map, because the event log and the stored data name a
step by the id it had when it was done (`engine.replay`). Forms are compared by their JSON.
"""

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.util.diff import SpecDiff

from .serialization import registry


@dataclass
class ProcessChanges:
    process_id: str
    added: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    changed: dict = field(default_factory=dict)  # element id -> names of changed attributes
    renamed: dict = field(default_factory=dict)  # old element id -> new element id (same step)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.renamed)


@dataclass
class VersionDiff:
    processes: list = field(default_factory=list)  # ProcessChanges, one per process that differs
    forms_added: list = field(default_factory=list)
    forms_removed: list = field(default_factory=list)
    forms_changed: list = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.processes or self.forms_added or self.forms_removed or self.forms_changed)

    @property
    def renamed(self) -> dict:
        """Old element id -> new element id, over every process. The engine finds a step by its
        id alone (`ProcessDefinition.task_spec`), so ids are taken as unique across a version's
        diagrams and the per-process maps do not clash."""
        return {old: new for changes in self.processes for old, new in changes.renamed.items()}


def _real(spec) -> bool:
    return getattr(spec, "bpmn_id", None) is not None


def _compare(process_id, old_spec, new_spec) -> ProcessChanges:
    if old_spec is None:
        return ProcessChanges(
            process_id, added=sorted(s.name for s in new_spec.task_specs.values() if _real(s))
        )
    if new_spec is None:
        return ProcessChanges(
            process_id, removed=sorted(s.name for s in old_spec.task_specs.values() if _real(s))
        )
    diff = SpecDiff(registry(), old_spec, new_spec)
    return ProcessChanges(
        process_id,
        added=sorted(s.name for s in diff.added if _real(s)),
        removed=sorted(s.name for s in diff.removed if _real(s)),
        changed={s.name: sorted(changes) for s, changes in diff.changed.items() if _real(s)},
        renamed={
            old.name: new.name
            for old, new in sorted(diff.alignment.items(), key=lambda pair: pair[0].name)
            if new is not None and old.name != new.name and _real(old) and _real(new)
        },
    )


def diff_definitions(old, new) -> VersionDiff:
    """Compare two ProcessDefinitions (the main process and every process it calls).

    Returns VersionDiff (empty when they are the same); raises nothing of its own.
    """
    result = VersionDiff()
    old_specs, new_specs = dict(old.all_specs()), dict(new.all_specs())
    for process_id in sorted(set(old_specs) | set(new_specs)):
        changes = _compare(process_id, old_specs.get(process_id), new_specs.get(process_id))
        if not changes.empty:
            result.processes.append(changes)
    old_forms, new_forms = old.forms, new.forms
    result.forms_added = sorted(set(new_forms) - set(old_forms))
    result.forms_removed = sorted(set(old_forms) - set(new_forms))
    result.forms_changed = sorted(
        f for f in set(old_forms) & set(new_forms) if old_forms[f].schema != new_forms[f].schema
    )
    return result
