"""The training record (R6): the plan made with the implementation plan, the sessions held, and
each assessment with every trainee's result, the rounds that sent users back to training and the
trainees who failed their latest assessment (to be trained again)."""

from dataclasses import dataclass, field

from .document_catalog import require_register
from .models import InstanceRecord
from .records import latest, submissions
from .tasks import Actor

PLAN_FIELDS = ("training_goals", "training_content", "training_method", "training_time", "trainers")
TRAINING_STEPS = ("implementation_plan", "training", "training_assessment")


@dataclass
class TrainingRecord:
    instance_id: int
    title: str | None
    plan: dict = field(default_factory=dict)
    sessions: list = field(default_factory=list)  # each session as submitted, with who and when
    assessments: list = field(default_factory=list)  # each assessment round, oldest first

    @property
    def passed(self) -> bool:
        return bool(self.assessments) and self.assessments[-1].get("decision") == "pass"

    @property
    def retrain_rounds(self) -> int:
        return sum(1 for a in self.assessments if a.get("decision") == "retrain")

    @property
    def trainees(self) -> list:
        """Each trainee's latest result (R6: per trainee, exam or practical, pass or fail), in the
        order they were first assessed: {trainee, result, method, round, assessed_at}."""
        latest_result = {}
        for round_, assessment in enumerate(self.assessments, start=1):
            for row in assessment.get("results") or []:
                name = str(row.get("trainee") or "").strip()
                if name:
                    latest_result[name] = {
                        "trainee": name,
                        "result": row.get("result"),
                        "method": assessment.get("assessment_method"),
                        "round": round_,
                        "assessed_at": assessment.get("assessed_at"),
                    }
        return list(latest_result.values())

    @property
    def retraining(self) -> list:
        """The trainees whose latest assessment they failed: to be trained again."""
        return [t["trainee"] for t in self.trainees if t["result"] == "fail"]


def training_record(session, instance_id, actor: Actor | None = None) -> TrainingRecord:
    """A project's training plan, sessions and assessments. Raises InstanceNotFound, or
    NotAllowed when `actor` is given and may not read it (`document_catalog.REGISTERS`)."""
    require_register(actor, "training")
    from .workflows import InstanceNotFound

    record = session.get(InstanceRecord, instance_id)
    if record is None:
        raise InstanceNotFound(f"no instance {instance_id}")
    found = submissions(session, [instance_id], TRAINING_STEPS).get(instance_id, {})
    plan = latest(found, "implementation_plan")
    result = TrainingRecord(instance_id, record.title, {k: plan[k] for k in PLAN_FIELDS if k in plan})
    for row in found.get("training", []):
        for held in (row.data or {}).get("sessions") or []:
            result.sessions.append({**held, "recorded_by": row.actor, "recorded_at": row.at})
    for row in found.get("training_assessment", []):
        result.assessments.append({**(row.data or {}), "assessed_by": row.actor, "assessed_at": row.at})
    return result
