"""`sluice sandbox start|stop|status`: the local sandbox (noida-db, NOT FOR PRODUCTION) with a
life of its own, so CLI commands and later app runs find it at the same address.

The sandbox belongs with a config.yml: its data, port and lock are in `.sluice/sandbox/` next
to it (`-c` picks the config). `start` runs it detached, in its own session, until `stop`; an
app-started sandbox instead stops with its app. `status` exits 0 when it runs, 3 when not.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sluice.cli.common import (
    CliError,
    add_config_option,
    add_json_option,
    command,
    config_path,
    note,
    print_fields,
    print_json,
    warn,
)
from sluice.core import sandbox as sb
from sluice.core.invocation import sluice_command

EXIT_NOT_RUNNING = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="start, stop or check the local sandbox (NOT FOR PRODUCTION)",
        description="The local Elasticsearch sandbox (noida-db; NOT FOR PRODUCTION: no "
        "security). It lives in .sluice/sandbox next to config.yml (-c picks which) and keeps "
        f"its port, {sb.DEFAULT_PORT} unless --port chose another, so config.yml stays right.",
    )
    actions = parser.add_subparsers(dest="sandbox_action", metavar="ACTION", required=True)
    start = actions.add_parser(
        "start",
        help=f"run it in the background until `sluice sandbox stop` (port {sb.DEFAULT_PORT} "
        "unless --port or an earlier choice)",
    )
    start.add_argument(
        "--port", type=_port, metavar="N", help="listen on this port from now on (1-65535)"
    )
    start.set_defaults(handler=start_command)
    stop = actions.add_parser("stop", help="stop it (its data stays)")
    stop.set_defaults(handler=stop_command)
    status = actions.add_parser(
        "status", help="running or not, address, pid, data folder (exit 0 running, 3 not)"
    )
    status.set_defaults(handler=status_command)
    for action in (start, stop, status):
        add_json_option(action)
        add_config_option(action)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"--port must be a number from 1 to 65535 (got {text!r})")
    return int(text)


def _home(args: argparse.Namespace) -> Path:
    return sb.sandbox_home(config_path(args))


def _describe(home: Path, sandbox: sb.Sandbox | None, **extra: Any) -> dict[str, Any]:
    """The facts `status --json` prints (and start/stop with --json)."""
    port = sandbox.port if sandbox else _port_or_none(home)
    owner = sandbox.owner if sandbox else None
    return {
        "running": sandbox is not None and sandbox.running,
        "url": f"http://127.0.0.1:{port}" if port else None,
        "port": port,
        "pid": sandbox.pid if sandbox else None,
        "kept_running": bool(sandbox and sandbox.kept_running),
        "app_pid": owner if sandbox and owner and not sandbox.orphaned else None,
        "data_dir": str(home / "data"),
        "log": str(home / "server.log"),
        **extra,
    }


def _port_or_none(home: Path) -> int | None:
    try:
        return sb.configured_port(home)
    except sb.SandboxError:
        return None


def _life(sandbox: sb.Sandbox) -> str:
    if sandbox.kept_running:
        return f"runs on its own (`{sluice_command()} sandbox stop` stops it)"
    if sandbox.orphaned:
        return "left over by a Sluice app that is gone; the next start takes it over"
    return f"started by the Sluice app (pid {sandbox.owner}); stops when the app exits"


def _note_stale(pid: int | None) -> None:
    if pid is not None:
        note(f"removed a stale sandbox lock (pid {pid or '?'} is not running any more)")


@command
async def start_command(args: argparse.Namespace) -> int:
    home = _home(args)
    _note_stale(sb.clear_stale_lock(home))
    try:
        sandbox = sb.start_sandbox(home, port=args.port, keep_running=True)
    except sb.SandboxError as exc:
        raise CliError(str(exc)) from None
    if args.port and sandbox.port != args.port:
        warn(
            f"the sandbox already runs on port {sandbox.port}; to move it to {args.port}, run "
            f"`{sluice_command()} sandbox stop` first"
        )
    if args.json:
        print_json(_describe(home, sandbox, reused=sandbox.adopted))
        return 0
    verb = "already running: reused" if sandbox.adopted else "started"
    print(f"Sandbox {verb} at {sandbox.url} (pid {sandbox.pid}).")
    print(sb.SANDBOX_WARNING)
    print(f"Data: {sandbox.data_path}  Log: {sandbox.log_path}")
    print(
        f"It keeps running; use it with `elasticsearch.host: {sandbox.url}` and "
        "`elasticsearch.feature_use_connectors_api: false` in config.yml (it has no Connector "
        "API, so Elastic's connector service must use index mode too); "
        f"stop it with `{sluice_command()} sandbox stop`."
    )
    return 0


@command
async def stop_command(args: argparse.Namespace) -> int:
    home = _home(args)
    _note_stale(sb.clear_stale_lock(home))
    try:
        stopped = sb.stop_home(home)
    except sb.SandboxError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print_json(_describe(home, None, stopped_pid=stopped.pid if stopped else None))
    elif stopped is None:
        print("The sandbox is not running.")
    else:
        print(f"Sandbox stopped (pid {stopped.pid}); its data stays in {stopped.data_path}.")
    return 0


@command
async def status_command(args: argparse.Namespace) -> int:
    home = _home(args)
    stale = sb.clear_stale_lock(home)
    _note_stale(stale)
    sandbox = sb.find_sandbox(home)
    facts = _describe(home, sandbox, stale_lock_removed=stale is not None)
    facts["answers"] = bool(sandbox and sb.answers(sandbox.url))
    if args.json:
        print_json(facts)
    elif sandbox is None:
        print_fields(
            [
                ("sandbox", f"not running — start it with `{sluice_command()} sandbox start`"),
                ("url", facts["url"]),
                ("data", facts["data_dir"]),
            ]
        )
    else:
        print_fields(
            [
                ("sandbox", "running" if facts["answers"] else "running, not answering yet"),
                ("url", sandbox.url),
                ("pid", sandbox.pid),
                ("life", _life(sandbox)),
                ("data", facts["data_dir"]),
                ("log", facts["log"]),
            ]
        )
    if sandbox is None and facts["port"] and not sb.port_is_free(facts["port"]):
        warn(f"port {facts['port']} is in use by {sb.port_holder(facts['port'])}")
    return 0 if sandbox is not None else EXIT_NOT_RUNNING
