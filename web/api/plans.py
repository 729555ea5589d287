"""Annual upgrade plans: create, read, place requirements, publish, revise."""

from flask import g

import engine

from .. import plan_schemas as schemas
from ..auth import token_required
from ..extensions import db
from ..extensions import engine_clock as clock
from ..schemas import shared
from . import bp
from .http import dump, parse_body, parse_query
from .openapi import operation


@bp.get("/plans")
@token_required
@operation(
    "List annual plans",
    query=schemas.PlanQuerySchema,
    responses={200: [schemas.PlanSummarySchema], 403: None},
)
def list_plans():
    """Every plan version, newest year and version first (IT and management)."""
    query = parse_query(shared(schemas.PlanQuerySchema))
    return dump(
        shared(schemas.PlanSummarySchema, many=True),
        engine.list_plans(db.session, g.user.actor, **query),
    )


@bp.post("/plans")
@token_required
@operation(
    "Create a year's plan",
    body=schemas.PlanCreateSchema,
    responses={201: schemas.PlanSchema, 403: None, 409: None},
)
def create_plan():
    """Version 1 of a year's plan, as a draft (IT). 409 when the year has a plan: revise it."""
    body = parse_body(shared(schemas.PlanCreateSchema))
    info = engine.create_plan(db.session, g.user.actor, clock=clock(), **body)
    db.session.commit()
    return dump(shared(schemas.PlanSchema), info, 201)


@bp.get("/plans/<int:plan_id>")
@token_required
@operation("Get a plan", responses={200: schemas.PlanSchema, 403: None, 404: None})
def get_plan(plan_id):
    """A plan version with its items: quarter, planned budget, actual cost and phase of each."""
    return dump(shared(schemas.PlanSchema), engine.get_plan(db.session, g.user.actor, plan_id))


@bp.post("/plans/<int:plan_id>/items")
@token_required
@operation(
    "Place a requirement in a plan",
    body=schemas.PlanItemRequestSchema,
    responses={200: schemas.PlanSchema, 400: None, 403: None, 404: None, 409: None},
)
def place_item(plan_id):
    """Place a pool requirement in a draft plan with its target quarter and planned budget (again:
    change them). 400 when the request is not in the pool; 409 when the plan is published."""
    body = parse_body(shared(schemas.PlanItemRequestSchema))
    info = engine.place_item(db.session, g.user.actor, plan_id, **body)
    db.session.commit()
    return dump(shared(schemas.PlanSchema), info)


@bp.delete("/plans/<int:plan_id>/items/<int:instance_id>")
@token_required
@operation(
    "Take a requirement out of a plan",
    responses={200: schemas.PlanSchema, 403: None, 404: None, 409: None},
)
def remove_item(plan_id, instance_id):
    """Take a requirement out of a draft plan. 404 when it is not in the plan; 409 when the plan
    is published."""
    info = engine.remove_item(db.session, g.user.actor, plan_id, instance_id)
    db.session.commit()
    return dump(shared(schemas.PlanSchema), info)


@bp.post("/plans/<int:plan_id>/publish")
@token_required
@operation(
    "Publish a plan",
    responses={200: schemas.PlanSchema, 403: None, 404: None, 409: None},
)
def publish_plan(plan_id):
    """Publish a draft: it becomes read-only and its year's current plan. 409 when it is
    published already (`plan_published`) or its planned budgets exceed the ceiling
    (`plan_conflict`)."""
    info = engine.publish_plan(db.session, g.user.actor, plan_id, clock=clock())
    db.session.commit()
    return dump(shared(schemas.PlanSchema), info)


@bp.post("/plans/<int:plan_id>/revisions")
@token_required
@operation(
    "Revise a published plan",
    responses={201: schemas.PlanSchema, 403: None, 404: None, 409: None},
)
def revise_plan(plan_id):
    """A new draft version of the year's latest published plan, with its items copied."""
    info = engine.revise_plan(db.session, g.user.actor, plan_id, clock=clock())
    db.session.commit()
    return dump(shared(schemas.PlanSchema), info, 201)
