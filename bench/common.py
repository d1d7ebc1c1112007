"""Shared helpers for the benchmarks in bench/: the throwaway cluster, databases cloned
from one migrated template, latency statistics, plan capture and result tables.

Every benchmark runs on a cluster started by dbkit.ephemeral.ephemeral_postgres()
(loopback only, on /dev/shm; DBKIT_PG_BINDIR / DBKIT_PG_VERSION choose the version) and
migrated once by dbkit's own engine; each benchmark then works in its own clone of that
template, made by the same factory (Server.create_database), so what one benchmark seeds, disables or
deletes never reaches another.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from dbkit import config, engine
from dbkit.ephemeral import Server, ephemeral_postgres

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = "bench_template"


def uid(n: int, prefix: str = "00000000") -> str:
    """Deterministic uuid number n (prefix tells the kind of row apart): easy to sample."""
    return f"{prefix}-0000-0000-0000-{n:012x}"


def uid_sql(expr: str, prefix: str = "00000000") -> str:
    """SQL expression building the same uuid as uid() from an integer expression."""
    return f"('{prefix}-0000-0000-0000-' || lpad(to_hex({expr}), 12, '0'))::uuid"


@dataclass
class Section:
    """One result table: a title, column headers, rows and one sentence of context."""

    title: str
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""
    raw: str = ""  # preformatted output shown instead of rows

    def markdown(self) -> str:
        lines = [f"### {self.title}", ""]
        if self.note:
            lines += [self.note, ""]
        if self.raw:
            return "\n".join(lines + ["```", self.raw, "```"]) + "\n"
        lines.append("| " + " | ".join(self.headers) + " |")
        lines.append("|" + "|".join("---" for _ in self.headers) + "|")
        for row in self.rows:
            lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
        return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value >= 100:
            return f"{value:.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    return str(value).replace("|", "\\|")


class Cluster:
    """The running throwaway server plus a migrated template database."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self._count = 0

    def url(self, dbname: str = "postgres") -> str:
        return self.server.url(dbname)

    def admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url(), autocommit=True)

    def create_empty(self, name: str) -> str:
        """A fresh empty database (replacing one of that name); kept until drop() or the cluster's end."""
        self.server.drop_database(name)
        return self.server.create_database(name)

    def build_template(self) -> float:
        """Create and migrate the template with dbkit's engine; returns seconds taken."""
        url = self.create_empty(TEMPLATE)
        started = time.perf_counter()
        engine.apply(config.load_settings(ROOT, database_url=url))
        return time.perf_counter() - started

    def clone(self, name: str, template: str = TEMPLATE) -> str:
        """A fresh database copied from a template (sessions on the template are ended first)."""
        self.server.drop_database(name)
        return self.server.create_database(name, template=template)

    def drop(self, name: str) -> None:
        self.server.drop_database(name)


