"""`sluice deploy CONNECTOR_ID`: the exact commands that run the service for a connector —
Elastic's connector service (Docker image or source checkout, at the cluster's version) for
the types Sluice doesn't run, Sluice's own (`sluice run`, a systemd unit) for the types it
does — and, with `--check`, whether a service has checked in, and why not."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from sluice.cli.common import (
    CliError,
    add_config_option,
    add_json_option,
    add_target_options,
    command,
    config_path,
    document_id,
    load_cli_config,
    note,
    open_connection,
    print_json,
    usage_error,
    warn,
)

TARGET_HELP = {
    "docker": "Elastic's connector service in Docker (official image, cluster's version)",
    "source": "Elastic's connector service from a source checkout (git, make)",
    "sluice": "Sluice's own service (`sluice run`)",
    "systemd": "Sluice's service as a systemd user unit (write it with --write)",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "deploy",
        help="commands to run the service for a connector; --check explains a silent one",
        description="Print the exact commands that run the connector service for a "
        "connector of config.yml: Elastic's (Docker or source, matched to the cluster's "
        "version) or Sluice's (`sluice run`, systemd). With --check, say whether a service "
        "has checked in and, when none has, why.",
    )
    parser.add_argument("connector_id", type=document_id("connector"), metavar="CONNECTOR_ID")
    add_target_options(parser, TARGET_HELP)
    parser.add_argument(
        "--write",
        metavar="PATH",
        help="with --systemd: write the unit file there (a folder or a file name)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="has a service checked in? when not, the likely causes in order, checked",
    )
    parser.add_argument(
        "--service-version",
        metavar="X.Y.Z",
        help="with --check: the release of Elastic's service you deployed",
    )
    add_json_option(parser)
    add_config_option(parser)
    parser.set_defaults(handler=deploy_command)


@command
async def deploy_command(args: argparse.Namespace) -> int:
    from sluice.core.config import ConfigError
    from sluice.core.workflows.deploy import deployment_for, write_unit
    from sluice.sources.registry import runs_in_sluice

    if args.write and args.target != "systemd":
        raise usage_error("--write: only the systemd unit is a file; add --systemd")
    config = load_cli_config(args)
    path = config_path(args)
    async with open_connection(args) as conn:
        try:
            connector, deployment = await deployment_for(
                conn.client,
                conn.store,
                path,
                args.connector_id,
                runs_type=lambda t: runs_in_sluice(t, config.custom_sources),
                environ=os.environ,
            )
        except ConfigError as exc:
            raise usage_error(f"{path}: {exc}") from None
        if args.check:
            return await _check(args, connector, deployment)
    target = args.target or deployment.default_target
    plan = deployment.plans.get(target)
    if plan is None:
        raise usage_error(
            f"--{target}: {connector.service_type} is run by Elastic's connector service "
            "only; use --docker or --source"
        )
    written = None
    if args.write:
        try:
            written = write_unit(deployment, args.write)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    if args.json:
        print_json(
            {
                "connector_id": connector.id,
                "service_type": connector.service_type,
                "runner": deployment.runner,
                "cluster_version": deployment.facts.cluster_version,
                "target": plan.target,
                "commands": list(plan.commands),
                "notes": list(plan.notes),
                "blockers": list(plan.blockers),
                "unit": plan.unit_text,
                "written": str(written) if written else None,
            }
        )
        return 0
    runner = "Sluice" if deployment.runner == "sluice" else "Elastic's connector service"
    print(f"# {connector.name or connector.id} ({connector.service_type}) — run by {runner}")
    print(f"# {plan.title}")
    for blocker in plan.blockers:
        warn(blocker)
    print(plan.script)
    for line in plan.notes:
        note(line)
    if plan.unit_text is not None and written is None:
        print(f"\n# {plan.unit_name}\n{plan.unit_text}", end="")
    if written is not None:
        note(f"wrote {written}")
    others = [t for t in deployment.plans if t != plan.target]
    if others and sys.stdout.isatty():
        note("other ways: " + ", ".join(f"--{t}" for t in others))
    return 0


async def _check(args: argparse.Namespace, connector: Any, deployment: Any) -> int:
    from pathlib import Path

    from sluice.core.checks.service_doctor import SilenceInputs, diagnose_silence
    from sluice.core.deployment import TARGETS
    from sluice.core.protocol.checkin import read_checkin
    from sluice.sources.registry import types_run_by

    reading = read_checkin(connector)
    target = args.target or deployment.default_target
    runs_elastic = TARGETS.get(target) == "elastic"
    runner_types = types_run_by("elastic" if runs_elastic else "sluice")
    results = []
    if not reading.service_alive:
        results = await diagnose_silence(
            SilenceInputs(
                config_path=Path(config_path(args)),
                connector=connector,
                connector_id=connector.id,
                target=target,
                service_version=args.service_version,
                environ=dict(os.environ),
                runnable_types=frozenset(runner_types),
            )
        )
    if args.json:
        print_json(
            {
                "connector_id": connector.id,
                "phase": reading.phase.value,
                "status": reading.status,
                "last_seen": reading.last_seen.isoformat() if reading.last_seen else None,
                "error": reading.error,
                "causes": [r.to_dict() for r in results],
            }
        )
        return 0 if reading.service_alive else 1
    print(
        f"{connector.id}: {reading.phase.value} (status {reading.status or '—'}, last seen "
        f"{reading.last_seen_words()})"
    )
    if reading.error:
        print(f"  error: {reading.error}")
    if reading.service_alive:
        return 0
    marks = {"ok": "ok  ", "warn": "warn", "fail": "FAIL", "skip": "info"}
    for result in results:
        print(f"  {marks[result.status]}  {result.title}: {result.message}")
        if result.hint and result.status != "ok":
            print(f"        fix: {result.hint}")
    return 1
