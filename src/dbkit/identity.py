"""Act as an API identity inside a transaction, the way PostgREST does it.

``act_as(cur, Identity(...))`` sets, for the current transaction only, the JWT claims
in both forms PostgREST has used (``request.jwt.claims`` as JSON, and the older
``request.jwt.claim.sub`` / ``request.jwt.claim.role``), then ``SET LOCAL ROLE``. Verify's
RLS matrix and behaviour checks use it; tests and benchmarks use it too.

The identities a check file may name come from ``DEFAULT_IDENTITIES``: ``anon``,
``service_role`` and two signed-in users, ``owner`` and ``stranger``, whose ids are the
placeholders ``{owner}`` / ``{stranger}`` in check files. Their values live here and
nowhere else.
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

    def claims(self) -> dict[str, str]:
        claims = dict(self.extra_claims)
        if self.role is not None:
            claims["role"] = self.role
        if self.sub is not None:
            claims["sub"] = self.sub
        return claims


# Two users no real account has: ids in the RFC 4122 "variant" space, ending d0a1 / d0b2.
PLACEHOLDER_USERS = {
    "owner": "00000000-0000-4000-8000-00000000d0a1",
    "stranger": "00000000-0000-4000-8000-00000000d0b2",
}

DEFAULT_IDENTITIES: dict[str, Identity] = {
    "anon": Identity("anon", label="anon"),
    "owner": Identity("authenticated", PLACEHOLDER_USERS["owner"], label="authenticated (owner)"),
    "stranger": Identity("authenticated", PLACEHOLDER_USERS["stranger"], label="authenticated (stranger)"),
    "service_role": Identity("service_role", label="service_role"),
}


def fill_placeholders(text: str) -> str:
    """``{owner}`` / ``{stranger}`` in a check's SQL become the placeholder users' ids."""
    for name, value in PLACEHOLDER_USERS.items():
        text = text.replace("{" + name + "}", value)
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


__all__ = ["Identity", "DEFAULT_IDENTITIES", "PLACEHOLDER_USERS", "act_as", "act_as_sql", "fill_placeholders"]
