"""dbkit listen: print each notification of a channel as one JSON line."""

from __future__ import annotations

import json
from pathlib import Path

import click

from dbkit.cli.options import build_settings, database_options, ignored_option
from dbkit.errors import ChecksFailed


@click.command()
@database_options
@ignored_option("--lock-timeout")
@click.argument("channel", required=False)
@click.option("--count", type=click.IntRange(min=1), default=None, hidden=True,
              help="Stop after N notifications (for tests and scripts).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, hidden=True,
              help="Give up after this many seconds; with --count, exit 1 if fewer arrived.")
def listen(database_url: str | None, config_file: Path | None,
           channel: str | None, count: int | None, timeout: float | None) -> None:
    """Print each NOTIFY on CHANNEL (default: listen_channel in dbkit.toml) as a JSON line, until Ctrl-C.

    Each line is {"channel": ..., "pid": ..., "payload": ...}; the payload is parsed JSON
    when it is JSON, else the text. Ctrl-C stops it with exit code 0.

    \b
    Example:  dbkit listen billing_events | jq .payload.invoice_id
    """
    from dbkit.listen import channel_for, notifications

    settings = build_settings(database_url, config_file)
    target = settings.require_database()
    channel = channel_for(settings, channel)
    seen = 0

    def listening() -> None:
        click.echo(f"listening on channel {channel!r} at {target.describe()}; one JSON line per notification "
                   "(Ctrl-C stops)", err=True)
    try:
        for notification in notifications(target, channel, count=count, timeout=timeout, on_listening=listening):
            click.echo(json.dumps(notification, sort_keys=True))
            seen += 1
    except KeyboardInterrupt:
        return
    if count is not None and seen < count:
        waited = f" after {timeout:g}s" if timeout is not None else ""
        raise ChecksFailed(f"stopped{waited} with {seen} of {count} notifications on {channel!r}")
