"""`sluice monitor`: every connector of the cluster (status, last sync, last seen), refreshed
live from Elasticsearch, in the terminal UI. Read-only: it never writes to the cluster."""

from __future__ import annotations

import argparse

from sluice.cli.common import add_config_option, config_message, config_path, fail, load_cli_config

MIN_INTERVAL = 1.0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "monitor",
        help="watch every connector of the cluster live (read-only)",
        description="Watch every connector of the cluster: status, last sync, last seen, and "
        "each one's job history. Refreshed live; never writes to Elasticsearch.",
    )
    add_config_option(parser)
    parser.add_argument(
        "--interval",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="seconds between refreshes (default: 5, at least 1 — keep it low over slow SSH)",
    )
    parser.set_defaults(handler=run_monitor)


def run_monitor(args: argparse.Namespace) -> int:
    from sluice.core.config import ConfigError

    path = config_path(args)
    try:
        config = load_cli_config(args)
    except ConfigError as exc:
        return fail(config_message(path, exc), 2)
    from sluice.tui.monitor_app import MonitorApp  # lazily: headless commands never load Textual

    app = MonitorApp(
        dict(config.elasticsearch),
        refresh_seconds=max(args.interval, MIN_INTERVAL),
        config_path=str(path),
    )
    app.run()
    return int(app.return_code or 0)
