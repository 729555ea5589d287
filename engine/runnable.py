"""Deploy checks of what an executable process holds that no instance could get past: a task of a
kind nothing here runs (service, send, receive), a catch of a signal no process of its instance
throws, a reference to a message or signal its file does not define. `validation.check_trees`
runs them with the other XML checks."""

from .errors import Problem

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


# Elements SpiffWorkflow parses that nothing here can run: each would stop its instances for good.
NOT_RUN = {
    "serviceTask": "a service task cannot run here (no Java class, expression or external worker "
    "runs in Upgradeflow): use a script task",
    "sendTask": "a send task cannot run here: use a message throw event",
    "receiveTask": "a receive task cannot run here: use a message catch event (it takes "
    "POST /api/v1/instances/{id}/messages/{name})",
}
_REFS = {"messageRef": "message", "signalRef": "signal"}


def _signal_names(tree) -> dict:
    return {e.get("id"): e.get("name") or e.get("id") for e in tree.iter(f"{BPMN}signal")}


def thrown_signals(trees) -> dict:
    """process id -> the names of the signals thrown in it or in a process it calls or that calls
    it, directly or further on (SpiffWorkflow matches signals by name, across one instance: a
    called process's reach its caller). A process that shares no instance with it does not count."""
    throws, linked = {}, {}
    for tree in trees.values():
        if not tree.tag.startswith(BPMN):
            continue
        names = _signal_names(tree)
        for process in tree.iter(f"{BPMN}process"):
            pid = process.get("id")
            throws[pid] = {
                names.get(d.get("signalRef"))
                for d in process.iter(f"{BPMN}signalEventDefinition")
                if d.getparent().tag in (f"{BPMN}intermediateThrowEvent", f"{BPMN}endEvent")
            }
            for call in process.iter(f"{BPMN}callActivity"):
                called = call.get("calledElement")
                if called:
                    linked.setdefault(pid, set()).add(called)
                    linked.setdefault(called, set()).add(pid)
    thrown = {}
    for pid in throws:
        family, todo = set(), [pid]
        while todo:
            current = todo.pop()
            if current not in family:
                family.add(current)
                todo.extend(linked.get(current, ()))
        thrown[pid] = set().union(*(throws.get(p, set()) for p in family))
    return thrown


def unrunnable_elements(name, tree, thrown) -> list:
    """Elements of an executable process that no instance could get past: a task of a kind nothing
    here runs, a catch of a signal no process of the bundle throws (`thrown`: nothing outside
    sends signals; a message is what comes from outside), a reference to a message or signal the
    file does not define (SpiffWorkflow's own refusal of it names neither)."""
    problems = []
    names = _signal_names(tree)
    defined = {kind: {e.get("id") for e in tree.iter(f"{BPMN}{kind}")} for kind in _REFS.values()}
    for process in tree.iter(f"{BPMN}process"):
        if process.get("isExecutable") != "true":
            continue
        for element in process.iter():
            if not isinstance(element.tag, str) or not element.tag.startswith(BPMN):
                continue
            kind = element.tag[len(BPMN) :]
            if kind in NOT_RUN:
                problems.append(Problem(name, NOT_RUN[kind], element.sourceline, element.get("id")))
            for attribute, target in _REFS.items():
                ref = element.get(attribute)
                if ref and ref not in defined[target]:
                    owner = (
                        element
                        if element.get("id")
                        and kind not in ("messageEventDefinition", "signalEventDefinition")
                        else element.getparent()
                    )
                    problems.append(
                        Problem(
                            name,
                            f"{attribute} {ref!r} names no {target} of the file",
                            element.sourceline,
                            owner.get("id"),
                        )
                    )
        reachable = thrown.get(process.get("id"), set())
        for definition in process.iter(f"{BPMN}signalEventDefinition"):
            event, ref = definition.getparent(), definition.get("signalRef")
            caught = event.tag in (
                f"{BPMN}intermediateCatchEvent",
                f"{BPMN}boundaryEvent",
                f"{BPMN}startEvent",
            )
            if caught and ref in defined["signal"] and names.get(ref) not in reachable:
                problems.append(
                    Problem(
                        name,
                        f"waits for signal {ref!r}, which no process of its instance throws "
                        "(nothing outside sends signals here: catch a message instead)",
                        event.sourceline,
                        event.get("id"),
                    )
                )
    return problems
