"""Run every benchmark on one throwaway PostgreSQL cluster and print the results as
Markdown (also written to reports/benchmarks.md). `make bench` runs this file.

    python bench/run.py [--only hot,rls,triggers,apply,peers,scale,startup,partitioning] [--output FILE]

The cluster is dbkit.ephemeral.ephemeral_postgres() (loopback, /dev/shm, fsync off); the
template database is migrated once with dbkit.engine.apply and every benchmark works in
its own copy. Nothing outside the throwaway cluster is touched. Bounded: every loop has
a fixed count, and slow calls are sampled within a time budget (see common.latency).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import apply_overhead  # noqa: E402
import hot_queries  # noqa: E402
import partitioning  # noqa: E402
import peers  # noqa: E402
import rls_overhead  # noqa: E402
import scale  # noqa: E402
import startup  # noqa: E402
import trigger_cost  # noqa: E402
import verify_speed  # noqa: E402
from common import ROOT, Section, cluster, connect  # noqa: E402

BENCHES = {
    "hot": lambda c: hot_queries.run(c),
    "rls": lambda c: rls_overhead.run(c),
    "triggers": lambda c: trigger_cost.run(c),
    "apply": lambda c: apply_overhead.run(c),
    "peers": lambda c: peers.run(c),
    "scale": lambda c: scale.run(c),
    "startup": lambda c: startup.run(c),
    "partitioning": lambda c: partitioning.run(c),
    "verify": lambda c: verify_speed.run(c),
}


def _facts(c_url: str, template_s: float) -> list[str]:
    with connect(c_url) as conn:
        version = conn.execute("select version()").fetchone()[0]  # type: ignore[index]
        settings = dict(conn.execute("select name, setting from pg_settings where name in "
                                     "('shared_buffers', 'jit', 'fsync', 'synchronous_commit', 'work_mem', "
                                     "'max_parallel_workers_per_gather')").fetchall())
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=ROOT, check=False).stdout.strip()
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return [
        f"- date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, commit {commit or '?'}",
        f"- machine: {os.cpu_count()} cores, {mem_gb:.0f} GiB RAM, {platform.system()} {platform.release()}, "
        f"load average at start {os.getloadavg()[0]:.1f}",
        f"- server: {version.split(',')[0]}, throwaway cluster on /dev/shm via dbkit.ephemeral, "
        "client over loopback TCP (psycopg 3)",
        "- settings: " + ", ".join(f"{k}={v}" for k, v in sorted(settings.items())),
        f"- template database migrated by dbkit.engine.apply in {template_s:.2f} s",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description="dbkit benchmarks")
    parser.add_argument("--only", default=",".join(BENCHES), help="comma-separated subset of " + ",".join(BENCHES))
    parser.add_argument("--output", default=str(ROOT / "reports" / "benchmarks.md"))
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    sections: list[Section] = []
    failed: list[str] = []
    with cluster(template=False) as c:
        template_s = c.build_template()
        facts = _facts(c.url(), template_s)
        for name in chosen:
            t0 = time.perf_counter()
            print(f"{name} ...", flush=True)
            try:
                sections.extend(BENCHES[name](c))
            except Exception as exc:  # one broken benchmark must not hide the others' figures
                failed.append(name)
                sections.append(Section(f"{name}: FAILED", [], raw=f"{type(exc).__name__}: {exc}"))
                print(f"{name} failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            print(f"{name}: {time.perf_counter() - t0:.1f}s", flush=True)
    total = time.perf_counter() - started
    facts.append(f"- load average at end {os.getloadavg()[0]:.1f}; whole run {total:.0f} s")
    text = "\n".join(["## Results", "", *facts, "", *(s.markdown() for s in sections)])
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print()
    print(text)
    print(f"(written to {out})")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
