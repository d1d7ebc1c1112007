"""NNNN_name.verify.toml is validated strictly: every mistake names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbkit import checkfiles
from dbkit.config import load_settings
from dbkit.errors import InputError
from dbkit.identity import Identity
from dbkit.project import load_project

PATH = "migrations/demo/0001_demo_base.verify.toml"
OWNER_ID = "00000000-0000-4000-8000-0000000000a1"
# What a project declares in its configuration ([identities]); the tool knows none of its own.
IDS = (Identity("anon", name="anon"), Identity("authenticated", OWNER_ID, name="owner"),
       Identity("authenticated", "00000000-0000-4000-8000-0000000000b2", name="stranger"),
       Identity("service_role", name="service_role"))
ROW = '[[rows]]\nid = "demo.r"\nsource = "s"\nquery = "select 1"\nexpect = [["1"]]\n'


def error_of(text: str) -> str:
    with pytest.raises(InputError) as info:
        checkfiles.parse(text, path=PATH, identities=IDS)
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
""", path=PATH, identities=IDS)
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
     "allowed: identity 'admin' is not declared in the configuration's [identities] (anon, owner, stranger, "
     "service_role)"),
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

    settings = load_settings(REPO_ROOT)
    project = load_project(settings)
    loaded = [checkfiles.load_module(m, identities=settings.identities) for m in project.modules]
    assert sum(len(m.behaviour()) for m in loaded) > 100
    assert "* auth.*" in loaded[0].prerequisite_patterns()


# ---------------------------------------------------------------- compact forms: fixtures, as, each, move/reference

BEHAVIOUR = '[[behaviour]]\nid = "demo.b"\nsource = "s"\nsql = "select 1"\nexpect_rowcount = 1\n'


def test_as_names_a_matrix_identity_instead_of_role_and_sub() -> None:
    parsed = checkfiles.parse(BEHAVIOUR + 'as = "stranger"\n', path=PATH, identities=IDS)
    assert parsed.behaviour[0].as_ == "stranger"
    assert "identity 'admin' is not declared in the configuration's [identities]" in error_of(BEHAVIOUR + 'as = "admin"\n')
    assert "`sub` needs the `role`" in error_of(BEHAVIOUR + 'sub = "x"\n')
    assert "give either `as` or `role`/`sub`" in error_of(BEHAVIOUR + 'as = "owner"\nrole = "anon"\n')


def test_each_expands_one_entry_into_one_check_per_table_of_values() -> None:
    parsed = checkfiles.parse('''
[[behaviour]]
id = "demo.{who}_cannot_truncate"
source = "s"
description = "{who} cannot truncate {table}"
sql = "truncate {table}"
as = "{who}"
expect_error = "42501"
each = [{ who = "anon", table = "demo.t" }, { who = "owner", table = "demo.u" }]
''', path=PATH, identities=IDS)
    assert [(b.id, b.as_, b.sql, b.description) for b in parsed.behaviour] == [
        ("demo.anon_cannot_truncate", "anon", "truncate demo.t", "anon cannot truncate demo.t"),
        ("demo.owner_cannot_truncate", "owner", "truncate demo.u", "owner cannot truncate demo.u")]


def test_each_keeps_identity_placeholders_and_json_braces_and_the_configured_ids_fill_them() -> None:
    parsed = checkfiles.parse('[[behaviour]]\nid = "demo.{n}"\nsource = "s"\nexpect_rowcount = 1\n'
                              'sql = "select \'{owner}\', \'{\\"a\\": 1}\'::jsonb, {n}"\neach = [{ n = "1" }]\n',
                              path=PATH, identities=IDS)
    assert parsed.behaviour[0].sql == f'select \'{OWNER_ID}\', \'{{"a": 1}}\'::jsonb, 1'


@pytest.mark.parametrize(("each", "message"), [
    ('each = []', "must be a non-empty list of tables"),
    ('each = [{ n = "1" }, { m = "2" }]', "every table must give the same placeholders"),
    ('each = [{ n = 1 }]', "placeholder values must be strings"),
    ('each = [{ x = "1" }]', "must contain one of the placeholders x"),
    ('each = [{ n = "1" }]\ndescription = "{typo}"', "placeholder {typo} is given by no table of `each`"),
])
def test_each_mistakes_are_errors(each: str, message: str) -> None:
    text = '[[behaviour]]\nid = "demo.{n}"\nsource = "s"\nsql = "select 1"\nexpect_rowcount = 1\n' + each + "\n"
    assert message in error_of(text)


