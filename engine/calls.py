"""Deploy checks of call activities: every called process is in the bundle, and no process
calls itself again, directly or through others (SpiffWorkflow would count subprocess depth
without end, and the worker starting it would hang)."""

from .errors import Problem
from .validation import BPMN


def check_calls(trees) -> list:
    """Problems of call activities whose called process is not in the bundle, or that call
    their own process again, directly or through others (every start would never end)."""
    process_ids = {p.get("id") for tree in trees.values() for p in tree.iter(f"{BPMN}process")}
    problems = []
    for name, tree in sorted(trees.items()):
        if tree.tag.startswith(BPMN):
            problems.extend(_check_calls(name, tree, process_ids))
    problems.extend(_check_call_cycles(trees))
    return problems


def _check_call_cycles(trees):
    calls = {}  # process id -> [(called process id, file, call element)]
    for name, tree in sorted(trees.items()):
        for process in tree.iter(f"{BPMN}process"):
            calls[process.get("id")] = [
                ((call.get("calledElement") or "").strip(), name, call)
                for call in process.iter(f"{BPMN}callActivity")
            ]

    def path_back(start, target, seen):
        """A chain of calls from `start` that reaches `target`, or None."""
        for called, _, _ in calls.get(start, []):
            if called == target:
                return [called]
            if called in calls and called not in seen:
                seen.add(called)
                rest = path_back(called, target, seen)
                if rest is not None:
                    return [called, *rest]
        return None

    problems = []
    for process_id, outgoing in calls.items():
        for called, name, call in outgoing:
            chain = [called] if called == process_id else None
            if chain is None and called in calls:
                rest = path_back(called, process_id, {called})
                chain = [called, *rest] if rest is not None else None
            if chain is not None:
                cycle = " → ".join([process_id, *chain])
                problems.append(
                    Problem(
                        name,
                        f"calls process {called!r}, which leads back to {process_id!r} ({cycle}): "
                        "an instance would call itself without end",
                        call.sourceline,
                        call.get("id"),
                    )
                )
    return problems


def _check_calls(name, tree, process_ids):
    # SpiffWorkflow reports a missing called process without file, line or element.
    problems = []
    for call in tree.iter(f"{BPMN}callActivity"):
        called = (call.get("calledElement") or "").strip()
        if not called:
            problems.append(
                Problem(
                    name, "call activity names no process (calledElement)", call.sourceline, call.get("id")
                )
            )
        elif called not in process_ids:
            problems.append(
                Problem(
                    name,
                    f"calls process {called!r}, which is not in the bundle (send its diagram with it)",
                    call.sourceline,
                    call.get("id"),
                )
            )
    return problems
