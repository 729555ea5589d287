"""Marshmallow schemas of the REST API: what a request may carry and what a response holds.

Requests are loaded with `unknown=RAISE`: a misspelt field or query parameter is a 400 naming it,
not silently ignored. Responses are dumped from the engine's view dataclasses (`engine.views`);
the same classes feed the OpenAPI document, so the document cannot drift from the code.
"""

from datetime import UTC
from functools import cache

from marshmallow import RAISE, Schema, fields, validate

from engine.form_fields import StrictBoolean

STATUSES = ("running", "completed", "error", "suspended", "terminated")
ROW_ID = validate.Range(min=1, max=2**31 - 1)  # what an id column holds
ASSIGNED = ("me", "group", "any")


@cache
def shared(schema_class, many=False):
    """The one instance of `schema_class` (and `many`) the views use: building a schema copies all
    its fields, which cost more than a dump, and a schema keeps nothing between loads and dumps."""
    return schema_class(many=many)


class UtcDateTime(fields.DateTime):
    """ISO 8601 with its offset. The engine stores UTC; SQLite hands datetimes back naive."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class RequestSchema(Schema):
    class Meta:
        unknown = RAISE


# -- requests ------------------------------------------------------------------------------------


class TokenRequestSchema(RequestSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class DataRequestSchema(RequestSchema):
    """A form submission: the form's values under `data` (checked by the engine against the form)."""

    data = fields.Dict(
        keys=fields.String(),
        required=True,
        metadata={"description": "The form's values, keyed by the form fields' keys."},
    )


class InstanceQuerySchema(RequestSchema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    process_id = fields.String(validate=validate.Length(min=1, max=200))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class TaskQuerySchema(RequestSchema):
    instance_id = fields.Integer(validate=validate.Range(min=1))
    assigned = fields.String(
        load_default="any",
        validate=validate.OneOf(ASSIGNED),
        metadata={"description": "me: assigned to me; group: unassigned in my groups; any: both."},
    )


class DiffQuerySchema(RequestSchema):
    # `from` is a Python keyword: the fields are named old/new and read from/to.
    old = fields.Integer(required=True, data_key="from", validate=validate.Range(min=1))
    new = fields.Integer(required=True, data_key="to", validate=validate.Range(min=1))


# -- responses -----------------------------------------------------------------------------------


class TokenSchema(Schema):
    token = fields.String(required=True, metadata={"description": "Send as `Authorization: Bearer TOKEN`."})


class ProcessSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    version = fields.Integer(required=True)
    deployed_at = UtcDateTime(required=True)


class ProcessDetailSchema(ProcessSchema):
    start_form = fields.Dict(
        allow_none=True, required=True, metadata={"description": "The start event's form-js JSON, or null."}
    )


class TaskSchema(Schema):
    id = fields.String(required=True, metadata={"description": "Stable while the task is ready."})
    instance_id = fields.Integer(required=True)
    instance_title = fields.String(allow_none=True)
    name = fields.String(required=True, metadata={"description": "The BPMN element id."})
    title = fields.String(allow_none=True, metadata={"description": "The element's name in the diagram."})
    group = fields.String(allow_none=True)
    groups = fields.List(fields.String())
    assignee = fields.String(allow_none=True)
    form = fields.String(allow_none=True, metadata={"description": "The id of the task's form."})
    created_at = UtcDateTime(required=True)
    due_at = UtcDateTime(allow_none=True)


class TaskDetailSchema(TaskSchema):
    # Stored as `form_schema`: an attribute called `schema` is too easily confused with marshmallow's.
    form_schema = fields.Dict(
        data_key="schema", allow_none=True, metadata={"description": "The task's form-js JSON, or null."}
    )
    data = fields.Dict(metadata={"description": "The values the form opens with."})


class InstanceSummarySchema(Schema):
    id = fields.Integer(required=True)
    process_id = fields.String(required=True)
    version = fields.Integer(required=True, metadata={"description": "The process version it runs on."})
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    initiator = fields.String(required=True)
    title = fields.String(allow_none=True)
    waiting_at = fields.List(fields.String(), metadata={"description": "Element ids of its ready tasks."})
    created_at = UtcDateTime(required=True)
    ended_at = UtcDateTime(allow_none=True)


class InstanceSchema(InstanceSummarySchema):
    data = fields.Dict(allow_none=True, metadata={"description": "The process data as it stands."})
    tasks = fields.List(fields.Nested(TaskSchema), metadata={"description": "Its ready human tasks."})
    error = fields.Dict(allow_none=True, metadata={"description": "The failed element and message."})
    completed_elements = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "Element id -> times."}
    )


