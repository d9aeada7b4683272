"""Plumbing shared by the `sluice` subcommands.

- options: `add_config_option` (`-c/--config`, also accepted after the subcommand),
  `add_json_option`;
- parsers: `SluiceParser` (usage errors become `ArgumentsError`, so `main` can answer --json
  with an error object), `IdFriendlyParser`, and `document_id` (the `type=` of id arguments:
  empty and over-long ids are usage errors before anything reaches Elasticsearch);
- `command`: turns an `async def handler(args) -> int | None` into the sync handler argparse
  calls, mapping every expected failure to one line on stderr and an exit code
  (1 = the operation failed, 2 = bad arguments or config) — plus, with `--json`, an error
  object `{"error": {"message": ..., "exit_code": N}}` on stdout so scripts parse every outcome;
- `load_cli_config(args)`: config.yml, warning once on stderr about unknown keys and a
  defaulted `elasticsearch.host`; `open_connection(args)`: that -> client -> connector store;
- output: `print_table`, `print_fields`, `print_json`, `mask_secret`, `when`.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

from sluice.core.invocation import sluice_command

if TYPE_CHECKING:  # the rest of core/ is imported where used: `--help` loads none of it
    from sluice.core.config import Config, ConfigError
    from sluice.core.protocol import ConnectorStore, NotFound

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
DEFAULT_CONFIG = "config.yml"
#: Elastic's default when config.yml has no elasticsearch.host.
DEFAULT_HOST = "http://localhost:9200"
#: Elasticsearch refuses document ids longer than this (in UTF-8 bytes).
MAX_ID_BYTES = 512


class CliError(Exception):
    """A failure to report as one line on stderr, with the exit code to return."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def usage_error(message: str) -> CliError:
    return CliError(message, EXIT_USAGE)


class ArgumentsError(Exception):
    """argparse's usage error, raised instead of exiting so `main` can also answer --json."""

    def __init__(self, usage: str, message: str) -> None:
        super().__init__(message)
        self.usage = usage
        self.message = message


# ------------------------------------------------------------------ options

#: Elasticsearch's generated ids: 20 characters of URL-safe base64 (so 1 in 64 starts '-').
_GENERATED_ID = re.compile(r"-[A-Za-z0-9_-]{19}")


class SluiceParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors raise `ArgumentsError` (exit code 2 in `main`)."""

    def error(self, message: str) -> NoReturn:
        raise ArgumentsError(self.format_usage(), f"{self.prog}: error: {message}")


class IdFriendlyParser(SluiceParser):
    """An ArgumentParser that reads a generated document id starting with '-' (such as
    `-Xk3...`) as a value, not as an unknown option; use it for parsers taking ids."""

    def _parse_optional(self, arg_string: str) -> Any:
        if arg_string not in self._option_string_actions and _GENERATED_ID.fullmatch(arg_string):
            return None
        return super()._parse_optional(arg_string)


def list_hint(kind: str) -> str:
    """Where the user finds valid ids of `kind` ("connector" or "sync job")."""
    if kind == "connector":
        return f"`{sluice_command()} connector list` shows the connectors"
    return f"`{sluice_command()} job list CONNECTOR_ID` shows a connector's jobs"


def document_id(kind: str) -> Callable[[str], str]:
    """The argparse `type` of an id argument: an empty id (Elasticsearch would answer with a
    traceback-worthy ValueError) or one over Elasticsearch's 512-byte limit is a usage error."""

    def check(value: str) -> str:
        if not value.strip():
            raise argparse.ArgumentTypeError(f"the {kind} id is empty; {list_hint(kind)}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # bytes the terminal could not decode: no id has them
            raise argparse.ArgumentTypeError(
                f"the {kind} id is not valid UTF-8 text; {list_hint(kind)}"
            ) from None
        size = len(value.encode("utf-8", "surrogateescape"))
        if size > MAX_ID_BYTES:
            raise argparse.ArgumentTypeError(
                f"the {kind} id is {size} bytes long; Elasticsearch ids are at most "
                f"{MAX_ID_BYTES} bytes — {list_hint(kind)}"
            )
        return value

    check.__name__ = f"{kind} id"  # argparse names the type in some messages
    return check


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


def add_job_type_options(parser: argparse.ArgumentParser, *types: str) -> None:
    """`--full` (the default) / `--incremental` / `--access-control`, as `args.job_type`: the
    job type's value ("full", ...), which `JobType(...)` reads (the enum is not loaded for
    `--help`)."""
    helps = {
        "full": "full sync (default)",
        "incremental": "incremental sync (only the changes, where the source can tell)",
        "access_control": "access-control (DLS) sync",
    }
    kinds = parser.add_mutually_exclusive_group()
    for job_type in types:
        kinds.add_argument(
            f"--{job_type.replace('_', '-')}",
            dest="job_type",
            action="store_const",
            const=str(job_type),
            help=helps[job_type],
        )
    parser.set_defaults(job_type="full")


def add_target_options(parser: argparse.ArgumentParser, helps: Mapping[str, str]) -> None:
    """`--docker` / `--source` / `--sluice` / `--systemd` (one at most), as `args.target`
    (None when none is given): the deployment targets of `core.deployment`, each with the
    command's own help words — a target added there without words here fails at once."""
    from sluice.core.deployment import TARGETS

    if set(helps) != set(TARGETS):
        raise ValueError(f"help words for {sorted(TARGETS)}, got {sorted(helps)}")
    targets = parser.add_mutually_exclusive_group()
    for target in TARGETS:
        targets.add_argument(
            f"--{target}", dest="target", action="store_const", const=target, help=helps[target]
        )
    parser.set_defaults(target=None)


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def config_path(args: argparse.Namespace) -> str:
    return str(getattr(args, "config", None) or DEFAULT_CONFIG)


# ------------------------------------------------------------------ running


def warn(message: str) -> None:
    print(f"sluice: warning: {message}", file=sys.stderr)


def note(message: str) -> None:
    print(f"sluice: {message}", file=sys.stderr)


def wants_json(args: argparse.Namespace | None) -> bool:
    return bool(getattr(args, "json", False))


def command(
    handler: Callable[[argparse.Namespace], Awaitable[int | None]],
) -> Callable[[argparse.Namespace], int]:
    """Run an async handler; expected failures become `sluice: error: ...` and an exit code
    (and the JSON error object with --json). Unexpected ones propagate to `main`."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        as_json = wants_json(args)
        import asyncio

        from sluice.core.config import ConfigError
        from sluice.core.protocol import ConnectorStoreError, NotFound

        try:
            return int(asyncio.run(handler(args)) or EXIT_OK)
        except CliError as exc:
            return fail(exc.message, exc.exit_code, json_output=as_json)
        except ConfigError as exc:
            return fail(config_message(config_path(args), exc), EXIT_USAGE, json_output=as_json)
        except NotFound as exc:
            return fail(not_found_message(exc, args), EXIT_FAILED, json_output=as_json)
        except ConnectorStoreError as exc:
            return fail(str(exc), EXIT_FAILED, json_output=as_json)
        except BrokenPipeError:
            raise  # `main` exits quietly: the reader went away
        except OSError as exc:
            return fail(os_error_message(exc), EXIT_FAILED, json_output=as_json)

    return run


def fail(message: str, exit_code: int, *, json_output: bool = False) -> int:
    """One `sluice: error:` line on stderr; with --json also the error object on stdout."""
    print(f"sluice: error: {message}", file=sys.stderr)
    if json_output:
        print(json.dumps({"error": {"message": message, "exit_code": exit_code}}))
    return exit_code


def not_found_message(exc: NotFound, args: argparse.Namespace | None = None) -> str:
    """The one wording for an unknown id, whichever command or store backend found it."""
    host = getattr(args, "es_host", None)
    where = f" in the cluster at {host}" if host else ""
    from sluice.core.protocol import ConnectorNotFound, JobNotFound

    if isinstance(exc, ConnectorNotFound):
        return f"no connector with id {exc.connector_id!r}{where}; {list_hint('connector')}"
    if isinstance(exc, JobNotFound):
        return f"no sync job with id {exc.job_id!r}{where}; {list_hint('sync job')}"
    return str(exc)


def os_error_message(exc: OSError) -> str:
    """An OSError as `PATH: reason` (a very long path shortened), never a traceback."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is None:
        return reason
    name = str(exc.filename)
    if len(name) > 200:
        name = f"{name[:120]}…{name[-60:]}"
    return f"{name}: {reason}"


def config_message(path: str, exc: ConfigError) -> str:
    """ConfigError as one line (each problem already names file, line and key)."""
    problems = exc.errors or exc.problems
    text = "; ".join(str(p) for p in problems) or str(exc)
    return text if path in text else f"{path}: {text}"


def config_warnings(config: Config, path: str) -> list[str]:
    """What a command should warn about before using `config`: its warnings (unknown keys,
    ...) and a defaulted `elasticsearch.host`, which would silently aim at localhost."""
    lines = [str(dataclasses.replace(p, severity="error")) for p in config.warnings]
    # `Config` keeps the file as written only privately; defaults are merged into `.data`.
    parsed = getattr(config, "_parsed", None)
    written = parsed.data.get("elasticsearch") if parsed is not None else None
    if not (isinstance(written, Mapping) and written.get("host")):
        lines.append(
            f"no elasticsearch.host in {path}; using {DEFAULT_HOST} (Elastic's default) "
            "— set it to your cluster's address"
        )
    return lines


def load_config(path: str) -> Config:
    """core's `load_config`, imported when a command reads config.yml (never for --help)."""
    from sluice.core.config import load_config as load

    return load(path)


def load_cli_config(args: argparse.Namespace) -> Config:
    """Load config.yml for a command: warnings go to stderr once per invocation, and the
    cluster's address is kept on `args` for messages such as "no connector with id X"."""
    from sluice.core.es.tls import redact_userinfo

    path = config_path(args)
    config = load_config(path)
    args.es_host = redact_userinfo(str(config.elasticsearch.get("host") or DEFAULT_HOST))
    if not getattr(args, "config_warned", False):
        args.config_warned = True
        for line in config_warnings(config, path):
            warn(line)
    return config


@dataclass
class Connection:
    config: Config
    client: Any  # AsyncElasticsearch
    store: ConnectorStore


@asynccontextmanager
async def open_connection(args: argparse.Namespace) -> AsyncIterator[Connection]:
    """Load config.yml, connect, pick the connector-store backend; close on exit."""
    from sluice import core
    from sluice.core.es import build_client
    from sluice.core.protocol import StoreUnavailable, open_store
    from sluice.core.sandbox import not_running_message, sandbox_down, sandbox_home

    config = load_cli_config(args)
    host = config.elasticsearch.get("host")
    if sandbox_down(host, sandbox_home(config_path(args))):  # say so now, not after retries
        raise CliError(
            f"{not_running_message()} [elasticsearch.host {host} in {config_path(args)}]"
        )
    try:
        client = build_client(config.elasticsearch, user_agent=f"sluice/{core.__version__}")
    except (TypeError, ValueError) as exc:
        raise usage_error(f"{config_path(args)}: elasticsearch settings unusable: {exc}") from None
    try:
        try:
            store = await open_store(client, es_settings=config.elasticsearch)
        except StoreUnavailable as exc:
            host = config.elasticsearch.get("host")
            raise CliError(f"{exc} [elasticsearch.host {host} in {config_path(args)}]") from None
        yield Connection(config, client, store)
    finally:
        await client.close()


# ------------------------------------------------------------------ output


def mask_secret(value: Any) -> str:
    """A secret for display: `core.secrets.mask`, one policy for every front end."""
    from sluice.core.secrets import mask

    return mask(None if value is None or value == "" else str(value))


def when(value: Any) -> str:
    """A stored timestamp as `YYYY-MM-DD HH:MM:SS UTC`, or '-'."""
    from sluice.core.protocol.timeutil import parse_time

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
