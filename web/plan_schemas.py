"""Schemas of the requirement pool and the annual plans (issue 9), for the API and the pages.

Kept apart from `web/schemas.py` so the two features can grow without touching each other's
file; the OpenAPI document lists them beside the others (`web/api/openapi.py`).
"""

from marshmallow import Schema, fields, validate

import engine

from .schemas import RequestSchema, UtcDateTime

PRIORITIES = ("high", "medium", "low")
SYSTEMS = ("oa", "business_management", "crm", "other")
PHASES = (*engine.PHASE_NAMES, "closed", "terminated")


def _money(**kwargs):
    # A JSON number (Float, not Decimal: apispec would write Decimal's minimum as a string); the
    # engine turns it into a Decimal of two places.
    # At most what the columns hold (Numeric(14, 2)).
    return fields.Float(validate=validate.Range(min=0, max=999_999_999_999.99), allow_nan=False, **kwargs)


class PoolQuerySchema(RequestSchema):
    system = fields.String(validate=validate.OneOf(SYSTEMS))
    department = fields.String(
        validate=validate.Length(min=1, max=200), metadata={"description": "Part of it."}
    )
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    phase = fields.String(validate=validate.OneOf(PHASES))
    initiator = fields.String(validate=validate.Length(min=1, max=80))
    q = fields.String(
        validate=validate.Length(max=200),
        metadata={"description": "Search title, system, department, initiator and number."},
    )
    sort = fields.String(load_default="accepted_at", validate=validate.OneOf(engine.SORTS))
    order = fields.String(load_default="asc", validate=validate.OneOf(("asc", "desc")))
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(("json", "csv")),
        metadata={"description": "csv: the same rows as a CSV file (UTF-8 with BOM)."},
    )


class WholeNumber(fields.Integer):
    """A whole number as JSON sends it, or as a page's form field does ("2026"); a fraction
    (2026.7) or true is refused, not cut down to 2026 or read as 1."""

    def _validated(self, value):
        if isinstance(value, bool | float):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class PlanCreateSchema(RequestSchema):
    year = WholeNumber(required=True, validate=validate.Range(min=2000, max=2100))
    budget_ceiling = _money(required=True)
    owner = fields.String(required=True, validate=validate.Length(min=1, max=80))


class PlanItemRequestSchema(RequestSchema):
    instance_id = WholeNumber(required=True, validate=validate.Range(min=1))
    quarter = fields.String(required=True, validate=validate.OneOf(engine.QUARTERS))
    planned_budget = _money(required=True)


class PlanQuerySchema(RequestSchema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))


class PoolEntrySchema(Schema):
    instance_id = fields.Integer(required=True)
    title = fields.String(allow_none=True)
    system = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    initiator = fields.String(required=True)
    requested_at = UtcDateTime(required=True)
    accepted_at = UtcDateTime(allow_none=True)
    accepted_by = fields.String(allow_none=True)
    priority = fields.String(allow_none=True, metadata={"description": "From analysis_report."})
    estimated_cost = fields.Float(
        allow_none=True,
        metadata={"description": "Licences + implementation + training (requirement_analysis)."},
    )
    contract_amount = fields.Float(allow_none=True, metadata={"description": "sign_contract.amount."})
    status = fields.String(required=True)
    waiting_at = fields.List(fields.String(), metadata={"description": "Element ids of its ready tasks."})
    phase = fields.String(allow_none=True, validate=validate.OneOf(PHASES))
    ended_at = UtcDateTime(allow_none=True)


class ReviewOutcomeSchema(Schema):
    instance_id = fields.Integer(required=True)
    title = fields.String(allow_none=True)
    system = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    initiator = fields.String(required=True)
    requested_at = UtcDateTime(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(("return", "reject")))
    reason = fields.String(allow_none=True, metadata={"description": "The reviewer's comment."})
    decided_by = fields.String(allow_none=True)
    decided_at = UtcDateTime(required=True)
    status = fields.String(required=True)
    waiting_at = fields.List(fields.String())


class PlanItemSchema(Schema):
    instance_id = fields.Integer(required=True)
    quarter = fields.String(required=True)
    planned_budget = fields.Float(required=True)
    title = fields.String(allow_none=True)
    system = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    priority = fields.String(allow_none=True)
    estimated_cost = fields.Float(allow_none=True)
    actual_cost = fields.Float(
        allow_none=True, metadata={"description": "Spending recorded by finance (project costs), once any."}
    )
    contract_amount = fields.Float(allow_none=True, metadata={"description": "sign_contract.amount."})
    phase = fields.String(allow_none=True)
    status = fields.String(allow_none=True)


class PlanSummarySchema(Schema):
    id = fields.Integer(required=True)
    year = fields.Integer(required=True)
    version = fields.Integer(required=True)
    label = fields.String(required=True, metadata={"description": "e.g. `2026 v2`."})
    status = fields.String(required=True, validate=validate.OneOf(("draft", "published")))
    is_current = fields.Boolean(
        required=True, metadata={"description": "The year's latest published version."}
    )
    budget_ceiling = fields.Float(required=True)
    planned_total = fields.Float(required=True)
    owner = fields.String(required=True)
    revision_of_id = fields.Integer(allow_none=True)
    created_by = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    published_by = fields.String(allow_none=True)
    published_at = UtcDateTime(allow_none=True)


class PlanSchema(PlanSummarySchema):
    actual_total = fields.Float(
        required=True, metadata={"description": "Sum of the items' recorded spending."}
    )
    items = fields.List(fields.Nested(PlanItemSchema), required=True)
