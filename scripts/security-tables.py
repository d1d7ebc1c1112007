"""Regenerate docs/security.md's "What each role holds" tables from migrations/*/catalog.json.

Usage: `.venv/bin/python scripts/security-tables.py` (rewrites the generated block), or
`--check` (exit 1 when the document is stale; tests/test_security_doc.py does the same).
Run it after `dbkit snapshot` whenever a privilege changes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dbkit.config import load_settings
from dbkit.privileges_doc import render, replace_block
from dbkit.project import load_project

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "security.md"


def main(argv: list[str]) -> int:
    current = DOCUMENT.read_text(encoding="utf-8")
    fresh = replace_block(current, render(load_project(load_settings(ROOT))))
    if "--check" in argv:
        if fresh != current:
            print(f"{DOCUMENT.relative_to(ROOT)} is stale: run scripts/security-tables.py", file=sys.stderr)
            return 1
        return 0
    if fresh != current:
        DOCUMENT.write_text(fresh, encoding="utf-8")
        print(f"wrote {DOCUMENT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