def compiled_dbkit() -> None:
    """Byte-compile dbkit's sources, as `pip install` does for an installed package, so a
    benchmark of the CLI does not time Python compiling dbkit on every start (an editable
    install under PYTHONDONTWRITEBYTECODE=1 never writes the cache itself)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "dbkit")], check=True,
                   capture_output=True)


@contextmanager
def cluster(*, template: bool = True) -> Iterator[Cluster]:
    settings = {
        # Bench-sized but modest memory; 2 cores: no parallel workers stealing the other core
        # from the client process.
        "shared_buffers": "'512MB'",
        "max_parallel_workers_per_gather": "0",
        "max_wal_size": "'4GB'",
        "checkpoint_timeout": "'30min'",
    }
    with ephemeral_postgres(settings) as server:
        c = Cluster(server)
        if template:
            c.build_template()
        yield c


def run_timed(c: Cluster, benches: Sequence[Callable[[Cluster, Any], Section]], arg: Any) -> list[Section]:
    """Run each bench(c, arg) in turn, printing how long each took."""
    sections = []
    for bench in benches:
        started = time.perf_counter()
        sections.append(bench(c, arg))
        print(f"  {bench.__name__}: {time.perf_counter() - started:.1f}s", flush=True)
    return sections


def standalone(run: Callable[[Cluster], list[Section]], *, template: bool = True) -> None:
    """`python bench/<file>.py`: run one benchmark file on its own throwaway cluster."""
    with cluster(template=template) as c:
        for section in run(c):
            print(section.markdown())


def connect(url: str, *, autocommit: bool = True) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=autocommit)


def run_script(conn: psycopg.Connection[Any], script: str, params: dict[str, Any] | None = None) -> None:
    """Run ';'-separated statements (no semicolons inside statements) one by one."""
    for statement in script.split(";\n"):
        if statement.strip():
            conn.execute(statement, params)


# ------------------------------------------------------------------ statistics


@dataclass(frozen=True)
class Latency:
    n: int
    p50: float
    p95: float
    mean: float


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def latency(call: Callable[[int], object], n: int, warmup: int = 10, budget_s: float = 4.0,
            min_n: int = 10) -> Latency:
    """Time call(i) n times after warmup calls; milliseconds, wall clock on the client.
    Slow calls are sampled fewer times: at most about budget_s seconds, but min_n samples."""
    started = time.perf_counter()
    call(0)
    first = time.perf_counter() - started
    if first * (n + warmup) > budget_s:
        warmup = min(warmup, 2)
        n = max(min_n, int(budget_s / max(first, 1e-6)) - warmup)
    for i in range(1, warmup):
        call(i)
    samples: list[float] = []
    for i in range(n):
        started = time.perf_counter()
        call(warmup + i)
        samples.append((time.perf_counter() - started) * 1000)
    return Latency(n, percentile(samples, 0.5), percentile(samples, 0.95), statistics.fmean(samples))


def median_seconds(call: Callable[[int], object], runs: int) -> tuple[float, list[float]]:
    """Median wall-clock seconds of runs calls of call(run_index); also all samples."""
    samples: list[float] = []
    for i in range(runs):
        started = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), samples


# ------------------------------------------------------------------ plans

_NODE = re.compile(
    r"(?:->\s+|^\s*)((?:Parallel )?(?:Seq Scan|Index Only Scan|Index Scan(?: Backward)?|Bitmap Index Scan)"
    r"(?: using (\S+))? on (\S+)|(?:Hash|Merge) (?:Semi |Anti |Left |Right |Full )?Join|Nested Loop(?: Semi| Anti| Left)? ?(?:Join)?)"
)
_ACTUAL = re.compile(r"actual (?:time=\S+ )?rows=(\d+) loops=(\d+)")
_REMOVED = re.compile(r"Rows Removed by (?:Filter|Index Recheck): (\d+)")


def plan_nodes(plan_text: str) -> list[tuple[str, int]]:
    """Scan and join nodes of a text EXPLAIN ANALYZE plan, in order: ('Index Scan idx_x', rows
    read) where rows read = (rows returned + rows removed by filter) x loops; joins have -1."""
    nodes: list[list[Any]] = []
    current: list[Any] | None = None
    for line in plan_text.splitlines():
        m = _NODE.search(line)
        if m:
            if m.group(2) or m.group(3):
                kind = m.group(1).split(" using ")[0].split(" on ")[0]
                label = f"{kind} {m.group(2) or m.group(3)}"
                a = _ACTUAL.search(line)
                loops = int(a.group(2)) if a else 0
                current = [label, int(a.group(1)) * loops if a else 0, loops]
            else:
                current = [m.group(1).strip(), -1, 0]
            nodes.append(current)
            continue
        r = _REMOVED.search(line)
        if r and current is not None and current[1] >= 0:
            current[1] += int(r.group(1)) * max(current[2], 1)
    return [(label, rows) for label, rows, _loops in nodes]


def summarize_plans(plans: Sequence[str]) -> str:
    """One table cell for the plans of a call (nested ones included): each distinct node once,
    scans with the most rows any one plan read through them (summed over that plan's nodes
    scanning the same index, e.g. the arms of a UNION ALL): 'Hash Join; Seq Scan t (1,000 rows)'.
    EXPLAIN rounds rows per loop, so a scan repeated in many loops is approximate."""
    order: list[str] = []
    rows: dict[str, int] = {}
    for plan in plans:
        in_plan: dict[str, int] = {}
        for label, n in plan_nodes(plan):
            if label not in rows:
                order.append(label)
                rows[label] = n
            in_plan[label] = n if n < 0 or label not in in_plan else in_plan[label] + n
        for label, n in in_plan.items():
            rows[label] = max(rows[label], n)
    parts = [label if rows[label] < 0 else f"{label} ({rows[label]:,} rows)" for label in order]
    return "; ".join(parts) if parts else "(no table scan)"


@contextmanager
def captured_plans(conn: psycopg.Connection[Any]) -> Iterator[list[str]]:
    """Plans of every statement run inside the block, nested ones included (statements in
    plpgsql/SQL functions and triggers), via auto_explain at NOTICE level. The connection
    must be a superuser's (it may SET ROLE afterwards inside the block)."""
    plans: list[str] = []

    def on_notice(diag: psycopg.errors.Diagnostic) -> None:
        message = diag.message_primary or ""
        if "plan:" in message or "Query Text" in message:
            plans.append(message)

    conn.execute("load 'auto_explain'")
    for key, value in (("log_min_duration", "0"), ("log_nested_statements", "on"),
                       ("log_level", "notice"), ("log_format", "text"), ("log_analyze", "on"),
                       ("log_timing", "off"), ("log_buffers", "off")):
        conn.execute(f"set auto_explain.{key} = {value}")
    conn.add_notice_handler(on_notice)
    try:
        yield plans
    finally:
        conn.remove_notice_handler(on_notice)
        conn.execute("reset role")
        conn.execute("set auto_explain.log_min_duration = -1")


def explain_text(conn: psycopg.Connection[Any], query: str, params: Any = None) -> str:
    rows = conn.execute("explain (analyze, timing off, costs off) " + query, params).fetchall()
    return "\n".join(r[0] for r in rows)


def server_ms(conn: psycopg.Connection[Any], query: str, params: Any = None) -> float:
    rows = conn.execute("explain (analyze) " + query, params).fetchall()
    for (line,) in rows:
        m = re.search(r"Execution Time: ([\d.]+) ms", line)
        if m:
            return float(m.group(1))
    return float("nan")
