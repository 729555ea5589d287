"""A second version of the procedure built from the real diagrams by byte replacements: it adds a
kick-off step after the initiation approval, renames requirement_analysis and removes
analysis_report (risk_response goes straight to the initiation application). A third version
renames that step again."""

import re

import engine

RENAMED = (b"requirement_analysis", b"requirement_evaluation")
RENAMED_AGAIN = (b"requirement_evaluation", b"requirement_assessment")
KICKOFF = (
    b'<bpmn:userTask id="kickoff_meeting" name="\xe9\xa0\x85\xe7\x9b\xae\xe5\x95\x9f\xe5\x8b\x95\xe6\x9c\x83"'
    b' camunda:formRef="inspection" camunda:candidateGroups="it">\n'
    b"      <bpmn:incoming>flow_approval_to_kickoff</bpmn:incoming>\n"
    b"      <bpmn:outgoing>flow_approval_to_implementation</bpmn:outgoing>\n"
    b"    </bpmn:userTask>\n"
    b'    <bpmn:sequenceFlow id="flow_approval_to_kickoff" sourceRef="issue_initiation_approval" targetRef="kickoff_meeting" />\n'
    b"    "
)


def rename_step(bpmn, old, new):
    """The element `old` called `new`, wherever the diagram refers to it by id."""
    for attribute in (
        b'id="%s"',
        b'sourceRef="%s"',
        b'targetRef="%s"',
        b'bpmnElement="%s"',
        b"<bpmn:flowNodeRef>%s<",
    ):
        bpmn = bpmn.replace(attribute % old, attribute % new)
    return bpmn


def version_two(files):
    """The bundle `files` with software_upgrade.bpmn changed as the module says."""
    bpmn = rename_step(files["software_upgrade.bpmn"], *RENAMED)
    # analysis_report removed: its element, its shape, its outgoing flow; risk_response leads on.
    bpmn = re.sub(rb'\s*<bpmn:userTask id="analysis_report".*?</bpmn:userTask>', b"", bpmn, flags=re.S)
    bpmn = re.sub(
        rb'\s*<bpmndi:BPMNShape id="analysis_report_di".*?</bpmndi:BPMNShape>', b"", bpmn, flags=re.S
    )
    bpmn = re.sub(
        rb'\s*<bpmndi:BPMNEdge id="flow_report_to_initiation_merge_di".*?</bpmndi:BPMNEdge>',
        b"",
        bpmn,
        flags=re.S,
    )
    bpmn = bpmn.replace(b"<bpmn:flowNodeRef>analysis_report</bpmn:flowNodeRef>", b"")
    bpmn = re.sub(rb'\s*<bpmn:sequenceFlow id="flow_report_to_initiation_merge"[^>]*/>', b"", bpmn)
    bpmn = bpmn.replace(b'targetRef="analysis_report"', b'targetRef="initiation_merge"')
    bpmn = bpmn.replace(
        b"<bpmn:incoming>flow_report_to_initiation_merge</bpmn:incoming>",
        b"<bpmn:incoming>flow_risk_response_to_report</bpmn:incoming>",
    )
    # kickoff_meeting added between the approval and the implementation.
    bpmn = bpmn.replace(
        b"<bpmn:outgoing>flow_approval_to_implementation</bpmn:outgoing>\n      <bpmn:script>",
        b"<bpmn:outgoing>flow_approval_to_kickoff</bpmn:outgoing>\n      <bpmn:script>",
    )
    bpmn = bpmn.replace(
        b'<bpmn:sequenceFlow id="flow_approval_to_implementation" sourceRef="issue_initiation_approval"',
        KICKOFF + b'<bpmn:sequenceFlow id="flow_approval_to_implementation" sourceRef="kickoff_meeting"',
    )
    bpmn = bpmn.replace(
        b"<bpmn:flowNodeRef>issue_initiation_approval</bpmn:flowNodeRef>",
        b"<bpmn:flowNodeRef>issue_initiation_approval</bpmn:flowNodeRef><bpmn:flowNodeRef>kickoff_meeting</bpmn:flowNodeRef>",
    )
    assert bpmn.count(b"kickoff_meeting") >= 3 and b'id="analysis_report"' not in bpmn
    return {**files, "software_upgrade.bpmn": bpmn}


def version_three(files):
    """Version two with requirement_evaluation renamed again, to requirement_assessment."""
    two = version_two(files)
    return {**two, "software_upgrade.bpmn": rename_step(two["software_upgrade.bpmn"], *RENAMED_AGAIN)}


def deploy(session, files):
    """Deploy the bundle `files`; returns the version software_upgrade now has."""
    [*_, main] = [d for d in engine.deploy(session, files, "po") if d.id == "software_upgrade"]
    return main.version


def deploy_version_two(session):
    return deploy(session, version_two(engine.bundle_files("processes", "forms")))
