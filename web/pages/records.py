"""A project's records: its risk register with the likelihood × impact matrix (R5), its training
(R6) and its costs (R2.3.2), where finance records what was spent."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from marshmallow import ValidationError

import engine

from ..extensions import db
from ..extensions import engine_clock as clock
from ..record_schemas import CostRequestSchema
from ..transactions import committed
from . import bp
from .present import Terms, present_rows
from .refusals import refused
from .sources import version_sources

# The cost register's categories (the engine's, not a form's).
COST_TERMS = {
    "licences": lazy_gettext("軟件許可"),
    "implementation": lazy_gettext("實施"),
    "training": lazy_gettext("培訓"),
    "other": lazy_gettext("其他"),
}

COST_NOT_RECORDED = lazy_gettext("費用未記錄")
RISK_NOT_RAISED = lazy_gettext("風險未登記")
# The fields of the page's two forms, as their labels read.
COST_FIELDS = {
    "category": lazy_gettext("類別"),
    "amount": lazy_gettext("金額(元)"),
    "spent_on": lazy_gettext("支出日期"),
    "description": lazy_gettext("說明"),
}
RISK_FIELDS = {
    "category": lazy_gettext("風險類別"),
    "description": lazy_gettext("風險描述"),
    "likelihood": lazy_gettext("發生可能性"),
    "impact": lazy_gettext("影響程度"),
    "measures": lazy_gettext("應對措施"),
}

# What the page says after a cost is recorded, by `CostRecorded.overrun_review`.
OVERRUN_REVIEW = {
    "raised": lazy_gettext("實際支出已達超支閾值，已向財務部門發起費用超支審核。"),
    "already_open": lazy_gettext("實際支出超出預算；費用超支審核尚未完成，未重複發起。"),
    "no_crossing": lazy_gettext("實際支出超出預算，但未達到新的超支級別，未發起審核。"),
    "not_running": lazy_gettext("實際支出超出預算；流程未在運行，未發起審核。"),
    "not_accepted": lazy_gettext("實際支出超出預算；此流程版本沒有費用超支審核，未發起審核。"),
    "no_budget": lazy_gettext("尚無核准預算，無法判斷是否超支。"),
}


def cost_threshold():
    """The configured overrun threshold (`COST_OVERRUN_THRESHOLD`, a fraction: 0.10 is 10%)."""
    return current_app.config["COST_OVERRUN_THRESHOLD"]


@bp.get("/instances/<int:instance_id>/records")
def instance_records(instance_id):
    """Risks, training and costs of one project on one page: those the user's groups may read
    (403 when none)."""
    actor = current_user.actor
    readable = {r: engine.may_read_register(actor, r) for r in ("risks", "training", "costs")}
    if not any(readable.values()):
        raise engine.NotAllowed(f"{actor.username} may not read this project's records")
    project = engine.get_instance(db.session, instance_id, clock=clock(), actor=actor)
    terms = Terms(version_sources(project.process_id, project.version))
    training = engine.training_record(db.session, instance_id) if readable["training"] else None
    return render_template(
        "pages/records.html",
        project=project,
        terms=terms,
        cost_terms=COST_TERMS,
        plan_rows=present_rows(training.plan, terms.labels) if training and training.plan else [],
        register=engine.risk_register(db.session, instance_id, clock=clock()) if readable["risks"] else None,
        training=training,
        costs=engine.project_costs(db.session, instance_id, threshold=cost_threshold())
        if readable["costs"]
        else None,
        likelihoods=engine.LIKELIHOODS,
        impacts=engine.IMPACTS,
        cost_categories=engine.COST_CATEGORIES,
        risk_categories=("technical", "business", "security", "schedule", "cost"),
        may_record=bool(current_user.actor.groups & {"finance"}),
    )


@bp.post("/instances/<int:instance_id>/costs")
def record_cost(instance_id):
    """Finance records an actual cost (403 for anyone else, from the engine); a cost that crosses
    the overrun threshold raises finance's review in the same transaction, and the page says so."""
    try:
        form = {k: v for k, v in request.form.items() if k != "csrf_token"}
        body = CostRequestSchema().load(form)
    except ValidationError as error:
        flash(refused(COST_NOT_RECORDED, error.messages, COST_FIELDS), "error")
        return redirect(url_for("pages.instance_records", instance_id=instance_id) + "#costs"), 303
    try:
        recorded = committed(
            lambda: engine.record_cost(
                db.session,
                instance_id,
                actor=current_user.actor,
                clock=clock(),
                threshold=cost_threshold(),
                **body,
            )
        )
    except engine.FormValidationError as error:  # the engine's own rules: positive, two places
        db.session.rollback()
        flash(refused(COST_NOT_RECORDED, error.errors, COST_FIELDS), "error")
        return redirect(url_for("pages.instance_records", instance_id=instance_id) + "#costs"), 303
    flash(gettext("費用已記錄。"), "success")
    if recorded.overrun_review in OVERRUN_REVIEW:
        flash(str(OVERRUN_REVIEW[recorded.overrun_review]), "info")
    return redirect(url_for("pages.instance_records", instance_id=instance_id) + "#costs"), 303


@bp.post("/instances/<int:instance_id>/risks")
def raise_risk(instance_id):
    """Raise a risk from the records page; a refused one is named in a message, nothing stored."""
    try:
        risk = {k: v for k, v in request.form.items() if k != "csrf_token"}
        engine.raise_risk(db.session, instance_id, risk, current_user.actor, clock=clock())
    except engine.FormValidationError as error:
        db.session.rollback()
        flash(refused(RISK_NOT_RAISED, error.errors, RISK_FIELDS), "error")
        return redirect(url_for("pages.instance_records", instance_id=instance_id) + "#risks"), 303
    db.session.commit()
    flash(gettext("風險已登記。"), "success")
    return redirect(url_for("pages.instance_records", instance_id=instance_id) + "#risks"), 303
