"""Fleets: apply, status, verify and rollback over many databases with one combined report.

The big run: 50 databases on two throwaway clusters (``dbkit.ephemeral``), plus one
unreachable target and one whose migration fails, applied 8 at a time with canaries
first and ``--on-failure continue``. Every URL carries a sentinel password (the clusters
trust local connections, so it is accepted and ignored): it must appear in no output.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from junitparser import Error, Failure, JUnitXml

from dbkit import fleet
from dbkit.config import DatabaseTarget, load_settings
from dbkit.ephemeral import Server, ephemeral_clusters
from dbkit.errors import InputError
from dbkit.report import fleet as fleet_report
from demo_project import write_demo_project
from helpers import run_dbkit

SENTINEL = "fleet-sentinel-pw"
UNREACHABLE = f"postgresql://postgres:{SENTINEL}@127.0.0.1:1/nowhere"
PER_CLUSTER = 25


def _with_password(url: str) -> str:
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{SENTINEL}@")


@dataclass(frozen=True)
class Fleet:
    root: Path
    urls: tuple[str, ...]  # 50 reachable databases, the first two the canaries
    broken: str  # its migration fails: the schema it creates already exists


@pytest.fixture(scope="module")
def clusters() -> Iterator[list[Server]]:
    with ephemeral_clusters([None, None]) as servers:
        yield servers


@pytest.fixture
def fleet_project(tmp_path: Path, clusters: list[Server], demo_snapshots: dict[str, str]) -> Iterator[Fleet]:
    (tmp_path / "project").mkdir()
    root = write_demo_project(tmp_path / "project", demo_snapshots)
    with ExitStack() as stack:
        urls = [_with_password(stack.enter_context(server.database(prefix="fleet_")))
                for server in clusters for _ in range(PER_CLUSTER)]
        broken = urls[len(urls) // 2]
        with psycopg.connect(broken, autocommit=True) as conn:
            conn.execute("create schema demo")
        yield Fleet(root, tuple(urls), broken)


def _targets_file(path: Path, urls: list[str]) -> Path:
    path.write_text("# tenants\n\n" + "\n".join(urls) + "\n   # trailing comment\n", encoding="utf-8")
    return path


def test_fleet_of_50_databases_on_two_clusters_applies_verifies_and_reports_every_row(
        fleet_project: Fleet, tmp_path: Path) -> None:
    urls = list(fleet_project.urls)
    urls.insert(10, UNREACHABLE)
    targets = _targets_file(tmp_path / "tenants.txt", urls)
    out = tmp_path / "fleet.json"
    result = run_dbkit("apply", "--targets", str(targets), "--canary", "2", "--parallel", "8",
                       "--on-failure", "continue", "--output", str(out), cwd=fleet_project.root)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == "error: 2 of 51 database(s) did not succeed; the report says why"
    payload = json.loads(out.read_text(encoding="utf-8"))
    rows = payload["targets"]
    assert len(rows) == 51 and payload["counts"] == {"ok": 49, "failed": 1, "error": 1, "not run": 0}
    assert [r["canary"] for r in rows[:3]] == [True, True, False]
    by_db = {r["database"].rsplit("/", 1)[1]: r for r in rows}
    assert len({r["database"].split("/")[0].rsplit(":", 1)[1] for r in rows if r["state"] == "ok"}) == 2  # 2 ports
    unreachable = by_db["nowhere"]
    assert unreachable["state"] == "error" and "127.0.0.1:1" in unreachable["error"]
    broken = by_db[fleet_project.broken.rsplit("/", 1)[1]]
    assert broken["state"] == "failed" and 'schema "demo" already exists' in broken["error"]
    for row in rows:
        if row["state"] == "ok":
            assert row["done"][:2] == ["0001_platform_auth_shim", "0001_demo_items"], row
            assert row["checks"]["fail"] == 0 and row["checks"]["pass"] > 0
            assert row["duration_ms"] > 0
    with psycopg.connect(fleet_project.urls[-1]) as conn:  # really applied, on the second cluster too
        assert conn.execute("select count(*) from demo.settings").fetchone() == (1,)
    with psycopg.connect(fleet_project.broken) as conn:  # the failed migration left nothing half-applied
        assert conn.execute("select to_regclass('demo.items')").fetchone() == (None,)
    assert SENTINEL not in result.output + out.read_text()


def test_every_format_of_a_fleet_report_has_a_row_per_database_and_no_secret(fleet_project: Fleet) -> None:
    urls = [*fleet_project.urls[:6], UNREACHABLE, fleet_project.broken]
    settings = load_settings(fleet_project.root)
    targets = tuple(fleet.Target(f"t{n}", DatabaseTarget.parse(u)) for n, u in enumerate(urls))
    result = fleet.run(settings, targets, "apply", fleet.apply_work(), parallel=4, on_failure="continue")
    assert (result.count("ok"), result.count("failed"), result.count("error")) == (6, 1, 1)
    rendered = {fmt: fleet_report.render(result, fmt) for fmt in fleet_report.FORMATS}
    for fmt, text in rendered.items():
        assert SENTINEL not in text, fmt
        assert all(f"t{n}" in text for n in range(len(urls))), fmt
    text = rendered["text"]
    assert text.startswith("FAILED: dbkit apply on 8 database(s): 6 ok, 1 failed, 1 error")
    assert text.index("Did not succeed:") < text.index("STATE")  # problems before the rows
    md = rendered["markdown"]
    assert md.index("## Did not succeed") < md.index("## Databases") and md.count("\n| ok | t") == 6
    page = rendered["html"]
    assert page.index('id="failures"') < page.index('id="databases"')
    cases = {case.name: case for suite in JUnitXml.fromstring(rendered["junit"]) for case in suite}
    assert len(cases) == 8
    assert any(isinstance(r, Failure) for r in cases["t7"].result)
    assert any(isinstance(r, Error) for r in cases["t6"].result)


def test_stop_policy_starts_no_target_after_the_first_failure(fleet_project: Fleet, tmp_path: Path) -> None:
    urls = [fleet_project.urls[0], fleet_project.broken, *fleet_project.urls[1:4]]
    targets = _targets_file(tmp_path / "t.txt", urls)
    result = run_dbkit("apply", "--targets", str(targets), "--parallel", "1", "--format", "json",
                       cwd=fleet_project.root)
    assert result.exit_code == 1
    payload = json.loads(result.stdout)  # one JSON document: the report, no second error object
    assert [r["state"] for r in payload["targets"]] == ["ok", "failed", "not run", "not run", "not run"]
    assert "--on-failure is stop" in payload["stopped"]


def test_a_failing_canary_stops_the_fleet_before_any_other_target(fleet_project: Fleet, tmp_path: Path) -> None:
    urls = [fleet_project.broken, *fleet_project.urls[:5]]
    targets = _targets_file(tmp_path / "t.txt", urls)
    result = run_dbkit("apply", "--targets", str(targets), "--canary", "1", "--on-failure", "continue",
                       cwd=fleet_project.root)
    assert result.exit_code == 1
    assert result.stdout.startswith("FAILED: dbkit apply on 6 database(s): 0 ok, 1 failed, 5 not run")
    assert "stopped: canary" in result.stdout
    with psycopg.connect(fleet_project.urls[0]) as conn:
        assert conn.execute("select to_regnamespace('demo')").fetchone() == (None,)


def test_status_verify_and_rollback_run_over_a_fleet(fleet_project: Fleet, tmp_path: Path) -> None:
    targets = _targets_file(tmp_path / "t.txt", list(fleet_project.urls[:4]))
    root = fleet_project.root
    status = run_dbkit("status", "--targets", str(targets), "--format", "json", cwd=root)
    assert status.exit_code == 0, status.output
    assert [r["pending"] for r in json.loads(status.stdout)["targets"]] == [2, 2, 2, 2]
    unverified = run_dbkit("verify", "--targets", str(targets), "--on-failure", "continue", "--format", "json",
                           cwd=root)
    assert unverified.exit_code == 1  # nothing applied yet: every database fails verify
    assert all(r["state"] == "failed" for r in json.loads(unverified.stdout)["targets"])
    assert run_dbkit("apply", "--targets", str(targets), cwd=root).exit_code == 0
    verified = run_dbkit("verify", "--targets", str(targets), "--output", "v.md", cwd=root)
    assert verified.exit_code == 0 and verified.stdout == ""
    assert verified.stderr.startswith("wrote v.md: PASSED: dbkit verify on 4 database(s): 4 ok")
    dry = run_dbkit("rollback", "--all", "--dry-run", "--targets", str(targets), "--format", "json", cwd=root)
    assert [len(r["done"]) for r in json.loads(dry.stdout)["targets"]] == [2, 2, 2, 2]
    refused = run_dbkit("rollback", "--all", "--targets", str(targets), cwd=root)
    assert refused.exit_code == 1 and "rerun with --force" in refused.stdout  # the seed row is data
    assert "3 not run" in refused.stdout.splitlines()[0]  # stop: no other database was touched
    rolled = run_dbkit("rollback", "--all", "--force", "--targets", str(targets), cwd=root)
    assert rolled.exit_code == 0, rolled.output
    after = run_dbkit("status", "--targets", str(targets), "--format", "json", cwd=root)
    assert [r["pending"] for r in json.loads(after.stdout)["targets"]] == [2, 2, 2, 2]


def test_toml_targets_name_groups_canaries_env_urls_and_a_registry_query(fleet_project: Fleet, tmp_path: Path) -> None:
    urls = fleet_project.urls
    registry = urls[5]
    with psycopg.connect(registry, autocommit=True) as conn:
        conn.execute("create table tenants (name text, url text, region text)")
        for n in (6, 7):
            conn.execute("insert into tenants values (%s, %s, 'us')", (f"tenant-{n}", urls[n]))
    os.environ["FLEET_TEST_URL"] = urls[0]
    try:
        path = tmp_path / "fleet.toml"
        path.write_text(f"""
