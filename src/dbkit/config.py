"""Settings: where the project's files are, which database to talk to, how long to wait.

Paths come from ``dbkit.toml`` or ``[tool.dbkit]`` in ``pyproject.toml`` (first found,
walking up from the working directory), defaulting to ``migrations/`` and ``sql/``.
The database comes from ``--database-url`` or ``DATABASE_URL``; it is parsed once
into its fields so that nothing downstream handles the raw string (which may carry a
password) and every message can describe the target as ``user@host:port/dbname``.

Every setting is validated here, once, whatever its source: a command-line option, an
environment variable (``DBKIT_RETRIES`` …), the config file, or a keyword argument of
``load_settings``. A bad value is a ``ConfigError`` naming the source and the key; the
precedence is option > environment > config file > default.
"""

from __future__ import annotations

import functools
import math
import os
import re
import tomllib
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dbkit.errors import ConfigError, InputError
from dbkit.identity import Identity

TRACKING_SCHEMA = "dbkit"

_ENCODE_HINT = "percent-encode special characters in the user name and password (@ %40, / %2F, : %3A, # %23, ? %3F, % %25)"


@dataclass(frozen=True)
class DatabaseTarget:
    """A parsed connection target. The password never shows in repr or str."""

    params: dict[str, str] = field(repr=False)
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> DatabaseTarget:
        """Parse with libpq's own parser, then refuse what libpq would misread.

        No message quotes any part of the URL: a password with an unencoded ``/`` or
        ``@`` lands in the port, host or database name, so none of them is safe to echo.
        """
        text = _libpq_scheme(url.strip())
        import psycopg  # imported when a URL is parsed: `dbkit --help` never loads libpq
        from psycopg.conninfo import conninfo_to_dict

        try:
            params = {k: str(v) for k, v in conninfo_to_dict(text).items() if v is not None}
        except psycopg.ProgrammingError:
            raise InputError(
                "malformed database URL; expected postgresql://user@host:port/dbname or a key=value "
                f"connection string ({_ENCODE_HINT})"
            ) from None
        _refuse_misread(params)
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
        from psycopg.conninfo import make_conninfo

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


def _libpq_scheme(text: str) -> str:
    """The URL with a scheme libpq reads (``postgresql+psycopg`` is SQLAlchemy's spelling)."""
    if not text:
        raise InputError("the database URL is empty; pass --database-url or set DATABASE_URL")
    scheme = text.split(":", 1)[0].lower() if "://" in text else ""
    if scheme and scheme not in {"postgresql", "postgres", "postgresql+psycopg"}:
        shown = scheme if re.fullmatch(r"[a-z0-9+.-]{1,20}", scheme) else "(unreadable)"
        raise InputError(f"unsupported database URL scheme {shown!r}; use postgresql://user@host:port/dbname")
    return "postgresql" + text[len(scheme):] if scheme == "postgresql+psycopg" else text


def _refuse_misread(params: dict[str, str]) -> None:
    """What libpq parsed but misread: a password with an unencoded ``@`` or ``/`` lands elsewhere."""
    if any("@" in params.get(key, "") for key in ("host", "hostaddr", "port", "dbname")):
        raise InputError(f"malformed database URL: an '@' where the host or database name belongs; {_ENCODE_HINT}")
    for port in params.get("port", "").split(","):
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            raise InputError(f"malformed database URL: the port is not a number from 1 to 65535; {_ENCODE_HINT}")


def secrets_in(url: str | None) -> tuple[str, ...]:
    """What to mask for a URL as the user typed it, also when it does not parse.

    The one source of secrets for ``mask()``: a parsed target's password, or — for a URL
    libpq cannot read — everything between ``user:`` and the last ``@``, and its pieces.
    """
    if not url:
        return ()
    try:
        return DatabaseTarget.parse(url).secrets()
    except InputError:
        pass
    found: list[str] = []
    if "://" in url:
        authority = url.split("://", 1)[1]
        if "@" in authority:
            userinfo = authority.rsplit("@", 1)[0]
            if ":" in userinfo:
                candidate = userinfo.split(":", 1)[1]
                found.append(candidate)
                found.extend(piece for piece in re.split(r"[/#?@:]", candidate) if len(piece) >= 3)
    match = _KV_PASSWORD.search(url)
    if match:
        found.append(match["secret"].strip("'"))
    return tuple(dict.fromkeys(s for s in found if s))


# ---------------------------------------------------------------- setting values

