"""The benchmarks run (at toy sizes, on the database chosen with --db); no timing is asserted."""

import pytest
from databases import NO_SERVER

from bench.__main__ import main


def test_the_benchmarks_run_and_report_every_figure(request, tmp_path):
    out = tmp_path / "RESULTS.md"
    kind = request.config.getoption("--db")
    results = main(["--size", "tiny", "--db", kind, "--out", str(out)])
    if kind not in results["databases"]:
        pytest.skip(NO_SERVER)
    figures = results["databases"][kind]
    assert figures["api"]["completions"] > 0 and figures["api"]["failed"] == 0
    assert figures["single"]["n"] == figures["single_one_worker"]["n"] == 3
    assert [g["round"] for g in figures["growth"]] == [1]
    parts = figures["parts"]
    assert set(parts) == {"request", "step", "save", "state", "commit"}
    assert all(part["n"] == parts["request"]["n"] > 0 for part in parts.values())
    assert figures["floor"]["n"] == 3 and figures["floor"]["state_kb"] > 1
    assert figures["versions"] == 2
    assert set(figures["listing"]) == {
        "inbox, all tasks",
        "inbox, first 50",
        "inbox count (the badge on every page)",
        "instances page 1",
        "my running requests",
    }
    assert figures["listing"]["instances page 1"]["rows"] > 200  # the seeded ones and those driven
    text = out.read_text()
    assert f"## {kind}" in text and "machine:" in text and "date:" in text
    assert "| 5. start-up + first requests, 2 versions |" in text
    assert "| 2. where one completion goes, in process (no HTTP):" in text
    assert "| 2. the floor: gunicorn, Flask and the statements every step needs" in text
    [pdf] = results["pdf"]
    assert (pdf["chars"], pdf["n"]) == (300, 3) and pdf["kib"] > 0
    assert "6. A document's PDF through the API" in text and "300 characters" in text