class AdminInstanceQuerySchema(RequestSchema):
    process_id = fields.String(validate=validate.Length(min=1, max=200))
    version = fields.Integer(strict=False, validate=validate.Range(min=1, max=2**31 - 1))
    status = fields.String(validate=validate.OneOf(STATUSES))
    waiting_at = fields.String(
        validate=validate.Length(min=1, max=200), metadata={"description": "An element id it waits at."}
    )
    older_than_days = fields.Integer(
        validate=validate.Range(min=1, max=36500), metadata={"description": "Started more than N days ago."}
    )
    initiator = fields.String(validate=validate.Length(min=1, max=80))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=2**31 - 1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class WatchedInstanceSchema(InstanceSummarySchema):
    error = fields.Dict(
        allow_none=True, metadata={"description": "An incident: the failed element, message, data and time."}
    )


class AdminInstancePageSchema(Schema):
    items = fields.List(fields.Nested(WatchedInstanceSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class InstanceListedSchema(InstanceSummarySchema):
    data = fields.Dict(allow_none=True, metadata={"description": "The process data as it stands."})
    tasks = fields.List(fields.Nested(TaskSchema), metadata={"description": "Its ready human tasks."})
    error = fields.Dict(allow_none=True, metadata={"description": "The failed element and message."})


class InstancePageSchema(Schema):
    items = fields.List(fields.Nested(InstanceListedSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class EventSchema(Schema):
    seq = fields.Integer(required=True)
    type = fields.String(required=True, metadata={"description": "started, task_completed, ..."})
    task = fields.String(allow_none=True, metadata={"description": "The element id."})
    task_id = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    at = UtcDateTime(required=True)
    data = fields.Dict(allow_none=True)
    rewound = fields.Boolean(metadata={"description": "Undone by a later rewind (kept in the log)."})


class ProblemSchema(Schema):
    file = fields.String(required=True)
    line = fields.Integer(allow_none=True)
    element = fields.String(allow_none=True, metadata={"description": "The BPMN/DMN element id."})
    message = fields.String(required=True)


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": "A stable code, e.g. `conflict`."})
    message = fields.String(required=True)
    problems = fields.List(
        fields.Nested(ProblemSchema),
        metadata={"description": "`deployment_refused` only: every problem of the bundle."},
    )


class DeployedProcessSchema(Schema):
    id = fields.String(required=True)
    version = fields.Integer(required=True, metadata={"description": "New only if its content changed."})


class DeploymentSchema(Schema):
    processes = fields.List(fields.Nested(DeployedProcessSchema), required=True)


class VersionSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    version = fields.Integer(required=True)
    deployed_by = fields.String(allow_none=True)
    deployed_at = UtcDateTime(required=True)
    running = fields.Integer(required=True, metadata={"description": "Instances running on it now."})
    total = fields.Integer(required=True, metadata={"description": "Instances ever started on it."})


class SourceFileSchema(Schema):
    filename = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "Bytes, exactly as deployed."})
    content_type = fields.String(required=True)
    url = fields.String(required=True)


class ProcessChangesSchema(Schema):
    process_id = fields.String(required=True)
    added = fields.List(fields.String(), required=True)
    removed = fields.List(fields.String(), required=True)
    changed = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"description": "Element id -> the names of its changed attributes."},
    )
    renamed = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={
            "description": "Old element id -> new element id: the same step under another id, aligned "
            "by its place in the flow. Migration and replay carry the instances' data and log across."
        },
    )


class VersionDiffSchema(Schema):
    processes = fields.List(fields.Nested(ProcessChangesSchema), required=True)
    forms_added = fields.List(fields.String(), required=True)
    forms_removed = fields.List(fields.String(), required=True)
    forms_changed = fields.List(fields.String(), required=True)


class ValidationErrorSchema(ErrorSchema):
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"description": "Field path -> its messages."},
    )


