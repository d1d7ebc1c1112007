"""The five report formats, rendered from a real verify run on a deliberately broken database."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import click
import psycopg
import pytest
from junitparser import Failure, JUnitXml, Skipped

from dbkit import report as reports
from dbkit.config import load_settings
from dbkit import engine
from dbkit.verify import Check, VerifyReport, verify
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
    assert click.style("FAIL   ", fg="red", bold=True) in reports.render(report, "text", color=True)
    assert "\x1b[" not in reports.render(report, "text", color=False)


def test_markdown_report_leads_with_verdict_then_failures_warnings_counts_and_matrix(
        broken: tuple[Path, str, VerifyReport]) -> None:
    *_, report = broken
    text = reports.render(report, "markdown")
    assert text.startswith("# dbkit verify: FAILED\n\n**4 failed, 1 warnings")
    assert text.index("## Failures") < text.index("## Warnings") < text.index("## Checks per module") \
        < text.index("## RLS access matrix")
    assert "| demo | 4 | 1 |" in text
    assert "idx_items_stray" in text.split("## Warnings")[1].split("##")[0]
    assert "| authenticated (stranger) | **allowed ✗** (want denied) |" in text
    assert "| Database | `" + report.database + "` |" in text


def test_html_report_is_self_contained_with_summary_first(broken: tuple[Path, str, VerifyReport]) -> None:
    *_, report = broken
    page = reports.render(report, "html")
    assert page.startswith("<!DOCTYPE html>")
    for external in ("<script", "<link", "src=", "http://", "https://", "@import"):
        assert external not in page
    assert page.index('id="summary"') < page.index('id="failures"') < page.index('id="warnings"') \
        < page.index('id="modules"') < page.index('id="module-demo"') < page.index('id="rls-matrix"')
    warnings = page[page.index('id="warnings"'):page.index('id="modules"')]
    assert "idx_items_stray" in warnings
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


def _check(status: str, id: str, message: str, module: str = "m", kind: str = "behaviour") -> Check:
    return Check(id=id, module=module, source="test", kind=kind, target="t", expected="e", actual="a",
                 status=status, message=message, duration_ms=0.0)  # type: ignore[arg-type]


def _report(*checks: Check) -> VerifyReport:
    return VerifyReport(database="u@h:1/db", server_version="15", dbkit_version="0", started_at="now",
                        duration_ms=1.0, modules=("m",), writes=False, migration_status="up to date",
                        checks=checks)


def test_repeated_skips_are_one_counted_line_in_every_summary_format() -> None:
    report = _report(*(_check("skipped", f"m.behaviour.{n}", "read-only: needs --with-writes") for n in range(198)),
                     _check("pass", "m.table.t", ""))
    text = reports.render(report, "text")
    assert text.count("read-only: needs --with-writes") == 1
    assert "198 checks: m.behaviour.0, m.behaviour.1, m.behaviour.2, … (+195)" in text
    assert reports.render(report, "markdown").count("read-only: needs --with-writes") == 1
    assert reports.render(report, "html").count("read-only: needs --with-writes") == 1 + 198  # group + detail rows
    assert [g.count for g in reports.digest(report).skipped] == [198]


def test_html_report_escapes_every_value_through_the_template() -> None:
    report = _report(_check("fail", "m.x.<b>", "<script>alert(1)</script> & more"))
    page = reports.render(report, "html")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "m.x.&lt;b&gt;" in page


def test_per_module_counts_are_computed_once_and_agree_with_the_report() -> None:
    report = _report(_check("fail", "a", "x"), _check("warn", "b", "y"), _check("pass", "c", ""),
                     _check("skipped", "d", "z", module="n"))
    facts = reports.digest(report)
    assert dict(facts.modules) == {"m": reports.Counts(fail=1, warn=1, passed=1), "n": reports.Counts(skipped=1)}
    assert facts.counts.as_dict() == report.counts()
    assert json.loads(reports.render(report, "json"))["summary"]["module_counts"]["n"]["skipped"] == 1


def test_passing_read_only_run_of_the_project_gives_a_markdown_report_under_20_kb(migrated_url: str,
                                                                                   tmp_path: Path) -> None:
    out = tmp_path / "verify.md"
    result = run_dbkit("verify", "--output", str(out), url=migrated_url)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# dbkit verify: PASSED")
    assert len(text.encode()) < 20_000, len(text.encode())
    assert "## Skipped" in text and "| Module | Failed |" in text
    assert result.stdout == "" and result.stderr.startswith(f"wrote {out}: PASSED")
