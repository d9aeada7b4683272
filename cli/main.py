"""Entry point of the `sluice` console script.

`sluice` alone opens the TUI; subcommands (`run`, `check`, `sync`, `monitor`, `connector`,
`job`, `index`) are registered by the modules in `cli.commands`. Headless subcommands never
import Textual, so `sluice run` works on a server without a terminal UI stack loaded.

Exit codes: 0 ok; 1 the operation failed (including an unknown id, an OS error such as a
missing folder, and an unexpected exception — reported as one line naming a crash report,
never a traceback); 2 bad arguments or config; 130 Ctrl-C; 141 (128 + SIGPIPE, what a shell
reports for `yes | head`) when the reader of stdout went away, quietly, like a Unix tool.
With `--json`, every error also prints `{"error": {"message": ..., "exit_code": N}}` on stdout.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
from collections.abc import Sequence

from sluice import core
from sluice.cli import commands
from sluice.cli.common import (
    ArgumentsError,
    IdFriendlyParser,
    SluiceParser,
    fail,
    os_error_message,
    wants_json,
)
from sluice.cli.logs import command_logging

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 128 + 13  # 128 + SIGPIPE, as a shell reports a tool killed by it


def _command_modules() -> list[str]:
    """Names of the subcommand modules, in a stable order."""
    return sorted(
        m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")
    )


def build_parser() -> argparse.ArgumentParser:
    parser = SluiceParser(
        prog="sluice",
        description="Set up, run and watch Elastic connectors. Without a command, opens the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"sluice {core.__version__}")
    parser.add_argument(
        "-c",
        "--config",
        default="config.yml",
        metavar="PATH",
        help="config.yml to use (default: ./config.yml)",
    )
    parser.add_argument("--new", action="store_true", help="start the setup wizard over")
    # Generated connector and job ids may start with "-": every subcommand accepts them.
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", title="commands", parser_class=IdFriendlyParser
    )
    for name in _command_modules():
        module = importlib.import_module(f"{commands.__name__}.{name}")
        module.register(subparsers)
    add_verbose_option(parser, default=0)
    return parser


def add_verbose_option(parser: argparse.ArgumentParser, *, default: object) -> None:
    """`-v` / `-vv` on `sluice` and on every subcommand (`sluice sync ID -v` reads as well as
    `sluice -v sync ID`); a subcommand's default keeps the value given before it."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default,
        help="say more: -v adds progress lines and the warnings the output reports too, "
        "-vv everything (libraries' logs, tracebacks)",
    )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in set(action.choices.values()):
                add_verbose_option(subparser, default=argparse.SUPPRESS)


def open_tui(args: argparse.Namespace) -> int:
    """Start the Textual app (imported lazily: headless commands never load Textual)."""
    from sluice.tui.app import SluiceApp

    app = SluiceApp(config_path=args.config, start_over=args.new)
    app.run()
    return int(app.return_code or 0)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(arguments)
    except ArgumentsError as exc:
        print(exc.usage, end="", file=sys.stderr)
        return fail_usage(exc.message, json_output="--json" in arguments)
    handler = getattr(args, "handler", None)
    try:
        with command_logging(args.verbose):
            code = open_tui(args) if handler is None else int(handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handlers below
        return code
    except KeyboardInterrupt:
        print("sluice: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return quiet_broken_pipe()
    except OSError as exc:
        return fail(os_error_message(exc), EXIT_FAILED, json_output=wants_json(args))
    except Exception as exc:
        return crashed(exc, args)


def fail_usage(message: str, *, json_output: bool) -> int:
    """argparse's `sluice ...: error: ...` line (after its usage line), exit 2."""
    print(message, file=sys.stderr)
    if json_output:
        text = message.split(": error: ", 1)[-1]
        print(json.dumps({"error": {"message": text, "exit_code": EXIT_USAGE}}))
    return EXIT_USAGE


def quiet_broken_pipe() -> int:
    """The reader of stdout went away (`sluice job failures J | head`): stop quietly. Python's
    "Note on SIGPIPE": point stdout at devnull so the flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is not a file descriptor (tests capture it): nothing is flushed later
    return EXIT_BROKEN_PIPE


def crashed(exc: Exception, args: argparse.Namespace) -> int:
    """An exception no handler expected: one line naming a redacted crash report."""
    from sluice.core.crash import write_crash_report

    words = [getattr(args, "command", None)]
    words.append(getattr(args, f"{words[0]}_action", None) if words[0] else None)
    context = " ".join(["sluice", *(w for w in words if w)])
    path = write_crash_report(exc, context=context)
    where = f"details in {path}" if path else "no crash report could be written"
    name = type(exc).__name__
    return fail(f"unexpected {name} — {where}", EXIT_FAILED, json_output=wants_json(args))


if __name__ == "__main__":
    sys.exit(main())
