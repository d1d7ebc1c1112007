"""Rows for existing tables, derived from their catalog: what a rehearsal loads and writes.

Nothing here names a table or a column of the project: the shape of every table (columns,
types, defaults, keys, foreign keys, single-column CHECK lists) is read from the database
the project was applied to, so the generated rows follow the SQL as it is, also after it
changes.

Row ``i`` of a table is a pure function of ``i``:

* a column that belongs to a foreign key takes the referenced column's value of row ``i``
  of the referenced table (``1 + (i - 1) mod n`` once ``i`` runs past the ``n`` loaded
  rows), so every chain of references stays with one owner: lead ``i``'s agent is agent
  ``i``, whose user is user ``i``, which is also lead ``i``'s user. Same-tenant keys that a
  later migration adds therefore validate, as they do on a real application's data;
* key, unique and referenced columns get values distinct per row (ascending uuids, ``i``,
  ``'column-i'``, dates ``i`` days apart);
* other columns take their default where they have one, one of their CHECK's listed values
  where the CHECK lists them, and a value of their type otherwise (NULL when nullable and no
  value of the type can be made).

Expressions use ``mod()`` rather than ``%`` so they embed in psycopg queries unescaped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
from psycopg import sql

from dbkit.errors import InputError

ROW = "{i}"  # placeholder for the row number expression in a column template


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # format_type(), e.g. character varying(200)
    base: str  # the base type's name (domains resolved), e.g. varchar
    category: str  # pg_type.typcategory of the base type
    not_null: bool
    has_default: bool
    identity: str  # '' | 'a' (always) | 'd' (by default)
    generated: bool
    length: int | None  # character length limit, when the type has one
    enum_labels: tuple[str, ...] = ()
    sequence: str | None = None  # the sequence a serial or identity column takes its values from


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    table: str  # referenced table, schema-qualified and quoted as regclass prints it
    referenced: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str  # schema-qualified, as regclass prints it
    oid: int
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # primary key columns (empty without one)
    unique: frozenset[str]  # columns of the primary key and of every unique constraint
    foreign_keys: tuple[ForeignKey, ...]
    choices: dict[str, tuple[str, ...]]  # column -> the values its single-column CHECK lists

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


_COLUMNS = """
select a.attrelid::bigint, a.attname, format_type(a.atttypid, a.atttypmod),
       coalesce(bt.typname, t.typname), coalesce(bt.typcategory, t.typcategory),
       a.attnotnull, a.atthasdef, a.attidentity::text, a.attgenerated <> '',
       case when coalesce(bt.typname, t.typname) in ('varchar', 'bpchar')
                 and coalesce(nullif(t.typtypmod, -1), a.atttypmod) > 4
            then coalesce(nullif(t.typtypmod, -1), a.atttypmod) - 4 end,
       coalesce((select array_agg(e.enumlabel::text order by e.enumsortorder) from pg_enum e
                  where e.enumtypid = coalesce(bt.oid, t.oid)), '{}'),
       pg_get_serial_sequence(a.attrelid::regclass::text, a.attname)
  from pg_attribute a
  join pg_type t on t.oid = a.atttypid
  left join pg_type bt on bt.oid = t.typbasetype and t.typtype = 'd'
 where a.attrelid = any(%s) and a.attnum > 0 and not a.attisdropped
 order by a.attrelid, a.attnum
"""

_CONSTRAINTS = """
select c.conrelid::bigint, c.contype::text,
       array(select a.attname::text from unnest(c.conkey) with ordinality k(n, o)
              join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by k.o),
       (select format('%%I.%%I', n.nspname, r.relname) from pg_class r
          join pg_namespace n on n.oid = r.relnamespace where r.oid = c.confrelid),
       array(select a.attname::text from unnest(c.confkey) with ordinality k(n, o)
              join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by k.o),
       pg_get_constraintdef(c.oid)
  from pg_constraint c
 where c.conrelid = any(%s) and c.contype in ('p', 'u', 'f', 'c')
 order by c.conrelid, c.conname
