"""Review loop latency in Chromium: from a key press to the next mention fully shown.

    python bench/bench_review.py --documents 2000 --decisions 100 --json review.json

Starts the app on a fresh data directory (``BEL_DATA_DIR``, ``BEL_DB_URL``) with the
embedded HPO KB (TF-IDF only: the dense encoder changes nothing the Review page does),
stores ``--documents`` documents with their mentions (BC5CDR train + dev, 1,000 PubMed
abstracts with their gold spans plus the HPO detector's mentions, imported and linked once
by ``bel import --detect-with-spans`` and then replicated under new ids with the same
mentions and candidates until there are N), opens
Review in headless Debian Chromium at 1440x900 and presses keys like a curator: ``a``
(accept the top candidate) or ``n`` (NIL) for each decision, ``j`` for each navigation,
``--pause-ms`` apart.

Each latency runs from the ``keydown`` (``performance.now()`` in a capturing listener the
benchmark installs) to the first animation frame after the component drew the new
mention (its ``window.__belReview.paintedAt``, set when the mention, its context and its
candidates are in the DOM). ``first_paint_ms`` is from navigation start to the first
mention drawn. ``load_average`` is the 1-minute load average at the end of the key presses.
The database is checked afterwards: every decision must be stored.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_common import DATA  # noqa: E402

CORPUS = [DATA / "bc5cdr" / "CDR_TrainingSet.PubTator.txt", DATA / "bc5cdr" / "CDR_DevelopmentSet.PubTator.txt"]
CHROMIUM = "/usr/bin/chromium"
KEY_LISTENER = """
window.__belKeys = [];
document.addEventListener('keydown', (e) => window.__belKeys.push(performance.now()), true);
"""


def _env(data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "BEL_DATA_DIR": str(data_dir),
        "BEL_DB_URL": f"sqlite:///{data_dir / 'bel.db'}",
        "BEL_DENSE_ENABLED": "0",
        "BEL_CURATOR": "bench",
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("BEL_CONFIG", None)
    return env


def store_documents(n: int, env: dict[str, str], corpus: list[Path]) -> dict[str, float]:
    """Import ``corpus`` (PubTator files) with ``bel import``, then replicate it to ``n`` documents."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "cli", "--db", env["BEL_DB_URL"], "import", *map(str, corpus)]
    command += ["--format", "pubtator", "--detect-with-spans"]
    subprocess.run(command, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    imported_s = time.perf_counter() - started
    from db import repository
    from db.engine import open_store

    store = open_store(env["BEL_DB_URL"])
    with store() as session:
        originals = [s.doc_id for s in repository.list_documents(session)]
    copy = 0
    while len(originals) * (copy + 1) < n:
        copy += 1
        for doc_id in originals[: n - len(originals) * copy]:
            _replicate(store, doc_id, f"{doc_id}~{copy}")
    with store() as session:
        summaries = repository.list_documents(session)
        n_mentions = sum(s.n_mentions for s in summaries)
    return {"documents": len(summaries), "mentions": n_mentions, "import_s": round(imported_s, 1)}


def _replicate(store: Any, doc_id: str, new_id: str) -> None:
    from dataclasses import replace

    from db import repository

    with store.begin() as session:
        document = repository.get_document(session, doc_id)
        repository.add_document(session, replace(document, doc_id=new_id))
        mentions = repository.list_mentions(session, doc_id)
        repository.add_mentions(session, [replace(m, doc_id=new_id) for m in mentions])
        results = repository.latest_link_results(session, doc_id).values()
        copied = [replace(r, mention=replace(r.mention, doc_id=new_id)) for r in results]
        if copied:
            repository.add_link_run(session, new_id, copied)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_app(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``streamlit run app.py`` on a free port; returns the process and its URL once healthy."""
    port = _free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return process, url
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    process.terminate()
    raise RuntimeError("streamlit did not become healthy in 300 s")


def _press_and_time(page: Any, key: str) -> float:
    """Press ``key``; milliseconds from its keydown to the frame after the component redrew."""
    before = page.evaluate("window.__belKeys.length")
    page.keyboard.press(key)
    page.wait_for_function(
        "([n]) => window.__belKeys.length > n && window.__belReview && "
        "window.__belReview.paintedAt > window.__belKeys[n]",
        arg=[before],
        timeout=30_000,
    )
    return float(page.evaluate("([n]) => window.__belReview.paintedAt - window.__belKeys[n]", [before]))


def drive(url: str, decisions: int, pause_ms: int) -> dict[str, Any]:
    """Open Review and time ``decisions`` decisions and as many navigations."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.set_default_timeout(600_000)
        page.goto(f"{url}/review")  # the first run builds the linker and the queue order
        page.wait_for_function("window.__belReview && window.__belReview.paintedAt > 0")
        page.add_init_script(KEY_LISTENER)
        page.goto(f"{url}/review")  # a new session: what a curator opening Review waits for
        page.wait_for_function("window.__belReview && window.__belReview.paintedAt > 0")
        first_paint = float(page.evaluate("window.__belReview.paintedAt"))
        page.wait_for_timeout(1000)
        decision_ms, navigate_ms = [], []
        for i in range(decisions):
            decision_ms.append(_press_and_time(page, "n" if i % 5 == 4 else "a"))
            page.wait_for_timeout(pause_ms)
            navigate_ms.append(_press_and_time(page, "j"))
            page.wait_for_timeout(pause_ms)
        load = os.getloadavg()[0]
        page.locator(".bel-saved[data-state=saved]").wait_for(timeout=120_000)  # every decision answered
        browser.close()
    return {"decision_ms": decision_ms, "navigate_ms": navigate_ms, "first_paint_ms": first_paint, "load": load}


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered), 1), "p95": round(p95, 1), "max": round(ordered[-1], 1)}


