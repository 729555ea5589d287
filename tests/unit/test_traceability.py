"""The README's traceability table covers every clause R3–R6, and what it names exists."""

import re
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
REGULATION = ROOT.parent / "shared" / "regulation" / "en.md"
CLAUSE = re.compile(r"R[3-6]\.\d+\.\d+")


def table_rows():
    rows = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 4 and CLAUSE.fullmatch(cells[0]):
            rows[cells[0]] = cells
    return rows


def element_ids():
    ids = set()
    for path in [*ROOT.glob("processes/*.bpmn"), *ROOT.glob("processes/*.dmn")]:
        ids.update(
            el.get("id") for el in etree.parse(str(path)).iter() if isinstance(el.tag, str) and el.get("id")
        )
    return ids


@pytest.mark.skipif(not REGULATION.exists(), reason="../shared/regulation is not beside this checkout")
def test_every_clause_of_r3_to_r6_has_a_row():
    clauses = set(CLAUSE.findall(REGULATION.read_text(encoding="utf-8")))
    assert clauses, "no clause ids found in the regulation"
    assert sorted(clauses - set(table_rows()), key=lambda c: [int(p) for p in c[1:].split(".")]) == []


def test_each_row_names_existing_elements_and_tests_or_the_issue_that_will():
    ids = element_ids()
    rows = table_rows()
    assert len(rows) >= 52
    for clause, (_, _what, elements, tests) in rows.items():
        named = re.findall(r"`([\w.]+)`", elements)
        planned = re.search(r"issue \d+", elements + tests)
        assert named or planned, f"{clause}: no element and no planned issue"
        missing = [n for n in named if n not in ids]
        assert missing == [], f"{clause}: {missing} are not element ids in processes/"
        for path, name in re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", tests):
            source = (ROOT / path).read_text(encoding="utf-8")
            assert re.search(rf"def {name}\(", source), f"{clause}: {path}::{name} does not exist"
        if not planned:
            assert re.search(r"`tests/[\w/]+\.py::\w+`", tests), f"{clause}: no test named"
