"""The short fault soak inside `make test`: one trial of every fault (`make soak` runs 104).
Each trial asserts that status agrees with the catalog, nothing is half-applied
and the next command completes; see tests/soak.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dbkit.ephemeral import ephemeral_postgres
from soak import Soak

SHORT = {"kill-apply": 1, "kill-rollback": 1, "terminate": 1, "restart": 1, "statement-timeout": 1,
         "concurrent-apply": 1, "apply-vs-rollback": 1, "verify-vs-apply": 1}


@pytest.fixture(scope="module")
def soak() -> Iterator[Soak]:
    """A cluster of its own: one trial restarts it."""
    with ephemeral_postgres() as server:
        runner = Soak(server)
        runner.calibrate()
        yield runner


@pytest.mark.parametrize("kind", [kind for kind, n in SHORT.items() for _ in range(n)])
def test_fault_leaves_status_and_catalog_agreeing_and_the_next_command_completes(kind: str, soak: Soak) -> None:
    (trial,) = soak.run(soak.schedule({kind: 1}))
    assert not trial.problems, f"{trial.kind} {trial.detail}: {trial.problems}"
