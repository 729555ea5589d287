"""Claims: a member of a task's groups takes it, so only they may complete it, and gives it back.
Mixed into `engine.instances.Instance`; a claim is kept with the task (`claimed_by`) and logged."""

from .errors import NotAllowed, TaskClaimed
from .events import StepResult
from .tasks import Actor, describe_task, element_of, may_take


class ClaimsMixin:
    def claim(self, task_id: str, actor: Actor) -> StepResult:
        """Take a ready task, so only `actor` may complete it. Returns StepResult.

        Raises TaskNotFound, TaskClaimed (someone else has it), NotAllowed (not a candidate).
        """
        self._require_running()
        task = self._find(task_id)
        human = describe_task(task, self._engine)
        if not may_take(actor, human):
            raise NotAllowed(f"{actor.username} may not claim {task.task_spec.name}")
        if human.claimed_by and human.claimed_by != actor.username:
            raise TaskClaimed(f"{task.task_spec.name} is claimed by {human.claimed_by}")
        if human.claimed_by == actor.username:
            return StepResult()  # theirs already: nothing changes, nothing to log
        task.internal_data["claimed_by"] = actor.username
        return StepResult([self._event("task_claimed", element_of(task.task_spec), task, actor, None)])

    def unclaim(self, task_id: str, actor: Actor) -> StepResult:
        """Give a claimed task back to its groups (the claimer or an admin). Returns StepResult;
        a task nobody holds is left as it is (no event).

        Raises TaskNotFound, NotAllowed (neither the holder nor an admin; for a task nobody
        holds, not one who may take it).
        """
        self._require_running()
        task = self._find(task_id)
        holder = task.internal_data.get("claimed_by")
        if holder is None:
            if not (actor.is_admin or may_take(actor, describe_task(task, self._engine))):
                raise NotAllowed(f"{actor.username} may not unclaim {task.task_spec.name}")
            return StepResult()
        if holder != actor.username and not actor.is_admin:
            raise NotAllowed(f"{task.task_spec.name} is claimed by {holder}, not {actor.username}")
        del task.internal_data["claimed_by"]
        return StepResult([self._event("task_unclaimed", element_of(task.task_spec), task, actor, None)])
