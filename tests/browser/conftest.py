"""A real ``streamlit run app.py`` server and a headless Debian Chromium for browser tests.

The server runs the real pipeline on the tiny KB (dense retrieval off) with its own data
directory, and is always terminated in the fixture's teardown, even when a test fails.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 90


@dataclass(frozen=True)
class Server:
    """A running app: its URL and the data directory it writes to."""

    url: str
    data_dir: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"streamlit did not become healthy in {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


@contextmanager
def _running_app(data_dir: Path, tiny_kb_path: Path, extra_env: dict[str, str]) -> Iterator[Server]:
    """``streamlit run app.py`` on a free port with the tiny KB; stopped on exit, even after a failure."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    env = {
        **os.environ,
        "BEL_DATA_DIR": str(data_dir),
        "BEL_KB": str(tiny_kb_path),
        "BEL_DENSE_ENABLED": "0",
        "BEL_CURATOR": "browser-test",
        "HF_HUB_OFFLINE": "1",
        **extra_env,
    }
    env.pop("BEL_CONFIG", None)
    env.pop("BEL_DB_URL", None)
    log = ARTIFACTS / "server.log"
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",  # nothing to reload; other writers must not restart the app
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield Server(url, data_dir)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def server_env() -> dict[str, str]:
    """Extra environment for the app server; a test module overrides it (e.g. to add a generator)."""
    return {}


@pytest.fixture
def server(tmp_path: Path, tiny_kb_path: Path, server_env: dict[str, str]) -> Iterator[Server]:
    """Start ``streamlit run app.py`` on a free port; stop it afterwards."""
    with _running_app(tmp_path, tiny_kb_path, server_env) as running:
        yield running


@pytest.fixture
def page(server: Server):
    """A Chromium page at the app's URL (1440x900, like a curator's laptop screen)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(server.url)
            yield page
        finally:
            browser.close()