[[target]]
name = "eu-1"
url_env = "FLEET_TEST_URL"
group = "eu"
canary = true

[[target]]
name = "eu-2"
url = "{urls[1]}"
group = "eu"

[[query]]
url = "{registry}"
sql = "select name, url, region as group from tenants order by name"
""", encoding="utf-8")
        every = fleet.load_targets(path)
        assert [(t.name, t.group, t.canary) for t in every] == [
            ("eu-1", "eu", True), ("eu-2", "eu", False), ("tenant-6", "us", False), ("tenant-7", "us", False)]
        assert [t.name for t in fleet.load_targets(path, groups=("us",))] == ["tenant-6", "tenant-7"]
        assert SENTINEL not in repr(every)
        result = run_dbkit("status", "--targets", str(path), "--group", "eu", cwd=fleet_project.root)
        assert result.exit_code == 0, result.output
        assert "eu-1" in result.stdout and "tenant-6" not in result.stdout
    finally:
        del os.environ["FLEET_TEST_URL"]


@pytest.mark.parametrize(("content", "message"), [
    ("postgresql://u@h/db\nmysql://x:y@h/db\n", "t.txt:2: unsupported database URL scheme 'mysql'"),
    ("# only a comment\n\n", "lists no database"),
    ("postgresql://u@h:5432/db\npostgresql://u:pw@h:5432/db\n", "are the same database (u@h:5432/db)"),
])
def test_a_bad_targets_file_is_one_line_naming_the_line_never_the_password(tmp_path: Path, content: str,
                                                                           message: str) -> None:
    path = tmp_path / "t.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fleet.load_targets(path)
    result = run_dbkit("status", "--targets", str(path), cwd=tmp_path)
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1 and "pw" not in result.stderr
    assert message in result.stderr


def test_targets_and_database_url_together_are_refused(tmp_path: Path) -> None:
    path = _targets_file(tmp_path / "t.txt", ["postgresql://u@h/db"])
    result = run_dbkit("status", "--targets", str(path), "--database-url", "postgresql://u@h/other", cwd=tmp_path)
    assert result.exit_code == 2 and "not both" in result.stderr
    lonely = run_dbkit("status", "--parallel", "3", cwd=tmp_path)
    assert lonely.exit_code == 2 and "--parallel needs --targets FILE" in lonely.stderr
