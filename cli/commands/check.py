"""`sluice check`: every live check, non-interactively, for scripts and support tickets.

Exit status: 0 when every check is ok or a warning, 1 when any failed, 2 when the arguments or
the config can't be used (one line per config problem on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from sluice.core.checks import CheckResult

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

BADGES = {"ok": "[ OK ]", "warn": "[WARN]", "fail": "[FAIL]", "skip": "[SKIP]"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check the environment and the Elasticsearch cluster",
        description=(
            "Check the connection, TLS, credentials, version, Connector API, license, "
            "privileges and the content index. Exits 0 when all are ok or warnings, 1 when "
            "any check fails, 2 when the config can't be used."
        ),
    )
    # A separate dest: a subparser default would overwrite the top-level -c value.
    parser.add_argument(
        "-c",
        "--config",
        dest="check_config",
        metavar="PATH",
        default=None,
        help="config.yml to use (default: ./config.yml)",
    )
    parser.add_argument("--index", metavar="NAME", help="content index to check")
    parser.add_argument("--pipeline", metavar="NAME", help="ingest pipeline to check")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--timeout",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="how long each check waits for an answer (default: 15)",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    # Imported here: the Elasticsearch client costs a second to import, and every other
    # subcommand (and `sluice --help`) would pay it otherwise.
    from sluice.cli.common import config_warnings, warn
    from sluice.core.config import ConfigError, load_config
    from sluice.core.es.tls import redact_userinfo

    path = args.check_config or getattr(args, "config", None) or "config.yml"
    if args.timeout <= 0:
        return usage_failure(["--timeout must be a positive number of seconds"], args.json)
    try:
        config = load_config(path)
    except ConfigError as exc:
        return usage_failure([str(p) for p in exc.errors or exc.problems], args.json)
    settings = config.elasticsearch
    host = redact_userinfo(str(settings.get("host", "")))
    for line in config_warnings(config, str(path)):
        warn(line)
    if not args.json:
        print(f"Checking {host} (config {path})")
    printer = None if args.json else OrderedPrinter(sys.stdout)
    results = asyncio.run(_collect(settings, args, printer.add if printer else None))
    failed = any(r.status == "fail" for r in results)
    code = EXIT_FAILED if failed else EXIT_OK
    if args.json:
        document: dict[str, Any] = {
            "config": str(path),
            "host": host,
            "results": [r.to_dict() for r in results],
            "summary": summary_counts(results),
            "exit_code": code,
        }
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print()
        print(summary_line(results))
    return code


def usage_failure(lines: list[str], as_json: bool) -> int:
    """Exit 2: a line per problem on stderr; with --json also the error object on stdout."""
    for line in lines:
        print(f"sluice check: {line}", file=sys.stderr)
    if as_json:
        error = {"message": "; ".join(lines), "exit_code": EXIT_USAGE}
        json.dump({"error": error}, sys.stdout)
        sys.stdout.write("\n")
    return EXIT_USAGE


async def _collect(
    settings: Any, args: argparse.Namespace, on_result: Callable[[CheckResult], None] | None
) -> list[CheckResult]:
    from sluice.core.checks import planned_checks, run_checks

    order = [check_id for check_id, _ in planned_checks(settings)]
    results: dict[str, CheckResult] = {}
    async for result in run_checks(
        settings, index_name=args.index, pipeline=args.pipeline, timeout=args.timeout
    ):
        results[result.id] = result
        if on_result:
            on_result(result)
    return [results[i] for i in order if i in results]


class OrderedPrinter:
    """Prints results in the planned order as soon as each one and those before it are in,
    so the report reads the same every time yet appears while slow checks still run."""

    def __init__(self, out: TextIO) -> None:
        from sluice.core.checks import planned_checks

        self.out = out
        self.order = [check_id for check_id, _ in planned_checks()]
        self.width = max(len(title) for _, title in planned_checks())
        self.pending: dict[str, CheckResult] = {}
        self.next = 0

    def add(self, result: CheckResult) -> None:
        self.pending[result.id] = result
        while self.next < len(self.order) and self.order[self.next] in self.pending:
            self.out.write(format_result(self.pending.pop(self.order[self.next]), self.width))
            self.out.flush()
            self.next += 1


def format_result(result: CheckResult, width: int = 28) -> str:
    """`[FAIL] Title  message` and, for problems, an indented `fix:` line."""
    line = f"{BADGES[result.status]} {result.title:<{width}}  {result.message}\n"
    if result.hint and result.status in ("warn", "fail"):
        field = f" (elasticsearch.{result.field})" if _is_config_field(result.field) else ""
        line += f"{'':7}{'':<{width}}  fix{field}: {result.hint}\n"
    return line


def _is_config_field(field: str | None) -> bool:
    return bool(field) and field not in ("index_name", "pipeline")


def summary_counts(results: list[CheckResult]) -> dict[str, int]:
    return {status: sum(r.status == status for r in results) for status in BADGES}


def summary_line(results: list[CheckResult]) -> str:
    counts = summary_counts(results)
    verdict = "FAILED" if counts["fail"] else "PASSED"
    return (
        f"{verdict}: {counts['ok']} ok, {counts['warn']} warning(s), {counts['fail']} failed, "
        f"{counts['skip']} skipped"
    )
