"""Compaction decides by the depth of the deepest unfinished task (engine/compaction.py); the
depths are counted once per ancestor, and must equal a plain walk to the root for every task."""

from SpiffWorkflow.util.task import TaskState

from engine.compaction import needs_compaction


def deepest_unfinished(workflow):
    def depth(task):
        steps = 0
        while task.parent is not None:
            task, steps = task.parent, steps + 1
        return steps

    return max(depth(t) for t in workflow.tasks.values() if not t.has_state(TaskState.FINISHED_MASK))


def test_the_decision_matches_the_walked_depth_on_either_side_of_it(start):
    flow = start()
    flow.reach("joint_test")
    for _ in range(4):  # a few rectification rounds make the tree deep
        flow.complete("joint_test", decision="fail")
        flow.complete("rectify")
    workflow = flow.instance._workflow
    deepest = deepest_unfinished(workflow)
    assert deepest > 10
    assert needs_compaction(workflow, max_depth=deepest - 1)
    assert not needs_compaction(workflow, max_depth=deepest)
    assert needs_compaction(workflow, max_depth=0)
