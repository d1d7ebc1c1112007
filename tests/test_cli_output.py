"""The one --format/--output rule, for every command that writes output.

An explicit --format wins and a contradicting --output suffix is exit 2 before anything
runs; without --format the suffix picks the format; --output writes the file and the
terminal gets one summary line on stderr; HTML never goes to a terminal.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from junitparser import JUnitXml

from dbkit.cli.options import resolve_output
from dbkit.errors import InputError
from helpers import database_state, run_dbkit, table_migrations, write_project

ALL = ("text", "json", "junit", "markdown", "html")

#: Every command with --format/--output, with the arguments it needs to get that far.
COMMANDS = {
    "verify": ("verify",),
    "status": ("status",),
    "apply": ("apply",),
    "rollback": ("rollback", "--all"),
    "lint": ("lint",),
    "ci": ("ci",),
}


def test_explicit_format_wins_and_the_suffix_decides_only_without_it() -> None:
    assert resolve_output("json", Path("out.json"), ALL) == "json"
    assert resolve_output(None, Path("out.xml"), ALL) == "junit"
    assert resolve_output(None, Path("out.MD"), ALL) == "markdown"
    assert resolve_output(None, Path("out.report"), ALL) == "text"
    assert resolve_output("markdown", Path("out.report"), ALL) == "markdown"
    assert resolve_output(None, None, ALL, stdout_is_tty=True) == "text"


def test_a_contradicting_suffix_is_an_error_not_a_choice() -> None:
    with pytest.raises(InputError, match="--format html contradicts --output x.json"):
        resolve_output("html", Path("x.json"), ALL)


def test_html_is_never_written_to_a_terminal() -> None:
    with pytest.raises(InputError, match="add --output FILE.html"):
        resolve_output("html", None, ALL, stdout_is_tty=True)
    assert resolve_output("html", None, ALL, stdout_is_tty=False) == "html"  # a pipe asked for it


def test_a_suffix_naming_a_format_the_command_lacks_is_an_error() -> None:
    with pytest.raises(InputError, match="names a html file, but this command writes text, json, github"):
        resolve_output(None, Path("lint.html"), ("text", "json", "github"))


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_refuses_a_format_its_output_suffix_contradicts(command: str, migrated_url: str,
                                                                      tmp_path: Path) -> None:
    before = database_state(migrated_url)
    out = tmp_path / "report.html"
    result = run_dbkit(*COMMANDS[command], "--format", "json", "--output", str(out), url=migrated_url)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: --format json contradicts --output report.html")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.output
    assert not out.exists() and result.stdout == ""
    assert database_state(migrated_url) == before


@pytest.mark.parametrize("command", ["verify", "status", "apply"])
def test_output_writes_the_file_in_the_suffix_format_and_the_terminal_gets_one_line(
        command: str, migrated_url: str, tmp_path: Path) -> None:
    out = tmp_path / f"{command}.json"
    result = run_dbkit(*COMMANDS[command], "--output", str(out), url=migrated_url)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"wrote {out}: ") and len(result.stderr.splitlines()) == 1
    assert json.loads(out.read_text(encoding="utf-8"))["schema_version"] == 1


def test_rollback_output_file_ends_with_the_per_module_summary(tmp_path: Path, empty_url: str) -> None:
    project = write_project(tmp_path / "p", table_migrations("m", 2))
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    result = run_dbkit("rollback", "--all", "--output", "rollback.txt", url=empty_url, cwd=project)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == "wrote rollback.txt: Done on " + result.stderr.split("Done on ", 1)[1]
    assert (project / "rollback.txt").read_text().rstrip().endswith("m: rolled back 2 migrations.")


def test_lint_output_json_by_suffix(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", table_migrations("m", 1))
    result = run_dbkit("lint", "--output", "lint.json", cwd=project)
    assert result.stdout == ""
    assert result.stderr.splitlines()[0].startswith("wrote lint.json: ")
    assert result.stderr.splitlines()[-1] == "error: lint found 1 error(s); see the findings in lint.json"
    assert "findings" in json.loads((project / "lint.json").read_text())


def test_verify_junit_by_suffix_with_nothing_on_stdout(migrated_url: str, tmp_path: Path) -> None:
    out = tmp_path / "verify.xml"
    result = run_dbkit("verify", "--output", str(out), url=migrated_url)
    assert result.exit_code == 0 and result.stdout == ""
    assert {suite.name for suite in JUnitXml.fromfile(str(out))} >= {"platform", "automations"}


def test_data_formats_reach_stdout_only_when_asked(migrated_url: str) -> None:
    plain = run_dbkit("status", url=migrated_url)
    assert plain.exit_code == 0 and not plain.stdout.lstrip().startswith("{")
    asked = run_dbkit("status", "--format", "json", url=migrated_url)
    assert json.loads(asked.stdout)["command"] == "status"



def test_apply_dry_run_ends_with_a_per_module_summary(tmp_path: Path, empty_url: str) -> None:
    files: dict[str, str | bytes] = {**table_migrations("a", 2), **table_migrations("b", 1)}
    project = write_project(tmp_path / "p", files)
    before = database_state(empty_url)
    plan = run_dbkit("apply", "--dry-run", url=empty_url, cwd=project)
    assert plan.exit_code == 0, plan.output
    last = plan.stdout.rstrip().splitlines()[-1]
    assert last.startswith("Plan for ") and "(dry run, nothing was changed)" in last
    assert last.endswith("a: apply 2 migrations; b: apply 1 migration.")
    assert database_state(empty_url) == before


def test_rollback_dry_run_ends_with_a_per_module_summary_and_says_roll_back(tmp_path: Path, empty_url: str) -> None:
    project = write_project(tmp_path / "p", table_migrations("a", 2))
    assert run_dbkit("apply", url=empty_url, cwd=project).exit_code == 0
    plan = run_dbkit("rollback", "--all", "--dry-run", url=empty_url, cwd=project)
    assert plan.exit_code == 0, plan.output
    lines = plan.stdout.rstrip().splitlines()
    assert lines[0] == "would roll back 0002_a_t2 (a)"
    assert lines[-1].endswith("a: roll back 2 migrations.")


def test_listen_says_where_it_is_listening_before_any_notification(migrated_url: str) -> None:
    result = run_dbkit("listen", "--count", "1", "--timeout", "0.2", url=migrated_url)
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("listening on channel 'automation_trigger' at postgres@127.0.0.1:")
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["apply", "status", "rollback"])
def test_report_formats_of_a_fleet_are_refused_for_one_database(command: str, migrated_url: str) -> None:
    result = run_dbkit(*COMMANDS[command], "--format", "markdown", url=migrated_url)
    assert result.exit_code == 2
    assert "is for fleet runs (--targets FILE)" in result.stderr


def _on_a_terminal(*args: str, url: str, cwd: Path | None = None) -> tuple[int, str, str]:
    """Run dbkit with stderr on a pseudo-terminal (a person watching) and stdout to a file (piped)."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import tempfile
    import time

    from helpers import REPO_ROOT

    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "DATABASE_URL")}
    env["DATABASE_URL"] = url
    chunks: list[bytes] = []
    with tempfile.TemporaryFile(mode="w+") as out:
        proc = subprocess.Popen([sys.executable, "-m", "dbkit", *args], cwd=cwd or REPO_ROOT, env=env,
                                stdout=out, stderr=slave, text=True)
        os.close(slave)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed its end
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=10)
        os.close(master)
        out.seek(0)
        stdout = out.read()
    return code, stdout, b"".join(chunks).decode(errors="replace")


