"""Reading a deployed version's files for display: element names, which file draws which process,
the call activities, and the labels that forms give to data keys and option values.

This is presentation only: the engine has already checked and parsed these files to run them;
here they are read again so people see "初審結論: 受理" instead of `decision: accept`.
"""

import json
from dataclasses import dataclass, field

from flask import has_request_context
from flask_babel import get_locale
from lxml import etree

import engine

from ..extensions import db

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
# Deployers are trusted, but a viewer still refuses entities and network access.
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass
class Element:
    id: str
    name: str | None
    kind: str  # the BPMN tag without namespace: userTask, callActivity, startEvent, ...
    file: str
    form: str | None = None
    documentation: str | None = None
    called: str | None = None  # a call activity's calledElement


@dataclass
class FieldLabels:
    label: str | None
    options: dict = field(default_factory=dict)  # value -> label
    rows: dict = field(default_factory=dict)  # a dynamic list's row keys -> FieldLabels


class Sources:
    """The files of one process version, read for display."""

    def __init__(self, files: dict[str, str]):
        self.files = files
        self.elements: dict[str, Element] = {}
        self.process_files: dict[str, str] = {}  # process id -> file that defines it
        self.process_names: dict[str, str] = {}
        self.forms: dict[str, dict] = {}
        for name, text in sorted(files.items()):
            if name.endswith(".bpmn"):
                self._read_bpmn(name, text)
            elif name.endswith(".form"):
                self._read_form(name, text)

    def _read_bpmn(self, filename, text):
        try:
            root = etree.fromstring(text.encode("utf-8"), PARSER)
        except etree.XMLSyntaxError:
            return
        for process in root.iter(f"{{{BPMN}}}process"):
            self.process_files.setdefault(process.get("id"), filename)
            self.process_names.setdefault(process.get("id"), process.get("name") or process.get("id"))
            for node in process.iter():
                if not isinstance(node.tag, str) or not node.get("id") or node is process:
                    continue
                kind = etree.QName(node).localname
                if kind in ("sequenceFlow", "lane", "laneSet", "documentation", "incoming", "outgoing"):
                    continue
                doc = node.find(f"{{{BPMN}}}documentation")
                self.elements.setdefault(
                    node.get("id"),
                    Element(
                        id=node.get("id"),
                        name=node.get("name"),
                        kind=kind,
                        file=filename,
                        form=node.get(f"{{{CAMUNDA}}}formRef") or node.get(f"{{{CAMUNDA}}}formKey"),
                        documentation=(doc.text or "").strip() if doc is not None else None,
                        called=node.get("calledElement"),
                    ),
                )

    def _read_form(self, filename, text):
        try:
            schema = json.loads(text)
        except ValueError:
            return
        if isinstance(schema, dict):
            self.forms[schema.get("id") or filename.removesuffix(".form")] = schema

    # -- questions the pages ask --------------------------------------------------------------

    def name(self, element_id) -> str:
        element = self.elements.get(element_id)
        return (element.name if element and element.name else None) or element_id or ""

    def user_tasks(self, process_id) -> list[Element]:
        """The user tasks of a process and of the processes it calls, in call order."""
        tasks, seen = [], set()
        self._collect_tasks(process_id, tasks, seen)
        return tasks

    def _collect_tasks(self, process_id, tasks, seen):
        filename = self.process_files.get(process_id)
        if filename is None or filename in seen:
            return
        seen.add(filename)
        for element in self.elements.values():
            if element.file == filename and element.kind == "userTask":
                tasks.append(element)
        for called in self.call_activities(process_id):
            self._collect_tasks(called.called, tasks, seen)

    def call_activities(self, process_id) -> list[Element]:
        filename = self.process_files.get(process_id)
        return [
            e
            for e in self.elements.values()
            if e.file == filename and e.kind == "callActivity" and e.called in self.process_files
        ]

    def labels_for(self, element_id) -> dict[str, FieldLabels]:
        """Labels of the form an element submits (its key -> FieldLabels), or {}."""
        element = self.elements.get(element_id)
        schema = self.forms.get(element.form) if element and element.form else None
        return form_labels(schema) if schema else {}

    def all_labels(self) -> dict[str, FieldLabels]:
        """Labels from every form, for process variables such as `risks` that several forms
        fill in turn: the first form's label wins, and list rows gather every form's columns."""
        merged: dict[str, FieldLabels] = {}
        for form_id in sorted(self.forms):
            for key, labels in form_labels(self.forms[form_id]).items():
                known = merged.setdefault(
                    key, FieldLabels(labels.label, dict(labels.options), dict(labels.rows))
                )
                for option, label in labels.options.items():
                    known.options.setdefault(option, label)
                for row_key, row_labels in labels.rows.items():
                    known.rows.setdefault(row_key, row_labels)
        return merged


def _label(component: dict) -> str | None:
    """A component's label in the reader's language: its `label_en` property for an English reader
    (as the task form shows it, web/static/js/form.js), else its label."""
    if has_request_context() and str(get_locale()).startswith("en"):
        return (component.get("properties") or {}).get("label_en") or component.get("label")
    return component.get("label")


def form_labels(schema: dict) -> dict[str, FieldLabels]:
    """{key: FieldLabels} of a form-js schema's input fields (groups flattened), labelled in the
    reader's language."""
    labels = {}
    for component in schema.get("components") or []:
        kind = component.get("type")
        if kind == "group":
            labels.update(form_labels(component))
        elif kind == "dynamiclist":
            key = (component.get("path") or component.get("key") or "").split(".")[-1]
            if key:
                labels[key] = FieldLabels(_label(component), rows=form_labels(component))
        elif component.get("key"):
            options = {
                v.get("value"): v.get("label")
                for v in component.get("values") or []
                if isinstance(v, dict) and "value" in v
            }
            labels[component["key"].split(".")[-1]] = FieldLabels(_label(component), options)
    return labels


def version_sources(process_id, version=None) -> Sources:
    """The files of a deployed version (the latest without `version`) read for display; none when
    the process is not deployed (nothing to label with)."""
    try:
        return Sources(engine.process_sources(db.session, process_id, version))
    except engine.ProcessNotFound:
        return Sources({})
