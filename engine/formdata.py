"""Form data providers: values a task's form is shown that come from outside the instance.

Some forms show facts the procedure does not hold, e.g. whether a requirement is in the
published annual plan (`engine.plans`). A provider is registered for an element id and called
with (session, instance_id, clock); what it returns is added to the values the form opens with
(`get_task`) and to the values a submission is validated against (`complete_task`, so a
`requiredWhen` rule may read it). Provided values are never stored with the submission: they are
computed again each time, so a form always shows the current fact.

Providers register at import (`@form_data_provider("initiation_application")`); the registry is
a plain dict so the instance layer never hears of plans or pools.
"""

from collections.abc import Callable

Provider = Callable[..., dict]

FORM_DATA_PROVIDERS: dict[str, list[Provider]] = {}


def form_data_provider(element_id: str):
    """Decorator: register `provider(session, instance_id, clock) -> dict` for a task's form."""

    def register(provider: Provider) -> Provider:
        FORM_DATA_PROVIDERS.setdefault(element_id, []).append(provider)
        return provider

    return register


def provided_form_data(session, instance_id: int, element_id: str, clock) -> dict:
    """The values every provider registered for `element_id` gives (later providers win)."""
    values: dict = {}
    for provider in FORM_DATA_PROVIDERS.get(element_id, []):
        values.update(provider(session, instance_id, clock))
    return values
