"""Throwaway PostgreSQL: the one factory for clusters and databases.

Tests, benchmarks, ``dbkit ci``, ``dbkit lint --database`` and the revert round-trip
all get their PostgreSQL from here:

* **Binaries** (``find_binaries``): the server programs of one PostgreSQL version, with
  its version number and where its extensions live (``pg_config --pkglibdir`` and
  ``--sharedir``). ``DBKIT_PG_BINDIR`` names a folder and ``DBKIT_PG_VERSION`` a major
  version; whatever is wrong with either is an error, never a silent fallback to
  another version. Without them, the system's binaries are used.
* **Clusters** (``ephemeral_postgres``): initdb in a temporary directory (on /dev/shm
  where it exists), a server on a free port bound to 127.0.0.1 with trust
  authentication, and everything removed afterwards, also on error or Ctrl-C.
  PostgreSQL refuses to run as root, so when dbkit runs as root the server runs as an
  unprivileged OS user (``postgres`` by default). Each call starts one more cluster,
  so two clusters (of the same or different versions) run side by side.
* **Databases** (``Server.database``, ``throwaway_database``): a database created
  empty or from a template, dropped afterwards; before cloning, sessions on the
  template are terminated (the approach of pytest-postgresql's ``DatabaseJanitor``).
"""

from __future__ import annotations

import functools
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from dbkit.errors import DbkitError

SERVER_USER_ENV = "DBKIT_PG_OS_USER"
BINDIR_ENV = "DBKIT_PG_BINDIR"
VERSION_ENV = "DBKIT_PG_VERSION"
CACHE_ENV = "DBKIT_PG_CACHE"
INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH, via pg_config --bindir "
    f"or under /usr/lib/postgresql/*/bin; install them (Debian/Ubuntu: apt-get install postgresql-15) "
    f"or set {BINDIR_ENV}"
)
_PROGRAMS = ("initdb", "pg_ctl", "postgres")
_VERSION = re.compile(r"\(PostgreSQL\) (\d+)(?:\.(\d+))?")

# Durability is worthless for a cluster that is deleted afterwards; speed is not.
_FAST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
}


class EphemeralError(DbkitError):
    """The throwaway cluster or database could not be created or started."""


# --------------------------------------------------------------------------- binaries


@dataclass(frozen=True)
class Binaries:
    """One PostgreSQL installation's server programs, its version and its extension folders."""

    bindir: Path
    version: str  # "16.15"
    pkglibdir: Path  # shared libraries: pg_cron.so, plpgsql_check.so
    sharedir: Path  # extension/<name>.control
    origin: str = field(default="", compare=False)  # how it was chosen, for headers

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def has_library(self, name: str) -> bool:
        """Whether ``name.so`` (a preload library such as pg_cron) is installed."""
        return (self.pkglibdir / f"{name}.so").is_file()

    def has_extension(self, name: str) -> bool:
        """Whether ``CREATE EXTENSION name`` can work (its control file is installed)."""
        return (self.sharedir / "extension" / f"{name}.control").is_file()

    def describe(self) -> str:
        """``PostgreSQL 16.15 (/path/bin)``: for the first line of a test run or ``dbkit ci``."""
        return f"PostgreSQL {self.version} ({self.bindir})"


def binaries_cache() -> Path:
    """Where ``scripts/pg-binaries.py`` installs pinned versions: ``<cache>/<version>/bin``.

    Outside any repository and readable by the server's OS user: root's home is
    private, so as root it is /var/cache/dbkit/postgresql.
    """
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    if os.geteuid() == 0:
        return Path("/var/cache/dbkit/postgresql")
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dbkit" / "postgresql"


