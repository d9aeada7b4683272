"""Entry point of the `sluice` console script.

`sluice` alone opens the TUI; subcommands (`run`, `check`, `sync`, `monitor`, `connector`,
`job`, `index`) are registered by the modules in `cli.commands`. Headless subcommands never
import Textual, so `sluice run` works on a server without a terminal UI stack loaded.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

import cli.commands
import core
from cli.common import IdFriendlyParser

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _command_modules() -> list[str]:
    """Names of the subcommand modules, in a stable order."""
    return sorted(
        m.name for m in pkgutil.iter_modules(cli.commands.__path__) if not m.name.startswith("_")
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
        module = importlib.import_module(f"cli.commands.{name}")
        module.register(subparsers)
    return parser


def open_tui(args: argparse.Namespace) -> int:
    """Start the Textual app (imported lazily: headless commands never load Textual)."""
    from tui.app import SluiceApp

    app = SluiceApp(config_path=args.config, start_over=args.new)
    app.run()
    return int(app.return_code or 0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    try:
        if handler is None:
            return open_tui(args)
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        print("sluice: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
