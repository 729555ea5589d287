"""Messages into a running instance: who may send them, when they are accepted, their payload.

`MessagesMixin` is part of `Instance` (kept apart to keep each module small). SpiffWorkflow lets
a workflow catch a message even after it has ended; here an ended instance refuses every message,
and a message start event may name the steps during which it is accepted (`acceptedWhile`), the
steps during which it is refused (`refusedWhile`: e.g. one cost overrun review at a time), a
condition on the data of the step it waits at (`acceptedWhen`: a problem is reported only until
the support period ends, R3.6.4) and the groups that may send it (`senderGroups`), all as
`camunda:property` in the diagram.
"""

from copy import deepcopy

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.exceptions import WorkflowException

from .errors import FormValidationError, MessageRefused, NotAllowed
from .events import StepResult
from .expressions import to_python
from .guards import guarded_steps, property_of
from .tasks import Actor


def no_form_data(data):
    """{} for a step without a form; any submitted key is refused (FormValidationError)."""
    if data:
        raise FormValidationError({key: ["表單中沒有此欄位 / Unknown field."] for key in data})
    return {}


class MessagesMixin:
    """Message delivery for Instance (uses its internals: _workflow, _advance, _event...)."""

    def send_message(self, name: str, data: dict, actor: Actor) -> StepResult:
        """Deliver message `name` with its payload. Returns StepResult.

        Raises MessageRefused when the instance has ended, nothing waits for the message, the
        message's `acceptedWhile` steps are not open or one of its `refusedWhile` steps is;
        NotAllowed when the actor is in none of
        its `senderGroups`; FormValidationError for a bad payload.
        """
        if self._workflow.is_completed():
            raise MessageRefused(f"the instance has ended; message {name!r} is not accepted")
        self._require_running()
        catcher = self._message_catcher(name)
        senders = property_of(catcher, "senderGroups")
        if senders and not (set(part.strip() for part in senders.split(",")) & set(actor.groups)):
            raise NotAllowed(f"{actor.username} may not send {name!r}; senders: {senders}")
        form = self.definition.form_for(catcher)
        cleaned = form.validate(data, today=self.today()) if form is not None else no_form_data(data)
        definition = catcher.event_definition
        payload = deepcopy(cleaned)
        if hasattr(definition, "result_var"):  # Camunda messages carry their payload this way
            payload = {"payload": payload, "result_var": name}
        result = StepResult()
        try:
            self._workflow.send_event(BpmnEvent(definition, payload))
        except WorkflowException:
            raise MessageRefused(f"nothing in the instance is waiting for message {name!r}") from None
        result.events.append(self._event("message_received", catcher.name, None, actor, cleaned))
        self._advance(result)
        return result

    def accepted_messages(self) -> list[str]:
        """The names of the messages the instance would take now (its guards, not who sends)."""
        if self.status != "running":
            return []
        names = {
            spec.event_definition.name
            for _, process in self.definition.all_specs()
            for spec in process.task_specs.values()
            if isinstance(getattr(spec, "event_definition", None), MessageEventDefinition)
        }
        accepted = []
        for name in sorted(names):
            try:
                self._message_catcher(name)
            except MessageRefused:
                continue
            accepted.append(name)
        return accepted

    def _message_catcher(self, name):
        catchers = [
            spec
            for _, process in self.definition.all_specs()
            for spec in process.task_specs.values()
            if isinstance(getattr(spec, "event_definition", None), MessageEventDefinition)
            and spec.event_definition.name == name
        ]
        if not catchers:
            raise MessageRefused(f"the process has no message {name!r}")
        catcher = catchers[0]
        allowed = guarded_steps(catcher, "acceptedWhile")
        waiting = [t for t in self._open_tasks() if t.task_spec.name in allowed]
        if allowed and not waiting:
            raise MessageRefused(
                f"message {name!r} is accepted only while {', '.join(sorted(allowed))} is open"
            )
        self._require_accepted_when(catcher, name, waiting)
        refused = guarded_steps(catcher, "refusedWhile")
        if refused:
            open_now = sorted({t.task_spec.name for t in self._open_tasks()} & refused)
            if open_now:
                raise MessageRefused(f"message {name!r} is refused while {', '.join(open_now)} is open")
        return catcher

    def _require_accepted_when(self, catcher, name, waiting):
        """Refuse the message unless its `acceptedWhen` condition holds on the data of the step
        it waits at (its first open `acceptedWhile` step; else the process's data as it stands)."""
        condition = property_of(catcher, "acceptedWhen")
        if not condition:
            return
        values = waiting[0].data if waiting else self.data
        try:
            holds = self._engine.environment.evaluate(to_python(condition), values)
        except NameError as error:  # a value the process has not set yet: the condition does not hold
            holds, why = False, f"{error.name or error} is not set yet ({condition})"
        except Exception as error:  # any other failure of the condition: it does not hold either
            holds, why = False, f"{condition} cannot be evaluated ({error})"
        else:
            why = f"{condition} does not hold"
        if not holds:
            title = catcher.bpmn_name or name
            raise MessageRefused(f"「{title}」此時不受理 / message {name!r} is not accepted now: {why}")
