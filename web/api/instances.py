"""Instances: list, read, their event log, and messages sent to them."""

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


@bp.get("/instances")
@token_required
@operation(
    "List instances",
    query=schemas.InstanceQuerySchema,
    responses={200: schemas.InstancePageSchema},
)
def list_instances():
    """Instances newest first, filtered by `status` and `process_id`, one page at a time
    (`page` from 1, `per_page` up to 100), each with its ready tasks and its data: what the
    caller's groups may read (R4.3.4), as for one instance."""
    query = parse_query(schemas.shared(schemas.InstanceQuerySchema))
    page = engine.list_instances(db.session, **query, actor=g.user.actor)
    return dump(schemas.shared(schemas.InstancePageSchema), page)


@bp.get("/instances/<int:instance_id>")
@token_required
@operation("Get an instance", responses={200: schemas.InstanceSchema, 404: None})
def get_instance(instance_id):
    """An instance with its ready tasks and its current data: the steps' data whose documents
    the caller's groups may read (R4.3.4)."""
    info = engine.get_instance(db.session, instance_id, clock=clock(), actor=g.user.actor)
    return dump(schemas.shared(schemas.InstanceSchema), info)


@bp.get("/instances/<int:instance_id>/events")
@token_required
@operation("Get an instance's event log", responses={200: [schemas.EventSchema], 404: None})
def list_events(instance_id):
    """What happened to the instance, oldest first: who did what to which task, with what data
    (none for the steps whose documents the caller's groups may not read, R4.3.4)."""
    events = engine.instance_events(db.session, instance_id, actor=g.user.actor)
    return dump(schemas.shared(schemas.EventSchema, many=True), events)


@bp.post("/instances/<int:instance_id>/messages/<message_name>")
@token_required
@operation(
    "Send a message to an instance",
    body=schemas.DataRequestSchema,
    responses={202: schemas.InstanceSchema, 403: None, 404: None, 409: None, 422: None},
)
def send_message(instance_id, message_name):
    """Deliver a message (e.g. `change_request`) with its payload. 409 when the instance is not
    waiting for it now; who may send it follows the diagram."""
    body = parse_body(schemas.shared(schemas.DataRequestSchema))
    info = committed(
        lambda: engine.send_message(
            db.session, instance_id, message_name, body["data"], g.user.actor, clock=clock()
        )
    )
    return dump_instance(info, 202)
