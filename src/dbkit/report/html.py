"""HTML reports: Jinja2 templates (package data) with autoescape, one self-contained page each."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jinja2

from dbkit.report.model import cell_word, digest, identity_labels, matrix_columns, ordered, rls_matrix
from dbkit.report.verify_formats import mode_line
from dbkit.verify import Check, VerifyReport


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """Templates from the package; every value is escaped unless a template says otherwise."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("dbkit.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context) + "\n"


@dataclass(frozen=True)
class _Cell:
    css: str
    text: str
    title: str
    want: str


@dataclass(frozen=True)
class _Row:
    label: str
    cells: tuple[_Cell | None, ...]


@dataclass(frozen=True)
class _Table:
    name: str
    columns: tuple[str, ...]
    rows: tuple[_Row, ...]


def _cell(check: Check) -> _Cell:
    text = cell_word(check)
    if check.status == "skipped":
        css = "denied"
    elif check.status == "fail":
        css = "bad"
    else:
        css = "allowed" if text == "allowed" else "denied"
    return _Cell(css, text, check.actual, check.expected if check.status == "fail" else "")


def _matrix(report: VerifyReport) -> list[_Table]:
    tables = []
    for name, rows in rls_matrix(report).items():
        columns = matrix_columns(rows)
        tables.append(_Table(name, tuple(columns), tuple(
            _Row(label,
                 tuple(_cell(c) if (c := rows.get(identity, {}).get(cmd)) is not None else None for cmd in columns))
            for identity, label in identity_labels(report).items())))
    return tables


def render_html(report: VerifyReport) -> str:
    facts = digest(report)
    by_module = {module: ordered([c for c in report.checks if c.module == module]) for module, _ in facts.modules}
    return render_page("verify.html.j2", report=report, facts=facts, by_module=by_module, matrix=_matrix(report),
                       mode=mode_line(report), users=[(i.name, i.sub) for i in report.identities if i.sub])