def find_binaries(major: int | None = None) -> Binaries:
    """The PostgreSQL binaries to run; raises EphemeralError saying what to install or fix.

    ``major`` given: that major version, from /usr/lib/postgresql/<major>/bin or the
    binaries cache. Otherwise, in this order:

    * ``DBKIT_PG_BINDIR``: exactly that folder. A folder without the server programs
      is an error, and so is one whose version differs from ``DBKIT_PG_VERSION``.
    * ``DBKIT_PG_VERSION``: as with ``major``.
    * the system's: initdb on PATH, ``pg_config --bindir``, the newest /usr/lib/postgresql/*/bin.
    """
    if major is not None:
        return _find_major(major, f"PostgreSQL {major} requested")
    wanted = _env_major()
    explicit = os.environ.get(BINDIR_ENV)
    if explicit is not None:
        if not explicit.strip():
            raise EphemeralError(f"{BINDIR_ENV} is set but empty: point it at a PostgreSQL bin folder or unset it")
        found = binaries_at(Path(explicit), origin=BINDIR_ENV)
        if wanted is not None and found.major != wanted:
            raise EphemeralError(
                f"{BINDIR_ENV}={explicit} holds PostgreSQL {found.version}, but {VERSION_ENV}={wanted}: "
                "point them at the same version"
            )
        return found
    if wanted is not None:
        return _find_major(wanted, f"{VERSION_ENV}={wanted}")
    return _find_system()


def find_bindir() -> Path:
    """Where initdb and pg_ctl live (``find_binaries().bindir``)."""
    return find_binaries().bindir


@functools.lru_cache(maxsize=None)
def binaries_at(bindir: Path, *, origin: str = "") -> Binaries:
    """The binaries in ``bindir``; raises EphemeralError when it is not a PostgreSQL bin folder."""
    where = f"{origin}: " if origin else ""
    missing = [p for p in _PROGRAMS if not (bindir / p).is_file()]
    if missing:
        raise EphemeralError(
            f"{where}{bindir} is not a PostgreSQL bin folder (no {', '.join(missing)}); "
            f"point {BINDIR_ENV} at one, e.g. /usr/lib/postgresql/15/bin"
        )
    result = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=False)
    match = _VERSION.search(result.stdout)
    if result.returncode != 0 or not match:
        detail = (result.stderr or result.stdout).strip() or f"exit {result.returncode}"
        raise EphemeralError(f"{where}{bindir}/postgres --version did not give a PostgreSQL version: {detail}")
    version = match.group(1) + (f".{match.group(2)}" if match.group(2) else "")
    pkglibdir, sharedir = _extension_dirs(bindir)
    return Binaries(bindir=bindir, version=version, pkglibdir=pkglibdir, sharedir=sharedir, origin=origin)


def _extension_dirs(bindir: Path) -> tuple[Path, Path]:
    """``pg_config --pkglibdir --sharedir`` of these binaries (lib/ and share/ beside them without pg_config)."""
    pg_config = bindir / "pg_config"
    if pg_config.is_file():
        result = subprocess.run([str(pg_config), "--pkglibdir", "--sharedir"], capture_output=True, text=True,
                                check=False)
        lines = result.stdout.split("\n")
        if result.returncode == 0 and len(lines) >= 2 and lines[0] and lines[1]:
            return Path(lines[0]), Path(lines[1])
    return bindir.parent / "lib", bindir.parent / "share"


def _env_major() -> int | None:
    value = os.environ.get(VERSION_ENV)
    if value is None:
        return None
    if not value.strip().isdigit():
        raise EphemeralError(f"{VERSION_ENV} must be a PostgreSQL major version such as 16, not {value!r}")
    return int(value)


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in path.name.split("."))


def _find_major(major: int, origin: str) -> Binaries:
    debian = Path(f"/usr/lib/postgresql/{major}/bin")
    cache = binaries_cache()
    cached = sorted((p for p in cache.glob(f"{major}.*") if (p / "bin" / "postgres").is_file()),
                    key=_version_key, reverse=True)
    for candidate in [debian, *(p / "bin" for p in cached)]:
        if all((candidate / p).is_file() for p in _PROGRAMS):
            found = binaries_at(candidate, origin=origin)
            if found.major == major:
                return found
    raise EphemeralError(
        f"{origin}, but no PostgreSQL {major} binaries are in {debian} or {cache}/{major}.*: install them "
        f"(`make pg-binaries PG={major}` in dbkit's repository, or apt-get install postgresql-{major})"
    )


