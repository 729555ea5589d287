"""Ready human tasks: the caller's inbox, one task with its form, claim, unclaim, complete."""

from dataclasses import asdict

from flask import g

import engine

from .. import schemas
from ..auth import token_required
from ..extensions import db
from ..extensions import engine_clock as clock
from ..transactions import committed
from . import bp
from .http import dump, dump_instance, parse_body, parse_query
from .openapi import operation


@bp.get("/tasks")
@token_required
@operation(
    "List the tasks I may act on", query=schemas.TaskQuerySchema, responses={200: [schemas.TaskSchema]}
)
def list_tasks():
    """Ready human tasks the caller may act on: `assigned=me` (assigned to me), `group`
    (unassigned, in my groups) or `any` (both); optionally of one instance."""
    query = parse_query(schemas.shared(schemas.TaskQuerySchema))
    tasks = engine.list_tasks(db.session, g.user.actor, **query)
    return dump(schemas.shared(schemas.TaskSchema, many=True), tasks)


@bp.get("/tasks/<task_id>")
@token_required
@operation(
    "Get a task with its form",
    responses={200: schemas.TaskDetailSchema, 403: None, 404: None, 409: None},
)
def get_task(task_id):
    """A ready task with its form-js JSON (`schema`) and the values the form opens with (`data`)."""
    task, form_schema, values = engine.get_task(db.session, task_id, g.user.actor, clock=clock())
    return dump(
        schemas.shared(schemas.TaskDetailSchema), {**asdict(task), "form_schema": form_schema, "data": values}
    )


@bp.post("/tasks/<task_id>/claim")
@token_required
@operation("Claim a task", responses={200: schemas.InstanceSchema, 403: None, 404: None, 409: None})
def claim_task(task_id):
    """Assign a ready group task to the caller; until they give it back only they may complete it."""
    info = committed(lambda: engine.claim_task(db.session, task_id, g.user.actor, clock=clock()))
    return dump_instance(info)


@bp.post("/tasks/<task_id>/unclaim")
@token_required
@operation(
    "Give a claimed task back", responses={200: schemas.InstanceSchema, 403: None, 404: None, 409: None}
)
def unclaim_task(task_id):
    """Give a claimed task back to its groups."""
    info = committed(lambda: engine.unclaim_task(db.session, task_id, g.user.actor, clock=clock()))
    return dump_instance(info)


@bp.post("/tasks/<task_id>/complete")
@token_required
@operation(
    "Complete a task",
    body=schemas.DataRequestSchema,
    responses={200: schemas.InstanceSchema, 403: None, 404: None, 409: None, 422: None},
)
def complete_task(task_id):
    """Complete a ready task with its form's values. A group member may complete an unclaimed task
    directly. 409 when the task is no longer ready or someone else has claimed it."""
    body = parse_body(schemas.shared(schemas.DataRequestSchema))
    info = committed(
        lambda: engine.complete_task(db.session, task_id, body["data"], g.user.actor, clock=clock())
    )
    return dump_instance(info)
