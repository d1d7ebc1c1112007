"""A throwaway PostgreSQL cluster for tests and ``dbkit ci``.

initdb in a temporary directory (on /dev/shm where it exists), a server on a free
port bound to 127.0.0.1 with trust authentication, and everything removed afterwards,
also on error or Ctrl-C. PostgreSQL refuses to run as root, so when dbkit runs as
root the server runs as an unprivileged OS user (``postgres`` by default).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbkit.errors import DbkitError

SERVER_USER_ENV = "DBKIT_PG_OS_USER"
BINDIR_ENV = "DBKIT_PG_BINDIR"
INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH, via pg_config --bindir "
    f"or under /usr/lib/postgresql/*/bin; install them (Debian/Ubuntu: apt-get install postgresql-15) "
    f"or set {BINDIR_ENV}"
)

# Durability is worthless for a cluster that is deleted afterwards; speed is not.
_FAST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
}


class EphemeralError(DbkitError):
    """The throwaway cluster could not be created or started."""


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    data_dir: Path
    socket_dir: Path
    bindir: Path

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"


def find_bindir() -> Path:
    """Where initdb and pg_ctl live; raises EphemeralError saying what to install."""
    candidates: list[Path] = []
    if os.environ.get(BINDIR_ENV):
        candidates.append(Path(os.environ[BINDIR_ENV]))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if result.returncode == 0 and result.stdout.strip():
            candidates.append(Path(result.stdout.strip()))
    versioned = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0,
        reverse=True,
    )
    candidates.extend(Path(p) for p in versioned)
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    raise EphemeralError(INSTALL_HINT)


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
def ephemeral_postgres(settings: Mapping[str, str] | None = None) -> Iterator[Server]:
    """Start a throwaway cluster; yield it; stop and delete it whatever happens.

    ``settings`` are extra postgresql.conf lines, e.g.
    ``{"shared_preload_libraries": "'pg_cron'", "cron.database_name": "'app'"}``.
    """
    bindir = find_bindir()
    account = _run_as()
    workdir = Path(tempfile.mkdtemp(prefix="dbkit-pg-", dir=_base_dir()))
    data_dir = workdir / "data"
    log_file = workdir / "server.log"
    started = False
    try:
        if account is not None:
            os.chown(workdir, account.pw_uid, account.pw_gid)
        run = _Runner(account)
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
        started = True
        yield Server(host="127.0.0.1", port=port, user="postgres", data_dir=data_dir,
                     socket_dir=workdir, bindir=bindir)
    finally:
        if started:
            subprocess.run(
                [str(bindir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "-w", "stop"],
                capture_output=True, check=False, **_user_kwargs(account),
            )
        shutil.rmtree(workdir, ignore_errors=True)


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
