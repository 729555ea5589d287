"""The three steps every API handler takes, apart from its one engine call."""

from flask import g, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import BadRequest

import engine

from .. import jsontext, schemas


def _problem(messages, prefix="") -> list[str]:
    # Flatten marshmallow's nested messages into "data.risks.0: message" lines.
    if isinstance(messages, dict):
        return [
            line
            for key, value in messages.items()
            for line in _problem(value, f"{prefix}.{key}" if prefix else str(key))
        ]
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{prefix}: {' '.join(messages)}" if prefix else " ".join(messages)]
    return [f"{prefix}: {messages}"]


def parse(schema, payload) -> dict:
    """`payload` loaded through `schema`. Raises BadRequest (400) naming every problem."""
    try:
        return schema.load(payload)
    except ValidationError as error:
        raise BadRequest("invalid request: " + "; ".join(_problem(error.messages))) from None


def parse_body(schema) -> dict:
    """The JSON object body loaded through `schema`. Raises BadRequest (400)."""
    if not request.is_json:
        raise BadRequest("invalid request: the body must be a JSON object (Content-Type: application/json)")
    try:
        payload = request.get_json()
    except BadRequest as error:  # says why: where the text is broken, a number too long, ...
        detail = error.__cause__ if isinstance(error.__cause__, BadRequest) else error  # Flask hides it
        raise BadRequest(f"invalid request: {detail.description}") from None
    if not isinstance(payload, dict):
        raise BadRequest("invalid request: the body must be a JSON object, not " + type(payload).__name__)
    found = jsontext.problem(payload)
    if found is not None:
        raise BadRequest(f"invalid request: {found}")
    return parse(schema, payload)


def parse_query(schema) -> dict:
    """The query string loaded through `schema`. Raises BadRequest (400)."""
    args = request.args
    repeated = sorted(key for key in args if len(args.getlist(key)) > 1)
    if repeated:
        raise BadRequest(f"invalid request: {', '.join(repeated)}: given more than once")
    return parse(schema, args.to_dict())


def dump(schema, obj, status=200):
    """A JSON response of `obj` dumped through `schema`."""
    return jsonify(schema.dump(obj)), status


def dump_instance(info, status=200):
    """An instance as the caller may read it (R4.3.4): a step's answer holds no more of the data
    than reading the instance would."""
    return dump(schemas.shared(schemas.InstanceSchema), engine.shown_to(g.user.actor, info), status)
