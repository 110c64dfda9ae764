"""`bel serve`: refuses a store nobody can sign in to; serves with logins, a health endpoint and a log file."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request

import pytest

from cli import main
from db.engine import open_store
from db.models import Role
from usecases import auth


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_refuses_a_store_without_an_admin(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'bel.db'}"
    assert main(["--db", url, "serve", "--port", str(_free_port())]) == 2
    assert "no admin account" in capsys.readouterr().err


def test_serve_reads_the_database_url_from_a_secrets_file(tmp_path, capsys):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[bel]\ndb_url = "sqlite:///{tmp_path / "team.db"}"\n')
    assert main(["serve", "--secrets", str(secrets), "--port", str(_free_port())]) == 2
    assert (tmp_path / "team.db").exists()  # the store named in the file was opened (and has no admin yet)


@pytest.mark.slow
def test_serve_starts_with_production_settings_and_answers_health(tmp_path):
    url = f"sqlite:///{tmp_path / 'bel.db'}"
    with open_store(url).begin() as session:
        auth.add_user(session, "admin", "a long admin password", Role.ADMIN)
    port, log = _free_port(), tmp_path / "server.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "--db", url, "serve", "--port", str(port), "--log-file", str(log)],
        stdout=subprocess.PIPE,
        text=True,
        env={"BEL_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    try:
        line = server.stdout.readline()  # printed once the health endpoint answers
        assert f"serving on http://127.0.0.1:{port} with logins required" in line
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5) as reply:
            assert reply.read() == b"ok"
        assert "secret" not in line and "password" not in line
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert log.read_text().strip()  # Streamlit's own output went to the log file
