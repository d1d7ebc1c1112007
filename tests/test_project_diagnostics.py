"""One project loader: `load` reports every problem as a diagnostic, `load_project` raises the first."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from dbkit.config import load_settings
from dbkit.errors import ConfigError, InputError
from dbkit.project import CycleError, Problem, load, load_project, topological_sort
from helpers import table_migrations, write_project


def broken_files() -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = dict(table_migrations("m", 3))
    files["migrations/m/2_oops.sql"] = "select 1;\n"
    files["migrations/stray.sql"] = "select 1;\n"
    del files["migrations/m/0002_m_t2.rollback.sql"]
    files["migrations/m/0003_m_t3.sql"] = (
        "-- Adds t3.\n-- transaction: false\n-- include: sql/functions/public.nowhere.sql\n"
        "create table public.m_t3 (id int);\n")
    files["migrations/m/0001_m_t1.rollback.sql"] = "-- include: sql/functions/public.f.sql\ndrop table public.m_t1;\n"
    files["migrations/m/0001_m_t1.sql"] = ("-- include: sql/functions/public.f.sql\n"
                                           "create table public.m_t1 (id int primary key);\n")
    files["sql/functions/public.f.sql"] = "-- include: sql/functions/public.g.sql\nselect 1;\n"
    files["sql/functions/public.orphan.sql"] = "select 1;\n"
    files["migrations/m/0004_m_t4.sql"] = "-- caf\xe9\nselect 1;\n".encode("latin-1")
    files["migrations/m/0004_m_t4.rollback.sql"] = "select 1;\n"
    return files


def test_load_reports_every_problem_with_its_file_and_line(tmp_path: Path) -> None:
    result = load(load_settings(write_project(tmp_path, broken_files())))
    found = {(d.problem, d.path, d.line) for d in result.diagnostics}
    assert found == {
        (Problem.LAYOUT, "migrations/stray.sql", None),
        (Problem.LAYOUT, "migrations/m/2_oops.sql", None),
        (Problem.ROLLBACK, "migrations/m/0002_m_t2.sql", None),
        (Problem.HEADER, "migrations/m/0003_m_t3.sql", 2),
        (Problem.INCLUDE, "migrations/m/0003_m_t3.sql", 3),
        (Problem.INCLUDE, "migrations/m/0001_m_t1.rollback.sql", 1),
        (Problem.INCLUDE, "sql/functions/public.f.sql", 1),
        (Problem.INCLUDE, "sql/functions/public.orphan.sql", None),
        (Problem.UNREADABLE, "migrations/m/0004_m_t4.sql", 1),
    }
    assert all(d.severity == "error" and d.message for d in result.diagnostics)
    # the partial project still holds every migration, so lint can check the rest of each
    assert [m.id for m in result.project.plan] == ["0001_m_t1", "0002_m_t2", "0003_m_t3", "0004_m_t4"]
    names = {f.name for f in result.files}
    assert {"migrations/stray.sql", "migrations/m/2_oops.sql", "sql/functions/public.orphan.sql"} <= names
    assert "migrations/m/0002_m_t2.rollback.sql" not in names  # missing: never read


def test_load_project_raises_the_first_diagnostic(tmp_path: Path) -> None:
    settings = load_settings(write_project(tmp_path, broken_files()))
    first = load(settings).errors[0]
    with pytest.raises(InputError) as raised:
        load_project(settings)
    assert str(raised.value) == str(first.exception())
    assert first.path == "migrations/stray.sql"


def test_clean_project_has_no_diagnostics_and_the_same_plan(tmp_path: Path) -> None:
    settings = load_settings(write_project(tmp_path, table_migrations("m", 2)))
    result = load(settings)
    assert result.diagnostics == ()
    assert result.project == load_project(settings)


@pytest.mark.parametrize(("extra", "fragment"), [
    ({"migrations/loose.sql": "select 1;\n"}, "outside a module folder"),
    ({"migrations/m/0001_m_t1.rollback.sql": "-- include: sql/functions/public.f.sql\nselect 1;\n",
      "migrations/m/0001_m_t1.sql": "-- include: sql/functions/public.f.sql\nselect 1;\n",
      "sql/functions/public.f.sql": "select 1;\n"}, "in a rollback is never expanded"),
    ({"migrations/m/0001_m_t1.sql": "-- include: sql/functions/public.f.sql\nselect 1;\n",
      "sql/functions/public.f.sql": "-- include: sql/functions/public.g.sql\nselect 1;\n",
      "sql/functions/public.g.sql": "select 1;\n"}, "nested include"),
])
def test_files_that_would_silently_never_run_are_refused(tmp_path: Path, extra: dict[str, str],
                                                         fragment: str) -> None:
    files: dict[str, str | bytes] = dict(table_migrations("m", 1))
    files.update(extra)
    with pytest.raises(InputError, match=fragment):
        load_project(load_settings(write_project(tmp_path, files)))


def test_module_folder_missing_from_the_configuration_is_a_config_error(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {**table_migrations("a", 1), **table_migrations("b", 1)}
    settings = load_settings(write_project(tmp_path, files, config='modules = ["a"]\n'))
    result = load(settings)
    [diagnostic] = result.diagnostics
    assert diagnostic.config and diagnostic.problem is Problem.LAYOUT and diagnostic.path == "migrations/b"
    assert [m.id for m in result.project.plan] == ["0001_a_t1"]  # b is not loaded, as apply does not
    assert all(not f.name.startswith("migrations/b/") for f in result.files)
    with pytest.raises(ConfigError, match="folder.* b .*not listed in the modules"):
        load_project(settings)


_ORDER_CASES = st.integers(1, 10).flatmap(
    lambda n: st.tuples(st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=25)))


@given(_ORDER_CASES)
@hypothesis_settings(max_examples=300, deadline=None)
def test_plan_order_is_yoyos_topological_order_and_cycles_name_the_same_members(
        case: tuple[int, list[tuple[int, int]]]) -> None:
    from yoyo import topologicalsort as yoyo_sort

    n, edges = case
    items = [f"m{i}" for i in range(n)]
    graph: dict[str, set[str]] = {item: set() for item in items}
    for a, b in edges:
        graph[items[a]].add(items[b])

    def run(sort: Callable[..., Iterable[str]], cycle: type[Exception]) -> object:
        try:
            return list(sort(items, graph))
        except cycle as exc:
            return ("cycle", list(exc.args[1]))

    assert run(topological_sort, CycleError) == run(yoyo_sort.topological_sort, yoyo_sort.CycleError)
