"""A new request: the start form of a process (by default the regulation's `software_upgrade`).

As on a task page, form.js posts the data as JSON; engine.start_instance validates it and a
rejected submission answers 422 with the errors by field, starting nothing.
"""

from flask import current_app, flash, jsonify, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

import engine

from ..extensions import db
from ..extensions import engine_clock as clock
from . import bp
from .tasks import parse_submission

MAIN_PROCESS = "software_upgrade"


@bp.app_context_processor
def _request_links():
    def may_raise_request() -> bool:
        """Whether the pages offer the reader a new request: only its starters may raise one
        (the link led others to a 403)."""
        if not current_user.is_authenticated:
            return False
        try:
            engine.require_starter(
                db.session, current_app.config.get("MAIN_PROCESS", MAIN_PROCESS), current_user.actor
            )
        except (engine.NotAllowed, engine.ProcessNotFound, SQLAlchemyError):  # a page about an outage too
            return False
        return True

    return {"may_raise_request": may_raise_request}


def _process_id():
    return request.args.get("process") or current_app.config.get("MAIN_PROCESS", MAIN_PROCESS)


@bp.get("/requests/new")
def new_request():
    process = engine.get_process(db.session, _process_id())
    engine.require_starter(db.session, process.id, current_user.actor)  # else a 403, not a form to refuse
    return render_template(
        "pages/new_request.html",
        process=process,
        schema=process.start_form,
        submit_url=url_for("pages.start_request", process=process.id),
    )


@bp.post("/requests/new")
def start_request():
    submission = parse_submission()
    info = engine.start_instance(
        db.session, _process_id(), submission["data"], current_user.actor, clock=clock()
    )
    db.session.commit()
    flash(gettext("申請已提交（編號 %(id)s）。", id=info.id), "success")
    return jsonify(redirect=url_for("pages.instance", instance_id=info.id), instance_id=info.id), 201
