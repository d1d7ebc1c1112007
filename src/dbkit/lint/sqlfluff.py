"""sqlfluff over the project's SQL: postgres dialect, raw templater, no size limit."""

from __future__ import annotations

import configparser
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dbkit.config import Settings
from dbkit.errors import ConfigError
from dbkit.lint.model import ERROR, WARNING, Finding

_OVERRIDES: dict[str, Any] = {"dialect": "postgres", "templater": "raw", "large_file_skip_byte_limit": 0}


def run_sqlfluff(settings: Settings, paths: Sequence[Path]) -> list[Finding]:
    """sqlfluff's violations for ``paths`` (files that are not UTF-8 are left to DBK000)."""
    from sqlfluff.core import FluffConfig, Linter, SQLFluffUserError

    findings: list[Finding] = []
    try:
        linter = Linter(config=FluffConfig.from_path(str(settings.root), overrides=dict(_OVERRIDES)))
        results = []
        for path in paths:
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            results.append((settings.relative(path), linter.lint_string(text, fname=str(path))))
    except (SQLFluffUserError, configparser.Error, ValueError) as exc:
        detail = " ".join(str(exc).split())
        raise ConfigError(f"sqlfluff configuration (.sqlfluff in {settings.root} or above) is invalid: {detail}") from None
    for name, result in results:
        for violation in result.get_violations():
            findings.append(Finding(
                rule=violation.rule_code(), path=name, line=int(violation.line_no or 1),
                column=int(violation.line_pos or 1), message=violation.desc(),
                severity=WARNING if getattr(violation, "warning", False) else ERROR, checker="sqlfluff",
            ))
    return findings
