"""The five report formats, rendered from a real verify run on a deliberately broken database."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from junitparser import Failure, JUnitXml, Skipped

from dbkit import report as reports
from dbkit.config import load_settings
from dbkit import engine
from dbkit.verify import VerifyReport, verify
from helpers import run_dbkit
from demo_project import write_demo_project


@pytest.fixture
def broken(tmp_path: Path, empty_url: str, demo_snapshots: dict[str, str]) -> Iterator[tuple[Path, str, VerifyReport]]:
    """The demo project applied, then broken: an index dropped and a policy opened to everyone."""
    (tmp_path / "project").mkdir()
    root = write_demo_project(tmp_path / "project", demo_snapshots)
    engine.apply(load_settings(root, database_url=empty_url))
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute("drop index demo.idx_items_owner")
        conn.execute("alter policy items_select_own on demo.items using (true)")
        conn.execute("create index idx_items_stray on demo.items (name)")
    yield root, empty_url, verify(load_settings(root, database_url=empty_url), module="demo", writes=True)


def test_json_report_has_schema_version_summary_checks_and_matrix(broken: tuple[Path, str, VerifyReport]) -> None:
    *_, report = broken
    payload = json.loads(reports.render(report, "json"))
    assert payload["schema_version"] == reports.JSON_SCHEMA_VERSION == 1
    summary = payload["summary"]
    assert summary["result"] == "failed"
    assert summary["counts"]["fail"] == sum(1 for c in payload["checks"] if c["status"] == "fail") > 0
    assert summary["server_version"] and summary["dbkit_version"] and summary["database"].endswith(
        report.database.rsplit("/", 1)[1])
    fields = set(payload["checks"][0])
    assert fields >= {"id", "module", "source", "kind", "expected", "actual", "status", "message", "duration_ms"}
    assert payload["rls_matrix"]["demo.items"]["stranger"]["select"] == {
        "expected": "denied", "actual": "allowed (1 row(s))", "status": "fail"}


def test_every_format_shows_the_move_cell_as_its_own_column(broken: tuple[Path, str, VerifyReport]) -> None:
    *_, report = broken
    assert reports.matrix_columns(reports.rls_matrix(report)["demo.items"]) == [
        "select", "insert", "update", "delete", "move"]
    header = next(line for line in reports.render(report, "text").splitlines() if line.strip().startswith("SELECT"))
    assert header.split() == ["SELECT", "INSERT", "UPDATE", "DELETE", "MOVE"]
    assert "| Identity | SELECT | INSERT | UPDATE | DELETE | MOVE |" in reports.render(report, "markdown")
    assert "<th>MOVE</th>" in reports.render(report, "html")
    assert json.loads(reports.render(report, "json"))["rls_matrix"]["demo.items"]["service_role"]["move"][
        "status"] == "pass"


def test_junit_report_parses_with_one_suite_per_module(broken: tuple[Path, str, VerifyReport],
                                                       tmp_path: Path) -> None:
    root, url, _ = broken
    out = tmp_path / "verify.xml"
    result = run_dbkit("verify", "--format", "junit", "--output", str(out), url=url, cwd=root)
    assert result.exit_code == 1
    xml = JUnitXml.fromfile(str(out))
    suites = {suite.name: suite for suite in xml}
    assert set(suites) >= {"platform", "demo"}
    demo = suites["demo"]
    cases = {case.name: case for case in demo}
    assert demo.tests == len(cases)
    failed = {name for name, case in cases.items() if any(isinstance(r, Failure) for r in case.result)}
    assert {"demo.index.demo.idx_items_owner", "demo.policy.demo.items.items_select_own"} <= failed
    assert demo.failures == len(failed)
    failure = next(r for r in cases["demo.index.demo.idx_items_owner"].result if isinstance(r, Failure))
    assert failure.message.startswith("index demo.idx_items_owner does not exist")
    skipped = [n for n, c in cases.items() if any(isinstance(r, Skipped) for r in c.result)]
    assert "demo.rls.demo.items" in skipped  # read-only: the access matrix did not run
    assert cases["drift.index.demo.idx_items_stray"].system_out.startswith("WARNING: index demo.idx_items_stray")


def test_text_report_lists_failures_first_and_has_no_colour_off_a_tty(broken: tuple[Path, str, VerifyReport]) -> None:
    root, url, _ = broken
    result = run_dbkit("verify", "--module", "demo", "--with-writes", url=url, cwd=root)
    assert result.exit_code == 1
    assert "\x1b[" not in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.split(" ")[0] in {"FAIL", "WARN", "PASS", "SKIPPED"}]
    statuses = [line.split(" ")[0] for line in rows]
    assert statuses == sorted(statuses, key=["FAIL", "WARN", "SKIPPED", "PASS"].index)
    assert "using: have: TRUE want: owner_id = (SELECT auth.uid() AS uid)" in result.stdout
    assert "RLS access matrix" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("FAILED: ")


def test_text_report_colours_only_when_asked(broken: tuple[Path, str, VerifyReport]) -> None:
    *_, report = broken
    assert "\x1b[31;1mFAIL" in reports.render(report, "text", color=True)
    assert "\x1b[" not in reports.render(report, "text", color=False)


def test_markdown_report_puts_failures_before_modules_and_the_matrix(broken: tuple[Path, str, VerifyReport]) -> None:
    *_, report = broken
    text = reports.render(report, "markdown")
    assert text.startswith("# dbkit verify: FAILED")
    assert text.index("## Failures") < text.index("## demo") < text.index("## RLS access matrix")
    assert "| authenticated (stranger) | **allowed ✗** (want denied) |" in text
    assert "| Database | `" + report.database + "` |" in text


def test_html_report_is_self_contained_with_summary_first(broken: tuple[Path, str, VerifyReport]) -> None:
    *_, report = broken
    page = reports.render(report, "html")
    assert page.startswith("<!DOCTYPE html>")
    for external in ("<script", "<link", "src=", "http://", "https://", "@import"):
        assert external not in page
    assert page.index('id="summary"') < page.index('id="failures"') < page.index('id="module-demo"') \
        < page.index('id="rls-matrix"')
    assert "index demo.idx_items_owner does not exist" in page


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed (Debian: apt-get install chromium)")
def test_html_report_renders_in_headless_chromium(broken: tuple[Path, str, VerifyReport], tmp_path: Path) -> None:
    *_, report = broken
    page = tmp_path / "verify.html"
    page.write_text(reports.render(report, "html"), encoding="utf-8")
    shot = tmp_path / "verify.png"
    browser = _chromium()
    assert browser is not None
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}"]
    subprocess.run([*base, "--window-size=1280,2000", f"--screenshot={shot}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    dom = subprocess.run([*base, "--dump-dom", page.as_uri()], check=True, capture_output=True, text=True,
                         timeout=120).stdout
    assert "dbkit verify" in dom and "FAILED" in dom and "authenticated (stranger)" in dom


def test_report_object_holds_no_password_in_its_fields(broken: tuple[Path, str, VerifyReport]) -> None:
    from dataclasses import asdict

    *_, report = broken
    masked = report.with_secrets(("sentinel-pw",))
    assert "sentinel-pw" not in repr(masked) and "sentinel-pw" not in json.dumps(asdict(masked))
    assert masked.secrets == ("sentinel-pw",)