def _find_system() -> Binaries:
    candidates: list[tuple[Path, str]] = []
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append((Path(initdb).resolve().parent, "initdb on PATH"))
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if result.returncode == 0 and result.stdout.strip():
            candidates.append((Path(result.stdout.strip()), "pg_config --bindir"))
    versioned = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0,
        reverse=True,
    )
    candidates.extend((Path(p), "newest /usr/lib/postgresql/*/bin") for p in versioned)
    for candidate, origin in candidates:
        if all((candidate / p).is_file() for p in _PROGRAMS):
            return binaries_at(candidate, origin=origin)
    raise EphemeralError(INSTALL_HINT)


# --------------------------------------------------------------------------- databases


def _admin(conninfo: str) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(conninfo, autocommit=True)
    except psycopg.OperationalError as exc:
        raise EphemeralError(f"cannot connect to create or drop a throwaway database: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def create_database(conninfo: str, name: str, *, template: str | None = None, is_template: bool = False) -> None:
    """``CREATE DATABASE name [TEMPLATE template]`` through ``conninfo`` (any database of the server).

    Sessions still connected to the template are terminated first: PostgreSQL refuses
    to copy a database that someone is connected to.
    """
    statement = sql.SQL("create database {}").format(sql.Identifier(name))
    if template is not None:
        statement += sql.SQL(" template {}").format(sql.Identifier(template))
    if is_template:
        statement += sql.SQL(" is_template true")
    with _admin(conninfo) as admin:
        try:
            if template is not None:
                admin.execute("select pg_catalog.pg_terminate_backend(pid) from pg_catalog.pg_stat_activity "
                              "where datname = %s and pid <> pg_catalog.pg_backend_pid()", (template,))
            admin.execute(statement)
        except psycopg.Error as exc:
            raise EphemeralError(f"cannot create database {name}: {_first_line(exc)}") from None


def drop_database(conninfo: str, name: str) -> None:
    """Drop ``name`` if it exists, whoever is connected to it (and if it is a template)."""
    with _admin(conninfo) as admin:
        try:
            row = admin.execute("select datistemplate from pg_catalog.pg_database where datname = %s",
                                (name,)).fetchone()
            if row is None:
                return
            if row[0]:
                admin.execute(sql.SQL("alter database {} is_template false").format(sql.Identifier(name)))
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise EphemeralError(f"cannot drop database {name}: {_first_line(exc)}") from None


@contextmanager
def throwaway_database(conninfo: str, name: str | None = None, *, template: str | None = None,
                       is_template: bool = False, prefix: str = "dbkit_") -> Iterator[str]:
    """A new database on the server ``conninfo`` reaches; yields its name and drops it afterwards.

    ``name`` defaults to ``prefix`` plus a random suffix, so concurrent callers never collide.
    """
    dbname = name or f"{prefix}{uuid.uuid4().hex[:12]}"
    create_database(conninfo, dbname, template=template, is_template=is_template)
    try:
        yield dbname
    finally:
        drop_database(conninfo, dbname)


# --------------------------------------------------------------------------- clusters


@dataclass(frozen=True)
class Server:
    """A running throwaway cluster."""

    host: str
    port: int
    user: str
    data_dir: Path
    socket_dir: Path
    bindir: Path

    @property
    def binaries(self) -> Binaries:
        return binaries_at(self.bindir)

    @property
    def version(self) -> str:
        return self.binaries.version

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    def describe(self) -> str:
        """``PostgreSQL 16.15 on 127.0.0.1:PORT (binaries: /path/bin)``."""
        return f"PostgreSQL {self.version} on {self.host}:{self.port} (binaries: {self.bindir})"

    @contextmanager
    def database(self, name: str | None = None, *, template: str | None = None, is_template: bool = False,
                 prefix: str = "db_") -> Iterator[str]:
        """A fresh database (empty, or a copy of ``template``); yields its URL, drops it afterwards."""
        with throwaway_database(self.url(), name, template=template, is_template=is_template,
                                prefix=prefix) as dbname:
            yield self.url(dbname)

    def create_database(self, name: str, *, template: str | None = None, is_template: bool = False) -> str:
        """Create ``name`` (kept until ``drop_database`` or the cluster's end); returns its URL."""
        create_database(self.url(), name, template=template, is_template=is_template)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        drop_database(self.url(), name)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    name = os.environ.get(SERVER_USER_ENV, "postgres")
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise EphemeralError(
            f"running as root, and PostgreSQL refuses to run as root: create an unprivileged OS user "
            f"{name!r} (useradd --system {name}) or set {SERVER_USER_ENV} to one"
        ) from None


def _base_dir() -> str:
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK):
        return shm
    return tempfile.gettempdir()


