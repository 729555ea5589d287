"""API tokens: exchange a user name and password for a bearer token; revoke it."""

from flask import abort

import engine

from .. import schemas
from ..auth import bearer_token, token_required
from ..extensions import db
from . import bp
from .http import dump, parse_body
from .openapi import operation


@bp.post("/auth/token")
@operation(
    "Get a bearer token",
    body=schemas.TokenRequestSchema,
    responses={200: schemas.TokenSchema, 401: None},
    public=True,
)
def create_token():
    """Exchange a user name and password for a bearer token (stored hashed, revocable)."""
    body = parse_body(schemas.shared(schemas.TokenRequestSchema))
    # Two engine calls, one decision: the password check, then the token for that user.
    user = engine.authenticate(db.session, body["username"], body["password"])
    if user is None:
        abort(401, description="unknown user name or wrong password")
    token = engine.issue_token(db.session, user)
    db.session.commit()
    return dump(schemas.shared(schemas.TokenSchema), {"token": token})


@bp.delete("/auth/token")
@token_required
@operation("Revoke the token of this request", responses={204: None})
def revoke_token():
    """Revoke the bearer token sent with this request; it answers 401 from then on."""
    engine.revoke_token(db.session, bearer_token())
    db.session.commit()
    return "", 204
