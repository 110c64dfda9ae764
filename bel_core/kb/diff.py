"""KB versions: what changed between two releases, and the versioned KB directory.

Stage: KB loading, when a new release replaces the one curators linked against. A
decision stores primary concept ids; after an update an id can be *retired* (the new
release knows it neither as a primary nor as an alt id) or *merged* (it is now an alt id
of another concept, so it resolves to a different primary id). ``kb_diff`` lists both,
plus the *added* ids, so stored decisions can be checked (``usecases.interchange``).

A KB directory (``bel kb-import --out KB_DIR``; ``load_kb`` accepts the path)::

    KB_DIR/kb.jsonl                 the current version (``KnowledgeBase.to_jsonl`` format)
    KB_DIR/manifest.json            {"name", "version", "fingerprint", "n_concepts",
                                     "sources": [{"path", "sha256"}],
                                     "history": [{"version", "fingerprint", "n_concepts",
                                                  "added", "retired", "merged"}]}  (oldest first)
    KB_DIR/versions/<fp12>.jsonl    every earlier version, by the first 12 hex digits of
                                    its fingerprint, so old decisions stay interpretable
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bel_core.kb.files import load_jsonl
from bel_core.kb.knowledge_base import KnowledgeBase

KB_DIR_FILE = "kb.jsonl"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True, slots=True)
class KBDiff:
    """Changes from ``old_version`` to ``new_version`` (ids sorted; merged as (old, new primary))."""

    old_version: str
    new_version: str
    added: tuple[str, ...]
    retired: tuple[str, ...]
    merged: tuple[tuple[str, str], ...]

    def changes(self) -> dict[str, str | None]:
        """Every changed old id: its new primary id when merged, None when retired."""
        return {**dict.fromkeys(self.retired), **dict(self.merged)}


def kb_diff(old: KnowledgeBase, new: KnowledgeBase) -> KBDiff:
    """Compare two releases of a KB.

    Returns:
        ``added``: primary ids of ``new`` that ``old`` did not know (as primary or alt id);
        ``retired``: primary ids of ``old`` unknown to ``new``; ``merged``: primary ids of
        ``old`` that ``new`` resolves to another primary id (now an alt id).
    """
    old_ids = {c.concept_id for c in old}
    added = tuple(c.concept_id for c in new if c.concept_id not in old)
    retired = tuple(sorted(cid for cid in old_ids if cid not in new))
    merged = tuple((cid, new.resolve_id(cid)) for cid in sorted(old_ids) if cid in new and new.resolve_id(cid) != cid)
    return KBDiff(old.version, new.version, added, retired, merged)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_kb_dir(kb: KnowledgeBase, out_dir: Path, sources: Sequence[Path]) -> KBDiff | None:
    """Make ``kb`` the current version of the KB directory ``out_dir`` (layout above).

    The previous version, if any, is kept under ``versions/`` and compared with ``kb``;
    writing the same content again changes nothing but the sources.

    Returns:
        The diff from the previous version, or None when the directory had no KB.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    current, manifest_path = out_dir / KB_DIR_FILE, out_dir / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    history: list[dict[str, object]] = list(manifest.get("history", []))
    diff = None
    if current.is_file():
        old = load_jsonl(current)
        if old.fingerprint != kb.fingerprint:
            diff = kb_diff(old, kb)
            archive = out_dir / "versions" / f"{old.fingerprint[:12]}.jsonl"
            archive.parent.mkdir(exist_ok=True)
            os.replace(current, archive)
            history.append(
                {
                    "version": old.version,
                    "fingerprint": old.fingerprint,
                    "n_concepts": len(old),
                    "added": len(diff.added),
                    "retired": len(diff.retired),
                    "merged": len(diff.merged),
                }
            )
    kb.to_jsonl(current)
    manifest = {
        "name": kb.name,
        "version": kb.version,
        "fingerprint": kb.fingerprint,
        "n_concepts": len(kb),
        "sources": [{"path": str(p), "sha256": _sha256(p)} for p in sources if p.is_file()],
        "history": history,
    }
    tmp = manifest_path.with_name(f".{MANIFEST_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, manifest_path)
    return diff
