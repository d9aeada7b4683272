"""Plumbing shared by the `sluice` subcommands.

- options: `add_config_option` (`-c/--config`, also accepted after the subcommand),
  `add_json_option`;
- `command`: turns an `async def handler(args) -> int | None` into the sync handler argparse
  calls, mapping every expected failure to one line on stderr and an exit code
  (1 = the operation failed, 2 = bad arguments or config);
- `open_connection(args)`: config.yml -> Elasticsearch client -> connector store;
- output: `print_table`, `print_fields`, `print_json`, `mask_secret`, `when`.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import core
from core.config import Config, ConfigError, load_config
from core.es import build_client
from core.protocol import (
    ConnectorStore,
    ConnectorStoreError,
    JobType,
    StoreUnavailable,
    open_store,
)
from core.protocol.timeutil import parse_time

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
DEFAULT_CONFIG = "config.yml"


class CliError(Exception):
    """A failure to report as one line on stderr, with the exit code to return."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def usage_error(message: str) -> CliError:
    return CliError(message, EXIT_USAGE)


# ------------------------------------------------------------------ options

#: Elasticsearch's generated ids: 20 characters of URL-safe base64 (so 1 in 64 starts '-').
_GENERATED_ID = re.compile(r"-[A-Za-z0-9_-]{19}")


class IdFriendlyParser(argparse.ArgumentParser):
    """An ArgumentParser that reads a generated document id starting with '-' (such as
    `-Xk3...`) as a value, not as an unknown option; use it for parsers taking ids."""

    def _parse_optional(self, arg_string: str) -> Any:
        if arg_string not in self._option_string_actions and _GENERATED_ID.fullmatch(arg_string):
            return None
        return super()._parse_optional(arg_string)


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """`-c/--config PATH` on a subcommand. SUPPRESS keeps the top-level value (`sluice -c X
    connector list`) unless given again after the subcommand."""
    parser.add_argument(
        "-c",
        "--config",
        default=argparse.SUPPRESS,
        metavar="PATH",
        help=f"config.yml with the Elasticsearch connection (default: ./{DEFAULT_CONFIG})",
    )


def add_job_type_options(parser: argparse.ArgumentParser, *types: JobType) -> None:
    """`--full` (the default) / `--incremental` / `--access-control`, as `args.job_type`."""
    helps = {
        JobType.FULL: "full sync (default)",
        JobType.INCREMENTAL: "incremental sync (only the changes, where the source can tell)",
        JobType.ACCESS_CONTROL: "access-control (DLS) sync",
    }
    kinds = parser.add_mutually_exclusive_group()
    for job_type in types:
        kinds.add_argument(
            f"--{job_type.value.replace('_', '-')}",
            dest="job_type",
            action="store_const",
            const=job_type,
            help=helps[job_type],
        )
    parser.set_defaults(job_type=JobType.FULL)


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def config_path(args: argparse.Namespace) -> str:
    return str(getattr(args, "config", None) or DEFAULT_CONFIG)


# ------------------------------------------------------------------ running


def warn(message: str) -> None:
    print(f"sluice: warning: {message}", file=sys.stderr)


def note(message: str) -> None:
    print(f"sluice: {message}", file=sys.stderr)


def command(
    handler: Callable[[argparse.Namespace], Awaitable[int | None]],
) -> Callable[[argparse.Namespace], int]:
    """Run an async handler; expected failures become `sluice: error: ...` and an exit code."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return int(asyncio.run(handler(args)) or EXIT_OK)
        except CliError as exc:
            return fail(exc.message, exc.exit_code)
        except ConfigError as exc:
            return fail(config_message(config_path(args), exc), EXIT_USAGE)
        except ConnectorStoreError as exc:
            return fail(str(exc), EXIT_FAILED)

    return run


def fail(message: str, exit_code: int) -> int:
    print(f"sluice: error: {message}", file=sys.stderr)
    return exit_code


def config_message(path: str, exc: ConfigError) -> str:
    """ConfigError as one line (each problem already names file, line and key)."""
    problems = exc.errors or exc.problems
    text = "; ".join(str(p) for p in problems) or str(exc)
    return text if path in text else f"{path}: {text}"


@dataclass
class Connection:
    config: Config
    client: Any  # AsyncElasticsearch
    store: ConnectorStore


@asynccontextmanager
async def open_connection(args: argparse.Namespace) -> AsyncIterator[Connection]:
    """Load config.yml, connect, pick the connector-store backend; close on exit."""
    config = load_config(config_path(args))
    try:
        client = build_client(config.elasticsearch, user_agent=f"sluice/{core.__version__}")
    except (TypeError, ValueError) as exc:
        raise usage_error(f"{config_path(args)}: elasticsearch settings unusable: {exc}") from None
    try:
        try:
            store = await open_store(client)
        except StoreUnavailable as exc:
            host = config.elasticsearch.get("host")
            raise CliError(f"{exc} [elasticsearch.host {host} in {config_path(args)}]") from None
        yield Connection(config, client, store)
    finally:
        await client.close()


# ------------------------------------------------------------------ output


def mask_secret(value: Any) -> str:
    """A secret for display: nothing of a short one, two characters of a long one."""
    if value is None or value == "":
        return ""
    text = str(value)
    return (text[:2] if len(text) > 8 else "") + "****"


def when(value: Any) -> str:
    """A stored timestamp as `YYYY-MM-DD HH:MM:SS UTC`, or '-'."""
    moment = value if isinstance(value, datetime) else parse_time(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("\n", " ")


def print_table(rows: Iterable[Sequence[Any]], headers: Sequence[str]) -> None:
    """Plain aligned columns, headers in capitals, '-' for empty cells."""
    lines = [[cell(value) for value in row] for row in rows]
    widths = [len(h) for h in headers]
    for line in lines:
        widths = [max(w, len(v)) for w, v in zip(widths, line, strict=True)]
    print("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for line in lines:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())


def print_fields(fields: Iterable[tuple[str, Any]]) -> None:
    """`label: value` lines, labels aligned."""
    pairs = [(label, cell(value)) for label, value in fields]
    width = max((len(label) for label, _ in pairs), default=0)
    for label, value in pairs:
        print(f"{(label + ':').ljust(width + 1)} {value}")


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


def masked_configuration(configuration: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The stored configuration with every sensitive value masked (schema kept)."""
    shown: dict[str, Any] = {}
    for key, entry in configuration.items():
        entry = dict(entry) if isinstance(entry, Mapping) else {"value": entry}
        if entry.get("sensitive"):
            entry["value"] = mask_secret(entry.get("value"))
        shown[key] = entry
    return shown
