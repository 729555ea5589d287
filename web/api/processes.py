"""Deployed processes, and starting an instance of one."""

from flask import g

import engine

from .. import schemas
from ..auth import token_required
from ..extensions import db
from ..extensions import engine_clock as clock
from . import bp
from .http import dump, dump_instance, parse_body
from .openapi import operation


@bp.get("/processes")
@token_required
@operation("List deployed processes", responses={200: [schemas.ProcessSchema]})
def list_processes():
    """The latest version of every deployed process."""
    return dump(schemas.shared(schemas.ProcessSchema, many=True), engine.list_processes(db.session))


@bp.get("/processes/<process_id>")
@token_required
@operation("Get a process with its start form", responses={200: schemas.ProcessDetailSchema, 404: None})
def get_process(process_id):
    """The latest version of a process with its start event's form-js JSON (or null)."""
    return dump(schemas.shared(schemas.ProcessDetailSchema), engine.get_process(db.session, process_id))


@bp.post("/processes/<process_id>/instances")
@token_required
@operation(
    "Start an instance",
    body=schemas.DataRequestSchema,
    responses={201: schemas.InstanceSchema, 404: None, 422: None},
)
def start_instance(process_id):
    """Start the latest version of a process with its start form's data; the caller is its initiator."""
    body = parse_body(schemas.shared(schemas.DataRequestSchema))
    info = engine.start_instance(db.session, process_id, body["data"], g.user.actor, clock=clock())
    db.session.commit()
    return dump_instance(info, 201)
