"""Corpus pre-annotation: detect and link every document of sharded inputs, resumably.

Enters: input files or folders (PubTator, BioC XML/JSON, BigBio, JSONL, plain text, gzip)
and a factory that builds a ``Linker`` on each worker. Leaves: per input file a PubTator
file (top-1 concept per mention) and the shared scorer's JSONL (ranked candidates), plus a
marker that makes the shard finished. Engines: this process, N local processes, or Ray
Data (the ``ray`` extra); every engine writes the same bytes. Ray loads only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bel_core.lazy import exports

if TYPE_CHECKING:
    from bel_core.annotate.engines import ENGINES, Engine, run_shards
    from bel_core.annotate.shards import (
        LinkerFactory,
        Shard,
        ShardResult,
        annotate_shard,
        finished,
        plan_shards,
        prediction_row,
        predictions_jsonl,
    )

__all__, __getattr__ = exports(
    __name__,
    {
        "engines": ("ENGINES", "Engine", "run_shards"),
        "shards": (
            "LinkerFactory",
            "Shard",
            "ShardResult",
            "annotate_shard",
            "finished",
            "plan_shards",
            "prediction_row",
            "predictions_jsonl",
        ),
    },
)
