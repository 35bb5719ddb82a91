"""The assistant, measured (issue 14, "Measured, not claimed"): on the held-out quarter of the
labelled questions (src/dieuhanh/assistant/labelled_questions.jsonl, split "test", never used to
tune the reader) over the demo's two years of figures —

- exact-query accuracy: the question read into exactly the expected query (goal ≥ 90 %);
- figure correctness: each figure an answer states equals the analytics engine's own figure for
  the indicator, unit and period it is stated for (goal ≥ 98 %; a misread question is counted by
  the exact-query accuracy, its figures are still checked for what they claim);
- invented figures: numbers in the answers that no query returned (goal 0);
- latency of a whole question (read, run, write the answer, record the conversation and its
  audit entry, commit) p50/p95, offline (goal p95 < 300 ms), against the bare analytics call for
  the same expected query measured in the same run.

Each held-out split is measured and reported on its own: ``test`` (the quarter of
labelled_questions.jsonl) and ``test2`` (heldout_questions.jsonl, written independently, when
present). Only figures are printed, never a held-out question or its reading.

    .venv/bin/python bench/assistant.py [--backend sqlite|postgresql]
                                        [--split held-out|test|test2|dev]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from throwaway import database_url  # bench/throwaway.py, beside this script

from dieuhanh.assistant import evaluation, numbers
from dieuhanh.assistant.query import Query
from dieuhanh.assistant.service import ask
from dieuhanh.assistant.vocabulary import load
from dieuhanh.auth.models import User
from dieuhanh.bootstrap import setup
from dieuhanh.capabilities import build_runtime
from dieuhanh.core.access import Principal, Role
from dieuhanh.core.config import load_settings
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators import demo as indicator_demo
from dieuhanh.indicators.analytics import analytics
from dieuhanh.indicators.catalog.periods import parse_period
from dieuhanh.units.service import find_unit

DATABASE = "dieuhanh_bench_assistant"
FIGURE_OPERATIONS = ("value", "compare_last_year", "compare_previous", "rank", "trend")


def say(message: str) -> None:
    print(message, flush=True)


def make_runtime(url: str, folder: Path) -> Runtime:
    settings = load_settings(
        database_url=url,
        data_dir=folder,
        cameras={"credential_keys": ["dGVzdC1rZXktZm9yLWRpZXVoYW5oLXRlc3RzLTMyYmI="]},
    )
    runtime = build_runtime(settings)
    setup(runtime)
    indicator_demo.ensure_values(runtime, today=evaluation.TODAY)
    return runtime


def operator(runtime: Runtime) -> Principal:
    with runtime.sessions() as session:
        admin = session.scalars(select(User).where(User.username == "admin")).one()
        province = find_unit(session, runtime.settings.province_code)
        assert province is not None
        return Principal(admin.id, admin.username, "", Role.PROVINCE_ADMIN, province.id,
                         province.code, province.name, None, "api")  # fmt: skip


def reference(session: Any, expected: dict[str, Any]) -> float:
    """How long the bare analytics call for the expected query takes: the baseline, what any
    screen showing these figures pays."""
    query = Query.from_json(expected)
    periods = [parse_period(p) for p in query.periods]
    if query.operation == "compare_last_year":
        periods += [p.same_period_last_year() for p in periods]
    elif query.operation == "compare_previous":
        periods += [p.previous() for p in periods]
    level = query.level if query.operation == "rank" else None
    units = None if level else list(query.units)
    started = time.perf_counter()
    if query.is_element:
        analytics.element_values(session, elements=[query.code or ""], units=units,
                                 level=level, parent="75", periods=periods)  # fmt: skip
    else:
        analytics.analyze(session, indicators=[query.code or ""], units=units, level=level,
                          parent="75", periods=periods)  # fmt: skip
    return time.perf_counter() - started


def truth(session: Any, figures: list[dict[str, Any]]) -> dict[tuple[str, str, str], float | None]:
    """The analytics engine's own figure for each (indicator, unit, period) an answer states."""
    found: dict[tuple[str, str, str], float | None] = {}
    for figure in figures:
        code, unit, period = figure["indicator"], figure["unit"], figure["period"]
        if "." in code:
            continue  # a count of records (cameras, reports): not an analytics figure
        if code.startswith("#"):
            rows = analytics.element_values(session, elements=[code[1:]], units=[unit],
                                            periods=[parse_period(period)])  # fmt: skip
            found[(code, unit, period)] = rows[0].value if rows else None
        else:
            rows2 = analytics.query(session, indicators=[code], units=[unit],
                                    periods=[parse_period(period)])  # fmt: skip
            found[(code, unit, period)] = rows2[0].value if rows2 else None
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--split", choices=("held-out", *evaluation.HELD_OUT, "dev"), default="held-out"
    )
    args = parser.parse_args()
    present = evaluation.splits()
    wanted = (
        [s for s in evaluation.HELD_OUT if s in present]
        if args.split == "held-out"
        else [args.split]
    )
    with tempfile.TemporaryDirectory() as folder:
        url = database_url(args.backend, Path(folder), DATABASE)
        say(f"{args.backend}: setting up the province and the demo's figures…")
        runtime = make_runtime(url, Path(folder))
        try:
            for split in wanted:
                measure(runtime, split)
        finally:
            runtime.close()


