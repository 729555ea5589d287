"""`python -m bench` (`make bench`): run the five benchmarks on SQLite and PostgreSQL, print the
figures and write them to bench/RESULTS.md. `--size tiny` runs everything at toy sizes (the test
does that; its figures mean nothing and are not written unless --out is given)."""

import argparse
import json
import logging
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from . import api, documents, engine_only, floor, growth, listing, parts, startup
from .setup import database, pg_available, prepared_app

SIZES = {
    "full": {"clients": 8, "procedures": 6, "single": 100, "engine": 10, "instances": 100_000, "events": 10,
             "rounds": 300, "versions": 20, "starts": 5, "pdf": (300, 3000, 20000), "parts": 3, "floor": 300},
    "tiny": {"clients": 2, "procedures": 1, "single": 3, "engine": 1, "instances": 200, "events": 2,
             "rounds": 1, "versions": 2, "starts": 1, "pdf": (300,), "parts": 1, "floor": 3},
}  # fmt: skip
TARGETS = {
    "api": "≥ 150 completions/s, p99 < 50 ms",
    "ratio": "API/engine ≤ 5×",
    "listing": "p50 < 20 ms",
    "growth": "round 300 within 3× of round 1",
}


def run_on(kind, size, say) -> dict:
    with database(kind) as url:
        app, tokens = prepared_app(url)
        with app.app_context():
            from web.extensions import db

            db.engine.dispose()
        say(f"[{kind}] 1. REST API throughput")
        results = {"api": api.throughput(url, tokens, size["clients"], size["procedures"])}
        results["single"] = api.single(url, tokens, size["single"])
        results["single_one_worker"] = api.single(url, tokens, size["single"], workers=1)
        results["parts"] = parts.completion_parts(app, tokens, size["parts"])
        results["floor"] = floor.floor(url, size["floor"])
        with app.app_context():  # the connections the in-process completions opened
            db.engine.dispose()
        say(f"[{kind}] 4. cost growth")
        results["growth"] = growth.growth(url, size["rounds"])
        say(f"[{kind}] 5. start-up")
        results["versions"] = startup.deploy_versions(url, size["versions"])
        results["startup"] = startup.startup(url, tokens["it"], size["starts"])
        say(f"[{kind}] 3. inbox and lists over {size['instances']} instances")
        results["seed_s"] = round(listing.seed(url, size["instances"], size["events"]), 1)
        results["listing"] = listing.queries(url)
    return results


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    ) if Path("/proc/cpuinfo").exists() else platform.processor()  # fmt: skip
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())  # other work on the machine skews every figure
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average at the end: {load}"
    )


def report(results, size_name) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; size: {size_name}",
        f"- machine: {machine()}",
        "- run: `make bench` (python -m bench); medians (p50) and p99 in milliseconds",
        "",
        f"2. In memory, SpiffWorkflow alone (engine.Instance.complete_task): {fmt(results['engine'])}",
        "",
        "6. A document's PDF through the API (SQLite; WeasyPrint), by the length of its Chinese text: "
        + "; ".join(f"{p['chars']} characters ({p['kib']} KiB) {fmt(p)}" for p in results["pdf"]),
        "",
    ]
    for kind, r in results["databases"].items():
        a, single, one = r["api"], r["single"], r["single_one_worker"]
        engine_p50 = results["engine"]["p50"]
        ratios = [round(s["p50"] / engine_p50, 1) if s["p50"] and engine_p50 else None for s in (single, one)]
        lines += [
            f"## {kind}",
            "",
            "| benchmark | measured | target |",
            "|---|---|---|",
            f"| 1. completions/s, {a['workers']} gunicorn workers, {a['clients']} clients "
            f"({a['completions']} completions, {a['failed']} failed) | {a['per_second']}/s; "
            f"latency under load {fmt(a['latency'])} | {TARGETS['api']} |",
            f"| 1. one completion, unloaded, 2 workers (a request may land on the worker that did not "
            f"make the last step: it restores the instance) | {fmt(single)} | p99 < 50 ms |",
            f"| 1. one completion, unloaded, 1 worker (its copy of the instance always current) "
            f"| {fmt(one)} | p99 < 50 ms |",
            f"| 2. API / engine (p50), 2 workers; 1 worker | {ratios[0]}×; {ratios[1]}× | {TARGETS['ratio']} |",
            f"| 2. where one completion goes, in process (no HTTP): {_parts(r['parts'])} | — |",
            f"| 2. the floor: gunicorn, Flask and the statements every step needs, no workflow "
            f"(token, locked row, {r['floor']['state_kb']} KiB state written, one event, commit) | "
            f"{fmt(r['floor'])}; so no completion can do better than (floor + engine) / engine = "
            f"{_best(r['floor'], results['engine'])}× | — |",
        ]
        for name, q in r["listing"].items():
            lines.append(f"| 3. {name} ({q['rows']} rows) | {fmt(q)} | {TARGETS['listing']} |")
        first = r["growth"][0]["complete_ms"] if r["growth"] else None
        for g in r["growth"]:
            lines.append(
                f"| 4. rectification round {g['round']}: completion (median of 5 rounds), state | "
                f"{g['complete_ms']} ms ({round(g['complete_ms'] / first, 1)}× round 1), {g['state_kb']} KiB "
                f"| {TARGETS['growth']} |"
            )
        lines += [
            f"| 5. start-up + first requests, {r['versions']} versions | p50 {r['startup']['p50']} ms, "
            f"max {r['startup']['max']} ms | — |",
            "",
            f"Seeding for 3. took {r['seed_s']} s (bulk inserts).",
            "",
        ]
    return "\n".join(lines)


def _parts(p) -> str:
    rest = round(p["request"]["p50"] - p["step"]["p50"] - p["save"]["p50"] - p["commit"]["p50"], 2)
    return (
        "request, engine step, save (of which the state's JSON), commit, the rest (token, parsing, "
        f"loading, answer) | p50 {p['request']['p50']} ms = {p['step']['p50']} + {p['save']['p50']} "
        f"({p['state']['p50']}) + {p['commit']['p50']} + {rest} (n={p['request']['n']})"
    )


def _best(floor_, engine_) -> float | None:
    if not (floor_["p50"] and engine_["p50"]):
        return None
    return round((floor_["p50"] + engine_["p50"]) / engine_["p50"], 1)


def fmt(s) -> str:
    return f"p50 {s['p50']} ms, p99 {s['p99']} ms (n={s['n']})"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--size", choices=SIZES, default="full")
    parser.add_argument("--db", action="append", choices=("sqlite", "postgresql"))
    parser.add_argument(
        "--out", help="where to write the Markdown (default: bench/RESULTS.md for --size full)"
    )
    args = parser.parse_args(argv)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    size = SIZES[args.size]
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    kinds = args.db or ["sqlite", "postgresql"]
    results = {"engine": engine_only.completions(size["engine"]), "databases": {}}
    say("6. document PDFs")
    with database("sqlite") as url:
        results["pdf"] = documents.pdf_times(url, size["pdf"])
    for kind in kinds:
        if kind == "postgresql" and not pg_available():
            say("no PostgreSQL server answers: PostgreSQL skipped")
            continue
        results["databases"][kind] = run_on(kind, size, say)
    text = report(results, args.size)
    print(text)
    out = args.out or (Path(__file__).parent / "RESULTS.md" if args.size == "full" else None)
    if out:
        Path(out).write_text(text + "\n")
        Path(out).with_suffix(".json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    return results


if __name__ == "__main__":
    main()
