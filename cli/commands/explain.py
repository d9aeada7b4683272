"""`sluice explain ID`: why is a connector or a sync job stuck? The likely causes, most likely
first, each with the command that fixes it (`core.workflows.explain` finds them).

ID is a connector id or a sync-job id. config.yml (`-c`) says which cluster to read and is the
file the service is judged by (does it list the connector, with its type; do its credentials
have the privileges). `--docker`/`--source`/`--sluice`/`--systemd` name the service you run
for it (default: the one `sluice deploy` picks), `--service-version` the release of Elastic's.

Exit status: 0 when the target was explained, stuck or not: the explanation is the answer, and
`--json`'s `healthy` tells scripts whether anything is stuck (unlike `sluice check`, whose
failed checks are the answer and exit 1). As everywhere: 1 when it could not be explained (an
unknown id, an unreachable cluster), 2 for bad arguments or config.
"""

from __future__ import annotations

import argparse
import os
import re
import textwrap
from typing import TYPE_CHECKING

from sluice.cli.common import (
    CliError,
    add_config_option,
    add_json_option,
    add_target_options,
    command,
    config_path,
    document_id,
    open_connection,
    print_json,
)

if TYPE_CHECKING:
    from sluice.core.config import Config
    from sluice.core.workflows.explain import Explanation

WIDTH = 80
#: The service you run for the connector (the targets of `sluice deploy`); default: the one
#: `sluice deploy` picks for its type.
TARGET_HELP = {
    "docker": "you run Elastic's connector service in Docker for it",
    "source": "you run Elastic's connector service from source for it",
    "sluice": "you run Sluice's service (`sluice run`) for it",
    "systemd": "you run Sluice's service under systemd for it",
}
INDENT = "   "
#: A space inside a backticked command: kept, so a command is never split across lines.
_GLUE = "\u00a0"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="why is a connector or sync job stuck? likely causes in order, with fixes",
        description="Read a connector or sync job and the cluster, and say what keeps it "
        "from progressing — no service, a dead worker, a lock, an error, a schedule that "
        "never fires, config.yml, credentials — most likely first, each with its fix. "
        "Exits 0 when explained (stuck or not; --json says `healthy`), 1 for an unknown id "
        "or an unreachable cluster, 2 for bad arguments or config.",
    )
    parser.add_argument("target_id", metavar="ID", type=document_id("connector or sync job"))
    add_target_options(parser, TARGET_HELP)
    parser.add_argument(
        "--service-version",
        metavar="X.Y.Z",
        help="the release of Elastic's connector service you deployed (checked against the "
        "cluster's version)",
    )
    add_json_option(parser)
    add_config_option(parser)
    parser.set_defaults(handler=explain_command)


@command
async def explain_command(args: argparse.Namespace) -> int:
    from sluice.core.workflows.explain import UnknownTarget, explain

    async with open_connection(args) as conn:
        try:
            result = await explain(
                conn.store,
                args.target_id,
                config_path=config_path(args),
                environ=dict(os.environ),
                runnable_types=_runnable_types(conn.config),
                target=args.target,
                service_version=args.service_version,
            )
        except UnknownTarget as exc:
            where = f" in the cluster at {args.es_host}" if getattr(args, "es_host", None) else ""
            raise CliError(
                f"no connector or sync job with id {exc.target_id!r}{where}; {exc.hint}"
            ) from None
    if args.json:
        print_json(result.as_dict())
    else:
        print(render(result))
    return 0


def _runnable_types(config: Config) -> dict[str, frozenset[str]]:
    """The service types each runner can run; Sluice's include config.yml's own sources."""
    from sluice.sources.registry import runs_in_sluice, types_run_by

    custom = config.custom_sources
    extra = frozenset(t for t in custom if runs_in_sluice(t, custom))
    return {"sluice": types_run_by("sluice") | extra, "elastic": types_run_by("elastic")}


def render(result: Explanation, width: int = WIDTH) -> str:
    """The summary line, then each finding numbered: title and likelihood, the evidence, and
    its fix, wrapped to `width` columns without splitting a command."""
    lines = [_wrap(result.summary, width, "")]
    for number, finding in enumerate(result.findings, 1):
        head = f"{number}. {finding.title} ({finding.likelihood})"
        lines += ["", _wrap(head, width, "", INDENT)]
        lines.append(_wrap(finding.detail, width, INDENT))
        if finding.fix:
            lines.append(_wrap(f"fix: {finding.fix}", width, INDENT, INDENT + "     "))
    return "\n".join(lines)


def _wrap(text: str, width: int, indent: str, rest: str | None = None) -> str:
    glued = re.sub(r"`[^`]*`", lambda m: m.group(0).replace(" ", _GLUE), text)
    filled = textwrap.fill(
        glued,
        width=width,
        initial_indent=indent,
        subsequent_indent=indent if rest is None else rest,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return filled.replace(_GLUE, " ")
