"""The departments of the regulation (R2) as groups, and the lanes that stand for them."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Group:
    id: str
    name_zh: str
    name_en: str
    clause: str


GROUPS = (
    Group("business", "業務部門", "Business departments", "R2.2"),
    Group("it", "信息化管理部門", "IT Management Department", "R2.1"),
    Group("finance", "財務部門", "Finance Department", "R2.3"),
    Group("management", "公司管理層", "Company management", "R3.3.2"),
    Group("vendor", "軟件供應商", "Software vendor", "R2.4"),
    Group("qa", "質量保證", "Quality assurance", "R3.5.2"),
    # Not a department of the regulation: the people who deploy and edit the diagrams (issue 4).
    Group("process_owner", "流程負責人", "Process owners", "—"),
)
PROCESS_OWNER = "process_owner"
GROUP_IDS = frozenset(g.id for g in GROUPS)

# A lane named after a department (either language) stands for its group, so a diagram drawn
# with lanes but without camunda:candidateGroups still routes its tasks.
LANE_GROUPS = {name: g.id for g in GROUPS for name in (g.name_zh, g.name_en, g.id)}
