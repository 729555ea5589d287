"""Process data as the pages show it: labelled by the forms deployed with the version."""

from pathlib import Path

import pytest

from web.pages.present import documents_of, present_data
from web.pages.sources import Sources

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sources():
    files = {
        p.name: p.read_text(encoding="utf-8") for d in ("processes", "forms") for p in (ROOT / d).iterdir()
    }
    return Sources(files)


def as_dict(rows):
    return {label: value for label, value in rows}


def test_the_sources_know_names_files_steps_and_called_processes(sources):
    assert sources.name("preliminary_review") == "需求初審"
    assert sources.name("no_such_element") == "no_such_element"
    assert sources.process_files["testing_acceptance"] == "testing_acceptance.bpmn"
    steps = [e.id for e in sources.user_tasks("software_upgrade")]
    assert steps[0] == "preliminary_review"
    assert {"sign_contract", "joint_test", "golive"} <= set(steps)  # from the called processes
    called = [(e.id, e.called) for e in sources.call_activities("software_upgrade")]
    assert ("implementation", "software_implementation") in called
    assert sources.elements["preliminary_review"].documentation.startswith("R3.1.2")


def test_step_data_is_labelled_by_its_form(app, sources):
    data = {
        "initiator": "alice",
        "preliminary_review": {"decision": "accept", "in_it_plan": True, "comment": ""},
        "initiation_application": {"budget": 180000},
        "risks": [{"category": "technical", "priority": "high", "measures": "備份"}],
    }
    with app.test_request_context():
        sections, variables = present_data(data, sources)
        review = as_dict(sections[0].rows)
        assert sections[0].title == "需求初審" and sections[0].element
        assert review["初審結論"].text == "受理"
        assert review["符合公司信息化規劃"].kind == "bool"
        assert review["審核意見"].kind == "empty"
        assert as_dict(sections[1].rows)["項目預算(元)"].text == "180,000"
        top = as_dict(variables)
        assert top["申請人"].text == "alice"
        risks = top["風險清單"]
        assert risks.kind == "table"
        assert {"風險類別", "優先級", "應對措施"} <= set(risks.headers)  # columns from several forms
        assert [cell.text for cell in risks.rows[0]][:1] == ["技術風險"]


def test_a_number_beyond_babels_precision_is_shown_as_written_not_a_500(app, sources):
    """1e28 passed a money field's rules (before they had a maximum) and every page and PDF of its
    document then failed: Babel's decimal formatting has 28 digits of precision."""
    from web.pages.layout import _money

    with app.test_request_context():
        sections, _ = present_data({"initiation_application": {"budget": 1e28}}, sources)
        assert as_dict(sections[0].rows)["項目預算(元)"].text == "1e+28"
        assert _money(1e28) == "1e+28"
        assert _money(180000) == "180,000.00"


def test_documents_appear_once_their_step_has_data():
    assert documents_of({}) == []
    produced = documents_of(
        {"requirement_request": {"title": "x"}, "acceptance_report": {"accepted_on": "2026-01-01"}}
    )
    assert [d.id for d in produced] == ["requirement_request", "acceptance_report"]
