"""Helpers shared by the linking benchmarks: data paths, GSC+ as PubTator, measured subprocesses, scoring."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
PEERS = REPO.parent / "shared" / "peers"
SCORER = REPO.parent / "shared" / "eval" / "score.py"
HPO_OBO = DATA / "hpo" / "hp_2025-01-16.obo.gz"

# Runs a command and reports its children's peak RSS: getrusage(RUSAGE_CHILDREN) of a
# wrapper that has exactly one child is that child's peak memory.
_WRAPPER = (
    "import json, resource, subprocess, sys, time; t = time.perf_counter(); "
    "rc = subprocess.call(sys.argv[2:]); "
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024; "
    "open(sys.argv[1], 'w').write(json.dumps({'rc': rc, 'wall_s': time.perf_counter() - t, 'peak_mb': peak}))"
)


def measured(cmd: list[str], *, env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run ``cmd`` (output to ``log``); return exit status, wall seconds and peak memory (MB).

    Raises:
        RuntimeError: the command failed (the log's tail is in the message).
    """
    stats = log.with_suffix(".stats.json")
    print(f"$ {' '.join(cmd[:1] + cmd[3:] if cmd[1:2] == ['-c'] else cmd)}  (log: {log})", flush=True)
    with log.open("w") as fh:
        subprocess.run([sys.executable, "-c", _WRAPPER, str(stats), *cmd], env=env, stdout=fh, stderr=fh, check=False)
    result: dict[str, Any] = json.loads(stats.read_text())
    if result["rc"] != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"command failed with status {result['rc']}: {cmd}\n{tail}")
    return result


def score(gold: Path, preds: Path, extra: list[str]) -> dict[str, Any]:
    """The shared scorer's JSON report (both protocols)."""
    out = subprocess.run(
        [sys.executable, str(SCORER), str(gold), str(preds), *extra, "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    report: dict[str, Any] = json.loads(out.stdout)
    return report


def ece_interval(
    gold: Path, preds: Path, alt_ids: Path | None, *, resamples: int = 1000, seed: int = 13
) -> dict[str, list[float] | float]:
    """Top-1 ECE's 95% bootstrap interval, and the ECE a perfectly calibrated linker would show.

    ``ci``: documents resampled, as the scorer does for accuracy (it gives no interval for
    ECE). ``floor``: mean ECE when each outcome is drawn with exactly the predicted
    probability: 15-bin ECE on a thousand mentions is well above 0 even then.
    Both use the shared scorer's own matching and binning.
    """
    import importlib.util
    import random

    spec = importlib.util.spec_from_file_location("shared_score", SCORER)
    assert spec is not None and spec.loader is not None
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    rows = scorer.score(str(gold), str(preds), str(alt_ids) if alt_ids else None, return_rows=True)["_rows"]
    by_doc: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        if r.get("p1") is not None:
            by_doc.setdefault(r["doc_id"], []).append((r["p1"], 1.0 if r["rank"] == 1 else 0.0))
    docs, rng, eces = sorted(by_doc), random.Random(seed), []
    for _ in range(resamples):
        pairs = [pair for d in rng.choices(docs, k=len(docs)) for pair in by_doc[d]]
        eces.append(scorer.calibration(pairs)["ece"])
    eces.sort()
    probs = [p for d in docs for p, _ in by_doc[d]]
    floor = [scorer.calibration([(p, float(rng.random() < p)) for p in probs])["ece"] for _ in range(resamples)]
    return {"ci": [eces[int(0.025 * resamples)], eces[int(0.975 * resamples) - 1]], "floor": sum(floor) / resamples}


def gsc_pubtator(out_dir: Path) -> tuple[Path, Path]:
    """GSC+ dev and test (PMID line, text line, ``start end mention HP:id`` lines) as PubTator files."""
    paths = []
    for split in ("dev", "test"):
        source = DATA / "gsc_plus" / f"GSCplus_{split}_gold.tsv"
        lines: list[str] = []
        for block in source.read_text(encoding="utf-8").strip().split("\n\n"):
            pmid, text, *rows = block.strip("\n").split("\n")
            lines += [f"{pmid}|t|{text}", f"{pmid}|a|"]  # text = title + " " + "": offsets unchanged
            for r in rows:
                start, end, surface, hpo_id = r.split("\t")[:4]
                lines.append(f"{pmid}\t{start}\t{end}\t{surface}\tPhenotype\t{hpo_id}")
            lines.append("")
        path = out_dir / f"gsc_{split}_gold.pubtator"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths[0], paths[1]


def hpo_alt_ids(out_dir: Path) -> Path:
    """``alt_id<TAB>primary`` for HPO (the KB the app loads: Phenotypic abnormality subtree)."""
    sys.path.insert(0, str(REPO))
    from bel_core.kb.loaders import load_obo

    kb = load_obo(HPO_OBO, roots=("HP:0000118",))
    path = out_dir / "hpo_alt_ids.tsv"
    path.write_text("".join(f"{alt}\t{c.concept_id}\n" for c in kb for alt in c.alt_ids), encoding="utf-8")
    return path


def hpo_peer_data(root: Path, gold: Path) -> Path:
    """A stand-in for ../shared/data in which the peers' "MEDIC" files hold HPO and "NCBI test" is GSC+ test.

    The peer scripts read fixed paths under ``$BEL_DATA``; this gives them the same HPO
    vocabulary (Phenotypic abnormality subtree, names then synonyms) and the same spans.
    """
    sys.path.insert(0, str(REPO))
    from bel_core.kb.loaders import load_obo

    kb = load_obo(HPO_OBO, roots=("HP:0000118",))
    (root / "medic").mkdir(parents=True, exist_ok=True)
    (root / "ncbi_disease").mkdir(parents=True, exist_ok=True)
    with gzip.open(root / "medic" / "medic_dictionary.txt.gz", "wt", encoding="utf-8") as fh:
        for c in kb:
            for name in c.names:
                fh.write(f"{c.concept_id}||{name}\n")
    (root / "medic" / "medic_alt_ids.tsv").write_text(
        "".join(f"{alt}\t{c.concept_id}\n" for c in kb for alt in c.alt_ids), encoding="utf-8"
    )
    (root / "ncbi_disease" / "NCBItestset_corpus.txt").write_text(gold.read_text(encoding="utf-8"), encoding="utf-8")
    return root
