"""Rules about files and the project's layout, reported from the loader's diagnostics.

The checks themselves live in ``dbkit.project`` (the one loader ``apply`` also uses, where
the first of them stops the command); these classes give each kind of diagnostic its
rule id, and add what only a parser can see (a syntax error, an empty rollback).
"""

from __future__ import annotations

from typing import ClassVar

from dbkit.lint.rules.base import Rule, Scope
from dbkit.project import Problem


class LoaderRule(Rule):
    """Reports the loader's diagnostics of one kind."""

    scope = Scope.PROJECT
    problem: ClassVar[Problem]

    def finish(self) -> None:
        for diagnostic in self.project.diagnostics:
            if diagnostic.problem is self.problem:
                self.report_file(diagnostic.path, diagnostic.line, diagnostic.message)


class Unparsable(LoaderRule):
    """A file PostgreSQL's parser rejects (or that is not UTF-8) cannot be checked or applied."""

    id = "DBK000"
    title = "file cannot be read or parsed"
    fix = "fix the syntax error PostgreSQL's parser reports (or save the file as UTF-8)"
    problem = Problem.UNREADABLE

    def finish(self) -> None:
        super().finish()
        for parsed in self.project.files.values():
            if parsed.error is not None:
                offset, message = parsed.error
                self.report_file(parsed.name, parsed.line_of(offset),
                                 f"PostgreSQL cannot parse this file: {message}; {self.fix}",
                                 column=parsed.column_of(offset))


class MissingRollback(LoaderRule):
    """Every migration has a rollback that really undoes it; an empty one makes rollback a silent no-op."""

    id = "DBK010"
    title = "migration without a rollback"
    fix = "create NNNN_name.rollback.sql beside the migration that reverses it statement by statement"
    problem = Problem.ROLLBACK

    def finish(self) -> None:
        super().finish()
        for unit in self.project.units:
            parsed = self.project.files.get(unit.migration.rollback.name)
            if parsed is not None and parsed.parsed and not parsed.statements:
                self.report_file(parsed.name, 1, f"rollback of {unit.id} is empty; write the statements that undo "
                                 "the migration (or `raise exception` with the reason it cannot be undone)")


class HeaderDirective(LoaderRule):
    """yoyo silently ignores a misspelt directive, so dbkit's loader refuses it."""

    id = "DBK011"
    title = "unknown or malformed header directive"
    fix = ("use only `-- depends:`, `-- transactional: true|false` and `-- include:`; prose keys start with "
           "a capital letter (`-- Source: …`)")
    problem = Problem.HEADER


class IncludeProblem(LoaderRule):
    """A function or policy file belongs to exactly one forward migration, included at the place it runs."""

    id = "DBK012"
    title = "include problem"
    fix = ("include each sql/functions or sql/policies file from exactly one forward migration with "
           "`-- include: sql/<dir>/<file>.sql`")
    problem = Problem.INCLUDE


class MisplacedFile(LoaderRule):
    """A SQL file the loader would skip is a change that never runs; dbkit refuses it instead."""

    id = "DBK013"
    title = "misplaced or misnamed migration file"
    fix = "name migrations migrations/<module>/NNNN_name.sql and NNNN_name.rollback.sql, ids unique across modules"
    problem = Problem.LAYOUT
