"""Production-size rehearsal: every module applied to populated tables under a live workload.

    .venv/bin/python bench/rehearsal.py [--rows 1000000] [--output reports/rehearsal.md] [--project DIR]

``--project`` rehearses another checkout's migrations with this code, e.g. the tree before
a safer form: ``git archive <commit> | tar -x -C /tmp/before`` then ``--project /tmp/before``.

Runs ``dbkit.rehearsal.rehearse`` (the same code as ``dbkit rehearse``) on a throwaway
cluster and writes the per-migration table (lock held, longest wait of the workload) as
Markdown, with the machine and server facts, for docs/benchmarks.md. It prints the JSON of
the whole result to stdout, so two runs can be compared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from dbkit import rehearsal
from dbkit.cli.options import to_jsonable
from dbkit.config import load_settings

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bound-ms", type=float, default=200.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--output", type=Path, default=ROOT / "reports" / "rehearsal.md")
    parser.add_argument("--project", type=Path, default=ROOT, help="the project whose migrations are rehearsed")
    args = parser.parse_args()
    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    result = rehearsal.rehearse(load_settings(args.project),
                                rehearsal.Options(rows=args.rows, bound_ms=args.bound_ms, clients=args.clients),
                                progress=lambda message: print(f"… {message}", file=sys.stderr, flush=True))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                            check=False).stdout.strip()
    facts = (f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, commit {commit or '?'}, "
             f"project {args.project}, {os.cpu_count()} cores, load average {load_at_start:.1f} at start; {result.server}; "
             f"whole run {time.perf_counter() - started:.0f} s")
    text = f"{facts}\n\n{rehearsal.render_markdown(result)}"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(json.dumps({"ok": result.ok, **to_jsonable(result)}, indent=1))
    print(f"wrote {args.output}", file=sys.stderr)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
