"""``bel retrain`` and ``bel models``: the learning loop and the model registry from the shell.

Examples::

    bel --db sqlite:///bel.db retrain                     # decisions -> new candidate version
    bel --db sqlite:///bel.db retrain --reranker --max-minutes 20 --promote
    bel --db sqlite:///bel.db models list
    bel --db sqlite:///bel.db models promote 'tfidf-char2-4+priors[212]+cal-1a2b3c4d'
    bel --db sqlite:///bel.db models rollback             # re-promote the parent version

The Model page runs ``bel retrain --job-id N`` in its own process; the job's parameters are
then read from the ``training_jobs`` row and its progress is written back there.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from typing import Any

from cli.common import add_kb_options, settings_from_args


def register(sub: Any) -> None:
    """Add ``retrain`` and ``models`` to the ``bel`` parser."""
    p = sub.add_parser("retrain", help="train a new linker version from curated decisions and register it")
    p.add_argument("--job-id", type=int, help="run this queued training job (parameters come from its row)")
    p.add_argument("--seed", type=int, default=13, help="seed of the document split and of training")
    p.add_argument("--finetune-encoder", action="store_true", help="also fine-tune the bi-encoder (minutes)")
    p.add_argument("--reranker", action="store_true", help="also train the cross-encoder (slow on CPU)")
    p.add_argument("--max-minutes", type=float, default=10.0, help="time budget (caps the cross-encoder's pairs)")
    p.add_argument("--out", help="model directory to write (default: <data_dir>/models/<time>-job<N>)")
    p.add_argument("--promote", action="store_true", help="promote the new version at once")
    add_kb_options(p)
    p.set_defaults(func=cmd_retrain)

    p = sub.add_parser("models", help="list, promote or roll back registered linker versions")
    actions = p.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="registered versions, newest first")
    listing.add_argument("--json", action="store_true", help="one JSON object per version")
    listing.set_defaults(func=cmd_list)
    promote = actions.add_parser("promote", help="serve this version (the promoted one is retired)")
    promote.add_argument("version")
    promote.set_defaults(func=cmd_promote)
    rollback = actions.add_parser("rollback", help="retire the promoted version and re-promote its parent")
    rollback.set_defaults(func=cmd_rollback)


def _config(args: argparse.Namespace, params: dict[str, Any] | None) -> Any:
    """RetrainConfig from a job's parameters, or from the command's flags."""
    from bel_core.training.retrain import RetrainConfig

    if params is not None:
        known = set(RetrainConfig.__dataclass_fields__)
        return RetrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items() if k in known})
    return RetrainConfig(
        seed=args.seed,
        finetune_encoder=args.finetune_encoder,
        train_reranker=args.reranker,
        max_minutes=args.max_minutes,
    )


def cmd_retrain(args: argparse.Namespace) -> int:
    """Run one retraining (a queued job with --job-id), register it, print its figures."""
    from pathlib import Path

    from db.engine import open_store
    from usecases import jobs, registry
    from usecases.retrain import run_retrain

    settings = settings_from_args(args)
    store = open_store(settings.resolved_db_url)
    params = jobs.start_job(store, args.job_id) if args.job_id is not None else None
    try:
        config = _config(args, params)
    except (TypeError, ValueError) as e:
        jobs.fail_job(store, args.job_id, f"bad job parameters {params}: {e}")
        raise
    command = shlex.join(["bel", *sys.argv[1:]]) if sys.argv[1:] else "bel retrain"
    outcome = run_retrain(
        store, settings, config, job_id=args.job_id, out=Path(args.out) if args.out else None, command=command
    )
    if args.promote:
        with store.begin() as session:
            registry.promote(session, outcome.version)
    m = outcome.metrics
    print(
        f"registered {outcome.version} ({'promoted' if args.promote else 'candidate'}) -> {outcome.path}\n"
        f"parent {outcome.parent_version or '-'}; held-out test: {m['n']} mentions, acc@1 {m['acc@1']:.4f}, "
        f"acc@5 {m['acc@5']:.4f}, ECE {m['ece']:.4f}\n"
        f"retrained in {outcome.seconds:.1f} s"
    )
    return 0


def _summary(row: Any) -> dict[str, Any]:
    m = row.metrics
    return {
        "version": row.version,
        "status": row.status.value,
        "kind": row.kind,
        "parent_version": row.parent_version,
        "created_at": row.created_at.isoformat(timespec="seconds"),
        "n_decisions": row.data.get("n_decisions"),
        "acc@1": m.get("acc@1"),
        "ece": m.get("ece"),
        "path": row.path,
    }


def cmd_list(args: argparse.Namespace) -> int:
    """Print the registry, newest first."""
    from db.engine import open_store
    from usecases import registry

    with open_store(settings_from_args(args).resolved_db_url).begin() as session:
        rows = [_summary(r) for r in registry.list_versions(session)]
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    if not rows:
        print("no registered versions: the built-in default linker is serving (train one with `bel retrain`)")
    for r in rows:
        acc = "-" if r["acc@1"] is None else f"{r['acc@1']:.4f}"
        ece = "-" if r["ece"] is None else f"{r['ece']:.4f}"
        print(f"{r['status']:<9} {r['created_at']}  acc@1 {acc}  ECE {ece}  {r['version']}")
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    """Promote one version."""
    from db.engine import open_store
    from usecases import registry

    with open_store(settings_from_args(args).resolved_db_url).begin() as session:
        row = registry.promote(session, args.version)
        print(f"promoted {row.version}")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    """Re-promote the promoted version's parent."""
    from db.engine import open_store
    from usecases import registry

    with open_store(settings_from_args(args).resolved_db_url).begin() as session:
        row = registry.rollback(session)
        print(f"rolled back to {row.version}")
    return 0
