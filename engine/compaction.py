"""Keep long-running instances small and runnable: prune finished history from the task tree.

SpiffWorkflow never removes completed tasks. Every round of a loop (rectification, revision)
adds a few tasks below the last, and its task iterator stops descending at depth 1000, so after
about 247 rounds the ready tasks are no longer found and the engine reports the instance as
completed. The history is not lost by pruning: every completed step is in the instance's event
log (kept by the caller) and in its `completed` counts.

`compact` finds, below each child of a workflow's root, the lowest task that is an ancestor of
every unfinished task there, and hangs it directly under the root; the finished chain above it
is dropped, with any subprocesses that belonged to dropped tasks. Subtrees that are entirely
finished are dropped too. Branch structure below that task (open parallel branches, boundary
events) is left untouched, so joins still find their split. Compaction only starts when a tree
is deeper than `max_depth`, so ordinary instances keep their whole tree (and rewinds within it).

`drop_spent_joins` runs after every step, whatever the depth: it removes the cancelled join
tasks SpiffWorkflow leaves behind at parallel gateways, which would otherwise make the next
round of a loop through the same gateway fire too early.
"""

from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.task import TaskState

# Restoring and stepping cost grows with the tree, so a deep tree makes every step of a long loop
# slower: at 400 a completion at round 100 of the rectification loop took ~20x round 1's time;
# at 60 (about ten rounds of history, deeper than any loop-free path) it stays flat (bench/).
DEFAULT_MAX_DEPTH = 60


def _unfinished(workflow):
    return [t for t in workflow.tasks.values() if not t.has_state(TaskState.FINISHED_MASK)]


def needs_compaction(workflow, max_depth=DEFAULT_MAX_DEPTH) -> bool:
    """Whether any unfinished task of this (sub)workflow sits deeper than max_depth."""
    depths = {}  # task id -> depth: each ancestor walked once, not once per descendant

    def depth(task):
        chain = []
        while task is not None and task.id not in depths:
            chain.append(task)
            task = task.parent
        found = depths[task.id] if task is not None else -1
        for each in reversed(chain):
            found += 1
            depths[each.id] = found
        return found

    return any(depth(t) > max_depth for t in _unfinished(workflow))


def _lowest_common_ancestor(root_child, unfinished_ids, parents_of):
    node = root_child
    while node.id not in unfinished_ids:
        open_children = [c for c in node.children if c.id in parents_of]
        if len(open_children) != 1:
            break
        node = open_children[0]
    return node


def compact(top_workflow, workflow, max_depth=DEFAULT_MAX_DEPTH) -> int:
    """Prune `workflow` (the top workflow or one of its subprocesses). Returns tasks removed."""
    if not needs_compaction(workflow, max_depth):
        return 0
    unfinished = _unfinished(workflow)
    unfinished_ids = {t.id for t in unfinished}
    on_open_path = set()  # every task that is an unfinished task or one of its ancestors
    for task in unfinished:
        while task is not None and task.id not in on_open_path:
            on_open_path.add(task.id)
            task = task.parent
    root = workflow.task_tree
    keep_under_root = []
    for child in root.children:
        if child.id in on_open_path:
            keep_under_root.append(_lowest_common_ancestor(child, unfinished_ids, on_open_path))
    kept = set()
    for top in keep_under_root:
        kept.update(t.id for t in _subtree(top))
    removed = [t for t in workflow.tasks.values() if t.id not in kept and t is not root]
    for task in removed:
        if task.id in top_workflow.subprocesses:
            top_workflow.delete_subprocess(task)
    for task in removed:
        del workflow.tasks[task.id]
    root._children = [t.id for t in keep_under_root]
    for task in keep_under_root:
        task._parent = root.id
    if workflow.last_task is not None and workflow.last_task.id not in kept:
        workflow.last_task = keep_under_root[0] if keep_under_root else root
    return len(removed)


def _subtree(task):
    stack = [task]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.children)


def drop_spent_joins(workflow) -> int:
    """Remove cancelled join tasks whose join has since fired. Returns tasks removed.

    When the branches of a parallel gateway arrive one by one, SpiffWorkflow cancels the waiting
    join task of each earlier branch and keeps it as the memory that the branch has arrived.
    It never removes it: when the same gateway is reached again in a loop (a second round of
    budget audit and initiation review, of IT and business acceptance), the old cancelled task
    still counts as an arrived branch, so the join fires when only one reviewer has answered,
    and it merges the earlier round's answers into the data. Once a join task of the same
    gateway has completed outside its ancestry, a cancelled join task has done its work.
    """
    joins = [t for t in workflow.tasks.values() if isinstance(t.task_spec, UnstructuredJoin)]
    fired = [t for t in joins if t.state == TaskState.COMPLETED]
    spent = [
        t
        for t in joins
        if t.state == TaskState.CANCELLED
        and any(f.task_spec is t.task_spec and not t.is_descendant_of(f) for f in fired)
    ]
    removed = 0
    for task in spent:
        subtree = list(_subtree(task))
        if any(not t.has_state(TaskState.FINISHED_MASK) for t in subtree):
            continue
        task.parent._children.remove(task.id)
        for node in subtree:
            del workflow.tasks[node.id]
        removed += len(subtree)
    return removed


def compact_all(workflow, max_depth=DEFAULT_MAX_DEPTH) -> int:
    """Compact the top workflow and each of its subprocesses. Returns tasks removed."""
    removed = compact(workflow, workflow, max_depth)
    # Subprocesses of tasks pruned above are gone from the mapping by now.
    for subprocess in list(workflow.subprocesses.values()):
        removed += compact(workflow, subprocess, max_depth)
    for each in [workflow, *workflow.subprocesses.values()]:
        removed += drop_spent_joins(each)
    return removed
