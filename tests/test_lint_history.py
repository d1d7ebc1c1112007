"""Applied migrations are history: lint-baseline.toml sets their change-safety findings aside, nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dbkit import lint
from dbkit.config import load_settings
from dbkit.errors import ConfigError
from helpers import run_dbkit, write_project
from test_lint_rules import orders, rules, run
from test_lint_safety_rules import change

CHECK = "alter table public.accounts add constraint accounts_user_check check (user_id is not null);\n"
REASON = "released in 2024.06 (ticket 42)"


def baseline(through: str, reason: str = REASON, module: str = "app") -> str:
    return f'reason = "{reason}"\n[through]\n{module} = "{through}"\n'


def test_change_safety_findings_on_a_released_migration_are_history(tmp_path: Path) -> None:
    files = change(CHECK)
    files[lint.BASELINE_FILE] = baseline("0002_app_change_2")
    report = run(tmp_path, files)
    assert report.findings == ()
    [allowed] = report.allowed
    assert (allowed.finding.rule, allowed.by) == ("DBK014", "history")
    assert REASON in allowed.reason and "lint-baseline.toml" in allowed.reason


def test_a_migration_after_the_baseline_is_still_checked(tmp_path: Path) -> None:
    files = change(CHECK, CHECK.replace("accounts_user_check", "accounts_user_check2"))
    files[lint.BASELINE_FILE] = baseline("0002_app_change_2")
    report = run(tmp_path, files)
    assert [(f.rule, f.path) for f in report.findings] == [("DBK014", "migrations/app/0003_app_change_3.sql")]


def test_schema_findings_stay_errors_on_released_migrations(tmp_path: Path) -> None:
    files = orders("")
    files[lint.BASELINE_FILE] = baseline("0002_app_orders")
    assert rules(run(tmp_path, files)) == ["DBK006"]  # an unindexed foreign key is still there today


@pytest.mark.parametrize(("text", "fragment"), [
    (baseline("0002_app_change_2", module="nope"), "unknown module 'nope'"),
    (baseline("0009_app_never"), "'0009_app_never' is not a migration of module app"),
    (baseline("0002_app_change_2", reason=" "), "`reason` must say why"),
    ('reason = "x"\nthrough = "0002_app_change_2"\n', "[through] maps a module"),
    ('reason = "x"\nuntil = 3\n', "unknown key(s) until"),
])
def test_a_malformed_baseline_is_a_configuration_error(tmp_path: Path, text: str, fragment: str) -> None:
    files = change(CHECK)
    files[lint.BASELINE_FILE] = text
    write_project(tmp_path, files)
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        lint.lint(load_settings(tmp_path), sqlfluff=False)
    result = run_dbkit("lint", cwd=tmp_path)
    assert result.exit_code == 2 and "lint-baseline.toml" in result.stderr and "Traceback" not in result.output
