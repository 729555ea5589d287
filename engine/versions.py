"""What changed between two versions of a process: elements added, removed or changed, per diagram.

Alignment is SpiffWorkflow's `SpecDiff` (by element id first, then by position in the flow);
only real BPMN elements are reported, not SpiffWorkflow's own bookkeeping specs (Start, EndJoin).
Forms are compared by their JSON.
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

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass
class VersionDiff:
    processes: list = field(default_factory=list)  # ProcessChanges, one per process that differs
    forms_added: list = field(default_factory=list)
    forms_removed: list = field(default_factory=list)
    forms_changed: list = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.processes or self.forms_added or self.forms_removed or self.forms_changed)


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
    )


def diff_definitions(old, new) -> VersionDiff:
    """Compare two ProcessDefinitions (the main process and every process it calls)."""
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
