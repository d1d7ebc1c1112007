"""Fleet wall time: 50 databases on two throwaway clusters, applied in parallel against one after another.

    python bench/fleet_speed.py [--databases 50] [--parallel 8] [--repeat 3] [--verify]

Each round makes fresh empty databases (half on each of two clusters from
``dbkit.ephemeral.ephemeral_clusters``), then runs ``dbkit.fleet.run`` with the
repository's project: once with ``parallel=1`` (one after another) and once with
``--parallel`` at a time, alternating which goes first. Prints the medians and the
ratio as Markdown (the figures in docs/benchmarks.md come from this script).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from dbkit import config, fleet
from dbkit.ephemeral import Server, ephemeral_clusters, find_binaries

ROOT = Path(__file__).resolve().parent.parent


def one_round(servers: list[Server], count: int, parallel: int, verify_after: bool) -> tuple[float, int]:
    """Wall seconds of one fleet apply over ``count`` fresh databases; the number of ok rows."""
    settings = config.load_settings(ROOT)
    with ExitStack() as stack:
        urls = [stack.enter_context(servers[n % len(servers)].database(prefix="bench_fleet_")) for n in range(count)]
        targets = tuple(fleet.Target(f"db{n}", config.DatabaseTarget.parse(u)) for n, u in enumerate(urls))
        started = time.perf_counter()
        result = fleet.run(settings, targets, "apply", fleet.apply_work(verify_after=verify_after),
                           parallel=parallel, on_failure="continue")
        elapsed = time.perf_counter() - started
    return elapsed, result.count("ok")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", type=int, default=50)
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--verify", action="store_true", help="verify (read-only) after each apply, as the CLI does")
    args = parser.parse_args(argv)
    times: dict[int, list[float]] = {1: [], args.parallel: []}
    with ephemeral_clusters([None, None]) as servers:
        for rep in range(args.repeat):
            order = (1, args.parallel) if rep % 2 == 0 else (args.parallel, 1)
            for parallel in order:
                elapsed, ok = one_round(servers, args.databases, parallel, args.verify)
                if ok != args.databases:
                    print(f"round failed: {ok} of {args.databases} ok", file=sys.stderr)
                    return 1
                times[parallel].append(elapsed)
                print(f"round {rep + 1}: parallel={parallel} {elapsed:.1f} s", file=sys.stderr)
    serial = statistics.median(times[1])
    fast = statistics.median(times[args.parallel])
    what = "apply + read-only verify" if args.verify else "apply"
    print(f"| {args.databases} databases on 2 clusters, {what} | {find_binaries().describe()} | "
          f"{serial:.1f} s ({', '.join(f'{t:.1f}' for t in times[1])}) | "
          f"{fast:.1f} s ({', '.join(f'{t:.1f}' for t in times[args.parallel])}) | {serial / fast:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