# -- admin: repair, replay, migrate (issue 5) ----------------------------------------------------


class ReasonRequestSchema(RequestSchema):
    reason = fields.String(
        load_default="",
        validate=validate.Length(max=1000),
        metadata={"description": "Why (required to suspend and terminate); kept in the event log."},
    )


# Blank is no reason: "   " passed the length check and the engine's refusal was a 409, a
# conflict, for what is bad input.
_SAID = validate.Regexp(r"(?s).*\S", error="a reason is required, not only spaces")


class RequiredReasonSchema(RequestSchema):
    reason = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=1000), _SAID],
        metadata={"description": "Why; kept in the event log with who did it."},
    )


class RewindRequestSchema(RequiredReasonSchema):
    task_id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=36),
        metadata={"description": "The task id of a completed step, from the instance's event log."},
    )


class SkipRequestSchema(RequiredReasonSchema):
    data = fields.Dict(
        keys=fields.String(),
        allow_none=True,
        load_default=None,
        metadata={"description": "Stored as the skipped task's result (optional)."},
    )


class DataEditRequestSchema(RequiredReasonSchema):
    changes = fields.Dict(
        keys=fields.String(),
        required=True,
        validate=validate.Length(min=1, error="name at least one variable to change"),
        metadata={"description": "Process variable -> its new value; old and new are logged."},
    )


# JSON's own true and false only, and whole numbers only: "yes" or 2.99 is refused, not read as
# true or 2 (a migration to the wrong version).
def _flag(**kwargs):
    return StrictBoolean(**kwargs)


def _reason():
    return fields.String(
        load_default="",
        validate=validate.Length(max=1000),
        metadata={"description": "Why; kept in the event log."},
    )


class ReplayRequestSchema(RequestSchema):
    version = fields.Integer(
        strict=True,
        validate=validate.Range(min=1),
        metadata={"description": "Replay on this version of the process (default: its own)."},
    )
    dry_run = _flag(
        load_default=True, metadata={"description": "Only compare; otherwise replace the stored state."}
    )
    reason = _reason()


class MigrateRequestSchema(RequestSchema):
    version = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    dry_run = _flag(load_default=False)
    reason = _reason()


class MigrationsRequestSchema(MigrateRequestSchema):
    # Every id checked before any instance is touched: each migrates in its own transaction.
    instance_ids = fields.List(
        fields.Integer(strict=True, validate=ROW_ID),
        required=True,
        validate=validate.Length(min=1, max=1000),
    )


class ReplayReportSchema(Schema):
    instance_id = fields.Integer(required=True)
    version = fields.Integer(required=True, metadata={"description": "The version replayed on."})
    matches = fields.Boolean(required=True, metadata={"description": "The replay equals the stored state."})
    applied = fields.Integer(required=True, metadata={"description": "Events applied."})
    divergence = fields.Dict(
        allow_none=True,
        metadata={"description": "{seq, event, reason}: the first event where they diverge, and why."},
    )
    replaced = fields.Boolean(required=True, metadata={"description": "The stored state was replaced."})
    replaceable = fields.Boolean(
        metadata={"description": "A replay that writes would put its state in place (no divergence)."}
    )


class MigrationResultSchema(Schema):
    instance_id = fields.Integer(required=True)
    ok = fields.Boolean(required=True, metadata={"description": "It can move (dry run) or it moved."})
    process_id = fields.String(allow_none=True)
    from_version = fields.Integer(allow_none=True)
    to_version = fields.Integer(allow_none=True)
    method = fields.String(allow_none=True, metadata={"description": "diff or replay."})
    reason = fields.String(allow_none=True, metadata={"description": "Why it cannot move."})
    diff = fields.Nested(VersionDiffSchema, allow_none=True)
    migrated = fields.Boolean(required=True)
    instance = fields.Nested(InstanceSchema, allow_none=True, metadata={"description": "After the move."})


class VersionChangeSchema(Schema):
    process_id = fields.String(required=True)
    from_version = fields.Integer(required=True)
    diff = fields.Nested(VersionDiffSchema, required=True)


class MigrationBatchSchema(Schema):
    version = fields.Integer(required=True)
    diffs = fields.List(fields.Nested(VersionChangeSchema), required=True)
    instances = fields.List(fields.Nested(MigrationResultSchema), required=True)
