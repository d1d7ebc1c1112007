"""expectations.toml is validated strictly: every mistake names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbkit import expectations as exp
from dbkit.errors import InputError

PATH = "migrations/demo/expectations.toml"
HEADER = '[module]\nname = "demo"\nschemas = ["demo"]\n'


def parse(body: str, header: str = HEADER) -> exp.ModuleExpectations:
    return exp.parse(header + body, path=PATH, module="demo")


def error_of(body: str, header: str = HEADER) -> str:
    with pytest.raises(InputError) as info:
        parse(body, header)
    assert info.value.exit_code == 2
    assert info.value.path == PATH
    return str(info.value)


def test_a_complete_entry_of_every_section_parses() -> None:
    m = parse("""
[tables."demo.t"]
source = "s"
rls = true
[tables."demo.t".columns]
id = "uuid not null"
[indexes."demo.i"]
source = "s"
definition = "CREATE INDEX i ON demo.t USING btree (id)"
[constraints."demo.t.t_pkey"]
source = "s"
type = "primary"
definition = "PRIMARY KEY (id)"
[policies."demo.t.p"]
source = "s"
command = "select"
roles = ["authenticated"]
using = "true"
[functions."demo.f(uuid)"]
source = "s"
execute = ["service_role"]
[triggers."demo.t.tr"]
source = "s"
definition = "CREATE TRIGGER ..."
[cron."job"]
source = "s"
schedule = "0 3 * * *"
command = "select 1"
[[rows]]
id = "r1"
source = "s"
query = "select 1"
expect = [["1"]]
[[behaviour]]
id = "b1"
source = "s"
sql = "select 1"
expect_rowcount = 1
[rls."demo.t"]
source = "s"
select = "select 1"
[rls."demo.t".allowed]
owner = ["select"]
[[plans]]
id = "p1"
source = "s"
query = "select 1"
uses_index = "i"
""")
    assert m.tables[0].columns == (("id", "uuid not null"),)
    assert m.policies[0].command == "SELECT" and m.policies[0].permissive is True
    assert m.rls[0].allowed_for("owner") == ("select",) and m.rls[0].allowed_for("anon") == ()
    assert m.functions[0].security_definer is False and m.functions[0].search_path is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[tabels.\"demo.t\"]\nsource = \"s\"\n", "unknown key 'tabels' at top level"),
        ("[tables.\"demo.t\"]\nsource = \"s\"\nforce_rsl = true\n", "unknown key 'force_rsl' in [tables.'demo.t']"),
        ("[tables.\"demo.t\"]\nsource = \"s\"\nrls = \"yes\"\n", "[tables.'demo.t'].rls must be true or false, not str"),
        ("[tables.\"t\"]\nsource = \"s\"\n", "key tables.'t' must be written 'schema.name'"),
        ("[tables.\"demo.t\"]\nrls = true\n", "missing key 'source' in [tables.'demo.t']"),
        ("[tables.\"demo.t\"]\nsource = \"s\"\n[tables.\"demo.t\".columns]\nid = 1\n",
         "[tables.'demo.t'].columns.id must be a non-empty string"),
        ("[indexes.\"demo.i\"]\nsource = \"s\"\n", "missing key 'definition' in [indexes.'demo.i']"),
        ("[constraints.\"demo.t.c\"]\nsource = \"s\"\ntype = \"fk\"\ndefinition = \"x\"\n",
         "[constraints.'demo.t.c'].type must be one of primary, unique, check, foreign, exclude, not 'fk'"),
        ("[constraints.\"demo.c\"]\nsource = \"s\"\ntype = \"check\"\ndefinition = \"x\"\n",
         "key constraints.'demo.c' must be written 'schema.table.name'"),
        ("[policies.\"demo.t.p\"]\nsource = \"s\"\ncommand = \"MERGE\"\nroles = [\"a\"]\n",
         "[policies.'demo.t.p'].command must be one of ALL, SELECT, INSERT, UPDATE, DELETE, not 'MERGE'"),
        ("[policies.\"demo.t.p\"]\nsource = \"s\"\ncommand = \"ALL\"\nroles = []\n",
         "[policies.'demo.t.p'].roles must name at least one role"),
        ("[policies.\"demo.t.p\"]\nsource = \"s\"\ncommand = \"ALL\"\nroles = \"authenticated\"\n",
         "[policies.'demo.t.p'].roles must be a list of strings, not str"),
        ("[functions.\"demo.f\"]\nsource = \"s\"\n", "key functions.'demo.f' must be the regprocedure text"),
        ("[functions.\"demo.f()\"]\nsource = \"s\"\nvolatility = \"pure\"\n",
         "[functions.'demo.f()'].volatility must be one of immutable, stable, volatile, not 'pure'"),
        ("[functions.\"demo.f()\"]\nsource = \"s\"\nsecurity_definer = \"true\"\n",
         "[functions.'demo.f()'].security_definer must be true or false, not str"),
        ("[[rows]]\nid = \"r\"\nsource = \"s\"\nquery = \"select 1\"\nexpect = [[1]]\n",
         "[[rows]] #1.expect must be a list of rows, each a list of strings"),
        ("[[behaviour]]\nid = \"b\"\nsource = \"s\"\nsql = \"x\"\nexpect = [[\"1\"]]\nexpect_error = \"23505\"\n",
         "needs exactly one of expect / expect_error / expect_rowcount, has ['expect', 'expect_error']"),
        ("[[behaviour]]\nid = \"b\"\nsource = \"s\"\nsql = \"x\"\n",
         "needs exactly one of expect / expect_error / expect_rowcount, has none"),
        ("[[behaviour]]\nid = \"b\"\nsource = \"s\"\nsql = \"x\"\nexpect_error = \"unique\"\n",
         "[[behaviour]] #1.expect_error must be a five-character SQLSTATE"),
        ("[[behaviour]]\nid = \"b\"\nsource = \"s\"\nsql = \"x\"\nexpect_error = []\n",
         "[[behaviour]] #1.expect_error must be a five-character SQLSTATE"),
        ("[[behaviour]]\nid = \"b\"\nsource = \"s\"\nsql = \"x\"\nexpect_error = [\"23503\", 23001]\n",
         "[[behaviour]] #1.expect_error must be a five-character SQLSTATE"),
        ("[[behaviour]]\nid = \"b\"\nsource = \"s\"\nsql = \"x\"\nexpect_rowcount = true\n",
         "[[behaviour]] #1.expect_rowcount must be an integer, not a boolean"),
        ("[[behaviour]]\nid = \"b\"\nsource = \"s\"\nsql = \"x\"\nexpect_rowcount = 1\nrole = \"x; drop\"\n",
         "[[behaviour]] #1.role must be a plain role name"),
        ("[[rows]]\nid = \"r\"\nsource = \"s\"\nquery = \"q\"\nexpect = []\n[[plans]]\nid = \"r\"\nsource = \"s\"\n"
         "query = \"q\"\nuses_index = \"i\"\n", "duplicate check id 'r' in [[plans]] #1"),
        ("[rls.\"demo.t\"]\nsource = \"s\"\nselect = \"q\"\n[rls.\"demo.t\".allowed]\nadmin = [\"select\"]\n",
         "unknown key 'admin' in [rls.'demo.t'].allowed"),
        ("[rls.\"demo.t\"]\nsource = \"s\"\nselect = \"q\"\n[rls.\"demo.t\".allowed]\nowner = [\"read\"]\n",
         "[rls.'demo.t'].allowed.owner lists 'read'; commands are select, insert, update, delete"),
        ("[rls.\"demo.t\"]\nsource = \"s\"\n[rls.\"demo.t\".allowed]\n",
         "[rls.'demo.t'] needs at least one of select, insert, update, delete"),
        ("[rls.\"demo.t\"]\nsource = \"s\"\nselect = \"q\"\n", "missing key 'allowed' in [rls.'demo.t']"),
        ("[[plans]]\nid = \"p\"\nsource = \"s\"\nquery = \"q\"\n", "missing key 'uses_index' in [[plans]] #1"),
        ("[tables\n", "not valid TOML"),
    ],
)
def test_malformed_entry_is_an_input_error_naming_file_and_key(body: str, message: str) -> None:
    text = error_of(body)
    assert text.startswith(PATH + ": ")
    assert message in text


def test_expect_error_may_list_the_sqlstates_that_different_versions_raise() -> None:
    one, listed = parse(
        '[[behaviour]]\nid = "demo.a"\nsource = "s"\nsql = "x"\nexpect_error = "23505"\n'
        '[[behaviour]]\nid = "demo.b"\nsource = "s"\nsql = "x"\nexpect_error = ["23503", "23001"]\n').behaviour
    assert (one.expect_error, one.accepted_errors) == ("23505", ("23505",))
    assert (listed.expect_error, listed.accepted_errors) == ("23503", ("23503", "23001"))


def test_module_table_is_required_and_must_match_its_folder() -> None:
    assert "missing [module] table" in error_of("", header="")
    assert "[module].name is 'other' but the file is in module folder 'demo'" in error_of(
        "", header='[module]\nname = "other"\nschemas = ["demo"]\n')
    assert "[module].schemas must list at least one schema" in error_of(
        "", header='[module]\nname = "demo"\nschemas = []\n')
    assert "rows must be an array of tables ([[rows]])" in error_of("rows = 3\n" + HEADER, header="")
    assert "unknown key 'schema' in [module]" in error_of(
        "", header='[module]\nname = "demo"\nschemas = ["demo"]\nschema = "x"\n')


def test_load_names_the_file_it_could_not_decode(tmp_path: Path) -> None:
    path = tmp_path / "expectations.toml"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(InputError, match="expectations.toml: file is not valid UTF-8"):
        exp.load(path, module="demo", display="migrations/demo/expectations.toml")


def test_a_change_check_file_adds_only_hand_written_checks() -> None:
    base = parse('[[rows]]\nid = "demo.a"\nsource = "s"\nquery = "select 1"\nexpect = [["1"]]\n')
    ids = {"demo.a"}
    rows, behaviour, rls, plans = exp.parse_checks(
        '[[behaviour]]\nid = "demo.b"\nsource = "s"\nsql = "select 1"\nexpect = [["1"]]\n',
        path="migrations/demo/0002_x.verify.toml", ids=ids)
    assert [b.id for b in behaviour] == ["demo.b"] and not (rows or rls or plans)
    assert base.rows[0].id == "demo.a"
    with pytest.raises(InputError, match=r"0002_x.verify.toml: unknown key 'tables' at top level"):
        exp.parse_checks('[tables."demo.t"]\nsource = "s"\n', path="migrations/demo/0002_x.verify.toml", ids=set())
    with pytest.raises(InputError, match="duplicate check id 'demo.a'"):
        exp.parse_checks('[[rows]]\nid = "demo.a"\nsource = "s"\nquery = "select 1"\nexpect = []\n',
                         path="migrations/demo/0002_x.verify.toml", ids=ids)


def test_change_check_files_merge_into_their_module_and_must_sit_beside_a_migration(tmp_path: Path) -> None:
    from dbkit.config import load_settings
    from dbkit.project import load_project
    from dbkit.verify import load_expectations

    module = tmp_path / "migrations" / "demo"
    module.mkdir(parents=True)
    (tmp_path / "sql").mkdir()
    (module / "0001_demo_base.sql").write_text("create table demo.t (id int);\n")
    (module / "0001_demo_base.rollback.sql").write_text("drop table demo.t;\n")
    (module / "expectations.toml").write_text(HEADER)
    (module / "0001_demo_base.verify.toml").write_text(
        '[[behaviour]]\nid = "demo.b"\nsource = "s"\nsql = "select 1"\nexpect = [["1"]]\n')
    settings = load_settings(tmp_path)
    mods, missing = load_expectations(load_project(settings))
    assert missing == [] and [b.id for b in mods[0].behaviour] == ["demo.b"]
    (module / "0002_gone.verify.toml").write_text("")
    with pytest.raises(InputError, match="0002_gone.verify.toml: check file has no migration 0002_gone.sql"):
        load_expectations(load_project(settings))