@contextmanager
def ephemeral_postgres(settings: Mapping[str, str] | None = None, *,
                       binaries: Binaries | None = None) -> Iterator[Server]:
    """Start a throwaway cluster; yield it; stop and delete it whatever happens.

    ``settings`` are extra postgresql.conf lines, e.g.
    ``{"shared_preload_libraries": "'pg_cron'", "cron.database_name": "'app'"}``.
    ``binaries`` chooses the version (``find_binaries(16)``); default ``find_binaries()``.
    Each call is one more cluster with its own port and directory.
    """
    chosen = binaries or find_binaries()
    bindir = chosen.bindir
    account = _run_as()
    run = _Runner(account)
    if account is not None:
        run([str(bindir / "postgres"), "--version"],
            f"running {bindir}/postgres as OS user {account.pw_name} (it and its parent folders must be readable "
            f"by that user; root's home is not)")
    base = _base_dir()
    _remove_abandoned(base)
    workdir = Path(tempfile.mkdtemp(prefix=_PREFIX, dir=base))
    data_dir = workdir / "data"
    log_file = workdir / "server.log"
    try:
        with _terminate_unwinds():
            (workdir / _OWNER).write_text(f"{_process_identity(os.getpid())}\n{bindir}\n", encoding="utf-8")
            if account is not None:
                os.chown(workdir, account.pw_uid, account.pw_gid)
            run([str(bindir / "initdb"), "-D", str(data_dir), "-A", "trust", "-U", "postgres",
                 "-E", "UTF8", "--no-locale", "--no-sync"], "initdb")
            conf = dict(_FAST_SETTINGS)
            conf.update(settings or {})
            with open(data_dir / "postgresql.conf", "a", encoding="utf-8") as handle:
                handle.write("\n# dbkit ephemeral cluster\n")
                handle.write(f"unix_socket_directories = '{workdir}'\n")
                handle.write("listen_addresses = '127.0.0.1'\n")
                for key, value in conf.items():
                    handle.write(f"{key} = {value}\n")
            port = _start(run, bindir, data_dir, log_file)
            yield Server(host="127.0.0.1", port=port, user="postgres", data_dir=data_dir,
                         socket_dir=workdir, bindir=bindir)
    finally:
        # Stop whatever runs there, even when Ctrl-C came while pg_ctl start was still waiting.
        if (data_dir / "postmaster.pid").exists():
            subprocess.run(
                [str(bindir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "-w", "stop"],
                capture_output=True, check=False, **_user_kwargs(account),
            )
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def ephemeral_clusters(versions: Sequence[int | None], settings: Mapping[str, str] | None = None) -> Iterator[
        list[Server]]:
    """One throwaway cluster per entry of ``versions`` (a major version, or None for ``find_binaries()``).

    ``ephemeral_clusters([None, None])`` gives two clusters of the default version;
    ``ephemeral_clusters([14, 18])`` one of each. All are stopped and removed afterwards.
    """
    with ExitStack() as stack:
        servers = [stack.enter_context(ephemeral_postgres(settings, binaries=find_binaries(v))) for v in versions]
        yield servers


_PREFIX = "dbkit-pg-"
_OWNER = "owner"  # "<pid>:<process start time>" of the process that made the cluster, then its bindir


def _process_identity(pid: int) -> str:
    """``pid:start time`` (from /proc), so a reused pid is not taken for the original process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return f"{pid}:gone"
    return f"{pid}:{stat.rsplit(')', 1)[1].split()[19]}"


def _remove_abandoned(base: str) -> None:
    """Stop and remove clusters whose creating process died without cleaning up (kill -9, a crash).

    Only directories that say who made them (the owner file) and only when that exact process
    (pid and start time) is gone; anything unclear is left alone. Best effort: never raises.
    """
    if not Path("/proc/self/stat").exists():
        return
    for workdir in Path(base).glob(f"{_PREFIX}*"):
        try:
            identity, bindir = (workdir / _OWNER).read_text(encoding="utf-8").split("\n")[:2]
            pid = int(identity.split(":")[0])
        except (OSError, ValueError):
            continue
        if _process_identity(pid) == identity:
            continue
        data_dir = workdir / "data"
        try:
            if (data_dir / "postmaster.pid").exists() and (Path(bindir) / "pg_ctl").is_file():
                owner = data_dir.stat().st_uid
                account = pwd.getpwuid(owner) if os.geteuid() == 0 and owner != 0 else None
                subprocess.run([str(Path(bindir) / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "-w",
                                "stop"], capture_output=True, check=False, timeout=60, **_user_kwargs(account))
        except (OSError, KeyError, subprocess.SubprocessError):
            continue
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def _terminate_unwinds() -> Iterator[None]:
    """While a cluster runs, SIGTERM (a CI timeout, ``kill``) unwinds like Ctrl-C (KeyboardInterrupt,
    which pytest and click also treat as "stop now"), so the cluster is stopped and removed. Only where
    Python would otherwise die at once: in the main thread, and when nobody else handles SIGTERM; the
    default disposition is restored afterwards."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def unwind(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, unwind)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _start(run: _Runner, bindir: Path, data_dir: Path, log_file: Path) -> int:
    """Start on a free port; retry when another process took the port first."""
    last_error = ""
    for _ in range(5):
        port = _free_port()
        try:
            run([str(bindir / "pg_ctl"), "-D", str(data_dir), "-l", str(log_file), "-w", "-t", "60",
                 "-o", f"-p {port}", "start"], "pg_ctl start")
            return port
        except EphemeralError as exc:
            last_error = str(exc)
            log = log_file.read_text(errors="replace") if log_file.exists() else ""
            if "could not bind" not in log and "already in use" not in log:
                raise
    raise EphemeralError(f"could not start PostgreSQL on a free port: {last_error}")


class _Runner:
    def __init__(self, account: pwd.struct_passwd | None):
        self.account = account

    def __call__(self, argv: list[str], what: str) -> None:
        result = subprocess.run(argv, capture_output=True, text=True, check=False, **_user_kwargs(self.account))
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise EphemeralError(f"{what} failed: {detail[-1] if detail else 'exit ' + str(result.returncode)}")


def _user_kwargs(account: pwd.struct_passwd | None) -> dict[str, Any]:
    if account is None:
        return {}
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": [],
            "env": {**os.environ, "HOME": account.pw_dir or "/tmp"}, "cwd": "/"}