def _n_decisions(db_url: str) -> int:
    from sqlalchemy import func, select

    from db.engine import open_store
    from db.models import DecisionRow

    with open_store(db_url)() as session:
        return int(session.scalar(select(func.count(DecisionRow.id))) or 0)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table; ``--json`` also writes the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--decisions", type=int, default=100)
    parser.add_argument("--pause-ms", type=int, default=150, help="time between key presses")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--corpus", type=Path, nargs="+", default=CORPUS, help="PubTator files to replicate")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-review-") as tmp:
        data_dir = Path(tmp)
        env = _env(data_dir)
        stored = store_documents(args.documents, env, args.corpus)
        print(f"stored {stored['documents']} documents, {stored['mentions']} mentions", flush=True)
        process, url = start_app(env, data_dir / "server.log")
        try:
            run = drive(url, args.decisions, args.pause_ms)
        finally:
            process.terminate()
            process.wait(timeout=30)
        n_stored = _n_decisions(env["BEL_DB_URL"])
    report = {
        "documents": stored["documents"],
        "mentions": stored["mentions"],
        "decision_ms": _percentiles(run["decision_ms"]),
        "navigate_ms": _percentiles(run["navigate_ms"]),
        "first_paint_ms": round(run["first_paint_ms"], 1),
        "load_average": round(run["load"], 2),
        "decisions_stored": n_stored,
        "cpu_count": os.cpu_count(),
    }
    print(f"{'':<14}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for name in ("decision_ms", "navigate_ms"):
        row = report[name]
        print(f"{name:<14}{row['p50']:>10}{row['p95']:>10}{row['max']:>10}")
    print(
        f"first paint {report['first_paint_ms']} ms · load average {report['load_average']} · "
        f"{n_stored} of {args.decisions} decisions stored · {stored['documents']} documents, "
        f"{stored['mentions']} mentions"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if n_stored == args.decisions else 1


if __name__ == "__main__":
    raise SystemExit(main())
