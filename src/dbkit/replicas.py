"""Streaming standbys seen from the primary: their replay lag, and waiting for it to fall.

A migration's locks and WAL are replayed on every streaming standby. A standby that
replays slowly (a long query there holding replay back, a large backfill) lags, and the
next migration adds to it. ``dbkit apply`` therefore samples ``pg_stat_replication``
before and after each migration and, when asked (``wait_replica_lag_below``), waits
before each migration until every standby's replay lag is below the bound.

A standby's lag is:

* 0 when it has replayed everything the primary has written (``replay_lsn`` equals
  ``pg_current_wal_lsn()``); PostgreSQL then leaves ``replay_lag`` NULL after a moment
  of idleness, which is no lag at all;
* otherwise ``replay_lag``, PostgreSQL's own measure (the time between the primary
  writing WAL and the standby reporting it replayed); NULL while it is behind means it
  has not reported progress, and counts as unknown (never below a bound). The standby
  reports every ``wal_receiver_status_interval`` (10 s by default) and whenever WAL
  arrives, so the lag of a standby whose replay is stuck is seen growing in those steps.

Without ``pg_monitor`` (or superuser) the LSN columns read NULL: such a standby is
listed with unknown lag, and waiting on it fails with a message naming the privilege.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from dbkit.errors import DbkitError, EXIT_FAIL

Progress = Callable[[str], None]

# Whether any standby streams from this server: the cheapest question (0.02 ms more than
# `select 1`), which dbkit apply asks in the same query as every migration and follows with
# the full sample only when the answer is yes.
SENDERS = "select pid from pg_catalog.pg_stat_get_wal_senders()"

# pg_stat_replication's own rows, read from its two functions directly: the view joins every
# backend's status to the WAL senders and takes ~0.6 ms to plan and run where a standby-less
# server's function returns no row at once (0.2 ms).
SAMPLE = """
select coalesce(s.application_name, ''), coalesce(host(s.client_addr), 'local'), w.state,
       pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), w.replay_lsn)::bigint,
       extract(epoch from w.replay_lag)::float8
  from pg_catalog.pg_stat_get_wal_senders() w
  cross join lateral pg_catalog.pg_stat_get_activity(w.pid) s
 order by s.application_name, w.pid
"""


class ReplicaLagging(DbkitError):
    """A standby's replay lag stayed above the bound for longer than the wait allowed."""

    exit_code = EXIT_FAIL


@dataclass(frozen=True)
class StandbyLag:
    name: str  # application_name (the standby's cluster_name or primary_conninfo's)
    client: str  # its address, or 'local' for a unix socket
    state: str  # streaming | catchup | startup | backup
    behind_bytes: int | None  # WAL written on the primary and not yet replayed there; None: not visible
    lag_s: float | None  # see the module docstring; None: unknown

    def below(self, bound_s: float) -> bool:
        return self.lag_s is not None and self.lag_s < bound_s

    def describe(self) -> str:
        lag = "unknown" if self.lag_s is None else f"{self.lag_s * 1000:.0f} ms"
        behind = "" if self.behind_bytes is None else f", {self.behind_bytes:,} bytes behind"
        return f"{self.name or '(unnamed)'}@{self.client} {lag}{behind}"


@dataclass(frozen=True)
class StepLag:
    """The standbys before and after one migration, and how long dbkit waited before it."""

    target: str
    before: tuple[StandbyLag, ...]
    after: tuple[StandbyLag, ...]
    waited_s: float = 0.0


def sample(conn: psycopg.Connection[Any]) -> tuple[StandbyLag, ...]:
    """Every standby connected to this primary (none on a server without standbys)."""
    return tuple(_lag(*row) for row in conn.execute(SAMPLE, prepare=False).fetchall())


def _lag(name: object, client: object, state: object, behind: int | None, lag: float | None) -> StandbyLag:
    if behind is None:
        seconds = None
    elif behind <= 0:
        seconds = 0.0
    else:
        seconds = None if lag is None else float(lag)
    return StandbyLag(str(name), str(client), str(state or ""), None if behind is None else int(behind), seconds)


def wait_below(conn: psycopg.Connection[Any], bound_s: float, limit_s: float, *, before: str,
               progress: Progress, poll_s: float = 0.1) -> tuple[tuple[StandbyLag, ...], float]:
    """Wait until every standby's lag is below ``bound_s``; give up after ``limit_s``.

    Returns the last sample and the seconds waited. Raises ReplicaLagging naming the
    standbys still behind, and what to do. ``before`` names the migration about to run.
    """
    started = time.monotonic()
    announced = False
    while True:
        lags = sample(conn)
        behind = [lag for lag in lags if not lag.below(bound_s)]
        if not behind:
            return lags, time.monotonic() - started
        waited = time.monotonic() - started
        if waited >= limit_s:
            hidden = any(lag.behind_bytes is None for lag in behind)
            hint = (" (the connecting role cannot see the standbys' positions: grant it pg_monitor)"
                    if hidden else "")
            raise ReplicaLagging(
                f"replay lag stayed at or above {bound_s * 1000:g} ms for {waited:.0f} s before {before}: "
                f"{'; '.join(lag.describe() for lag in behind)}{hint}; the migrations before it are applied — "
                "rerun apply when the standbys have caught up, or raise --replica-wait-limit"
            )
        if not announced:
            progress(f"waiting for standby replay lag below {bound_s * 1000:g} ms before {before}: "
                     f"{'; '.join(lag.describe() for lag in behind)}")
            announced = True
        time.sleep(poll_s)