"""

_LITERAL = re.compile(r"'((?:[^']|'')*)'::")


def read_tables(conn: psycopg.Connection[Any], names: list[str]) -> dict[str, Table]:
    """The shape of each named table (``schema.table``), keyed by the name regclass prints."""
    oids = _oids(conn, names)
    columns = _columns(conn, oids)
    constraints = _Constraints.read(conn, oids)
    return {
        name: Table(name=name, oid=oid, columns=tuple(columns[oid]), key=constraints.keys.get(oid, ()),
                    unique=frozenset(constraints.unique[oid]), foreign_keys=tuple(constraints.fks[oid]),
                    choices=constraints.choices[oid])
        for oid, name in oids.items()
    }


def _oids(conn: psycopg.Connection[Any], names: list[str]) -> dict[int, str]:
    """oid -> the name as regclass prints it (schema-qualified, quoted where needed)."""
    oids: dict[int, str] = {}
    for name in names:
        row = conn.execute("select c.oid::bigint, format('%%I.%%I', n.nspname, c.relname) from pg_class c "
                           "join pg_namespace n on n.oid = c.relnamespace where c.oid = %s::regclass", (name,)).fetchone()
        assert row is not None
        oids[int(row[0])] = str(row[1])
    return oids


def _columns(conn: psycopg.Connection[Any], oids: dict[int, str]) -> dict[int, list[Column]]:
    columns: dict[int, list[Column]] = {oid: [] for oid in oids}
    for (rel, name, typ, base, category, not_null, has_default, identity, generated, length, labels,
         sequence) in conn.execute(_COLUMNS, (list(oids),)).fetchall():
        columns[int(rel)].append(Column(name=name, type=typ, base=base, category=category, not_null=not_null,
                                        has_default=has_default, identity=identity, generated=generated,
                                        length=length, enum_labels=tuple(labels), sequence=sequence))
    return columns


@dataclass
class _Constraints:
    """What the tables' constraints say about their columns, per table oid."""

    keys: dict[int, tuple[str, ...]]
    unique: dict[int, set[str]]
    fks: dict[int, list[ForeignKey]]
    choices: dict[int, dict[str, tuple[str, ...]]]

    @classmethod
    def read(cls, conn: psycopg.Connection[Any], oids: dict[int, str]) -> _Constraints:
        found = cls({}, {oid: set() for oid in oids}, {oid: [] for oid in oids}, {oid: {} for oid in oids})
        for rel, kind, cols, ref_table, ref_cols, definition in conn.execute(_CONSTRAINTS, (list(oids),)).fetchall():
            found.add(int(rel), kind, tuple(cols), ref_table, tuple(ref_cols), definition)
        return found

    def add(self, rel: int, kind: str, cols: tuple[str, ...], ref_table: str | None, ref_cols: tuple[str, ...],
            definition: str) -> None:
        if kind == "p":
            self.keys[rel] = cols
        if kind in ("p", "u"):
            self.unique[rel].update(cols)
        elif kind == "f":
            self.fks[rel].append(ForeignKey(cols, str(ref_table), ref_cols))
        elif kind == "c" and len(cols) == 1:
            # Only a single-column CHECK that lists literals (x in ('a', 'b')) gives choices.
            values = tuple(v.replace("''", "'") for v in _LITERAL.findall(definition))
            if values:
                self.choices[rel][cols[0]] = values


def load_order(tables: dict[str, Table]) -> list[str]:
    """Referenced tables before the tables that reference them (cycles keep catalog order)."""
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in ordered or name in visiting:
            return
        visiting.add(name)
        for fk in tables[name].foreign_keys:
            if fk.table in tables and fk.table != name:
                visit(fk.table)
        visiting.discard(name)
        ordered.append(name)

    for name in sorted(tables):
        visit(name)
    return ordered


