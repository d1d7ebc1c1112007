"""Watch a PostgreSQL NOTIFY channel: LISTEN and yield each notification as a dict.

A project's triggers send ``pg_notify('<channel>', <json>)``; an operator watches them with
``dbkit listen`` (``dbkit.cli.listen``; the channel defaults to ``listen_channel`` of the
configuration), and tests consume them through :func:`notifications`. Each notification is
``{"channel": str, "pid": int, "payload": <parsed JSON, or the raw text when it is not JSON>}``.

Requires psycopg >= 3.2 (``Connection.notifies(timeout=, stop_after=)``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from psycopg import sql

from dbkit.config import DatabaseTarget, Settings
from dbkit.engine import connect
from dbkit.errors import InputError

__all__ = ["channel_for", "notifications", "parse_payload"]

_MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1: PostgreSQL would silently truncate a longer name


def parse_payload(payload: str) -> Any:
    """The payload as JSON when it parses, else the text unchanged ('' stays '')."""
    if not payload:
        return payload
    try:
        return json.loads(payload)
    except ValueError:
        return payload


def channel_for(settings: Settings, channel: str | None) -> str:
    """The channel named on the command line, else the configuration's ``listen_channel``."""
    if channel is not None:
        return channel
    if settings.listen_channel is None:
        raise InputError(f"no channel given and no listen_channel in {settings.config_source}; "
                         "name the channel (dbkit listen CHANNEL) or set listen_channel in dbkit.toml")
    return settings.listen_channel


def notifications(
    target: DatabaseTarget,
    channel: str,
    *,
    count: int | None = None,
    timeout: float | None = None,
    on_listening: Callable[[], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """LISTEN on ``channel`` and yield each notification until the caller stops.

    ``count`` stops after that many notifications; ``timeout`` (seconds) stops when that
    much time has passed in total. ``on_listening`` is called once LISTEN is in effect, so
    a caller can start the writes it wants to observe without racing the subscription.
    The connection is closed when the generator ends or is closed.
    """
    if not channel or len(channel.encode()) > _MAX_IDENTIFIER_BYTES:
        raise InputError(f"channel name must be 1 to {_MAX_IDENTIFIER_BYTES} bytes: {channel!r}")
    if count is not None and count < 1:
        raise InputError(f"count must be at least 1, got {count}")
    deadline = None if timeout is None else time.monotonic() + timeout
    with connect(target, autocommit=True) as conn:
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        if on_listening is not None:
            on_listening()
        seen = 0
        while count is None or seen < count:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return
            left = None if count is None else count - seen
            for notify in conn.notifies(timeout=remaining, stop_after=left):
                seen += 1
                yield {"channel": notify.channel, "pid": notify.pid, "payload": parse_payload(notify.payload)}
