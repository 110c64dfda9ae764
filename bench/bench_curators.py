"""Many curators deciding at once: nothing lost, every conflict refused, latency and throughput.

    .venv/bin/python bench/bench_curators.py --db URL --curators N --decisions K [--json OUT]

Seeds its own documents (ids ``bench-<run>-<i>``, so a store in use is not disturbed; a new
SQLite path or an empty PostgreSQL database is simplest), builds the linker the app builds
(the small KB of the tests, TF-IDF only) once, and forks N processes. Each one does what the
Review page does, K times: open a mention (the latest decision it shows), think 0-5 ms, and
decide it through ``usecases.services.decide`` with that decision's id as the expected one.
The mention pool is small on purpose (about N*K/10 mentions, at least 10), so curators
collide often. Each process records what it stored (a unique note per attempt) and what was
refused as concurrent (``ConcurrentDecisionError``); anything else is an error.

Then every stored row is checked against what its process recorded (curator, mention,
status, concepts, and that the decision before it on the mention is the one the curator
saw: nothing was superseded silently). ``lost = attempted - stored - refused_concurrent``
with ``stored`` counting only verified rows; it must be 0. Printed and written (``--json``):
``{"curators", "attempted", "stored", "refused_concurrent", "lost", "decision_ms": {"p50",
"p95"}, "per_s", ...}``, with ``per_s`` the decisions stored per second of the deciding phase
and ``loadavg`` the machine's 1/5/15-minute load when it ended (the cores may be shared).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402

from bel_core.config import Settings  # noqa: E402
from bel_core.errors import ConcurrentDecisionError  # noqa: E402
from bel_core.linking.pipeline import LinkingPipeline  # noqa: E402
from bel_core.types import DecisionStatus, Document  # noqa: E402
from db.engine import make_engine, make_session_factory, open_store  # noqa: E402
from db.models import DecisionRow, DocumentRow, MentionRow  # noqa: E402
from usecases import decisions, services  # noqa: E402

KB = REPO / "tests" / "fixtures" / "kb_tiny.jsonl"
TEXT = "The boy had seizures and a small head. ASD was noted; no short stature, but Short fingers."
VERDICTS = (DecisionStatus.ACCEPTED, DecisionStatus.NIL, DecisionStatus.NOT_ENTITY)

_LINKER: LinkingPipeline | None = None  # built before the fork, inherited by every curator


def build_linker(data_dir: Path) -> LinkingPipeline:
    """The app's retrieval-only linker over the tests' small KB (about a second)."""
    env = {"BEL_KB": str(KB), "BEL_DENSE_ENABLED": "0", "BEL_DATA_DIR": str(data_dir)}
    return LinkingPipeline.from_settings(Settings.load(env=env))


def seed(url: str, linker: LinkingPipeline, run: str, n_mentions: int) -> list[tuple[str, int, int]]:
    """Store enough copies of a short text for ``n_mentions`` mentions; returns their keys."""
    store = open_store(url)
    keys: list[tuple[str, int, int]] = []
    i = 0
    while len(keys) < n_mentions:
        doc_id = f"bench-{run}-{i}"
        with store.begin() as session:
            services.ingest_document(session, linker, Document(doc_id, TEXT, source="bench"))
            rows = session.execute(
                select(MentionRow.start, MentionRow.end).join(DocumentRow).where(DocumentRow.doc_id == doc_id)
            )
            keys += [(doc_id, start, end) for start, end in rows]
        i += 1
    store.kw["bind"].dispose()
    return keys[:n_mentions]


def curator(index: int, url: str, keys: list[tuple[str, int, int]], k: int, start: Any, out: Any) -> None:
    """One curator's K attempts; puts its record on ``out``."""
    assert _LINKER is not None
    name = f"curator{index:03d}"
    rng = random.Random(index)
    store = make_session_factory(make_engine(url))
    stored: list[dict[str, Any]] = []
    refused = errors = 0
    latencies: list[float] = []
    start.wait()
    for attempt in range(k):
        key = rng.choice(keys)
        with store() as session:  # the page shows the mention and its latest decision
            view = decisions.perspective(session, name)
            shown = decisions.latest_visible(session, key, view)
        expected = shown.id if shown else None
        time.sleep(rng.uniform(0, 0.005))
        status = rng.choice(VERDICTS)
        note = f"{name}/{attempt}"
        t0 = time.perf_counter()
        try:
            with store.begin() as session:
                decision = services.decide(
                    session, _LINKER, key, status, curator=name, note=note, expected_latest_decision_id=expected
                )
            ids = list(decision.concept_ids)
            stored.append(
                {"note": note, "key": list(key), "status": status.value, "concept_ids": ids, "expected": expected}
            )
        except ConcurrentDecisionError:
            refused += 1
        except Exception as e:  # noqa: BLE001 - counted and shown: an error is a lost decision
            errors += 1
            print(f"{name}: {type(e).__name__}: {e}", file=sys.stderr)
        latencies.append((time.perf_counter() - t0) * 1000)
    store.kw["bind"].dispose()
    record = {"curator": name, "attempted": k, "stored": stored, "refused": refused, "errors": errors}
    out.put({**record, "latencies": latencies})


