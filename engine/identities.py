"""What makes a process version: the identity deploys compare (its specs, the forms it links or
brings anew, what its diagrams draw and say), and what a deployed file is whatever its version
(the processes, decisions or form it defines). Used by `engine.deployments`."""

import hashlib
import json
import re

from .errors import DeploymentError
from .forms import plain_form
from .specs import ProcessDefinition, safe_xml

# Marks a form editor writes into every form it saves, whatever changed: a form saved unchanged in
# another editor (form-js raises `schemaVersion`) is the same form and keeps its version.


def content_hash(dumped: dict, linked_forms, diagrams: dict[str, str]) -> str:
    """SHA-256 of what makes a version, as canonical JSON: a definition's `dump()` with only the
    forms its steps link (`linked_forms`), without the forms' editor marks, and the layout of
    `diagrams`, the files its processes are drawn in: a shape moved is a change a process owner
    deployed, and downloads back (a file only written out again, as a modeller saves it, is not)."""
    forms = {
        form_id: plain_form(schema)
        for form_id, schema in dumped.get("forms", {}).items()
        if form_id in linked_forms
    }
    identity = {
        "process_id": dumped.get("process_id"),
        "specs": dumped.get("specs"),
        "forms": forms,
        "layout": [layout(text) for _, text in sorted(diagrams.items())],
    }
    canonical = json.dumps(identity, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


_DI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
_BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_DC = "{http://www.omg.org/spec/DD/20100524/DC}"
_WAYPOINT = "{http://www.omg.org/spec/DD/20100524/DI}waypoint"


def layout(text: str) -> list:
    """A diagram as drawn and written, as values: every shape's and label's bounds, every edge's
    waypoints, by the element drawn, and its elements' names and texts (whatever the file's
    formatting or the order of its attributes)."""
    try:
        tree = safe_xml(text.encode("utf-8"), "diagram")
    except DeploymentError:
        return [text]  # checked already; a file that does not parse is its text
    drawn = []
    for kind in ("BPMNShape", "BPMNEdge"):
        for element in tree.iter(f"{_DI}{kind}"):
            bounds = [
                [_number(b.get(k)) for k in ("x", "y", "width", "height")]
                for b in element.iter(f"{_DC}Bounds")
            ]
            points = [[_number(w.get("x")), _number(w.get("y"))] for w in element.iter(_WAYPOINT)]
            flags = [element.get("isExpanded"), element.get("isHorizontal")]
            drawn.append([kind, element.get("bpmnElement") or "", bounds, points, flags])
    # And what it says: every element's name, an annotation's text, documentation (a flow's
    # label or a note changes no spec, and is still what the owner deployed).
    for element in tree.iter():
        if not isinstance(element.tag, str) or not element.tag.startswith(_BPMN):
            continue
        local = element.tag[len(_BPMN) :]
        if local in ("text", "documentation"):
            owner = element.getparent()
            drawn.append([local, owner.get("id") or "", (element.text or "").strip()])
        elif element.get("id") and element.get("name") is not None:
            drawn.append(["name", element.get("id"), element.get("name")])
    return sorted(drawn, key=lambda item: (item[0], item[1], json.dumps(item, ensure_ascii=False)))


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def diagrams_of(definition: ProcessDefinition, sources: dict[str, str]) -> dict[str, str]:
    """{file name: text} of the files that hold the process or a process it calls."""
    ids = {process_id for process_id, _ in definition.all_specs()}
    found = {}
    for name, text in sources.items():
        for match in _PROCESS_ID.finditer(text):
            if match.group(1) in ids:
                found[name] = text
                break
    return found


_PROCESS_ID = re.compile(r"<(?:[\w.-]+:)?process\b[^>]*?\sid=[\"']([^\"']+)[\"']")


def new_forms(dumped: dict, held: dict, deployed: dict) -> set[str]:
    """The ids of a definition's forms that neither `held` (the forms of the process's latest
    version) nor `deployed` (the latest forms of every process) hold as they are, editor marks
    aside: what this deployment brings anew."""
    plain = plain_form
    return {
        form_id
        for form_id, schema in dumped.get("forms", {}).items()
        if plain(schema) not in (plain(held.get(form_id)), plain(deployed.get(form_id)))
    }


_DEFINES = re.compile(r"<(?:[\w.-]+:)?(?:process|decision)\b[^>]*?\sid=[\"']([^\"']+)[\"']")


def file_identity(name: str, text: str):
    """What a deployed file is, whatever its version: the processes or decisions it defines, a
    form's id (else its name)."""
    if name.endswith(".form"):
        try:
            form = json.loads(text)
        except ValueError:
            return name
        return form.get("id") if isinstance(form, dict) and form.get("id") else name
    return frozenset(_DEFINES.findall(text)) or name
