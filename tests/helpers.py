"""Helpers shared by the tests: run the CLI in-process or as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from dbkit.cli.main import cli

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def run_dbkit(*args: str, url: str | None = None, cwd: Path = REPO_ROOT,
              env: Mapping[str, str] | None = None) -> Result:
    """Run ``dbkit ARGS`` in-process; the database comes through DATABASE_URL."""
    environment = {"DATABASE_URL": url} if url else {"DATABASE_URL": None}
    environment.update(env or {})
    with _cwd(cwd):
        result = CliRunner().invoke(cli, list(args), env=environment, catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


def dbkit_process(*args: str, url: str | None = None, cwd: Path = REPO_ROOT) -> subprocess.Popen[str]:
    """Start ``python -m dbkit ARGS`` as a separate process (for kill and concurrency tests)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if url:
        env["DATABASE_URL"] = url
    env["CI"] = "true"
    return subprocess.Popen([sys.executable, "-m", "dbkit", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
