"""NNNN_name.verify.toml is validated strictly: every mistake names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbkit import checkfiles
from dbkit.config import load_settings
from dbkit.errors import InputError
from dbkit.project import load_project

PATH = "migrations/demo/0001_demo_base.verify.toml"
ROW = '[[rows]]\nid = "demo.r"\nsource = "s"\nquery = "select 1"\nexpect = [["1"]]\n'


def error_of(text: str) -> str:
    with pytest.raises(InputError) as info:
        checkfiles.parse(text, path=PATH)
    assert info.value.exit_code == 2 and info.value.path == PATH
    return str(info.value)


def test_every_section_parses() -> None:
    parsed = checkfiles.parse(ROW + """
[[behaviour]]
id = "demo.b"
source = "s"
sql = "select 1"
expect_rowcount = 1
[rls."demo.t"]
source = "s"
select = "select 1"
[rls."demo.t".allowed]
owner = ["select"]
[[plans]]
id = "demo.p"
source = "s"
query = "select 1"
uses_index = "i"
[prerequisites]
source = "s"
objects = ["schema auth"]
""", path=PATH)
    assert [r.id for r in parsed.rows] == ["demo.r"] and parsed.behaviour[0].expect_rowcount == 1
    assert parsed.rls["demo.t"].allowed_for("owner") == ("select",) and parsed.rls["demo.t"].allowed_for("anon") == ()
    assert parsed.plans[0].uses_index == "i" and parsed.prerequisites is not None


@pytest.mark.parametrize(("text", "message"), [
    ('[tables."demo.t"]\nsource = "s"\n', "unknown key 'tables' at top level"),
    (ROW.replace("query", "qurey"), "unknown key 'qurey' at rows.0"),
    (ROW.replace('expect = [["1"]]', 'expect = [[1]]'), "rows.0.expect.0.0: Input should be a valid string"),
    ('[[behaviour]]\nid = "b"\nsource = "s"\nsql = "select 1"\n',
     "needs exactly one of expect / expect_error / expect_rowcount, has none"),
    ('[[behaviour]]\nid = "b"\nsource = "s"\nsql = "select 1"\nexpect_error = "dup"\n', "behaviour.0.expect_error"),
    ('[rls."t"]\nsource = "s"\nselect = "x"\n[rls."t".allowed]\n', "rls key 't' must be written 'schema.table'"),
    ('[rls."demo.t"]\nsource = "s"\n[rls."demo.t".allowed]\n', "needs at least one of select, insert, update, delete"),
    ('[rls."demo.t"]\nsource = "s"\nselect = "x"\n[rls."demo.t".allowed]\nowner = ["truncate"]\n',
     "rls.demo.t.allowed.owner.0"),
    ('[rls."demo.t"]\nsource = "s"\nselect = "x"\n[rls."demo.t".allowed]\nadmin = ["select"]\n',
     "unknown key 'admin' at rls.demo.t.allowed"),
    ('[[plans]]\nid = "p"\nsource = "s"\nquery = "select 1"\n', "missing key plans.0.uses_index"),
    ("[[rows]\n", "not valid TOML"),
])
def test_mistakes_are_errors_naming_the_key(text: str, message: str) -> None:
    assert message in error_of(text)


def _module(tmp_path: Path) -> Path:
    module = tmp_path / "migrations" / "demo"
    module.mkdir(parents=True)
    (tmp_path / "sql").mkdir()
    (module / "0001_demo_base.sql").write_text("create table demo.t (id int);\n")
    (module / "0001_demo_base.rollback.sql").write_text("drop table demo.t;\n")
    return module


def test_check_files_must_sit_beside_a_migration_and_ids_are_unique_per_module(tmp_path: Path) -> None:
    module = _module(tmp_path)
    (module / "0001_demo_base.verify.toml").write_text(ROW)
    project = load_project(load_settings(tmp_path))
    loaded = checkfiles.load_module(project.module("demo"))
    assert [(c.migration, x.id) for c, x in loaded.rows()] == [("0001_demo_base", "demo.r")]
    (module / "0002_gone.verify.toml").write_text("")
    with pytest.raises(InputError, match="0002_gone.verify.toml: check file has no migration 0002_gone.sql"):
        checkfiles.load_module(project.module("demo"))


def test_a_check_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    module = _module(tmp_path)
    (module / "0001_demo_base.verify.toml").write_bytes(b"\xff\xfe")
    project = load_project(load_settings(tmp_path))
    with pytest.raises(InputError, match="file is not valid UTF-8"):
        checkfiles.load_module(project.module("demo"))


def test_every_check_file_of_the_repository_loads() -> None:
    from helpers import REPO_ROOT

    project = load_project(load_settings(REPO_ROOT))
    loaded = [checkfiles.load_module(m) for m in project.modules]
    assert sum(len(m.behaviour()) for m in loaded) > 100
    assert "* auth.*" in loaded[0].prerequisite_patterns()
