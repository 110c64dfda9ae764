"""Long fuzzing run over every reader and KB loader: inputs tried and unhandled exceptions per reader.

The same targets, mutations and property as ``tests/fuzz`` (``tests/fuzz/fuzzing.py``): each
input is a valid seed file damaged by 1-4 random mutations (byte flips, truncation, inserted
delimiters, wrong or huge numbers, nesting up to 100,000 levels, Latin-1/UTF-16 bytes, lone
surrogates); a reader must return a well-formed result or raise ``InputFormatError`` /
``KnowledgeBaseError`` naming the file. Unlike the hypothesis tests, which stop at the first
failure, this counts every failure and goes on. Input ``i`` of a target is drawn from
``random.Random(f"{seed}:{target}:{i}")``, so a failure is rerun by its number.

    .venv/bin/python bench/fuzz_readers.py --examples 5000
    .venv/bin/python bench/fuzz_readers.py --examples 200 --targets bioc-json,kb-obo --crashes /tmp/crashes

``--atheris SECONDS`` instead runs coverage-guided fuzzing (libFuzzer through Google's
``atheris``, ``pip install atheris``; not a project dependency) for that long per reader,
starting from the same seeds, with ``bel_core`` instrumented; each reader runs in its own
process because libFuzzer exits on the first crash, whose input it writes to ``--crashes``.

Exit status 1 when any input raised an unhandled exception.
"""

from __future__ import annotations

import argparse
import collections
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

if sys.argv[1:2] == ["--atheris-child"]:
    # libFuzzer's child: instrument bel_core as it is imported, for coverage feedback.
    import atheris  # type: ignore[import-not-found]  # optional: pip install atheris

    with atheris.instrument_imports(include=["bel_core"]):
        from tests.fuzz.fuzzing import Target, Unhandled, check, mutate, targets
else:
    from tests.fuzz.fuzzing import Target, Unhandled, check, mutate, targets


def run_target(
    target: Target, examples: int, seed: int, crashes: Path | None
) -> tuple[collections.Counter[str], float]:
    """Outcome counts (``ok``, ``refused``, and one key per unhandled exception kind) and seconds."""
    counts: collections.Counter[str] = collections.Counter()
    started = time.perf_counter()
    for i in range(examples):
        rng = random.Random(f"{seed}:{target.name}:{i}")
        data = mutate(rng, rng.choice(target.seeds))
        try:
            counts[check(target, data)] += 1
        except Unhandled as e:
            kind = str(e)[:160]
            counts[f"unhandled: {kind}"] += 1
            if crashes is not None:
                crashes.mkdir(parents=True, exist_ok=True)
                (crashes / f"{target.name}-{i}.bin").write_bytes(data)
    return counts, time.perf_counter() - started


def run_atheris(name: str, seconds: int, crashes: Path | None) -> tuple[int, bool]:
    """(inputs tried, crashed) of ``seconds`` of libFuzzer on one reader, in a child process."""
    with tempfile.TemporaryDirectory(prefix="bel-atheris-") as corpus:
        for n, seed in enumerate(targets()[name].seeds):
            Path(corpus, f"seed-{n}").write_bytes(seed)
        artifacts = crashes or Path(corpus)
        artifacts.mkdir(parents=True, exist_ok=True)
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--atheris-child",
                name,
                f"-max_total_time={seconds}",
                "-max_len=20000",
                f"-artifact_prefix={artifacts}/{name}-",
                corpus,
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
    done = re.findall(r"^#(\d+)\s", child.stderr, flags=re.MULTILINE)
    crashed = child.returncode != 0
    if crashed:
        print(child.stderr[-3000:], file=sys.stderr)
    return (int(done[-1]) if done else 0), crashed


def atheris_child(name: str, libfuzzer_args: list[str]) -> None:
    target = targets()[name]
    atheris.Setup([sys.argv[0], *libfuzzer_args], lambda data: check(target, data))
    atheris.Fuzz()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=1000, help="inputs per reader (default 1000)")
    parser.add_argument("--targets", help="comma-separated reader names (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--crashes", type=Path, help="write each input that crashed a reader here")
    parser.add_argument("--atheris", type=int, metavar="SECONDS", help="coverage-guided fuzzing, seconds per reader")
    if sys.argv[1:2] == ["--atheris-child"]:
        atheris_child(sys.argv[2], sys.argv[3:])
    args = parser.parse_args()
    table = targets()
    names = [n.strip() for n in args.targets.split(",")] if args.targets else list(table)
    unknown = sorted(set(names) - set(table))
    if unknown:
        parser.error(f"unknown targets {unknown}; choose from {', '.join(table)}")
    print(f"# {' '.join(['.venv/bin/python', 'bench/fuzz_readers.py', *sys.argv[1:]])}")
    print(f"{'reader':<18} {'inputs':>8} {'read':>8} {'refused':>8} {'unhandled':>10} {'seconds':>8}")
    total_unhandled = total = 0
    kinds: dict[str, collections.Counter[str]] = {}
    for name in names:
        if args.atheris:
            started = time.perf_counter()
            tried, crashed = run_atheris(name, args.atheris, args.crashes)
            total += tried
            total_unhandled += crashed
            print(f"{name:<18} {tried:>8} {'':>8} {'':>8} {int(crashed):>10} {time.perf_counter() - started:>8.1f}")
            continue
        counts, seconds = run_target(table[name], args.examples, args.seed, args.crashes)
        unhandled = sum(n for k, n in counts.items() if k.startswith("unhandled"))
        kinds[name] = collections.Counter({k: n for k, n in counts.items() if k.startswith("unhandled")})
        total += args.examples
        total_unhandled += unhandled
        print(
            f"{name:<18} {args.examples:>8} {counts['ok']:>8} {counts['refused']:>8} {unhandled:>10} {seconds:>8.1f}"
        )
    print(f"{'all':<18} {total:>8} {'':>8} {'':>8} {total_unhandled:>10}")
    for name, found in kinds.items():
        for kind, n in found.most_common():
            print(f"  {name}: {n} x {kind}")
    return 1 if total_unhandled else 0


if __name__ == "__main__":
    sys.exit(main())
