"""Engines that run shards: this process, N local processes, or a Ray cluster (Ray Data).

Every engine hands each pending shard to :func:`annotate_shard` on a worker that built its
linker once (the KB indexes and models load per worker, not per shard), so the outputs are
the same bytes whichever engine ran. Finished shards are skipped before any worker starts.
Results are yielded as shards finish (streaming), in no fixed order.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from multiprocessing import get_context
from typing import Any, Literal

from bel_core.annotate.shards import LinkerFactory, Shard, ShardResult, annotate_shard, finished

Engine = Literal["local", "ray"]
ENGINES: tuple[str, ...] = ("local", "ray")


def run_shards(
    shards: Sequence[Shard],
    factory: LinkerFactory,
    *,
    engine: Engine = "local",
    workers: int = 1,
    ray_address: str | None = None,
    max_bytes: int,
    gold_spans: bool = False,
) -> Iterator[ShardResult]:
    """Annotate every shard not finished yet; yields one result per shard (finished ones first).

    Args:
        shards: from :func:`plan_shards`.
        factory: builds the linker on a worker; must be picklable for more than one worker
            (a module-level function or a ``functools.partial`` of one).
        engine: ``local`` (this process when ``workers`` is 1, else a process pool) or ``ray``.
        workers: worker processes (Ray: actors, one CPU each).
        ray_address: an existing Ray cluster (``ray.init(address=...)``); default: start a
            local one with ``workers`` CPUs.
        max_bytes: size limit of one input file, decompressed.
        gold_spans: link the spans the files carry instead of detecting mentions.

    Raises:
        ValueError: unknown engine or fewer than one worker.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if workers < 1:
        raise ValueError("workers must be at least 1")
    pending: list[Shard] = []
    for shard in shards:
        done = finished(shard)
        if done is None:
            pending.append(shard)
        else:
            yield done
    if not pending:
        return
    options: dict[str, Any] = {"max_bytes": max_bytes, "gold_spans": gold_spans}
    if engine == "ray":
        yield from _run_ray(pending, factory, workers, ray_address, options)
    elif workers == 1:
        linker = factory()
        for shard in pending:
            yield annotate_shard(shard, linker, **options)
    else:
        yield from _run_processes(pending, factory, workers, options)


# One linker per worker process, built by the pool's initializer.
_WORKER_LINKER: Any = None


def _init_worker(factory: LinkerFactory, threads: int) -> None:
    global _WORKER_LINKER
    _limit_threads(threads)
    _WORKER_LINKER = factory()


def _worker_annotate(shard: Shard, options: dict[str, Any]) -> ShardResult:
    return annotate_shard(shard, _WORKER_LINKER, **options)


def _limit_threads(threads: int) -> None:
    """Workers share the machine's cores: each encoder gets its share instead of all of them."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:  # a linker without torch (TF-IDF only) needs no limit
        pass


def _threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // workers)


def _run_processes(
    shards: Sequence[Shard], factory: LinkerFactory, workers: int, options: dict[str, Any]
) -> Iterator[ShardResult]:
    # spawn, not fork: a forked copy of a process that already started torch's or ONNX
    # Runtime's thread pools can deadlock.
    with ProcessPoolExecutor(
        max_workers=min(workers, len(shards)),
        mp_context=get_context("spawn"),
        initializer=_init_worker,
        initargs=(factory, _threads_per_worker(workers)),
    ) as pool:
        futures = [pool.submit(_worker_annotate, shard, options) for shard in shards]
        for future in as_completed(futures):
            yield future.result()


class _RayShardWorker:
    """A Ray Data actor: builds the linker once, then annotates one shard per batch row."""

    def __init__(self, factory: LinkerFactory, options: dict[str, Any], threads: int) -> None:
        _limit_threads(threads)
        self.linker = factory()
        self.options = options

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        results = []
        for source, name, out_dir in zip(batch["source"], batch["name"], batch["out_dir"], strict=True):
            shard = Shard(str(source), str(name), str(out_dir))
            # JSON text: the markers' digest keys differ per shard, which Arrow cannot hold as one struct type.
            results.append(json.dumps(annotate_shard(shard, self.linker, **self.options).to_json()))
        return {"result": results}


def _run_ray(
    shards: Sequence[Shard],
    factory: LinkerFactory,
    workers: int,
    address: str | None,
    options: dict[str, Any],
) -> Iterator[ShardResult]:
    try:
        import ray
    except ImportError as e:
        raise ImportError("the Ray engine needs the 'ray' extra: pip install 'bel-curator[ray]'") from e
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the CLI draws its own, per shard
    dataset = ray.data.from_items([asdict(s) for s in shards], override_num_blocks=len(shards))
    annotated = dataset.map_batches(
        _RayShardWorker,
        fn_constructor_kwargs={"factory": factory, "options": options, "threads": 1},
        batch_size=1,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=1,
    )
    for row in annotated.iter_rows():
        yield ShardResult.from_json(json.loads(row["result"]), skipped=False)
