"""sqlfluff over the project's SQL: postgres dialect, raw templater, no size limit.

sqlfluff is most of ``dbkit lint``'s time (about 0.1 s per file). Two things make it
cheaper without changing a result:

* a cache keyed by everything a result depends on (sqlfluff's version, the effective
  configuration, the file's name and content), so an unchanged file is not linted
  again; a change to ``.sqlfluff`` or an upgrade of sqlfluff misses every entry;
* the remaining files linted in parallel processes (one per CPU).
"""

from __future__ import annotations

import concurrent.futures
import configparser
import contextlib
import hashlib
import json
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from dbkit.config import Settings
from dbkit.errors import ConfigError
from dbkit.lint.model import ERROR, WARNING, Finding

CACHE_ENV = "DBKIT_CACHE_DIR"
CACHE_FORMAT = 1  # bump when what is stored, or how a violation becomes a finding, changes
_OVERRIDES: dict[str, Any] = {"dialect": "postgres", "templater": "raw", "large_file_skip_byte_limit": 0}
_PARALLEL_FROM = 6  # fewer files than this are linted in-process: starting workers costs more

Violation = tuple[str, int, int, str, bool]  # code, line, column, description, warning


def default_cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dbkit"


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def run_sqlfluff(settings: Settings, paths: Sequence[Path], *, cache_dir: Path | None = None,
                 jobs: int | None = None, progress: Callable[[int, int], None] | None = None) -> list[Finding]:
    """sqlfluff's violations for ``paths`` (files that are not UTF-8 are left to DBK000).

    ``cache_dir`` None disables the cache; ``jobs`` defaults to the CPUs this process may use;
    ``progress(done, total)`` is called as files finish.
    """
    config = _config(settings)
    fingerprint = _fingerprint(config)
    todo: list[tuple[str, str, str]] = []  # (name, text, cache key)
    results: dict[str, list[Violation]] = {}
    names: list[str] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        name = settings.relative(path)
        names.append(name)
        key = hashlib.sha256(json.dumps([fingerprint, name, text]).encode()).hexdigest()
        cached = _cache_get(cache_dir, key)
        if cached is not None:
            results[name] = cached
        else:
            todo.append((name, text, key))
    total, done = len(names), len(results)
    if progress:
        progress(done, total)
    workers = min(jobs or cpu_count(), len(todo))
    for name, key, violations in _lint(settings, config, todo, workers):
        results[name] = violations
        _cache_put(cache_dir, key, violations)
        done += 1
        if progress:
            progress(done, total)
    return [Finding(rule=code, path=name, line=line, column=column, message=desc,
                    severity=WARNING if warning else ERROR, checker="sqlfluff")
            for name in names for code, line, column, desc, warning in results[name]]


def _config(settings: Settings) -> Any:
    from sqlfluff.core import FluffConfig

    with _config_errors(settings):
        return FluffConfig.from_path(str(settings.root), overrides=dict(_OVERRIDES))


@contextlib.contextmanager
def _config_errors(settings: Settings) -> Iterator[None]:
    from sqlfluff.core import SQLFluffUserError

    try:
        yield
    except (SQLFluffUserError, configparser.Error, ValueError) as exc:
        detail = " ".join(str(exc).split())
        raise ConfigError(f"sqlfluff configuration (.sqlfluff in {settings.root} or above) is invalid: {detail}") from None


def _fingerprint(config: Any) -> str:
    import sqlfluff

    values = sorted((repr(level), repr(key), repr(value)) for level, key, value in config.iter_vals())
    return hashlib.sha256(json.dumps([CACHE_FORMAT, sqlfluff.__version__, values]).encode()).hexdigest()


def _lint(settings: Settings, config: Any, todo: list[tuple[str, str, str]],
          workers: int) -> Iterator[tuple[str, str, list[Violation]]]:
    """(name, cache key, violations) for each file, as each one finishes."""
    if not todo:
        return  # every result came from the cache, linted before with this very configuration
    with _config_errors(settings):
        linter = _linter(config)
        linter.lint_string("select 1\n")  # a bad rule option fails here, in this process, not in a worker
    if workers < 2 or len(todo) < _PARALLEL_FROM:
        for name, text, key in todo:
            yield name, key, _violations(linter, name, text)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                                initializer=_init_worker, initargs=(str(settings.root),)) as pool:
        futures = {pool.submit(_lint_in_worker, name, text): (name, key) for name, text, key in todo}
        for future in concurrent.futures.as_completed(futures):
            name, key = futures[future]
            yield name, key, future.result()


def _linter(config: Any) -> Any:
    from sqlfluff.core import Linter

    return Linter(config=config)


_WORKER: dict[str, Any] = {}


def _init_worker(root: str) -> None:
    from sqlfluff.core import FluffConfig

    _WORKER["linter"] = _linter(FluffConfig.from_path(root, overrides=dict(_OVERRIDES)))


def _lint_in_worker(name: str, text: str) -> list[Violation]:
    return _violations(_WORKER["linter"], name, text)


def _violations(linter: Any, name: str, text: str) -> list[Violation]:
    result = linter.lint_string(text, fname=name)
    return [(str(v.rule_code()), int(v.line_no or 1), int(v.line_pos or 1), str(v.desc()),
             bool(getattr(v, "warning", False))) for v in result.get_violations()]


def _cache_get(cache_dir: Path | None, key: str) -> list[Violation] | None:
    if cache_dir is None:
        return None
    try:
        data = json.loads((cache_dir / "sqlfluff" / key[:2] / f"{key}.json").read_text(encoding="utf-8"))
        return [(str(c), int(line), int(col), str(desc), bool(w)) for c, line, col, desc, w in data]
    except (OSError, ValueError, TypeError):
        return None  # absent or unreadable: lint the file


def _cache_put(cache_dir: Path | None, key: str, violations: list[Violation]) -> None:
    if cache_dir is None:
        return
    folder = cache_dir / "sqlfluff" / key[:2]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp", encoding="utf-8") as handle:
            json.dump(violations, handle)
        os.replace(handle.name, folder / f"{key}.json")
    except OSError:
        pass  # a read-only home only costs speed; the findings are already in hand
