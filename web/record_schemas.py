"""Schemas of the regulation's records in the API: documents, risks, training, costs, dashboard."""

from datetime import datetime

from marshmallow import Schema, fields, validate

import engine

from .schemas import RequestSchema, UtcDateTime


class Money(fields.Decimal):
    """An amount as exact decimal text ("198001.00"), never a binary float, and declared so in
    the OpenAPI description (a plain Decimal field is declared a number)."""

    def __init__(self, **kwargs):
        metadata = {"type": "string", "format": "decimal", **kwargs.pop("metadata", {})}
        super().__init__(as_string=True, metadata=metadata, **kwargs)


class Stamped(fields.Dict):
    """A record of free fields whose times are ISO 8601 with their offset, as everywhere else
    in the API (Flask would write them as HTTP dates)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        stamp = UtcDateTime()
        return {
            key: stamp._serialize(item, key, value) if isinstance(item, datetime) else item
            for key, item in value.items()
        }


class DocumentSchema(Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    document_id = fields.String(metadata={"description": "e.g. acceptance_report"})
    title = fields.String(
        metadata={"description": "the regulation's name, e.g. 《軟件升級改造項目驗收報告》"}
    )
    category = fields.String(
        metadata={"description": "requirement | project | test | acceptance | operation"}
    )
    clause = fields.String()
    version = fields.Integer()
    sha256 = fields.String(metadata={"description": "SHA-256 of the content as canonical JSON"})
    author = fields.String(allow_none=True)
    reviewer = fields.String(allow_none=True)
    approved_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()
    signoffs = fields.List(fields.Dict())
    destroyed_at = UtcDateTime(allow_none=True)
    status = fields.String(metadata={"description": "draft | in_review | archived (final) | destroyed"})
    review_instance_id = fields.Integer(allow_none=True)
    archived_at = UtcDateTime(allow_none=True)
    archived_by = fields.String(allow_none=True)


class DocumentDetailSchema(Schema):
    document = fields.Nested(DocumentSchema)
    content = fields.Dict(metadata={"description": "the data the document is made of, by step"})
    versions = fields.List(fields.Nested(DocumentSchema))


class ReviewRequestSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class DocumentQuerySchema(RequestSchema):  # an unknown parameter (`verison`) is a 400 naming it
    version = fields.Integer(load_default=None, validate=validate.Range(min=1))


class RiskRequestSchema(Schema):
    # The values are checked by the engine (422 naming each field), as the risk forms are.
    category = fields.String(
        required=True, metadata={"description": "technical | business | security | schedule | cost"}
    )
    description = fields.String(required=True)
    likelihood = fields.String(required=True, metadata={"description": "high | medium | low"})
    impact = fields.String(required=True, metadata={"description": "severe | major | general | minor"})
    measures = fields.String(load_default="", metadata={"description": "required for a high risk (R5.3.1)"})


class RatingSchema(Schema):
    element_id = fields.String()
    actor = fields.String(allow_none=True)
    at = UtcDateTime()
    risks = fields.List(fields.Dict())


class RiskRegisterSchema(Schema):
    instance_id = fields.Integer()
    title = fields.String(allow_none=True)
    risks = fields.List(fields.Dict())
    history = fields.List(fields.Nested(RatingSchema))
    matrix = fields.Method("_matrix", metadata={"description": "likelihood -> impact -> open risks"})
    open_high = fields.List(fields.Dict())
    high_without_plan = fields.List(fields.Dict())

    def _matrix(self, register):
        return {lk: {im: register.matrix[(lk, im)] for im in engine.IMPACTS} for lk in engine.LIKELIHOODS}


class TrainingSchema(Schema):
    instance_id = fields.Integer()
    title = fields.String(allow_none=True)
    plan = fields.Dict()
    sessions = fields.List(Stamped())
    assessments = fields.List(Stamped())
    passed = fields.Boolean()
    retrain_rounds = fields.Integer()
    trainees = fields.List(
        Stamped(), metadata={"description": "each trainee's latest result: trainee, result, method, round"}
    )
    retraining = fields.List(fields.String(), metadata={"description": "who failed their latest assessment"})


class CostItemSchema(Schema):
    id = fields.Integer()
    category = fields.String()
    amount = Money()
    spent_on = fields.Date()
    description = fields.String(allow_none=True)
    recorded_by = fields.String()
    recorded_at = UtcDateTime()


class CostRecordedSchema(CostItemSchema):
    actual = Money(metadata={"description": "spending after this cost"})
    budget = Money(allow_none=True)
    over_budget = fields.Boolean()
    overrun_review = fields.String(
        allow_none=True,
        metadata={
            "description": "raised, already_open, no_crossing, not_running, not_accepted, no_budget; "
            "null when within the budget"
        },
    )
    overrun_note = fields.String(allow_none=True)


class CostRequestSchema(Schema):
    category = fields.String(required=True, validate=validate.OneOf(engine.COST_CATEGORIES))
    # Positive, at most two places: checked by the engine (a 422 naming `amount`).
    amount = fields.Decimal(required=True, metadata={"description": "yuan, positive"})
    spent_on = fields.Date(required=True)
    description = fields.String(load_default=None, validate=validate.Length(max=300))


class CostSummarySchema(Schema):
    instance_id = fields.Integer()
    title = fields.String(allow_none=True)
    estimated = Money(allow_none=True)
    budgeted = Money(allow_none=True)
    approved = Money(allow_none=True)
    contracted = Money(allow_none=True)
    additional = Money(metadata={"description": "approved in overrun reviews"})
    budget = Money(allow_none=True, metadata={"description": "approved + additional"})
    actual = Money()
    threshold = Money()
    over_budget = fields.Boolean()
    items = fields.List(fields.Nested(CostItemSchema))


class HighRisksSchema(Schema):
    instance_id = fields.Integer()
    title = fields.String(allow_none=True)
    open_high = fields.List(fields.Dict())


class OverBudgetSchema(Schema):
    instance_id = fields.Integer()
    title = fields.String(allow_none=True)
    budget = Money(allow_none=True)
    actual = Money()


class PhaseTimeSchema(Schema):
    phase = fields.String()
    count = fields.Integer(metadata={"description": "projects that went through the phase and left it"})
    average_seconds = fields.Function(
        lambda t: None if t.average is None else int(t.average.total_seconds()), allow_none=True
    )


class DashboardQuerySchema(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


class DashboardSchema(Schema):
    phases = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "running projects per phase of the regulation (`none`: at no phase's step)"},
    )
    phase_times = fields.List(
        fields.Nested(PhaseTimeSchema),
        metadata={"description": "average time per phase over the projects that left it (completed phases)"},
    )
    by_phase = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "running instances of any process per element they wait at"},
    )
    overdue = fields.Dict(keys=fields.String(), values=fields.Integer())
    high_risks = fields.List(fields.Nested(HighRisksSchema))
    over_budget = fields.List(fields.Nested(OverBudgetSchema))
    awaiting_review = fields.Method("_awaiting")

    def _awaiting(self, board):
        return [
            {"instance_id": i, "document_id": d, "version": v, "review_instance_id": r}
            for i, d, v, r in board.awaiting_review
        ]


class UploadSchema(Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    element_id = fields.String(metadata={"description": "the step whose task the file is attached to"})
    kind = fields.String()
    title = fields.String()
    category = fields.String()
    filename = fields.String()
    media_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.String()
    uploaded_at = UtcDateTime()
    destroyed_at = UtcDateTime(
        allow_none=True, metadata={"description": "when its retention was up and the file deleted (R4.3.5)"}
    )
