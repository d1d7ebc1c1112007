"""Settings: where the project's files are and which database to talk to.

Paths come from ``dbkit.toml`` or ``[tool.dbkit]`` in ``pyproject.toml`` (first found,
walking up from the working directory), defaulting to ``migrations/`` and ``sql/``.
The database comes from ``--database-url`` or ``DATABASE_URL``; it is parsed once
into its fields so that nothing downstream handles the raw string (which may carry a
password) and every message can describe the target as ``user@host:port/dbname``.
"""

from __future__ import annotations

import re
import tomllib
import urllib.parse
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from dbkit.errors import ConfigError, InputError

TRACKING_SCHEMA = "dbkit"
DEFAULT_MODULE_ORDER = ("platform",)

_CONFIG_KEYS = {
    "migrations",
    "sql",
    "modules",
    "lock_timeout",
    "ddl_lock_timeout",
    "statement_timeout",
    "retries",
}


@dataclass(frozen=True)
class DatabaseTarget:
    """A parsed connection target. The password never shows in repr or str."""

    params: dict[str, str] = field(repr=False)
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> DatabaseTarget:
        text = url.strip()
        if not text:
            raise InputError("the database URL is empty; pass --database-url or set DATABASE_URL")
        scheme = text.split(":", 1)[0].lower() if "://" in text else ""
        if scheme:
            if scheme not in {"postgresql", "postgres", "postgresql+psycopg"}:
                raise InputError(
                    f"unsupported database URL scheme {scheme!r}; use postgresql://user@host:port/dbname"
                )
            if scheme == "postgresql+psycopg":
                text = "postgresql" + text[len(scheme) :]
            _reject_bad_port(text)
        try:
            params = {k: str(v) for k, v in conninfo_to_dict(text).items() if v is not None}
        except psycopg.ProgrammingError:
            raise InputError(
                "malformed database URL; expected postgresql://user@host:port/dbname "
                "or a key=value connection string"
            ) from None
        password = params.pop("password", None)
        return cls(params=params, password=password)

    @property
    def dbname(self) -> str:
        return self.params.get("dbname") or self.params.get("user") or "postgres"

    def describe(self) -> str:
        """``user@host:port/dbname``, for messages and reports."""
        user = self.params.get("user", "")
        host = self.params.get("host", "localhost")
        port = self.params.get("port", "5432")
        prefix = f"{user}@" if user else ""
        return f"{prefix}{host}:{port}/{self.dbname}"

    def conninfo(self, **overrides: str) -> str:
        """A libpq conninfo string for psycopg (contains the password: never print it)."""
        params: dict[str, Any] = dict(self.params)
        if self.password is not None:
            params["password"] = self.password
        params.update(overrides)
        return make_conninfo(**params)

    def yoyo_uri(self, schema: str = TRACKING_SCHEMA) -> str:
        """The URI yoyo-migrations wants (``postgresql+psycopg://``), tracking in ``schema``."""
        def quote(text: str) -> str:
            return urllib.parse.quote(text, safe="")

        user = quote(self.params.get("user", ""))
        auth = user
        if self.password is not None:
            auth += ":" + quote(self.password)
        query = {k: v for k, v in self.params.items() if k not in {"user", "dbname"}}
        query["schema"] = schema
        return (
            f"postgresql+psycopg://{auth}{'@' if auth else ''}/{quote(self.dbname)}?"
            + urllib.parse.urlencode(query)
        )

    def secrets(self) -> tuple[str, ...]:
        return (self.password,) if self.password else ()


def _reject_bad_port(url: str) -> None:
    netloc = urllib.parse.urlsplit(url).netloc.rsplit("@", 1)[-1]
    for hostport in netloc.split(","):
        if hostport.startswith("["):
            continue
        if ":" in hostport:
            port = hostport.rsplit(":", 1)[1]
            if port and not (port.isdigit() and 0 < int(port) < 65536):
                raise InputError(f"malformed database URL: port {port!r} is not a number from 1 to 65535")


@dataclass(frozen=True)
class Settings:
    root: Path
    migrations_dir: Path
    sql_dir: Path
    modules: tuple[str, ...] | None  # explicit order; None means discover
    config_source: str
    database: DatabaseTarget | None = None
    lock_timeout: float = 60.0  # seconds to wait for another dbkit process's apply lock
    ddl_lock_timeout: str = "5s"  # PostgreSQL lock_timeout while a migration runs
    statement_timeout: str = "0"  # PostgreSQL statement_timeout while a migration runs
    retries: int = 0  # retries of a migration that hit lock_timeout

    def require_database(self) -> DatabaseTarget:
        if self.database is None:
            raise ConfigError("no database given; pass --database-url or set DATABASE_URL")
        return self.database

    def with_database(self, url: str | None) -> Settings:
        return replace(self, database=DatabaseTarget.parse(url) if url else None)

    def relative(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)


def load_settings(
    cwd: Path | None = None,
    *,
    database_url: str | None = None,
    config_file: Path | None = None,
    **overrides: Any,
) -> Settings:
    """Build Settings from the config file found for ``cwd`` plus explicit overrides."""
    start = (cwd or Path.cwd()).resolve()
    values, root, source = _read_config(start, config_file)
    unknown = set(values) - _CONFIG_KEYS
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}; known keys: {', '.join(sorted(_CONFIG_KEYS))}")
    modules = values.get("modules")
    if modules is not None and not (isinstance(modules, list) and all(isinstance(m, str) for m in modules)):
        raise ConfigError(f"{source}: modules must be a list of module names")
    settings = Settings(
        root=root,
        migrations_dir=root / str(values.get("migrations", "migrations")),
        sql_dir=root / str(values.get("sql", "sql")),
        modules=tuple(modules) if modules is not None else None,
        config_source=source,
        lock_timeout=float(values.get("lock_timeout", 60.0)),
        ddl_lock_timeout=str(values.get("ddl_lock_timeout", "5s")),
        statement_timeout=str(values.get("statement_timeout", "0")),
        retries=int(values.get("retries", 0)),
    )
    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    return settings.with_database(database_url) if database_url else settings


def _read_config(start: Path, config_file: Path | None) -> tuple[dict[str, Any], Path, str]:
    if config_file is not None:
        path = config_file.resolve()
        if not path.is_file():
            raise ConfigError(f"config file {config_file} does not exist")
        return _parse_config(path), path.parent, str(path)
    for directory in (start, *start.parents):
        dbkit_toml = directory / "dbkit.toml"
        if dbkit_toml.is_file():
            return _parse_config(dbkit_toml), directory, str(dbkit_toml)
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            data = _load_toml(pyproject)
            section = data.get("tool", {}).get("dbkit")
            if section is not None:
                return dict(section), directory, f"{pyproject} [tool.dbkit]"
    return {}, start, "defaults (no dbkit.toml or [tool.dbkit] found)"


def _parse_config(path: Path) -> dict[str, Any]:
    data = _load_toml(path)
    if path.name == "pyproject.toml":
        return dict(data.get("tool", {}).get("dbkit", {}))
    return data


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


_URI_PASSWORD = re.compile(r"(?P<head>[a-z0-9+.-]+://[^:/@\s]*:)(?P<secret>[^@\s]*)(?P<tail>@)", re.I)
_KV_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'|\S+)", re.I)


def mask(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Remove passwords from text that is about to leave the program."""
    text = _URI_PASSWORD.sub(lambda m: m["head"] + "***" + m["tail"], text)
    text = _KV_PASSWORD.sub(lambda m: m["head"] + "***", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
            quoted = urllib.parse.quote(secret, safe="")
            if quoted != secret:
                text = text.replace(quoted, "***")
    return text