MAX_POSTGRES_MS = 2_147_483_647  # PostgreSQL's limit for lock_timeout / statement_timeout
MAX_LOCK_WAIT_S = 86_400.0
MAX_RETRIES = 100
_DURATION = re.compile(r"^(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>us|ms|s|min|h|d)?$")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "min": 60_000.0, "h": 3_600_000.0, "d": 86_400_000.0}


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _postgres_duration(value: object) -> str:
    """lock_timeout / statement_timeout as PostgreSQL spells them; a bare number is milliseconds."""
    reason = "must be a PostgreSQL duration such as 5s, 200ms or 2min (a bare whole number is milliseconds; 0 is off)"
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= MAX_POSTGRES_MS:
            raise ValueError(reason)
        return f"{value}ms" if value else "0"
    if not isinstance(value, str):
        raise ValueError(reason)
    match = _DURATION.match(value.strip())
    if not match:
        raise ValueError(reason)
    unit = match["unit"]
    if unit is None and "." in match["number"]:
        raise ValueError(reason)
    if float(match["number"]) * _UNIT_MS[unit or "ms"] > MAX_POSTGRES_MS:
        raise ValueError(f"is longer than PostgreSQL allows ({MAX_POSTGRES_MS} ms, about 24 days)")
    return match["number"] + (unit or "")


def _seconds(value: object) -> float:
    """A wait in seconds: a number, or a duration with a unit (500ms, 2min)."""
    reason = f"must be a number of seconds from 0 to {MAX_LOCK_WAIT_S:g} (or a duration such as 500ms or 2min)"
    if _is_number(value):
        seconds = float(value)  # type: ignore[arg-type]
    elif isinstance(value, str):
        match = _DURATION.match(value.strip())
        if not match:
            raise ValueError(reason)
        seconds = float(match["number"]) * _UNIT_MS[match["unit"] or "s"] / 1000.0
    else:
        raise ValueError(reason)
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_LOCK_WAIT_S:
        raise ValueError(reason)
    return seconds


def _lag_bound(value: object) -> float:
    """A replay-lag bound: a positive duration (500ms, 2s, 1min; a bare number is seconds)."""
    reason = "must be a positive duration such as 500ms, 2s or 1min (a bare number is seconds)"
    try:
        seconds = _seconds(value)
    except ValueError:
        raise ValueError(reason) from None
    if seconds <= 0:
        raise ValueError(reason)
    return seconds


def _retries(value: object) -> int:
    reason = f"must be a whole number from 0 to {MAX_RETRIES}"
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_RETRIES:
        raise ValueError(reason)
    return value


def _path_text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty path (a string)")
    return value


def _module_list(value: object) -> tuple[str, ...]:
    if not (isinstance(value, list) and all(isinstance(m, str) and m.strip() for m in value)):
        raise ValueError("must be a list of module names, e.g. [\"core\", \"billing\"]")
    if len(set(value)) != len(value):
        raise ValueError("names a module twice")
    return tuple(value)


_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_$]*$")
_MIGRATION_ID = re.compile(r"^\d{4}_[a-z0-9][a-z0-9_]*$")
_IDENTITY_KEYS = {"role", "sub", "label"}


def _channel(value: object) -> str:
    """A NOTIFY channel name: a lowercase identifier PostgreSQL will not truncate."""
    if not isinstance(value, str) or not _IDENTIFIER.match(value) or len(value.encode()) > 63:
        raise ValueError("must be a channel name: a lowercase identifier of 1 to 63 bytes, e.g. \"app_events\"")
    return value


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _migration_ids(value: object) -> tuple[str, ...]:
    if not (isinstance(value, list) and all(isinstance(m, str) and _MIGRATION_ID.match(m) for m in value)):
        raise ValueError("must be a list of migration ids, e.g. [\"0001_core_schema\"]")
    return tuple(dict.fromkeys(value))


def _identities(value: object) -> tuple[Identity, ...]:
    """``{name = {role = "...", sub = "...", label = "..."}}``: the identities check files name."""
    if not isinstance(value, dict):
        raise ValueError("must be a table of identities, e.g. {owner = {role = \"app_user\", sub = \"<uuid>\"}}")
    found: list[Identity] = []
    for name, spec in value.items():
        if not _IDENTIFIER.match(name):
            raise ValueError(f"identity name {name!r} must be a lowercase identifier")
        if not isinstance(spec, dict) or not spec.keys() <= _IDENTITY_KEYS or not spec:
            raise ValueError(f"identity {name}: must be a table with role, and optionally sub and label")
        if not all(isinstance(v, str) and v.strip() for v in spec.values()):
            raise ValueError(f"identity {name}: role, sub and label must be non-empty strings")
        role = spec.get("role")
        if role is None or not _IDENTIFIER.match(role):
            raise ValueError(f"identity {name}: role must name a database role (a lowercase identifier)")
        found.append(Identity(role, spec.get("sub"), label=spec.get("label", ""), name=name))
    return tuple(found)


