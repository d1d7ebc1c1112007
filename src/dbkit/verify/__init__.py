"""``dbkit verify``: the live database against what the SQL produces and what the check files state.

* ``catalog_checks``: every object of the committed snapshots (``dbkit.snapshot``) compared
  with the live catalog (``dbkit.inspect``), object by object, privileges audited; objects
  the modules do not own checked only for what they need; drift.
* ``hand_checks``: the ``NNNN_name.verify.toml`` checks (rows, behaviour, RLS matrix, plans).
* ``run``: one read-only pass; checks that write run only when asked, always rolled back.

Comparison happens in Python, never by asking SQL for a boolean, so a check can always
fail; a failure states what is missing, extra or different as "have: … want: …".
"""

from __future__ import annotations

from dbkit.verify.model import STATUSES, Check, IdentityRow, Status, VerifyReport
from dbkit.verify.run import failed_report, verify

__all__ = ["Check", "IdentityRow", "VerifyReport", "Status", "STATUSES", "verify", "failed_report"]
