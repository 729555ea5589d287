"""Process data as people read it: labelled key/value tables, and the regulation's documents.

Data is stored as forms submit it (`{"preliminary_review": {"decision": "accept"}}`); the labels
come from the forms deployed with the instance's version (see `sources`), so a renamed field
label shows in the version it was made with.
"""

from dataclasses import dataclass, field
from decimal import InvalidOperation

from flask_babel import format_decimal, lazy_gettext

from .sources import FieldLabels, Sources

# Values the diagrams' scripts compute (not typed into a form), and what they are called.
VARIABLE_LABELS = {
    "initiator": lazy_gettext("申請人"),
    "risks": lazy_gettext("風險清單"),
    "risk": lazy_gettext("風險"),
    "initiation_approval": lazy_gettext("立項批復"),
    "acceptance_report": lazy_gettext("驗收報告"),
    "support_end": lazy_gettext("技術支持期截止日期"),
    "approved_on": lazy_gettext("批復日期"),
    "budget": lazy_gettext("項目預算(元)"),
    "accepted_on": lazy_gettext("驗收日期"),
    "signed_by": lazy_gettext("簽署人"),
    "priority": lazy_gettext("優先級"),
}


@dataclass
class Document:
    """A document the regulation names, produced once a step has stored its data."""

    id: str
    title: object  # a lazy string: the regulation's name, translated
    source: str  # the data key it is made from
    clause: str


DOCUMENTS = (
    Document(
        "requirement_request", lazy_gettext("《軟件升級改造需求申請表》"), "requirement_request", "R3.1.1"
    ),
    Document("analysis_report", lazy_gettext("《軟件升級改造需求分析報告》"), "analysis_report", "R3.2.4"),
    Document(
        "initiation_application",
        lazy_gettext("《軟件升級改造項目立項申請表》"),
        "initiation_application",
        "R3.3.1",
    ),
    Document(
        "initiation_approval", lazy_gettext("《軟件升級改造項目立項批復》"), "initiation_approval", "R3.3.3"
    ),
    Document("contract", lazy_gettext("《軟件升級改造項目合同》"), "sign_contract", "R3.4.1"),
    Document(
        "implementation_plan", lazy_gettext("《軟件升級改造項目實施計劃》"), "implementation_plan", "R3.4.2"
    ),
    Document("test_report", lazy_gettext("《軟件升級改造測試報告》"), "self_test", "R3.5.1"),
    Document(
        "acceptance_report", lazy_gettext("《軟件升級改造項目驗收報告》"), "acceptance_report", "R3.5.5"
    ),
    Document("golive_plan", lazy_gettext("上線計劃及應急預案"), "golive_plan", "R3.6.1"),
)

# The document library's categories (R4.1), as the pages name them.
CATEGORY_LABELS = {
    "requirement": lazy_gettext("需求文檔"),
    "project": lazy_gettext("項目文檔"),
    "test": lazy_gettext("測試文檔"),
    "acceptance": lazy_gettext("驗收文檔"),
    "operation": lazy_gettext("運維文檔"),
}


@dataclass
class Value:
    """One value to show. kind: empty | text | bool | list | table | rows."""

    kind: str
    text: str | None = None
    items: list = field(default_factory=list)
    headers: list = field(default_factory=list)
    rows: list = field(default_factory=list)


@dataclass
class Section:
    key: str
    title: str
    rows: list  # [(label, Value)]
    element: bool = False  # the key is a step of the diagram (its submitted form)


def _label(key, labels: dict) -> str:
    known = labels.get(key)
    if known is not None and known.label:
        return known.label
    return str(VARIABLE_LABELS.get(key, key))


def _option(value, labels: FieldLabels | None) -> str:
    if labels is not None and value in labels.options:
        return str(labels.options[value])
    if isinstance(value, int | float) and not isinstance(value, bool):
        return grouped(value)
    return str(value)


def grouped(number) -> str:
    """A number with the reader's grouping (180000 -> 180,000); one beyond what Babel's decimal
    formatting takes (1e28: more digits than its precision) as Python writes it, not a 500."""
    try:
        return format_decimal(number)
    except (InvalidOperation, OverflowError, ValueError):
        return str(number)


def present(value, labels: FieldLabels | None = None, fallback: dict | None = None) -> Value:
    """A Value for any JSON value, using the field's labels where the form has them."""
    fallback = fallback or {}
    if value is None or value == "" or value == [] or value == {}:
        return Value("empty")
    if isinstance(value, bool):
        return Value("bool", text="yes" if value else "no")
    if isinstance(value, dict):
        return Value("rows", rows=present_rows(value, {**fallback, **(labels.rows if labels else {})}))
    if isinstance(value, list):
        if all(isinstance(item, dict) for item in value):
            return _table(value, labels.rows if labels else {}, fallback)
        return Value("list", items=[_option(item, labels) for item in value])
    return Value("text", text=_option(value, labels))


def _table(items, row_labels, fallback) -> Value:
    labels = {**fallback, **row_labels}
    keys = [k for k in row_labels if any(k in item for item in items)]
    keys += [k for item in items for k in item if k not in keys]
    keys = list(dict.fromkeys(keys))
    return Value(
        "table",
        headers=[_label(k, labels) for k in keys],
        rows=[[present(item.get(k), labels.get(k), fallback) for k in keys] for item in items],
    )


class Terms:
    """The words a version's forms give to coded values (`technical` -> 技術風險) and to keys, for
    pages that show a register's rows rather than a step's data."""

    def __init__(self, sources: Sources):
        self.labels = sources.all_labels()

    def of(self, key, value, within=None):
        """The option label of `value` for field `key` (of the dynamic list `within`), else the value."""
        labels = self.labels.get(within).rows if within in self.labels else self.labels
        found = labels.get(key)
        label = found.options.get(value) if found is not None else None
        return value if label is None else label


def present_rows(data: dict, labels: dict) -> list:
    return [(_label(key, labels), present(value, labels.get(key), labels)) for key, value in data.items()]


def present_data(data: dict | None, sources: Sources) -> tuple[list[Section], list]:
    """(sections for each step's submitted data and each computed record, other variables)."""
    every = sources.all_labels()
    sections, variables = [], {}
    for key, value in (data or {}).items():
        if isinstance(value, dict):
            is_step = key in sources.elements
            labels = {**every, **sources.labels_for(key)}
            title = sources.name(key) if is_step else _label(key, every)
            sections.append(Section(key, title, present_rows(value, labels), element=is_step))
        else:
            variables[key] = value
    return sections, present_rows(variables, every)


def documents_of(data: dict | None) -> list[Document]:
    """The regulation's documents the instance has produced so far."""
    data = data or {}
    return [d for d in DOCUMENTS if isinstance(data.get(d.source), dict) and data[d.source]]


def document(doc_id) -> Document | None:
    return next((d for d in DOCUMENTS if d.id == doc_id), None)
