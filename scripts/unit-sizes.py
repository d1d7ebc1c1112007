"""Issue 17's size gate: no function over 60 lines or cyclomatic complexity 15 under ROOT.

    python scripts/unit-sizes.py [ROOT] [LINES] [--complexity N]     (defaults: src 60 15)

Lists every function, method and nested function over either limit, worst first, and exits 1
when there is one (0 otherwise); `make lint`, and so `.ci/run`, runs it on `src/`.

* Length: the lines of each ``def`` from its first line (decorators excluded) to its last, as
  ``ast`` reports them.
* Complexity: radon's cyclomatic complexity through its Python API (``radon.complexity.cc_visit``),
  the figure `radon cc -s src` prints. Nested functions are checked on their own as well: radon
  leaves a closure's branches out of its enclosing function's figure, so without that a
  function could hide its complexity in a closure. Classes are not checked on their own
  (radon's class figure is an average of its methods, each of which is checked).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Class, Function


def _sources(root: Path) -> Iterator[tuple[Path, str]]:
    for path in sorted(root.rglob("*.py")):
        yield path, path.read_text(encoding="utf-8")


def long_units(root: Path, limit: int) -> list[tuple[int, str]]:
    """(lines, "path:line name") of every def longer than ``limit`` lines, longest first."""
    found = []
    for path, text in _sources(root):
        for node in ast.walk(ast.parse(text, filename=str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > limit:
                    found.append((length, f"{path}:{node.lineno} {node.name}"))
    return sorted(found, reverse=True)


def _units(blocks: list[Function | Class]) -> Iterator[Function]:
    """Every function, method and closure radon found, nested ones included (radon lists a
    method both on its own and in its class: it may come twice)."""
    for block in blocks:
        if isinstance(block, Class):
            yield from _units(list(block.methods) + list(block.inner_classes))
        else:
            yield block
            yield from _units(list(block.closures))


def complex_units(root: Path, limit: int) -> list[tuple[int, str]]:
    """(complexity, "path:line name") of every unit over ``limit``, most complex first."""
    found = set()
    for path, text in _sources(root):
        for unit in _units(cc_visit(text)):
            if unit.complexity > limit:
                found.add((unit.complexity, f"{path}:{unit.lineno} {unit.fullname}"))
    return sorted(found, reverse=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="unit-sizes.py", description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default="src", type=Path, help="folder to measure (default: src)")
    parser.add_argument("lines", nargs="?", default=60, type=int, help="most lines a def may have (default: 60)")
    parser.add_argument("--complexity", default=15, type=int, help="highest complexity allowed (default: 15)")
    args = parser.parse_args(argv[1:])
    if not args.root.is_dir():
        parser.error(f"{args.root} is not a folder")
    over_lines = long_units(args.root, args.lines)
    over_complexity = complex_units(args.root, args.complexity)
    for length, where in over_lines:
        print(f"{length:5d} lines       {where}")
    for complexity, where in over_complexity:
        print(f"{complexity:5d} complexity  {where}")
    if over_lines or over_complexity:
        print(f"unit-sizes: {len(over_lines)} unit(s) over {args.lines} lines, {len(over_complexity)} over "
              f"complexity {args.complexity} (radon) under {args.root}; split them (docs/decisions.md, issue 17)",
              file=sys.stderr)
        return 1
    print(f"unit-sizes: no unit under {args.root} over {args.lines} lines or complexity {args.complexity} (radon)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
