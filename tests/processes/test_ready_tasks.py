"""The ready tasks an instance reports are the ones SpiffWorkflow's own tree walk finds: the
instance reads them from the task maps of the workflow and its subprocesses (faster), and this
checks the two agree at every step of whole procedures, event subprocesses and loops included."""

from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.util.task import TaskState


def walked(flow):
    workflow = flow.instance._workflow
    return sorted(
        str(t.id) for t in workflow.get_tasks(state=TaskState.READY) if isinstance(t.task_spec, UserTask)
    )


def reported(flow):
    return sorted(t.id for t in flow.instance.ready_tasks())


def checked(flow, steps):
    for step in steps:
        step()
        assert reported(flow) == walked(flow), f"after {flow.ready()}"


def test_the_happy_path_to_closure(start):
    flow = start()
    seen = set()

    def note():
        seen.update(flow.ready())
        assert reported(flow) == walked(flow), f"at {flow.ready()}"

    note()
    flow._restore = _checking(flow._restore, note)  # after every step, as storage gives it back
    flow.finish()
    assert flow.status == "completed" and reported(flow) == walked(flow) == []
    assert {"budget_audit", "initiation_review", "golive", "inspection"} <= seen


def test_change_requests_beside_implementation(start):
    flow = start()
    flow.reach("implement")
    checked(
        flow,
        [
            lambda: flow.send("change_request", reason="增加電子簽章功能。", requested_by="業務部門"),
            lambda: flow.send("change_request", reason="提前兩週上線。"),
            lambda: flow.complete_task(
                flow.tasks("change_review")[0], decision="approve", impact_analysis="x"
            ),
            lambda: flow.complete_task(
                flow.tasks("change_review")[0], decision="reject", impact_analysis="y"
            ),
            lambda: flow.complete("change_approval", decision="approve", comment="同意。"),
            lambda: flow.complete("implement"),
        ],
    )
    assert "self_test" in flow.ready()


def _checking(restore, check):
    def restore_and_check():
        restore()
        check()

    return restore_and_check
