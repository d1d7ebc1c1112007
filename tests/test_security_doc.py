"""docs/security.md's "What each role holds" tables are generated from the committed catalog.json files."""

from __future__ import annotations

import pytest

from dbkit.config import load_settings
from dbkit.privileges_doc import BEGIN, END, render, replace_block
from dbkit.project import load_project
from helpers import REPO_ROOT


def test_the_security_document_states_the_privileges_of_the_committed_snapshots() -> None:
    document = (REPO_ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    fresh = replace_block(document, render(load_project(load_settings(REPO_ROOT))))
    assert document == fresh, "docs/security.md is stale: run .venv/bin/python scripts/security-tables.py"


def test_the_rendering_shows_table_column_and_function_privileges() -> None:
    block = render(load_project(load_settings(REPO_ROOT)))
    assert block.startswith(BEGIN) and block.endswith(END)
    assert "| `public.agents` | — | SID update (name) | SIUD |" in block
    assert "| `has_account_access(uuid)` | authenticated, service_role |" in block


def test_a_document_without_the_markers_is_an_error() -> None:
    with pytest.raises(ValueError, match="no generated block"):
        replace_block("# Security\n", "x")