@dataclass(frozen=True)
class _Key:
    """One setting: its key in the config file, option, environment variable and parser."""

    name: str
    parse: Callable[[object], Any]
    option: str | None = None
    env: str | None = None
    old_name: str | None = None  # deprecated config key / option spelling


KEYS: dict[str, _Key] = {k.name: k for k in (
    _Key("migrations", _path_text),
    _Key("sql", _path_text),
    _Key("modules", _module_list),
    _Key("new_module_depends", _migration_ids),
    _Key("listen_channel", _channel),
    _Key("identities", _identities),
    _Key("sql_style", _flag),
    _Key("migration_lock_wait", _seconds, "--migration-lock-wait", "DBKIT_MIGRATION_LOCK_WAIT", "lock_timeout"),
    _Key("ddl_lock_wait", _postgres_duration, "--ddl-lock-wait", "DBKIT_DDL_LOCK_WAIT", "ddl_lock_timeout"),
    _Key("statement_timeout", _postgres_duration, "--statement-timeout", "DBKIT_STATEMENT_TIMEOUT"),
    _Key("retries", _retries, "--retries", "DBKIT_RETRIES"),
    _Key("wait_replica_lag_below", _lag_bound, "--wait-replica-lag-below", "DBKIT_WAIT_REPLICA_LAG_BELOW"),
    _Key("replica_wait_limit", _seconds, "--replica-wait-limit", "DBKIT_REPLICA_WAIT_LIMIT"),
)}
_OLD_NAMES = {k.old_name: k.name for k in KEYS.values() if k.old_name}


def old_option(key: str) -> str | None:
    """The deprecated spelling of a setting's option (``--lock-timeout``), if it has one."""
    old = KEYS[key].old_name
    return "--" + old.replace("_", "-") if old else None


def _shown(value: object) -> str:
    """A value as TOML would spell it, cut short: for one-line messages."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = '"' + value.replace('"', '\\"') + '"'
    elif isinstance(value, list):
        text = "[" + ", ".join(_shown(v) for v in value) + "]"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k} = {_shown(v)}" for k, v in value.items()) + "}"
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _checked(key: str, value: object, label: str) -> Any:
    try:
        return KEYS[key].parse(value)
    except ValueError as exc:
        raise ConfigError(f"{label}: {exc}") from None


@dataclass(frozen=True)
class Settings:
    root: Path
    migrations_dir: Path
    sql_dir: Path
    modules: tuple[str, ...] | None  # explicit order; None means discover
    config_source: str
    database: DatabaseTarget | None = None
    migration_lock_wait: float = 60.0  # seconds to wait for another dbkit process holding the migration lock
    ddl_lock_wait: str = "5s"  # PostgreSQL lock_timeout for each migration statement
    statement_timeout: str = "0"  # PostgreSQL statement_timeout while a migration runs
    retries: int = 0  # retries of a migration whose statement waited longer than ddl_lock_wait
    wait_replica_lag_below: float | None = None  # seconds; before each migration, wait for standbys below it
    replica_wait_limit: float = 600.0  # seconds to wait for the standbys before giving up
    notes: tuple[str, ...] = ()  # deprecation notes for the user, one line each
    new_module_depends: tuple[str, ...] = ()  # `-- depends:` of a module's first migration (`dbkit new`)
    listen_channel: str | None = None  # `dbkit listen`'s channel when none is named
    identities: tuple[Identity, ...] = ()  # who check files may act as (`as = "name"`, `{name}` = its sub)
    sql_style: bool = False  # lint holds migrations to docs/authoring.md's one style (DBK023)

    def require_database(self) -> DatabaseTarget:
        if self.database is None:
            raise ConfigError("no database given; pass --database-url or set DATABASE_URL")
        return self.database

    def with_database(self, url: str | None, *, source: str = "the database URL") -> Settings:
        if not url:
            return replace(self, database=None)
        try:
            return replace(self, database=DatabaseTarget.parse(url))
        except InputError as exc:
            raise InputError(f"{source}: {exc}") from None

    def relative(self, path: Path) -> str:
        """``path`` relative to the project root, for messages and records.

        Tried before resolving symlinks, so a symlinked ``migrations/`` or ``sql/`` gives
        the same names (and the same checksum records) as a real directory.
        """
        absolute = os.path.abspath(path)
        if absolute.startswith(self._root_prefix):  # the common case, without Path arithmetic (issue 19)
            return absolute[len(self._root_prefix):].replace(os.sep, "/")
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)

    @functools.cached_property
    def _root_prefix(self) -> str:
        """The root's absolute path (symlinks kept) with a trailing separator, worked out once."""
        return os.path.join(os.path.abspath(self.root), "")


CliValue = tuple[str, str]  # (raw text, the option as typed: "--retries" or a deprecated spelling)


