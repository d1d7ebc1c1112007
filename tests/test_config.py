"""Settings are validated once, where they are read: type, range and unit, from every source.

A bad value is one line naming the source and the key, exit 2, before anything touches
the database. The old names of the timeouts keep working, with a one-line note.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from dbkit.config import DatabaseTarget, load_settings
from dbkit.errors import ConfigError, InputError
from helpers import Result, run_dbkit, table_migrations, write_project


def _one_line_error(result: Result, *fragments: str) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def _tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(
            "select table_name::text from information_schema.tables where table_schema = 'public'").fetchall()]


def test_negative_retries_in_the_config_file_is_refused_not_a_false_success(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 3), config="retries = -1\n")
    result = run_dbkit("apply", url=empty_url, cwd=project)
    _one_line_error(result, "dbkit.toml", "retries = -1", "0 to 100")
    assert "applied" not in result.stdout
    assert _tables(empty_url) == []


BAD_FILE_VALUES = [
    ('retries = -1', "retries = -1"),
    ('retries = 2.7', "retries = 2.7"),
    ('retries = "many"', "retries = \"many\""),
    ('retries = true', "retries = true"),
    ('retries = 1000', "retries = 1000"),
    ('migration_lock_wait = "soon"', "migration_lock_wait = \"soon\""),
    ('migration_lock_wait = [1, 2]', "migration_lock_wait = [1, 2]"),
    ('migration_lock_wait = -1', "migration_lock_wait = -1"),
    ('migration_lock_wait = nan', "migration_lock_wait = nan"),
    ('migration_lock_wait = inf', "migration_lock_wait = inf"),
    ('ddl_lock_wait = "banana"', "ddl_lock_wait = \"banana\""),
    ('ddl_lock_wait = "5 parsecs"', "ddl_lock_wait = \"5 parsecs\""),
    ('ddl_lock_wait = "5S"', "ddl_lock_wait = \"5S\""),
    ('ddl_lock_wait = -5', "ddl_lock_wait = -5"),
    ('ddl_lock_wait = "99999999999s"', "ddl_lock_wait = \"99999999999s\""),
    ('statement_timeout = {a = 1}', "statement_timeout = {"),
    ('statement_timeout = 1.5', "statement_timeout = 1.5"),
    ('migrations = 5', "migrations = 5"),
    ('sql = ""', "sql = \"\""),
    ('modules = "platform"', "modules = \"platform\""),
    ('modules = ["m", "m"]', "modules = [\"m\", \"m\"]"),
    ('lock_timeout = "soon"', "lock_timeout = \"soon\""),
]


@pytest.mark.parametrize(("line", "shown"), BAD_FILE_VALUES, ids=[b[0] for b in BAD_FILE_VALUES])
def test_bad_value_in_dbkit_toml_names_file_and_key(line: str, shown: str, tmp_path: Path) -> None:
    write_project(tmp_path, table_migrations("m", 1), config=line + "\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, environ={})
    message = str(caught.value)
    assert "dbkit.toml" in message and shown in message, message
    assert "\n" not in message


def test_bad_value_in_pyproject_section_names_the_section(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.dbkit]\nretries = "many"\n')
    with pytest.raises(ConfigError, match=r"pyproject.toml \[tool.dbkit\]: retries = \"many\": must be a whole number"):
        load_settings(tmp_path, environ={})


def test_pyproject_dbkit_section_that_is_not_a_table_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool]\ndbkit = 5\n')
    with pytest.raises(ConfigError, match=r"\[tool.dbkit\] must be a table"):
        load_settings(tmp_path, environ={})


def test_unreadable_config_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "dbkit.toml").mkdir()
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path, environ={})


def test_bad_value_in_the_environment_names_the_variable(tmp_path: Path) -> None:
    write_project(tmp_path, table_migrations("m", 1))
    with pytest.raises(ConfigError, match=r"environment DBKIT_RETRIES='-1': must be a whole number from 0 to 100"):
        load_settings(tmp_path, environ={"DBKIT_RETRIES": "-1"})


def test_sources_take_precedence_cli_then_environment_then_file(tmp_path: Path) -> None:
    write_project(tmp_path, table_migrations("m", 1), config='retries = 1\nddl_lock_wait = "7s"\nmigration_lock_wait = 5\n')
    from_file = load_settings(tmp_path, environ={})
    assert (from_file.retries, from_file.ddl_lock_wait, from_file.migration_lock_wait) == (1, "7s", 5.0)
    from_env = load_settings(tmp_path, environ={"DBKIT_RETRIES": "2", "DBKIT_DDL_LOCK_WAIT": "250ms"})
    assert (from_env.retries, from_env.ddl_lock_wait) == (2, "250ms")
    from_cli = load_settings(tmp_path, environ={"DBKIT_RETRIES": "2"}, cli={"retries": ("3", "--retries")})
    assert from_cli.retries == 3


@pytest.mark.parametrize(("raw", "seconds"), [(0, 0.0), (2.5, 2.5), ("90", 90.0), ("1.5s", 1.5), ("2min", 120.0),
                                              ("500ms", 0.5)])
def test_migration_lock_wait_accepts_seconds_or_a_duration(raw: object, seconds: float, tmp_path: Path) -> None:
    value = f'"{raw}"' if isinstance(raw, str) else str(raw)
    write_project(tmp_path, table_migrations("m", 1), config=f"migration_lock_wait = {value}\n")
    assert load_settings(tmp_path, environ={}).migration_lock_wait == seconds


@pytest.mark.parametrize(("raw", "text"), [(5000, "5000ms"), ("5s", "5s"), ("1.5 min", "1.5min"), ("0", "0"),
                                           ("200ms", "200ms")])
def test_postgres_durations_are_checked_and_kept_in_postgres_spelling(raw: object, text: str, tmp_path: Path) -> None:
    value = f'"{raw}"' if isinstance(raw, str) else str(raw)
    write_project(tmp_path, table_migrations("m", 1), config=f"statement_timeout = {value}\n")
    assert load_settings(tmp_path, environ={}).statement_timeout == text


def test_old_config_key_names_still_work_with_a_deprecation_note(tmp_path: Path) -> None:
    write_project(tmp_path, table_migrations("m", 1), config='lock_timeout = 7\nddl_lock_timeout = "2s"\n')
    settings = load_settings(tmp_path, environ={})
    assert settings.migration_lock_wait == 7.0 and settings.ddl_lock_wait == "2s"
    assert any("lock_timeout is deprecated" in n and "migration_lock_wait" in n for n in settings.notes)
    assert any("ddl_lock_timeout is deprecated" in n and "ddl_lock_wait" in n for n in settings.notes)


def test_old_and_new_key_together_is_a_config_error(tmp_path: Path) -> None:
    write_project(tmp_path, table_migrations("m", 1), config='lock_timeout = 7\nmigration_lock_wait = 8\n')
    with pytest.raises(ConfigError, match="both lock_timeout .deprecated. and migration_lock_wait"):
        load_settings(tmp_path, environ={})


def test_cli_bad_duration_is_exit_2_naming_the_option_not_a_failed_migration(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    result = run_dbkit("apply", "--ddl-lock-wait", "banana", url=empty_url, cwd=project)
    _one_line_error(result, "--ddl-lock-wait 'banana'", "a PostgreSQL duration")
    assert _tables(empty_url) == []


def test_deprecated_cli_option_still_works_and_says_so_in_one_line(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    result = run_dbkit("apply", "--ddl-lock-timeout", "3s", "--lock-timeout", "4", url=empty_url, cwd=project)
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert notes == ["note: --ddl-lock-timeout is deprecated; use --ddl-lock-wait",
                     "note: --lock-timeout is deprecated; use --migration-lock-wait"], result.stderr
    bad = run_dbkit("apply", "--ddl-lock-timeout", "soon", url=empty_url, cwd=project)
    _one_line_error(bad, "--ddl-lock-timeout 'soon'")


def test_deprecated_lock_timeout_on_status_is_accepted_and_said_to_do_nothing(empty_url: str, tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    result = run_dbkit("status", "--lock-timeout", "5", url=empty_url, cwd=project)
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == "note: --lock-timeout is deprecated and has no effect on `dbkit status`"


@pytest.mark.parametrize("command", ["status", "verify", "listen"])
def test_timeouts_are_offered_only_where_they_act(command: str) -> None:
    helptext = run_dbkit(command, "--help").stdout
    for option in ("--migration-lock-wait", "--ddl-lock-wait", "--statement-timeout", "--retries", "--lock-timeout"):
        assert option not in helptext, (command, option)


@pytest.mark.parametrize(("command", "present", "absent"), [
    ("apply", ["--migration-lock-wait", "--ddl-lock-wait", "--statement-timeout", "--retries"], ["--lock-timeout"]),
    ("rollback", ["--migration-lock-wait", "--ddl-lock-wait", "--statement-timeout", "--retries"], ["--lock-timeout"]),
    ("baseline", ["--migration-lock-wait"], ["--ddl-lock-wait", "--retries"]),
    ("repair", ["--migration-lock-wait"], ["--ddl-lock-wait", "--retries"]),
])
def test_migration_commands_offer_the_waits_they_use(command: str, present: list[str], absent: list[str]) -> None:
    helptext = run_dbkit(command, "--help").stdout
    for option in present:
        assert option in helptext, (command, option)
    for option in absent:
        assert option not in helptext, (command, option)


def test_bad_database_url_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    project = write_project(tmp_path, table_migrations("m", 1))
    result = run_dbkit("status", url="mysql://u@h/db", cwd=project)
    _one_line_error(result, "DATABASE_URL", "scheme")
    given = run_dbkit("status", "--database-url", "mysql://u@h/db", cwd=project)
    _one_line_error(given, "--database-url", "scheme")


# ---------------------------------------------------------------- passwords in URLs

SPECIAL = " !\"#$%&'()*+,/:;<=>?@[\\]^`{|}~"
PASSWORD = "Xq7" + SPECIAL + "Zk9"


def _fragments(password: str) -> list[str]:
    """The password and the alphanumeric pieces of it a leak would show."""
    return [password, "Xq7", "Zk9"]


def test_every_url_special_character_percent_encoded_parses_to_the_password() -> None:
    from urllib.parse import quote

    target = DatabaseTarget.parse(f"postgresql://app:{quote(PASSWORD, safe='')}@db.example:5432/prod")
    assert target.password == PASSWORD
    assert target.describe() == "app@db.example:5432/prod"
    for fragment in _fragments(PASSWORD):
        assert fragment not in repr(target) and fragment not in target.describe()


@pytest.mark.parametrize("char", list(SPECIAL), ids=[f"{ord(c):02x}" for c in SPECIAL])
def test_unencoded_special_character_in_a_password_never_shows_in_an_error(char: str) -> None:
    url = f"postgresql://app:Xq7{char}Zk9@db.example:5432/prod"
    try:
        target = DatabaseTarget.parse(url)
    except InputError as exc:
        message = str(exc)
        for fragment in ("Xq7", "Zk9"):
            assert fragment not in message, message
        return
    # libpq took it: then the password is whole, and never in the description
    assert target.password is not None and target.password.startswith("Xq7")
    assert "Xq7" not in target.describe() and "Zk9" not in target.describe()


@pytest.mark.parametrize("url", [
    "postgresql://role:S3cr3t/x@host/db",
    "postgresql://role:Xq7@Zk9@host/db",
    "postgresql://role:Xq7%zzZk9@host/db",
    "postgresql://role:Xq7 Zk9@host/db",
    "postgresql://role:Xq7/Zk9@host:5432/db",
])
def test_malformed_url_errors_quote_no_part_of_the_password(url: str) -> None:
    with pytest.raises(InputError) as caught:
        DatabaseTarget.parse(url)
    message = str(caught.value)
    for fragment in ("S3cr3t", "Xq7", "Zk9"):
        assert fragment not in message, message
    assert "percent-encode" in message


@pytest.mark.parametrize(("line", "message"), [
    ('listen_channel = "Bad Channel"', "listen_channel = \"Bad Channel\": must be a channel name"),
    ('new_module_depends = "0001_x"', "new_module_depends = \"0001_x\": must be a list of migration ids"),
    ('identities = { owner = { sub = "u" } }', "identity owner: role must name a database role"),
    ('identities = { owner = { role = "r", claims = "x" } }', "identity owner: must be a table with role"),
])
def test_project_knowledge_in_the_configuration_is_validated(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "dbkit.toml").write_text(line + "\n")
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    assert message in str(info.value)


def test_identities_keep_the_configured_order_and_labels(tmp_path: Path) -> None:
    (tmp_path / "dbkit.toml").write_text('[identities]\nclerk = { role = "app_clerk", sub = "u1" }\n'
                                         'public = { role = "app_public", label = "anonymous" }\n')
    found = load_settings(tmp_path).identities
    assert [(i.name, i.role, i.sub, i.shown) for i in found] == [
        ("clerk", "app_clerk", "u1", "app_clerk (clerk)"), ("public", "app_public", None, "anonymous")]