class Generator:
    """SQL expressions for the columns of row ``i`` of the loaded tables (``rows`` each)."""

    def __init__(self, tables: dict[str, Table], rows: int) -> None:
        self.tables = tables
        self.rows = rows
        self.referenced = {(fk.table, col) for t in tables.values() for fk in t.foreign_keys for col in fk.referenced}

    def value(self, table: str, column: str, i: str, depth: int = 0) -> str | None:
        """The expression for ``table.column`` of row ``i`` (an SQL expression); None: leave it to the default."""
        shape = self.tables[table]
        col = shape.column(column)
        if col.generated:
            return None
        reference = self._reference(shape, col, depth)
        if reference == "default":
            return None
        if reference is not None:
            ref_table, ref_col = reference
            j = i if ref_table == table else f"(1 + mod(({i}) - 1, {self.rows}))"
            return self.value(ref_table, ref_col, j, depth + 1)
        return self._own(shape, col, i)

    def _reference(self, shape: Table, col: Column, depth: int) -> tuple[str, str] | Literal["default"] | None:
        """Where a foreign-key column takes its value: the referenced (table, column) of the same
        owner's row; "default" when the referenced table is not loaded (the column stays NULL);
        None when the column makes its own value (no foreign key, a key referencing its own
        column, or references nested deeper than 8)."""
        for fk in shape.foreign_keys:
            if col.name not in fk.columns:
                continue
            if fk.table not in self.tables:
                if col.not_null:
                    raise InputError(f"cannot make rows for {shape.name}: column {col.name} references {fk.table}, "
                                     "which the rehearsal does not load")
                return "default"
            if depth < 8:
                ref_col = fk.referenced[fk.columns.index(col.name)]
                return None if (fk.table, ref_col) == (shape.name, col.name) else (fk.table, ref_col)
        return None

    def _own(self, shape: Table, col: Column, i: str) -> str | None:
        """A column's own value: its default where no distinct value is needed, else one of its
        CHECK's listed values, else a value of its type."""
        distinct = col.name in shape.unique or (shape.name, col.name) in self.referenced
        if not distinct and (col.identity == "d" or (col.has_default and not col.identity)):
            return None
        if col.name in shape.choices:
            return _one_of(shape.choices[col.name], i, col.type)
        made = _typed(shape, col, i, distinct)
        if made is None and col.not_null:
            raise InputError(
                f"cannot make rows for {shape.name}: column {col.name} of type {col.type} is NOT NULL without a "
                "default, and the rehearsal has no value generator for that type"
            )
        return made

    def columns(self, table: str) -> list[tuple[str, str]]:
        """(column, expression of row ``{i}``) for every column the rows set explicitly."""
        out: list[tuple[str, str]] = []
        for col in self.tables[table].columns:
            expr = self.value(table, col.name, ROW)
            if expr is not None:
                out.append((col.name, expr))
        return out

    def insert(self, table: str, source: str) -> str:
        """``insert into table (...) select <row i> from <source>``; ``source`` yields a column ``i``."""
        shape = self.tables[table]
        pairs = self.columns(table)
        names = ", ".join(sql.Identifier(name).as_string(None) for name, _ in pairs)
        exprs = ", ".join(expr.replace(ROW, "s.i") for _, expr in pairs)
        overriding = " overriding system value" if any(shape.column(n).identity == "a" for n, _ in pairs) else ""
        return f"insert into {table} ({names}){overriding} select {exprs} from {source} as s"

    def key_match(self, table: str, i: str) -> str:
        """A WHERE clause that finds row ``i`` by the table's primary key."""
        shape = self.tables[table]
        parts = []
        for name in shape.key:
            expr = self.value(table, name, i)
            if expr is None:
                raise InputError(f"cannot address rows of {table}: its key column {name} takes its default")
            parts.append(f"{sql.Identifier(name).as_string(None)} = {expr}")
        return " and ".join(parts)