def measure(runtime: Runtime, split: str) -> None:
    principal = operator(runtime)
    items = [item for item in evaluation.labelled() if item.split == split]
    with runtime.sessions() as session:
        vocabulary = load(session, runtime.settings.province_code)
        exact = sum(evaluation.read(item, vocabulary) == item.expected for item in items)
        # Warm up: the vocabulary cache and underthesea's merger table, read once per process.
        ask(session, runtime, principal, items[0].question, today=evaluation.TODAY)
    stated = correct = invented = 0
    latencies: list[float] = []
    baselines: list[float] = []
    by_kind: dict[str, list[int]] = {}
    for item in items:
        with runtime.sessions() as session:
            started = time.perf_counter()
            reply = ask(session, runtime, principal, item.question, today=evaluation.TODAY)
            latencies.append(time.perf_counter() - started)
            permitted = numbers.allowed(
                [item.question, *(q["text"] for q in reply["queries"]), *reply["items"],
                 *(f"{f['unitName']} {f['periodName']}" for f in reply["figures"])],
                [f["value"] for f in reply["figures"]] + reply["derived"],
            )  # fmt: skip
            invented += len(numbers.invented(reply["answer"], permitted))
            if item.expected["operation"] in FIGURE_OPERATIONS:
                baselines.append(reference(session, item.expected))
                real = truth(session, reply["figures"])
                for figure in reply["figures"]:
                    if "." in figure["indicator"]:
                        continue
                    stated += 1
                    key = (figure["indicator"], figure["unit"], figure["period"])
                    correct += real[key] == figure["value"]
        right = evaluation.read(item, vocabulary) == item.expected
        by_kind.setdefault(item.kind, [0, 0])[0] += right
        by_kind[item.kind][1] += 1
    p50, p95 = _percentile(latencies, 50), _percentile(latencies, 95)
    base50 = statistics.median(baselines)
    say(f"{len(items)} {split} questions ({runtime.engine.dialect.name})")
    say(f"exact query: {exact}/{len(items)} = {exact / len(items):.1%} (goal ≥ 90 %)")
    for kind, (good, total) in sorted(by_kind.items()):
        say(f"  {kind:>18}: {good}/{total}")
    share = correct / stated if stated else 1.0
    say(f"stated figures correct: {correct}/{stated} = {share:.1%} (goal ≥ 98 %)")
    say(f"invented figures: {invented} (goal 0)")
    latency = f"p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"
    say(f"latency of a question: {latency} (goal p95 < 300 ms)")
    bare = f"median {base50 * 1000:.1f} ms"
    say(f"bare analytics call for the same query: {bare}; question p50 = {p50 / base50:.1f}×")


def _percentile(values: list[float], q: int) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


if __name__ == "__main__":
    main()