def test_move_and_named_reference_cells() -> None:
    parsed = checkfiles.parse('''
[rls."demo.t"]
source = "s"
move = "update demo.t set owner = '{stranger}'"
[rls."demo.t".reference]
parent = "insert into demo.t (parent) values (2)"
parent_update = "update demo.t set parent = 2"
[rls."demo.t".allowed]
service_role = ["move", "reference"]
''', path=PATH, identities=IDS)
    matrix = parsed.rls["demo.t"]
    assert list(matrix.statements()) == ["move", "reference.parent", "reference.parent_update"]
    assert matrix.allows("service_role", "reference.parent") and not matrix.allows("owner", "move")
    assert "rls.demo.t.allowed.owner.0" in error_of(
        '[rls."demo.t"]\nsource = "s"\nmove = "x"\n[rls."demo.t".allowed]\nowner = ["relink"]\n')


def test_fixtures_are_shared_by_later_files_of_the_module(tmp_path: Path) -> None:
    module = _module(tmp_path)
    (module / "0002_demo_more.sql").write_text("create table demo.u (id int);\n")
    (module / "0002_demo_more.rollback.sql").write_text("drop table demo.u;\n")
    (module / "0001_demo_base.verify.toml").write_text('[fixtures]\nrows = "insert into demo.t values (1);"\n'
                                                       + BEHAVIOUR.replace('sql', 'uses = ["rows"]\nsql'))
    (module / "0002_demo_more.verify.toml").write_text(
        '[rls."demo.t"]\nsource = "s"\nuses = ["rows"]\nsetup = "select 2"\nmove = "update demo.t set id = 2"\n'
        '[rls."demo.t".allowed]\n')
    loaded = checkfiles.load_module(load_project(load_settings(tmp_path)).module("demo"))
    (_, matrix), = [(t, m) for _, t, m in loaded.rls()]
    assert loaded.setup_of(matrix.uses, matrix.setup) == "insert into demo.t values (1);\nselect 2"


@pytest.mark.parametrize(("first", "second", "message"), [
    ('[fixtures]\nrows = "select 1"\n', '[fixtures]\nrows = "select 2"\n', "fixture 'rows' is declared twice"),
    ("", BEHAVIOUR.replace("sql", 'uses = ["later"]\nsql') + '[fixtures]\nother = "x"\n',
     "behaviour demo.b uses fixture 'later', which neither this file nor an earlier check file"),
    ('[rls."demo.t"]\nsource = "s"\nmove = "x"\n[rls."demo.t".allowed]\n',
     '[rls."demo.t"]\nsource = "s"\nselect = "y"\nmove = "x"\n[rls."demo.t".allowed]\n',
     "the move cells of [rls.'demo.t'] are declared twice"),
])
def test_module_wide_mistakes_name_the_file(tmp_path: Path, first: str, second: str, message: str) -> None:
    module = _module(tmp_path)
    (module / "0002_demo_more.sql").write_text("create table demo.u (id int);\n")
    (module / "0002_demo_more.rollback.sql").write_text("drop table demo.u;\n")
    (module / "0001_demo_base.verify.toml").write_text(first)
    (module / "0002_demo_more.verify.toml").write_text(second)
    with pytest.raises(InputError, match="0002_demo_more.verify.toml") as info:
        checkfiles.load_module(load_project(load_settings(tmp_path)).module("demo"))
    assert message in str(info.value)


def test_expect_error_takes_one_sqlstate_or_a_non_empty_list_of_them() -> None:
    behaviour = '[[behaviour]]\nid = "demo.b"\nsource = "s"\nsql = "select 1"\nexpect_error = {}\n'
    parsed = checkfiles.parse(behaviour.format('["23503", "23001"]'), path=PATH, identities=IDS)
    assert parsed.behaviour[0].accepted_errors == ("23503", "23001")
    assert checkfiles.parse(behaviour.format('"23505"'), path=PATH, identities=IDS).behaviour[0].accepted_errors == ("23505",)
    assert "expect_error" in error_of(behaviour.format("[]"))
    assert "expect_error" in error_of(behaviour.format('["2350"]'))
