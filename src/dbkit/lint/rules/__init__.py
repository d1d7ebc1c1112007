"""Every rule of ``dbkit lint``, one class each; ``RULES`` maps the id to the class."""

from __future__ import annotations

from dbkit.lint.rules.base import Rule, Scope
from dbkit.lint.rules.changes import DestructiveChange, Rename, TransactionControl
from dbkit.lint.rules.files import (
    HeaderDirective,
    IncludeProblem,
    MisplacedFile,
    MissingRollback,
    Unparsable,
)
from dbkit.lint.rules.indexes import (
    ConcurrentlyInTransaction,
    ForeignKeyWithoutIndex,
    IndexWithoutConcurrently,
    UniqueWithoutUsingIndex,
)
from dbkit.lint.rules.locks import (
    AddColumnRewrite,
    CheckValidatedUnderLock,
    ForeignKeyValidatedUnderLock,
    RequiredColumnWithoutDefault,
    SetNotNullWithoutCheck,
    ValidateInSameTransaction,
)
from dbkit.lint.rules.rls import RlsWithoutPolicy, TableWithoutRls
from dbkit.lint.rules.security import AuthCallPerRow, PolicyWithoutRole, SecurityDefinerWithoutSearchPath
from dbkit.lint.rules.style import SqlStyle


class PlpgsqlCheck(Rule):
    """plpgsql_check reads every plpgsql function body against the applied catalog: a misspelt column,
    a wrong type, an unused variable. dbkit's other rules never look inside ``$$`` bodies."""

    id = "DBK100"
    title = "plpgsql_check finding"
    fix = ("fix the function body as plpgsql_check says; checks run on every plpgsql function after applying "
           "the project to a throwaway cluster")
    scope = Scope.DATABASE


ALL_RULES: tuple[type[Rule], ...] = (
    Unparsable, SecurityDefinerWithoutSearchPath, TableWithoutRls, RlsWithoutPolicy, AuthCallPerRow,
    PolicyWithoutRole, ForeignKeyWithoutIndex, IndexWithoutConcurrently, ConcurrentlyInTransaction,
    DestructiveChange, MissingRollback, HeaderDirective, IncludeProblem, MisplacedFile, CheckValidatedUnderLock,
    ForeignKeyValidatedUnderLock, UniqueWithoutUsingIndex, SetNotNullWithoutCheck, AddColumnRewrite,
    RequiredColumnWithoutDefault, Rename, TransactionControl, ValidateInSameTransaction, SqlStyle, PlpgsqlCheck,
)
RULES: dict[str, type[Rule]] = {rule.id: rule for rule in ALL_RULES}

__all__ = ["ALL_RULES", "RULES", "Rule", "Scope"]
