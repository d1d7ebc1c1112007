"""sqlfluff in `dbkit lint`: results reused for unchanged files, parallel workers, progress on a terminal only."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dbkit.cli import lint as cli_lint
from dbkit.config import load_settings
from dbkit.lint import sqlfluff
from dbkit.lint.model import Finding
from helpers import run_dbkit, write_project

CLEAN = "-- Test migration.\ncreate schema private;\n"
UNTIDY = "-- Test migration.\ncreate schema private;   \n"  # LT01: trailing whitespace


def files(count: int, untidy: set[int]) -> dict[str, str]:
    out: dict[str, str] = {}
    for n in range(1, count + 1):
        stem = f"migrations/app/{n:04d}_app_step_{n}"
        out[f"{stem}.sql"] = (UNTIDY if n in untidy else CLEAN).replace("private", f"private_{n}")
        out[f"{stem}.rollback.sql"] = f"-- Undo.\ndrop schema private_{n};\n"
    return out


def lint_files(root: Path, cache: Path | None, jobs: int | None = None) -> list[Finding]:
    settings = load_settings(root)
    paths = sorted((root / "migrations").rglob("*.sql"))
    return sqlfluff.run_sqlfluff(settings, paths, cache_dir=cache, jobs=jobs)


def counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the name of every file sqlfluff really lints (in this process)."""
    linted: list[str] = []
    real: Callable[..., list[sqlfluff.Violation]] = sqlfluff._violations

    def spy(linter: object, name: str, text: str) -> list[sqlfluff.Violation]:
        linted.append(name)
        return real(linter, name, text)

    monkeypatch.setattr(sqlfluff, "_violations", spy)
    return linted


def test_unchanged_files_are_not_linted_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_project(tmp_path / "p", files(2, untidy={2}))
    first = lint_files(root, tmp_path / "cache", jobs=1)
    assert [(f.rule, f.path) for f in first] == [("LT01", "migrations/app/0002_app_step_2.sql")]
    linted = counting(monkeypatch)
    assert lint_files(root, tmp_path / "cache", jobs=1) == first
    assert linted == []


def test_an_edited_file_is_linted_again_and_the_others_are_not(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_project(tmp_path / "p", files(2, untidy={2}))
    lint_files(root, tmp_path / "cache", jobs=1)
    (root / "migrations/app/0001_app_step_1.sql").write_text(UNTIDY.replace("private", "private_1"))
    linted = counting(monkeypatch)
    again = lint_files(root, tmp_path / "cache", jobs=1)
    assert linted == ["migrations/app/0001_app_step_1.sql"]
    assert sorted(Path(f.path).name for f in again) == ["0001_app_step_1.sql", "0002_app_step_2.sql"]


def test_a_changed_configuration_lints_every_file_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lint_files(write_project(tmp_path / "p", files(2, untidy={2})), tmp_path / "cache", jobs=1)
    # the same files under a configuration that excludes LT01 (a second folder: sqlfluff
    # caches a folder's configuration for the life of the process)
    other = write_project(tmp_path / "q", {**files(2, untidy={2}), ".sqlfluff": "[sqlfluff]\nexclude_rules = LT01\n"})
    linted = counting(monkeypatch)
    assert lint_files(other, tmp_path / "cache", jobs=1) == []
    assert len(linted) == 4


def test_parallel_workers_report_what_one_process_reports(tmp_path: Path) -> None:
    root = write_project(tmp_path, files(5, untidy={1, 4}))
    sequential = lint_files(root, None, jobs=1)
    assert len(sequential) == 2
    assert lint_files(root, None, jobs=2) == sequential


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """stderr is a terminal, and progress shows at once; a fresh cache so sqlfluff really runs."""
    monkeypatch.setattr(cli_lint, "_interactive", lambda: True)
    monkeypatch.setattr(cli_lint, "PROGRESS_AFTER", 0.0)
    monkeypatch.setenv(sqlfluff.CACHE_ENV, str(tmp_path / "cache"))


def test_text_output_shows_sqlfluff_progress_on_a_terminal(tmp_path: Path, terminal: None) -> None:
    result = run_dbkit("lint", cwd=write_project(tmp_path / "p", files(2, untidy=set())))
    assert result.exit_code == 0 and "… sqlfluff: 4/4 files" in result.stderr


@pytest.mark.parametrize("fmt", ["json", "github"])
def test_machine_formats_never_show_progress(tmp_path: Path, terminal: None, fmt: str) -> None:
    result = run_dbkit("lint", "--format", fmt, cwd=write_project(tmp_path / "p", files(2, untidy=set())))
    assert result.exit_code == 0 and result.stderr == ""
    if fmt == "json":
        assert json.loads(result.stdout)["ok"] is True


def test_progress_waits_for_a_second_of_work(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    clock = [100.0]
    monkeypatch.setattr(cli_lint, "_interactive", lambda: True)
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    show = cli_lint._counter("sqlfluff")
    assert show is not None
    show(3, 10)
    assert capsys.readouterr().err == ""
    clock[0] += 1.5
    show(4, 10)
    assert "… sqlfluff: 4/10 files" in capsys.readouterr().err