def verify(url: str, run: str, records: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """Rows matching what their process recorded, and a line per mismatch."""
    store = open_store(url)
    with store() as session:
        rows = session.execute(
            select(DecisionRow, DocumentRow.doc_id, MentionRow.start, MentionRow.end)
            .join(MentionRow, MentionRow.id == DecisionRow.mention_id)
            .join(DocumentRow)
            .where(DocumentRow.doc_id.like(f"bench-{run}-%"))
            .order_by(DecisionRow.id)
        ).all()
    store.kw["bind"].dispose()
    previous: dict[tuple[str, int, int], int] = {}
    by_note: dict[str, tuple[Any, tuple[str, int, int], int | None]] = {}
    for row, doc_id, start, end in rows:
        key = (doc_id, start, end)
        by_note[row.note] = (row, key, previous.get(key))
        previous[key] = row.id
    problems: list[str] = []
    verified = 0
    recorded_notes = set()
    for record in records:
        for s in record["stored"]:
            recorded_notes.add(s["note"])
            found = by_note.get(s["note"])
            if found is None:
                problems.append(f"{s['note']}: reported stored, not in the store")
                continue
            row, key, before = found
            found_record = (row.curator, list(key), row.status.value, list(row.concept_ids))
            if found_record != (record["curator"], s["key"], s["status"], s["concept_ids"]):
                problems.append(f"{s['note']}: stored row differs from what its curator recorded")
            elif before != s["expected"]:
                problems.append(f"{s['note']}: superseded decision {before}, the curator saw {s['expected']}")
            else:
                verified += 1
    problems += [f"{note}: in the store, not reported stored" for note in sorted(set(by_note) - recorded_notes)]
    return verified, problems


def run(url: str, n: int, k: int) -> dict[str, Any]:
    global _LINKER
    run_id = uuid.uuid4().hex[:8]
    n_mentions = max(10, n * k // 10)
    with tempfile.TemporaryDirectory() as data_dir:
        _LINKER = build_linker(Path(data_dir))
        keys = seed(url, _LINKER, run_id, n_mentions)
        context = multiprocessing.get_context("fork")  # the curators share the built linker
        start, out = context.Event(), context.Queue()
        procs = [context.Process(target=curator, args=(i, url, keys, k, start, out)) for i in range(n)]
        for p in procs:
            p.start()
        time.sleep(0.5)  # every process connected and waiting
        t0 = time.perf_counter()
        start.set()
        records = [out.get() for _ in procs]
        wall = time.perf_counter() - t0
        for p in procs:
            p.join()
    attempted = sum(r["attempted"] for r in records)
    refused = sum(r["refused"] for r in records)
    verified, problems = verify(url, run_id, records)
    latencies = sorted(x for r in records for x in r["latencies"])
    return {
        "curators": n,
        "attempted": attempted,
        "stored": verified,
        "refused_concurrent": refused,
        "lost": attempted - verified - refused,
        "decision_ms": {
            "p50": round(statistics.median(latencies), 2),
            "p95": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 2),
        },
        "per_s": round(verified / wall, 1),
        "errors": sum(r["errors"] for r in records),
        "problems": problems[:20],
        "backend": make_engine(url).dialect.name,
        "decisions_per_curator": k,
        "mentions": n_mentions,
        "wall_s": round(wall, 2),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="database URL (sqlite:///PATH or postgresql://...)")
    parser.add_argument("--curators", type=int, required=True, help="processes deciding at once (N)")
    parser.add_argument("--decisions", type=int, required=True, help="attempts per curator (K)")
    parser.add_argument("--json", type=Path, help="write the result here too")
    args = parser.parse_args()
    result = run(args.db, args.curators, args.decisions)
    text = json.dumps(result)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0 if result["lost"] == 0 and not result["problems"] else 1


if __name__ == "__main__":
    sys.exit(main())
