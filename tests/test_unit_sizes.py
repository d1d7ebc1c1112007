"""scripts/unit-sizes.py, the size gate `make lint` runs: it fails on a unit over either limit
and passes on src/ as it is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers import REPO_ROOT

GATE = REPO_ROOT / "scripts" / "unit-sizes.py"


def _gate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(GATE), *args], capture_output=True, text=True, cwd=REPO_ROOT,
                          timeout=120, check=False)


def _branches(name: str, count: int) -> str:
    """A function of radon complexity ``count + 1``: one ``if`` per branch."""
    body = "".join(f"    if x == {n}:\n        return {n}\n" for n in range(count))
    return f"def {name}(x: int) -> int:\n{body}    return -1\n"


def test_gate_fails_on_a_function_over_complexity_15(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "simple.py").write_text(_branches("fine", 14))  # complexity 15: at the limit
    (tmp_path / "pkg" / "tangled.py").write_text(_branches("tangled", 15))  # complexity 16
    result = _gate(str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "16 complexity" in result.stdout and "tangled.py:1 tangled" in result.stdout
    assert "fine" not in result.stdout
    assert "1 over complexity 15" in result.stderr


def test_gate_sees_complexity_hidden_in_a_closure_and_a_method(tmp_path: Path) -> None:
    nested = "def outer() -> None:\n" + "\n".join("    " + line for line in _branches("inner", 15).splitlines())
    method = "class Holder:\n" + "\n".join("    " + line for line in _branches("method", 15).splitlines())
    (tmp_path / "nested.py").write_text(nested + "\n\n\n" + method + "\n")
    result = _gate(str(tmp_path))
    assert result.returncode == 1
    assert "nested.py:2 inner" in result.stdout and "Holder.method" in result.stdout


def test_gate_fails_on_a_function_over_60_lines(tmp_path: Path) -> None:
    body = "".join(f"    x{n} = {n}\n" for n in range(60))
    (tmp_path / "long.py").write_text(f"def long() -> None:\n{body}")  # 61 lines, complexity 1
    result = _gate(str(tmp_path), "60")
    assert result.returncode == 1
    assert "61 lines" in result.stdout and "long.py:1 long" in result.stdout


def test_src_has_no_unit_over_60_lines_or_complexity_15() -> None:
    result = _gate("src", "60", "--complexity", "15")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no unit under src" in result.stdout
