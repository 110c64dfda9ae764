"""Corpus pre-annotation: shard planning, resumable atomic outputs, engines that agree byte for byte."""

from __future__ import annotations

import functools
import gzip
import json
from pathlib import Path

import pytest

from bel_core.annotate import annotate_shard, finished, plan_shards, run_shards
from bel_core.errors import InputFormatError
from tests.fakes import FakeLinker

FIXTURES = Path(__file__).parent.parent / "fixtures"
DOC = "{pmid}|t|Patient with atrial septal defect\n{pmid}|a|She also had a seizure and short stature.\n"
MAX = 1_000_000


def _corpus(folder: Path, n_files: int = 3, docs_per_file: int = 2) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(n_files):
        text = "\n".join(DOC.format(pmid=1000 * f + d) for d in range(docs_per_file))
        (folder / f"part{f}.pubtator").write_text(text, encoding="utf-8")
    return folder


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if not p.name.endswith(".done.json")}


def test_plan_walks_folders_in_order_and_refuses_clashes(tmp_path):
    corpus = _corpus(tmp_path / "in")
    (corpus / "sub").mkdir()
    (corpus / "sub" / "x.txt.gz").write_bytes(gzip.compress(b"text"))
    names = [s.name for s in plan_shards([corpus], tmp_path / "out")]
    assert names == ["part0", "part1", "part2", "sub__x"]
    with pytest.raises(InputFormatError, match="same output"):
        plan_shards([corpus / "part0.pubtator", corpus / "part0.pubtator"], tmp_path / "out")
    with pytest.raises(InputFormatError, match="no such file"):
        plan_shards([tmp_path / "missing"], tmp_path / "out")


def test_a_shard_writes_pubtator_jsonl_and_its_marker_last(tmp_path, tiny_kb):
    shard = plan_shards([_corpus(tmp_path / "in", n_files=1)], tmp_path / "out")[0]
    result = annotate_shard(shard, FakeLinker(tiny_kb), max_bytes=MAX)
    assert (result.documents, result.skipped, result.refused) == (2, False, False)
    assert result.mentions == sum(1 for _ in shard.jsonl.open())
    rows = [json.loads(line) for line in shard.jsonl.open()]
    assert {r["mention"] for r in rows} >= {"atrial septal defect", "seizure"}
    tops = {
        line.split("\t")[3]: line.split("\t")[5] for line in shard.pubtator.read_text().splitlines() if "\t" in line
    }
    assert tops["seizure"] == rows[[r["mention"] for r in rows].index("seizure")]["ranked"][0]
    marker = json.loads(shard.marker.read_text())
    assert marker["digests"].keys() == {"part0.pubtator", "part0.jsonl"}
    assert not list(Path(shard.out_dir).glob(".*.tmp"))


def test_finished_shards_are_skipped_and_changed_outputs_redone(tmp_path, tiny_kb):
    shards = plan_shards([_corpus(tmp_path / "in")], tmp_path / "out")
    first = list(run_shards(shards, functools.partial(FakeLinker, tiny_kb), max_bytes=MAX))
    assert not any(r.skipped for r in first)
    again = list(run_shards(shards, functools.partial(FakeLinker, tiny_kb), max_bytes=MAX))
    assert all(r.skipped for r in again) and len(again) == 3
    shards[1].jsonl.write_text("truncated")  # what an outside edit or a torn copy leaves
    assert finished(shards[1]) is None
    redone = {r.name: r.skipped for r in run_shards(shards, functools.partial(FakeLinker, tiny_kb), max_bytes=MAX)}
    assert redone == {"part0": True, "part1": False, "part2": True}


class _Crashing(FakeLinker):
    """Dies while linking its second shard, as a killed worker would."""

    calls = 0

    def link(self, mentions, **context):  # noqa: ANN001, ANN201
        type(self).calls += 1
        if type(self).calls == 2:
            raise KeyboardInterrupt
        return super().link(mentions, **context)


def test_a_crash_leaves_finished_shards_finished_and_no_half_written_shard(tmp_path, tiny_kb):
    shards = plan_shards([_corpus(tmp_path / "in")], tmp_path / "out")
    with pytest.raises(KeyboardInterrupt):
        list(run_shards(shards, functools.partial(_Crashing, tiny_kb), max_bytes=MAX))
    assert finished(shards[0]) is not None
    assert not shards[1].pubtator.exists() and not shards[1].marker.exists()
    resumed = {r.name: r.skipped for r in run_shards(shards, functools.partial(FakeLinker, tiny_kb), max_bytes=MAX)}
    assert resumed == {"part0": True, "part1": False, "part2": False}


