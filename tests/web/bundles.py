"""Small bundles for the deployment tests: a one-task diagram per process id, and bad variants."""

from io import BytesIO

FORM = (
    b'{"id": "f", "type": "default", "components": [{"key": "decision", "type": "select", '
    b'"values": [{"label": "A", "value": "a"}, {"label": "B", "value": "b"}], "validate": {"required": true}}]}'
)


def bpmn(body, process_id="p", extra="", namespaces=""):
    """A diagram with one executable process `process_id` whose start event is `start`."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" {namespaces}
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d_{process_id}" targetNamespace="http://x">{extra}
  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="start"/>
    {body}
  </bpmn:process>
</bpmn:definitions>""".encode()


# A form with one optional text field, for diagrams whose task only needs to be completed.
NOTE_FORM = (
    b'{"id": "check", "type": "default", "components": '
    b'[{"type": "textfield", "key": "note", "label": "Note", "id": "Field_note"}]}'
)


def user_task(name="Check", group="it", form="f", attributes=""):
    """start -> one user task `t` (for `group`, none when None) -> end."""
    candidates = f'camunda:candidateGroups="{group}"' if group else ""
    return f"""
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t"/>
    <bpmn:userTask id="t" name="{name}" {candidates} camunda:formRef="{form}" {attributes}/>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="end"/>
    <bpmn:endEvent id="end"/>"""


def multipart(files: dict[str, bytes]) -> dict:
    """`data=` for a test client POST: one `files` part per file."""
    return {"files": [(BytesIO(content), name) for name, content in files.items()]}