def load_settings(
    cwd: Path | None = None,
    *,
    database_url: str | None = None,
    database_source: str = "the database URL",
    config_file: Path | None = None,
    cli: Mapping[str, CliValue] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build Settings from the config file found for ``cwd``, the environment and the options.

    ``cli`` maps a setting to the option text as given; ``overrides`` are typed values from
    Python callers. Both are validated like the config file.
    """
    start = (cwd or Path.cwd()).resolve()
    values, root, source = _read_config(start, config_file)
    notes: list[str] = []
    chosen = _from_file(values, source, notes)
    chosen.update(_from_environment(os.environ if environ is None else environ))
    chosen.update(_from_options(cli or {}, notes))
    chosen.update(_from_keywords(overrides))
    settings = Settings(
        root=root,
        migrations_dir=root / chosen.pop("migrations", "migrations"),
        sql_dir=root / chosen.pop("sql", "sql"),
        modules=chosen.pop("modules", None),
        config_source=source,
        notes=tuple(notes),
        **chosen,
    )
    return settings.with_database(database_url, source=database_source) if database_url else settings


def _from_file(values: dict[str, Any], source: str, notes: list[str]) -> dict[str, Any]:
    unknown = sorted(k for k in values if _OLD_NAMES.get(k, k) not in KEYS)
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(KEYS))}")
    chosen: dict[str, Any] = {}
    for key, value in values.items():
        new = _OLD_NAMES.get(key, key)
        if new != key:
            if new in values:
                raise ConfigError(f"{source}: both {key} (deprecated) and {new} are set; keep only {new}")
            notes.append(f"{source}: {key} is deprecated; rename it to {new}")
        chosen[new] = _checked(new, value, f"{source}: {key} = {_shown(value)}")
    return chosen


def _from_environment(env: Mapping[str, str]) -> dict[str, Any]:
    return {spec.name: _checked(spec.name, env[spec.env], f"environment {spec.env}={_short(env[spec.env])!r}")
            for spec in KEYS.values() if spec.env and env.get(spec.env) is not None}


def _from_options(cli: Mapping[str, CliValue], notes: list[str]) -> dict[str, Any]:
    chosen: dict[str, Any] = {}
    for name, (raw, option) in cli.items():
        old = old_option(name)
        if option == old:
            notes.append(f"{old} is deprecated; use {KEYS[name].option}")
        chosen[name] = _checked(name, raw, f"{option} {_short(raw)!r}")
    return chosen


def _from_keywords(overrides: Mapping[str, Any]) -> dict[str, Any]:
    unknown = [name for name, value in overrides.items() if value is not None and name not in KEYS]
    if unknown:
        raise TypeError(f"load_settings() got an unknown setting {unknown[0]!r}")
    return {name: _checked(name, value, f"setting {name}={_shown(value)}")
            for name, value in overrides.items() if value is not None}


def _read_config(start: Path, config_file: Path | None) -> tuple[dict[str, Any], Path, str]:
    if config_file is not None:
        path = config_file.resolve()
        if not path.is_file():
            raise ConfigError(f"config file {config_file} does not exist")
        if path.name == "pyproject.toml":
            return _dbkit_section(path), path.parent, f"{path} [tool.dbkit]"
        return _load_toml(path), path.parent, str(path)
    for directory in (start, *start.parents):
        dbkit_toml = directory / "dbkit.toml"
        if dbkit_toml.exists():
            return _load_toml(dbkit_toml), directory, str(dbkit_toml)
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            section = _dbkit_section(pyproject)
            if section is not None:
                return section, directory, f"{pyproject} [tool.dbkit]"
    return {}, start, "defaults (no dbkit.toml or [tool.dbkit] found)"


def _dbkit_section(path: Path) -> Any:
    tool = _load_toml(path).get("tool", {})
    section = tool.get("dbkit") if isinstance(tool, dict) else None
    if section is not None and not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.dbkit] must be a table of settings, not {_shown(section)}")
    return section


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror or exc})") from None


_URI_PASSWORD = re.compile(r"(?P<head>[a-z0-9+.-]+://[^:/@\s]*:)(?P<secret>[^@\s]*)(?P<tail>@)", re.I)
_KV_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'|\S+)", re.I)


def mask(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Remove passwords from text that is about to leave the program.

    ``secrets`` come from ``DatabaseTarget.secrets()`` or ``secrets_in(url)``; URL and
    key=value password shapes are masked whatever the secrets.
    """
    text = _URI_PASSWORD.sub(lambda m: m["head"] + "***" + m["tail"], text)
    text = _KV_PASSWORD.sub(lambda m: m["head"] + "***", text)
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
            quoted = urllib.parse.quote(secret, safe="")
            if quoted != secret:
                text = text.replace(quoted, "***")
    return text
