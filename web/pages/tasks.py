"""A task's page: its Camunda Form rendered by form-js, completed through engine.complete_task.

The browser posts the form's data as JSON (with the CSRF token in `X-CSRFToken`); a rejected
submission answers 422 with `errors` by field path, which the page puts back onto the same
form-js fields. Nothing is stored for a rejected submission.
"""

from flask import abort, flash, jsonify, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from marshmallow import EXCLUDE, Schema, ValidationError, fields

import engine

from .. import jsontext
from ..errors import error_response
from ..extensions import db
from ..extensions import engine_clock as clock
from ..transactions import committed
from . import bp
from .layout import claim_state
from .sources import Sources


class SubmissionSchema(Schema):
    """What form.js posts: the form's data, and the instance the page was showing."""

    class Meta:
        unknown = EXCLUDE

    data = fields.Dict(required=True)
    instance_id = fields.Integer(load_default=None)


def parse_submission() -> dict:
    """The page's JSON submission, checked as an API body is (`jsontext.problem`)."""
    payload = request.get_json(silent=True) or {}
    found = jsontext.problem(payload)
    if found is not None:
        abort(400, description=f"invalid submission: {found}")
    try:
        return SubmissionSchema().load(payload)
    except ValidationError as error:
        abort(400, description=f"invalid submission: {error.messages}")


def completed_elsewhere(task_id, instance_id):
    """The 409 answer naming who completed the task since the page was loaded, else None.

    The engine says only that the task is gone (404) or no longer ready (409); the instance's
    event log says who completed it and when, which is what the person needs to know.
    """
    if instance_id is None:
        return None
    try:
        events = engine.instance_events(db.session, instance_id)
    except engine.InstanceNotFound:
        return None
    done = next((e for e in reversed(events) if e.type == "task_completed" and e.task_id == task_id), None)
    if done is None:
        return None
    return error_response(
        409,
        "task_completed",
        gettext("此任務剛剛已由 %(actor)s 完成。", actor=done.actor or "?"),
        instance_id=instance_id,
        completed_by=done.actor,
        completed_at=done.at.isoformat(),
    )


@bp.get("/tasks/<task_id>")
def task(task_id):
    actor = current_user.actor
    try:
        info, schema, values = engine.get_task(db.session, task_id, actor, clock=clock())
    except (engine.TaskNotFound, engine.InstanceConflict):
        gone = completed_elsewhere(task_id, request.args.get("instance", type=int))
        if gone is not None:
            return gone
        raise
    instance = engine.get_instance(db.session, info.instance_id, clock=clock(), actor=actor)
    sources = Sources(engine.process_sources(db.session, instance.process_id, instance.version))
    element = sources.elements.get(info.name)
    return render_template(
        "pages/task.html",
        task=info,
        instance=instance,
        schema=schema,
        values=values or {},
        documentation=element.documentation if element else None,
        may_complete=engine.may_complete(actor, info),
        claim=claim_state(info, actor.username),
        submit_url=url_for("pages.complete", task_id=info.id),
    )


@bp.post("/tasks/<task_id>/complete")
def complete(task_id):
    submission = parse_submission()
    try:
        info = committed(
            lambda: engine.complete_task(
                db.session, task_id, submission["data"], current_user.actor, clock=clock()
            )
        )
    except (engine.TaskNotFound, engine.InstanceConflict):
        db.session.rollback()
        gone = completed_elsewhere(task_id, submission["instance_id"])
        if gone is not None:
            return gone
        raise
    flash(gettext("已提交。流程已進入下一步。"), "success")
    return jsonify(redirect=url_for("pages.inbox"), instance_id=info.id)