def fill(conn: psycopg.Connection[Any], generator: Generator, table: str, *, batch: int = 100_000) -> None:
    """Insert rows 1..n of ``table`` in batches; sequences continue after the rows."""
    statement = generator.insert(table, "(select g.i from generate_series(%s::bigint, %s::bigint) as g(i))")
    for first in range(1, generator.rows + 1, batch):
        last = min(first + batch - 1, generator.rows)
        conn.execute(statement, (first, last))
    for col in generator.tables[table].columns:
        if col.sequence and any(col.name == name for name, _ in generator.columns(table)):
            conn.execute(f"select setval(%s, (select coalesce(max({sql.Identifier(col.name).as_string(None)}), 1) "
                         f"from {table}))", (col.sequence,))


# Values of a type by the base type's name: (row expression, column type) -> SQL expression.
_BY_BASE: dict[str, Callable[[str, str], str]] = {
    "bool": lambda i, typ: f"(mod({i}, 2) = 0)::{typ}",
    "timestamptz": lambda i, typ: f"(timestamp '2020-01-01' + ({i}) * interval '1 second')::{typ}",
    "timestamp": lambda i, typ: f"(timestamp '2020-01-01' + ({i}) * interval '1 second')::{typ}",
    "date": lambda i, typ: f"(date '2000-01-01' + ({i})::int)::{typ}",
    "time": lambda i, typ: f"(time '00:00' + mod({i}, 86400) * interval '1 second')::{typ}",
    "timetz": lambda i, typ: f"(time '00:00' + mod({i}, 86400) * interval '1 second')::{typ}",
    "interval": lambda i, typ: f"(mod({i}, 60) * interval '1 minute')::{typ}",
    "json": lambda i, typ: f"json_build_object('n', {i})::{typ}",
    "jsonb": lambda i, typ: f"json_build_object('n', {i})::{typ}",
}
_TEXT_BASES = frozenset({"text", "varchar", "bpchar", "citext", "name"})


def _typed(table: Table, col: Column, i: str, distinct: bool) -> str | None:
    """A value of the column's type for row ``i`` (distinct per row when ``distinct``); None
    when dbkit has no generator for the type."""
    if col.enum_labels:
        return _one_of(col.enum_labels, i, col.type)
    if col.base == "uuid":
        # Ascending within a column (as v7 uuids are), distinct across columns: loading
        # appends to the indexes instead of splitting random pages, several times faster.
        prefix = hashlib.md5(f"{table.name}.{col.name}".encode()).hexdigest()[:8]
        return f"('{prefix}-0000-4000-8000-' || lpad(to_hex({i}), 12, '0'))::uuid"
    if col.base in _TEXT_BASES:
        text = f"'{_escape(col.name)}-' || ({i})"
        if col.length is not None:
            text = f"right({text}, {col.length})"
        return f"({text})::{col.type}"
    if col.category == "N":
        # Distinct values run with i; others stay in 1..100, which most range CHECKs admit.
        return f"({i})::{col.type}" if distinct else f"(1 + mod({i}, 100))::{col.type}"
    if col.base in _BY_BASE:
        return _BY_BASE[col.base](i, col.type)
    if col.base == "bytea":
        tag = _literal(f"{table.name}.{col.name}:")
        return f"decode(md5({tag} || ({i})), 'hex')::{col.type}"
    if col.category == "A":
        return f"'{{}}'::{col.type}"
    return None


def _one_of(values: tuple[str, ...], i: str, typ: str) -> str:
    """Row ``i``'s pick from listed values (a CHECK's list or an enum's labels), cycling."""
    items = ", ".join(_literal(v) for v in values)
    return f"(array[{items}])[1 + mod({i}, {len(values)})]::{typ}"


def _escape(text: str) -> str:
    return text.replace("'", "''")


def _literal(text: str) -> str:
    return "'" + _escape(text) + "'"
