"""Annual plan pages: the list (IT creates a year's plan there), one plan with planned against
actual budget and each project's phase; IT places requirements, publishes and revises.

A mistake in what was typed (not in the pool, over the ceiling, a bad number) comes back as a
message on the plan's page; refusals (403, 404, 409 for a published plan) are error pages.
"""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from marshmallow import EXCLUDE, ValidationError

import engine

from .. import plan_schemas
from ..extensions import db
from ..extensions import engine_clock as clock
from . import bp
from .layout import split_message
from .pool import labels
from .refusals import FORM, refused


def _form(schema_class) -> dict | None:
    try:
        return schema_class(unknown=EXCLUDE).load(request.form.to_dict())
    except ValidationError as error:
        flash(refused(FORM, error.messages), "error")
        return None


def _may_edit() -> bool:
    return current_user.is_admin or "it" in current_user.groups


@bp.get("/plans")
def plans():
    return render_template(
        "pages/plans.html",
        plans=engine.list_plans(db.session, current_user.actor),
        may_edit=_may_edit(),
        this_year=clock()().year,
    )


@bp.post("/plans")
def create_plan():
    body = _form(plan_schemas.PlanCreateSchema)
    if body is None:
        return redirect(url_for("pages.plans"))
    try:
        info = engine.create_plan(db.session, current_user.actor, clock=clock(), **body)
    except (engine.PlanError, engine.PlanConflict) as error:
        db.session.rollback()
        flash(split_message(str(error)), "error")
        return redirect(url_for("pages.plans"))
    db.session.commit()
    flash(gettext("已建立 %(plan)s 年度計劃草稿。", plan=info.label), "success")
    return redirect(url_for("pages.plan", plan_id=info.id))


@bp.get("/plans/<int:plan_id>")
def plan(plan_id):
    info = engine.get_plan(db.session, current_user.actor, plan_id)
    candidates = []
    if info.status == "draft" and _may_edit():
        placed = {item.instance_id for item in info.items}
        pool = engine.requirement_pool(db.session, current_user.actor, sort="priority")
        candidates = [entry for entry in pool if entry.instance_id not in placed]
    return render_template(
        "pages/plan.html",
        plan=info,
        candidates=candidates,
        quarters=engine.QUARTERS,
        may_edit=_may_edit(),
        **labels(),
    )


def _plan_step(plan_id, call, done_message):
    try:
        call()
    except (engine.PlanError, engine.PlanConflict) as error:
        # What was typed does not fit (not in the pool, over the ceiling): say so on the page.
        db.session.rollback()
        flash(split_message(str(error)), "error")
        return redirect(url_for("pages.plan", plan_id=plan_id))
    db.session.commit()
    flash(done_message, "success")
    return redirect(url_for("pages.plan", plan_id=plan_id))


@bp.post("/plans/<int:plan_id>/items")
def place_item(plan_id):
    body = _form(plan_schemas.PlanItemRequestSchema)
    if body is None:
        return redirect(url_for("pages.plan", plan_id=plan_id))
    return _plan_step(
        plan_id,
        lambda: engine.place_item(db.session, current_user.actor, plan_id, **body),
        gettext("已將需求 #%(id)s 列入計劃。", id=body["instance_id"]),
    )


@bp.post("/plans/<int:plan_id>/items/<int:instance_id>/remove")
def remove_item(plan_id, instance_id):
    return _plan_step(
        plan_id,
        lambda: engine.remove_item(db.session, current_user.actor, plan_id, instance_id),
        gettext("已將需求 #%(id)s 移出計劃。", id=instance_id),
    )


@bp.post("/plans/<int:plan_id>/publish")
def publish_plan(plan_id):
    return _plan_step(
        plan_id,
        lambda: engine.publish_plan(db.session, current_user.actor, plan_id, clock=clock()),
        gettext("計劃已發佈，此版本不可再修改。"),
    )


@bp.post("/plans/<int:plan_id>/revise")
def revise_plan(plan_id):
    info = engine.revise_plan(db.session, current_user.actor, plan_id, clock=clock())
    db.session.commit()
    flash(gettext("已建立修訂版 %(plan)s。", plan=info.label), "success")
    return redirect(url_for("pages.plan", plan_id=info.id))