def test_gzip_inputs_are_read_and_bad_ones_refused_without_a_marker(tmp_path, tiny_kb):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.pubtator.gz").write_bytes(gzip.compress(DOC.format(pmid=7).encode()))
    (folder / "broken.pubtator.gz").write_bytes(b"\x1f\x8b" + b"not gzip at all")
    (folder / "bomb.txt.gz").write_bytes(gzip.compress(b"a" * (MAX + 10)))
    results = {
        r.name: r
        for r in run_shards(plan_shards([folder], tmp_path / "out"), lambda: FakeLinker(tiny_kb), max_bytes=MAX)
    }
    assert results["good"].documents == 1 and not results["good"].refused
    assert results["broken"].refused and "gzip" in results["broken"].problems[0]
    assert results["bomb"].refused and "size limit" in results["bomb"].problems[0]
    assert not (tmp_path / "out" / "broken.done.json").exists()


def test_gold_spans_link_the_files_own_mentions(tmp_path, tiny_kb):
    shard = plan_shards([FIXTURES / "docs_good.pubtator"], tmp_path / "out")[0]
    result = annotate_shard(shard, FakeLinker(tiny_kb), max_bytes=MAX, gold_spans=True)
    given = [line for line in (FIXTURES / "docs_good.pubtator").read_text().splitlines() if line.count("\t") >= 4]
    assert result.mentions == len(given)


def test_local_processes_write_the_same_bytes_as_one_process(tmp_path, tiny_kb):
    corpus = _corpus(tmp_path / "in", n_files=4)
    factory = functools.partial(FakeLinker, tiny_kb)
    list(run_shards(plan_shards([corpus], tmp_path / "one"), factory, max_bytes=MAX))
    results = list(run_shards(plan_shards([corpus], tmp_path / "pool"), factory, workers=2, max_bytes=MAX))
    assert len({r.worker for r in results}) >= 1 and len(results) == 4
    assert _outputs(tmp_path / "one") == _outputs(tmp_path / "pool")


def test_unknown_engine_and_no_workers_are_refused(tmp_path, tiny_kb):
    shards = plan_shards([_corpus(tmp_path / "in", n_files=1)], tmp_path / "out")
    with pytest.raises(ValueError, match="unknown engine"):
        list(run_shards(shards, lambda: FakeLinker(tiny_kb), engine="spark", max_bytes=MAX))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 1"):
        list(run_shards(shards, lambda: FakeLinker(tiny_kb), workers=0, max_bytes=MAX))


def _cli(tmp_path: Path, *extra: str) -> tuple[int, Path]:
    from cli import main

    out = tmp_path / ("out-" + "-".join(e.strip("-") for e in extra if e.startswith("--")) or "out")
    code = main(
        [
            "annotate",
            str(tmp_path / "in"),
            "--kb",
            str(FIXTURES / "kb_tiny.jsonl"),
            "--no-dense",
            "--out",
            str(out),
            *extra,
        ]
    )
    return code, out


@pytest.mark.slow
def test_ray_engine_writes_the_same_bytes_as_the_local_engine(tmp_path, monkeypatch):
    """The real pipeline (tiny KB, TF-IDF + calibration) on a local Ray cluster of 2 CPUs."""
    pytest.importorskip("ray")
    monkeypatch.setenv("BEL_DATA_DIR", str(tmp_path / "data"))
    _corpus(tmp_path / "in", n_files=4, docs_per_file=3)
    code_local, local = _cli(tmp_path)
    code_ray, ray_out = _cli(tmp_path, "--engine", "ray", "--workers", "2")
    import ray

    ray.shutdown()
    assert code_local == code_ray == 0
    assert _outputs(local) == _outputs(ray_out) and len(_outputs(local)) == 8


def test_cli_annotates_resumes_and_reports_refused_inputs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BEL_DATA_DIR", str(tmp_path / "data"))
    _corpus(tmp_path / "in", n_files=2)
    code, out = _cli(tmp_path)
    assert code == 0 and "2 of 2 shards annotated (0 already finished): 4 documents" in capsys.readouterr().out
    (tmp_path / "in" / "bad.txt.gz").write_bytes(b"\x1f\x8bxx")
    code, _ = _cli(tmp_path)
    captured = capsys.readouterr()
    assert code == 1 and "(2 already finished)" in captured.out and "refused: bad" in captured.err