def test_verify_shows_progress_on_a_terminal_but_not_with_json(migrated_url: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from dbkit.cli import options
    from dbkit.cli import verify as cli_verify

    monkeypatch.setattr(options, "interactive", lambda: True)  # stderr is a person's terminal
    monkeypatch.setattr(cli_verify, "PROGRESS_AFTER", 0.0)  # and the run already took a while
    shown = run_dbkit("verify", url=migrated_url)
    assert shown.exit_code == 0 and "… hand-written checks of platform" in shown.stderr
    assert "… hand-written" not in shown.stdout
    as_json = run_dbkit("verify", "--format", "json", url=migrated_url)
    assert as_json.exit_code == 0 and "… " not in as_json.stderr
    assert json.loads(as_json.stdout)["summary"]["result"] == "passed"


def test_fleet_progress_counts_databases_on_a_terminal(migrated_url: str, tmp_path: Path) -> None:
    targets = tmp_path / "t.txt"
    targets.write_text(migrated_url + "\n", encoding="utf-8")
    code, stdout, terminal = _on_a_terminal("status", "--targets", str(targets), url="")
    assert code == 0, terminal
    assert "… fleet: 1/1 databases" in terminal and "… fleet" not in stdout
    code, stdout, terminal = _on_a_terminal("status", "--targets", str(targets), "--format", "json", url="")
    assert "… fleet" not in terminal and json.loads(stdout)["counts"]["ok"] == 1
