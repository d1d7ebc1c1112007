"""Every module's expectations pass on a freshly applied database.

This is the contract between the module SQL and its expectations.toml: when it fails,
the message lists each failed check with its have/want, so the module's owner can see
whether the SQL or the expectation is wrong.
"""

from __future__ import annotations

import pytest

from dbkit.config import load_settings
from dbkit.verify import verify
from helpers import REPO_ROOT

MODULES = sorted(p.name for p in (REPO_ROOT / "migrations").iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


@pytest.mark.parametrize("module", MODULES)
def test_module_checks_pass_on_a_fresh_apply(module: str, migrated_url: str) -> None:
    report = verify(load_settings(REPO_ROOT, database_url=migrated_url), module=module)
    failed = [f"{c.id}: {c.message}" for c in report.checks if c.status == "fail"]
    assert failed == [], "\n".join(failed)
    assert any(c.status == "pass" and c.kind != "migration" for c in report.checks), "no check of this module ran"


def test_whole_database_verifies_without_failures_or_drift(migrated_url: str) -> None:
    report = verify(load_settings(REPO_ROOT, database_url=migrated_url))
    failed = [f"{c.id}: {c.message}" for c in report.checks if c.status == "fail"]
    drift = [c.id for c in report.checks if c.kind == "drift"]
    assert failed == [], "\n".join(failed)
    assert drift == [], "objects no module declares:\n" + "\n".join(drift)
