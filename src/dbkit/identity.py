"""Act as an API identity inside a transaction, the way PostgREST does it.

``act_as(cur, Identity(...))`` sets, for the current transaction only, the JWT claims
in both forms PostgREST has used (``request.jwt.claims`` as JSON, and the older
``request.jwt.claim.sub`` / ``request.jwt.claim.role``), then ``SET LOCAL ROLE``. Verify's
RLS matrix and behaviour checks use it; tests and benchmarks use it too.

Which identities exist is the project's business, not the tool's: they are declared in
the configuration (``[identities]`` of ``dbkit.toml`` / ``[tool.dbkit.identities]``), each
with a role, optionally a user id (``sub``) and a label. A check file names one with
``as = "<name>"``, every identity is a row of the RLS matrix, and ``{<name>}`` in a check's
SQL is that identity's ``sub``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql


@dataclass(frozen=True)
class Identity:
    """A database role plus the JWT claims a request carries (``sub`` is the user id)."""

    role: str | None
    sub: str | None = None
    extra_claims: Mapping[str, str] = field(default_factory=dict)
    label: str = ""
    name: str = ""  # the name check files use (``as = "owner"``); empty for an ad-hoc identity

    @property
    def shown(self) -> str:
        """The label, or ``role (name)`` when none was configured."""
        if self.label:
            return self.label
        role = self.role or "(no role)"
        return role if self.name in ("", role) else f"{role} ({self.name})"

    def claims(self) -> dict[str, str]:
        claims = dict(self.extra_claims)
        if self.role is not None:
            claims["role"] = self.role
        if self.sub is not None:
            claims["sub"] = self.sub
        return claims


def fill_placeholders(text: str, identities: tuple[Identity, ...]) -> str:
    """``{name}`` in a check's SQL becomes the user id (``sub``) of the identity of that name."""
    for identity in identities:
        if identity.sub is not None:
            text = text.replace("{" + identity.name + "}", identity.sub)
    return text


def act_as_sql(identity: Identity) -> sql.Composed:
    """One statement setting the request's claims (both forms) and, when it has one, the role,
    for the current transaction only (``set_config('role', …, true)`` is ``SET LOCAL ROLE``)."""
    claims = identity.claims()
    parts = [
        sql.SQL("pg_catalog.set_config('request.jwt.claims', {}, true)").format(sql.Literal(json.dumps(claims))),
        sql.SQL("pg_catalog.set_config('request.jwt.claim.sub', {}, true)").format(sql.Literal(claims.get("sub", ""))),
        sql.SQL("pg_catalog.set_config('request.jwt.claim.role', {}, true)").format(
            sql.Literal(claims.get("role", ""))),
    ]
    if identity.role is not None:
        parts.append(sql.SQL("pg_catalog.set_config('role', {}, true)").format(sql.Literal(identity.role)))
    return sql.SQL("select ") + sql.SQL(", ").join(parts)


def act_as(cur: psycopg.Cursor[Any], identity: Identity) -> None:
    """Act as ``identity`` for the rest of the current transaction (one round trip)."""
    cur.execute(act_as_sql(identity))


__all__ = ["Identity", "act_as", "act_as_sql", "fill_placeholders"]
