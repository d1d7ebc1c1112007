"""Functions and methods over a line limit (default 60), longest first: `python scripts/unit-sizes.py src [60]`.

Counts the lines of each def from its first line (decorators excluded) to its last, as
``ast`` reports them; with radon's complexity (`radon cc -s -n C src`) it is the measure of
issue 17's "no function over ~60 lines or complexity over ~15".
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def long_units(root: Path, limit: int) -> list[tuple[int, str]]:
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > limit:
                    found.append((length, f"{path}:{node.lineno} {node.name}"))
    return sorted(found, reverse=True)


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path("src")
    limit = int(argv[2]) if len(argv) > 2 else 60
    for length, where in long_units(root, limit):
        print(f"{length:5d}  {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
