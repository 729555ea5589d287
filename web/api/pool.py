"""The requirement pool: accepted requests, and the returned and rejected ones IT keeps an eye on."""

from flask import g

import engine

from .. import plan_schemas as schemas
from ..auth import token_required
from ..extensions import db
from ..pool_export import pool_csv
from ..schemas import shared
from . import bp
from .http import dump, parse_query
from .openapi import operation


@bp.get("/pool")
@token_required
@operation(
    "List the requirement pool",
    query=schemas.PoolQuerySchema,
    responses={200: [schemas.PoolEntrySchema], 403: None},
)
def list_pool():
    """Every request accepted at preliminary review, with its priority, estimated cost and where
    its instance stands; filtered, searched (`q`) and sorted (`sort`, `order`). IT and management
    see all requests, business users their own; others get 403. `format=csv` answers a CSV file."""
    query = parse_query(shared(schemas.PoolQuerySchema))
    export = query.pop("format") == "csv"
    descending = query.pop("order") == "desc"
    entries = engine.requirement_pool(db.session, g.user.actor, descending=descending, **query)
    return pool_csv(entries) if export else dump(shared(schemas.PoolEntrySchema, many=True), entries)


@bp.get("/pool/declined")
@token_required
@operation(
    "List returned and rejected requests",
    responses={200: [schemas.ReviewOutcomeSchema], 403: None},
)
def list_declined():
    """Requests whose latest preliminary review returned them for revision or rejected them, with
    the reviewer's comment as the reason, newest first. IT only."""
    return dump(
        shared(schemas.ReviewOutcomeSchema, many=True),
        engine.review_outcomes(db.session, g.user.actor),
    )
