"""`sluice run`: the connector service, headless — a drop-in for Elastic's connector service.

It reads the same config.yml, runs preflight checks, then checks in the configured
connectors, validates their sources, queues scheduled jobs, runs pending ones and fails stale
ones, until SIGTERM or Ctrl-C; running jobs are then suspended and resume on the next start.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import signal
import sys

from sluice.cli.common import CliError, add_config_option, command, load_cli_config, usage_error
from sluice.core.processes import silence_terminal

log = logging.getLogger("sluice.service")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the connector service (headless)",
        description=(
            "Run the connectors listed in config.yml: check-ins, configuration checks, "
            "scheduled and on-demand syncs, stale-job cleanup. Stops on SIGTERM/Ctrl-C, "
            "suspending running jobs so they resume on the next start."
        ),
    )
    add_config_option(parser)
    parser.add_argument(
        "--log-format",
        choices=("plain", "ecs"),
        default="plain",
        help="plain text (default) or ECS JSON lines for Elastic's log pipelines",
    )
    parser.add_argument(
        "--log-level", default=None, help="overrides service.log_level (DEBUG, INFO...)"
    )
    parser.add_argument(
        "--skip-checks", action="store_true", help="start without the preflight checks"
    )
    parser.set_defaults(handler=run_command)


@command
async def run_command(args: argparse.Namespace) -> int:
    from sluice.core.service import ConnectorService, configure_logging
    from sluice.sources.registry import create_source, get_source_class, runs_in_sluice

    config = load_cli_config(args)
    problems = config.service_problems()
    if problems:
        raise usage_error("; ".join(str(p) for p in problems))
    level = args.log_level or config.settings.service.log_level
    if not args.log_level and getattr(args, "verbose", 0):  # `sluice run -v`: say everything
        level = "DEBUG"
    configure_logging(level, args.log_format)
    if not args.skip_checks:
        await _preflight(config.elasticsearch)
    extra = config.custom_sources
    service = ConnectorService(
        config,
        functools.partial(create_source, extra=extra),
        schema_provider=lambda service_type: get_source_class(
            service_type, extra
        ).get_default_configuration(),
        runs_type=functools.partial(runs_in_sluice, extra=extra),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # A closed terminal: suspend the running jobs, logging on where it no longer can.
    loop.add_signal_handler(signal.SIGHUP, lambda: (silence_terminal(), stop.set()))
    await service.run(stop)
    return 0


async def _preflight(settings: dict) -> None:
    """Refuse to start on a failed check, naming it and its fix (warnings are logged)."""
    from sluice.core.checks import collect_checks

    failed = []
    for result in await collect_checks(settings):
        if result.status == "fail":
            failed.append(result)
            log.error("preflight: %s — %s%s", result.title, result.message, _hint(result.hint))
        elif result.status == "warn":
            log.warning("preflight: %s — %s%s", result.title, result.message, _hint(result.hint))
    if failed:
        print(
            f"sluice: {len(failed)} preflight check(s) failed; fix them or pass --skip-checks",
            file=sys.stderr,
        )
        raise CliError(f"preflight failed: {failed[0].title}: {failed[0].message}")


def _hint(hint: str | None) -> str:
    return f" (fix: {hint})" if hint else ""
