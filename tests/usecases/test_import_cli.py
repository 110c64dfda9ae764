"""`bel import` reports every refused file and goes on; exit 1 when something was refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli import main

GOOD = "9|t|Seizures.\n9|a|\n9\t0\t8\tSeizures\tPhenotype\tHP:0002279\n"
BAD_SPAN = "8|t|Fits.\n8|a|\n8\t0\t3\tFix\tPhenotype\tHP:0001250\n"


@pytest.fixture
def env(tmp_path: Path, tiny_kb_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BEL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BEL_KB", str(tiny_kb_path))
    monkeypatch.setenv("BEL_DENSE_ENABLED", "0")
    (tmp_path / "folder").mkdir()
    (tmp_path / "entity.xml").write_text("<!DOCTYPE c><collection>&undefined;</collection>", encoding="utf-8")
    (tmp_path / "bad.pubtator").write_text(BAD_SPAN, encoding="utf-8")
    (tmp_path / "good.pubtator").write_text(GOOD, encoding="utf-8")
    return tmp_path


def test_refusals_are_listed_and_the_good_file_is_imported(env: Path, capsys: pytest.CaptureFixture[str]):
    db = f"sqlite:///{env / 'a.db'}"
    files = [str(env / n) for n in ("folder", "entity.xml", "bad.pubtator", "good.pubtator")]
    assert main(["--db", db, "import", *files, "--as", "gold"]) == 1
    out, err = capsys.readouterr()
    assert "imported 1 new documents" in out and "1 gold decisions" in out and "4 refused" in out
    refused = [line for line in err.splitlines() if line.startswith("refused: ")]
    assert refused[0] == f"refused: {env / 'folder'}: is a directory; give the files in it, or a zip archive"
    assert refused[1].startswith(f"refused: {env / 'entity.xml'}")
    assert refused[2].startswith(f"refused: {env / 'bad.pubtator'}: not stored: 1 bad record(s)")
    assert refused[3].startswith(f"refused: {env / 'bad.pubtator'}, line 3: mention text 'Fix'")
    # Exported as imported (the alternate id), or as the KB's primary id when asked.
    assert main(["--db", db, "export", "--format", "pubtator", "--out", str(env / "g.pubtator")]) == 0
    assert (
        main(["--db", db, "export", "--format", "pubtator", "--out", str(env / "n.pubtator"), "--normalized-ids"]) == 0
    )
    assert (env / "g.pubtator").read_text().endswith("\tHP:0002279\n")
    assert (env / "n.pubtator").read_text().endswith("\tHP:0001250\n")
    assert main(["--db", db, "import", str(env / "good.pubtator")]) == 0