@contextmanager
def hot_standby(primary: Server) -> Iterator[Server]:
    """A streaming replica of ``primary`` (``pg_basebackup -R``) started as a hot standby.

    It follows the primary until the context ends; then it is stopped and deleted. The
    throwaway primary's trust authentication already admits replication from 127.0.0.1.
    """
    account = _run_as()
    workdir = Path(tempfile.mkdtemp(prefix="dbkit-standby-", dir=_base_dir()))
    data_dir = workdir / "data"
    log_file = workdir / "server.log"
    started = False
    try:
        if account is not None:
            os.chown(workdir, account.pw_uid, account.pw_gid)
        run = _Runner(account)
        run([str(primary.bindir / "pg_basebackup"), "-D", str(data_dir), "-h", primary.host, "-p", str(primary.port),
             "-U", primary.user, "-R", "-X", "stream", "--no-sync", "-c", "fast"], "pg_basebackup")
        with open(data_dir / "postgresql.conf", "a", encoding="utf-8") as handle:
            handle.write(f"\n# dbkit hot standby\nunix_socket_directories = '{workdir}'\nhot_standby = on\n")
        port = _start(run, primary.bindir, data_dir, log_file)
        started = True
        yield Server(host="127.0.0.1", port=port, user=primary.user, data_dir=data_dir, socket_dir=workdir,
                     bindir=primary.bindir)
    finally:
        if started:
            subprocess.run(
                [str(primary.bindir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "-w", "stop"],
                capture_output=True, check=False, **_user_kwargs(account),
            )
        shutil.rmtree(workdir, ignore_errors=True)
