"""`sluice connector ...`: create, list, show, configure, schedule and delete connector records.

Records are written exactly as Kibana writes them (Connector API where the cluster has it),
so they show up in Kibana and run under Elastic's connector service too.
"""

from __future__ import annotations

import argparse
import copy
import getpass
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sluice.cli.common import (
    EXIT_USAGE,
    CliError,
    IdFriendlyParser,
    add_config_option,
    add_json_option,
    command,
    config_path,
    document_id,
    load_cli_config,
    mask_secret,
    masked_configuration,
    note,
    open_connection,
    print_fields,
    print_json,
    print_table,
    usage_error,
    warn,
    when,
)
from sluice.core.echo import quoted
from sluice.core.invocation import sluice_command
from sluice.core.protocol.errors import ConnectorNotFound
from sluice.core.protocol.models import Connector, ConnectorStatus, JobType
from sluice.core.protocol.timeutil import utc_now

if TYPE_CHECKING:  # workflows, config and sources load when a command runs, not for --help
    from sluice.core.workflows import ConnectorNotCreated

CONNECTOR_ID = document_id("connector")

SCHEDULE_TYPES = {
    "full": JobType.FULL,
    "incremental": JobType.INCREMENTAL,
    "access_control": JobType.ACCESS_CONTROL,
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "connector",
        help="create, list, show, configure, schedule and delete connectors",
        description="Manage connector records in Elasticsearch (as Kibana does).",
    )
    actions = parser.add_subparsers(
        dest="connector_action", metavar="ACTION", required=True, parser_class=IdFriendlyParser
    )

    create = actions.add_parser("create", help="create a connector record (and its index)")
    create.add_argument(
        "--service-type",
        required=True,
        metavar="TYPE",
        help="source type: dir, postgresql, mysql, ...",
    )
    create.add_argument("--name", required=True, help="name shown in Kibana")
    create.add_argument(
        "--index-name",
        required=True,
        metavar="INDEX",
        help="content index (Kibana's convention: search-...)",
    )
    create.add_argument("--description", default=None)
    create.add_argument("--language", default=None, help="analyzer language hint, e.g. en")
    _add_set_option(create)
    create.add_argument(
        "--existing-index",
        action="store_true",
        help="attach an index that already exists instead of creating it",
    )
    create.add_argument(
        "--write-config",
        action="store_true",
        help="also add the connector to config.yml's connectors list",
    )
    add_json_option(create)
    add_config_option(create)
    create.set_defaults(handler=create_connector)

    listing = actions.add_parser("list", help="list connectors")
    add_json_option(listing)
    add_config_option(listing)
    listing.set_defaults(handler=list_connectors)

    show = actions.add_parser("show", help="show one connector (secrets masked)")
    show.add_argument("connector_id", metavar="ID", type=CONNECTOR_ID)
    add_json_option(show)
    add_config_option(show)
    show.set_defaults(handler=show_connector)

    configure = actions.add_parser("configure", help="set configuration values")
    configure.add_argument("connector_id", metavar="ID", type=CONNECTOR_ID)
    _add_set_option(configure, required=True)
    add_json_option(configure)
    add_config_option(configure)
    configure.set_defaults(handler=configure_connector)

    schedule = actions.add_parser(
        "schedule",
        help="set sync schedules (Quartz cron, seconds first)",
        description="Quartz cron, as Kibana writes it: 'sec min hour day month weekday [year]' "
        "with '?' in day or weekday, e.g. '0 0 * * * ?' (hourly), '0 30 2 ? * MON-FRI'. UTC.",
    )
    schedule.add_argument("connector_id", metavar="ID", type=CONNECTOR_ID)
    schedule.add_argument("--full", metavar="CRON", help="enable full syncs on this schedule")
    schedule.add_argument("--incremental", metavar="CRON", help="enable incremental syncs")
    schedule.add_argument(
        "--access-control",
        metavar="CRON",
        dest="access_control",
        help="enable access-control (DLS) syncs",
    )
    schedule.add_argument(
        "--disable",
        action="append",
        default=[],
        metavar="TYPE",
        choices=sorted(SCHEDULE_TYPES),
        help="disable a schedule: full, incremental or access_control",
    )
    add_json_option(schedule)
    add_config_option(schedule)
    schedule.set_defaults(handler=schedule_connector)

    delete = actions.add_parser("delete", help="delete a connector (soft: deleted: true)")
    delete.add_argument("connector_id", metavar="ID", type=CONNECTOR_ID)
    add_json_option(delete)
    add_config_option(delete)
    delete.set_defaults(handler=delete_connector)


def _add_set_option(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        required=required,
        metavar="KEY=VALUE",
        dest="settings",
        help="a configuration value; VALUE '-' reads it from stdin (for secrets); repeatable",
    )


# ------------------------------------------------------------------ settings


def parse_settings(settings: Sequence[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise usage_error(f"--set expects KEY=VALUE, got {item!r}")
        pairs.append((key.strip(), value))
    if sum(1 for _, value in pairs if value == "-") > 1:
        raise usage_error("only one --set value can be read from stdin ('-')")
    return pairs


def _read_secret(key: str, entry: Mapping[str, Any]) -> str:
    label = entry.get("label") or key
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(f"{label}: ")
    text = sys.stdin.read() if sys.stdin is not None else ""
    return text.removesuffix("\n").removesuffix("\r")


def apply_settings(
    schema: Mapping[str, Mapping[str, Any]], settings: Sequence[str], service_type: str
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The schema with the `--set` values stored (typed: real booleans and integers), and the
    keys set. Unknown keys and unconvertible values are usage errors naming the key."""
    from sluice.core.workflows import storage_problem
    from sluice.sources.schema import coerce_value

    configuration = {key: dict(entry) for key, entry in copy.deepcopy(dict(schema)).items()}
    changed: list[str] = []
    for key, raw in parse_settings(settings):
        if key not in configuration:
            known = ", ".join(sorted(configuration)) or "none"
            raise usage_error(
                f"--set {key}: unknown setting {quoted(key)} for service type "
                f"{quoted(service_type)}; known: {known}"
            )
        entry = configuration[key]
        if raw == "-":
            raw = _read_secret(key, entry)
        try:
            entry["value"] = coerce_value(entry, raw)
        except ValueError as exc:
            raise usage_error(f"--set {key}: {exc}") from None
        problem = storage_problem(entry["value"])
        if problem:  # e.g. bytes the terminal could not decode: refused before any write
            raise usage_error(f"--set {key}: {quoted(entry.get('label') or key)} {problem}")
        changed.append(key)
    return configuration, changed


def check_settings(
    configuration: Mapping[str, Mapping[str, Any]], changed: Sequence[str]
) -> dict[str, str]:
    """Validate: a bad value given on the command line is a usage error; what is still
    missing is returned (the connector then needs configuration)."""
    from sluice.sources.schema import validate_configuration

    errors = validate_configuration(configuration)
    for key in changed:
        if key in errors:
            raise usage_error(f"--set {key}: {errors[key]}")
    return errors


def _source_class(service_type: str, sources: Mapping[str, str] | None) -> Any:
    from sluice.sources.errors import SourceError
    from sluice.sources.registry import get_source_class

    try:
        return get_source_class(service_type, sources)
    except SourceError as exc:
        raise usage_error(str(exc)) from None


def _runnable_source(
    service_type: str, sources: Mapping[str, str] | None, settings: Sequence[str]
) -> Any:
    """Sluice's source class for the type, or None for a type only Elastic's connector
    service runs (created empty, as Kibana does; its service writes the schema)."""
    from sluice.sources.registry import find_source, runs_in_sluice

    if runs_in_sluice(service_type, sources):
        return _source_class(service_type, sources)
    info = find_source(service_type, sources)
    if info is None:
        return _source_class(service_type, sources)  # raises, naming the known types
    if settings:
        raise usage_error(
            f"--set: {info.display_name} ({service_type}) is run by Elastic's connector "
            "service, whose configuration fields exist once it has checked in; set them "
            f"then with `{sluice_command()} connector configure`"
        )
    return None


def _remaining_note(connector_id: str, errors: Mapping[str, str]) -> None:
    if errors:
        keys = " ".join(f"--set {key}=..." for key in errors)
        note(
            "connector needs configuration: "
            + " ".join(errors.values())
            + f" Set it with: {sluice_command()} connector configure {connector_id} {keys}"
        )


# ------------------------------------------------------------------ create


@command
async def create_connector(args: argparse.Namespace) -> int:
    """Parse, hand everything to the create-connector workflow (which validates it all
    before writing, and undoes its writes when a step fails), print."""
    from sluice.core import workflows
    from sluice.core.config import ConfigDocument
    from sluice.core.protocol.naming import index_name_warning
    from sluice.core.workflows import (
        ConnectorNotCreated,
        InvalidConnectorInput,
        NewConnector,
        validate_new_connector,
    )
    from sluice.sources.schema import validate_configuration

    hint = index_name_warning(args.index_name)
    document = ConfigDocument.open(config_path(args)) if args.write_config else None
    config = load_cli_config(args)
    source = _runnable_source(args.service_type, config.sources, args.settings)
    if source is None:  # run by Elastic's service: the record waits for its schema
        configuration: dict[str, Any] = {}
        changed: set[str] = set()
        features = None
    else:
        configuration, changed = apply_settings(
            source.default_configuration(), args.settings, args.service_type
        )
        features = source.features()
    request = NewConnector(
        service_type=args.service_type,
        name=args.name,
        index_name=args.index_name,
        configuration=configuration,
        given=changed,
        description=args.description,
        language=args.language,
        features=features,
        existing_index=args.existing_index,
    )
    try:
        validate_new_connector(request, validate_configuration)  # before connecting
        if hint:
            warn(hint)
        async with open_connection(args) as conn:
            created = await workflows.create_connector(
                conn.client,
                conn.store,
                request,
                validate=validate_configuration,
                config_document=document,
            )
    except InvalidConnectorInput as exc:
        option = "--set " + exc.field if exc.setting else "--" + exc.field.replace("_", "-")
        raise usage_error(f"{option}: {exc}") from None
    except ConnectorNotCreated as exc:
        raise CliError(_not_created_message(exc, args.index_name)) from None

    connector_id = created.connector.id
    if created.config_path is not None:
        note(f"added connector {connector_id} to {config_path(args)}")
    _remaining_note(connector_id, created.missing)
    if source is None:
        note(
            f"{args.service_type} is run by Elastic's connector service: start it with the "
            f"commands of `{sluice_command()} deploy {connector_id}`; it writes the "
            "configuration fields when it checks in"
        )
    if args.json:
        print_json(
            {
                "id": connector_id,
                "status": created.status.value,
                "index_name": args.index_name,
                "index_created": created.index_created,
                "missing": sorted(created.missing),
            }
        )
    else:
        print(connector_id)
    return 0


def _not_created_message(exc: ConnectorNotCreated, index_name: str) -> str:
    """The workflow's message, with this command's options where they are the fix."""
    if exc.code == "index_missing":
        return f"index {quoted(index_name)} does not exist; leave out --existing-index to create it"
    if exc.code == "index_exists":
        return (
            f"index {quoted(index_name)} already exists; pass --existing-index to attach it "
            "to the connector"
        )
    if exc.code == "config_not_writable":
        return f"{exc} (--write-config)"
    return str(exc)


# ------------------------------------------------------------------ read


async def _connector_or_fail(store: Any, connector_id: str) -> Connector:
    connector = await store.get_connector(connector_id)
    if connector is None:
        raise ConnectorNotFound(connector_id)  # worded by `command`, as everywhere
    return connector


def summary(connector: Connector) -> dict[str, Any]:
    return {
        "id": connector.id,
        "name": connector.name,
        "service_type": connector.service_type,
        "index_name": connector.index_name,
        "status": connector.doc.get("status"),
        "last_sync_status": connector.doc.get("last_sync_status"),
        "last_synced": connector.doc.get("last_synced"),
        "last_seen": connector.doc.get("last_seen"),
    }


@command
async def list_connectors(args: argparse.Namespace) -> int:
    async with open_connection(args) as conn:
        connectors = await conn.store.list_connectors()
    if args.json:
        print_json([summary(c) for c in connectors])
        return 0
    if not connectors:
        note(f"no connectors; create one with `{sluice_command()} connector create`")
        return 0
    print_table(
        [
            (
                c.id,
                c.name,
                c.service_type,
                c.index_name,
                c.doc.get("status"),
                c.doc.get("last_sync_status"),
                when(c.doc.get("last_synced")),
            )
            for c in connectors
        ],
        ["id", "name", "type", "index", "status", "last sync", "last synced"],
    )
    return 0


def shown_document(connector: Connector) -> dict[str, Any]:
    """The record for display: every field, sensitive configuration values masked."""
    doc = copy.deepcopy(connector.doc)
    doc["configuration"] = masked_configuration(connector.configuration)
    return {"id": connector.id, **doc}


def schedule_rows(connector: Connector) -> list[tuple[Any, ...]]:
    from sluice.core.protocol.scheduling import CronError, next_run

    rows = []
    now = utc_now()
    for name, job_type in SCHEDULE_TYPES.items():
        entry = connector.schedule(job_type)
        interval = entry.get("interval")
        upcoming = "-"
        if entry.get("enabled") and interval:
            try:
                upcoming = when(next_run(str(interval), now))
            except CronError as exc:
                upcoming = f"invalid: {exc}"
        rows.append((name, bool(entry.get("enabled")), interval, upcoming))
    return rows


@command
async def show_connector(args: argparse.Namespace) -> int:
    async with open_connection(args) as conn:
        connector = await _connector_or_fail(conn.store, args.connector_id)
    if args.json:
        print_json(shown_document(connector))
        return 0
    d = connector.doc
    print_fields(
        [
            ("id", connector.id),
            ("name", connector.name),
            ("description", connector.description),
            ("service type", connector.service_type),
            ("index", connector.index_name),
            ("status", d.get("status")),
            ("error", connector.error),
            ("language", connector.language),
            ("last seen", when(d.get("last_seen"))),
            ("last sync", d.get("last_sync_status")),
            ("last synced", when(d.get("last_synced"))),
            ("last sync error", connector.last_sync_error),
            (
                "indexed / deleted",
                f"{d.get('last_indexed_document_count') or 0} / "
                f"{d.get('last_deleted_document_count') or 0}",
            ),
            ("access control", d.get("last_access_control_sync_status")),
        ]
    )
    configuration = connector.configuration
    if configuration:
        print("\nconfiguration:")
        rows = []
        ordered = sorted(configuration.items(), key=lambda kv: kv[1].get("order") or 0)
        for key, entry in ordered:
            value = entry.get("value")
            shown = mask_secret(value) if entry.get("sensitive") else value
            rows.append((key, entry.get("label"), shown, bool(entry.get("required"))))
        print_table(rows, ["key", "label", "value", "required"])
    print("\nschedules (UTC):")
    print_table(schedule_rows(connector), ["type", "enabled", "interval", "next run"])
    return 0


# ------------------------------------------------------------------ change


@command
async def configure_connector(args: argparse.Namespace) -> int:
    from sluice.sources.errors import SourceError
    from sluice.sources.registry import get_source_class

    async with open_connection(args) as conn:
        connector = await _connector_or_fail(conn.store, args.connector_id)
        schema: dict[str, Any] = connector.configuration
        if connector.service_type:
            try:
                defaults = get_source_class(connector.service_type, conn.config.sources)
                schema = {**defaults.default_configuration(), **schema}
            except SourceError:
                if not schema:
                    raise
        if not schema:
            from sluice.sources.registry import find_source

            if find_source(str(connector.service_type or "")) is not None:
                raise CliError(
                    f"connector {connector.id} ({connector.service_type}) has no configuration "
                    "fields yet: Elastic's connector service writes them when it checks in; "
                    f"start it (`{sluice_command()} deploy {connector.id}`), then try again",
                    EXIT_USAGE,
                )
            raise CliError(
                f"connector {connector.id} has no configuration schema and no "
                f"known source type ({connector.service_type!r})",
                EXIT_USAGE,
            )
        configuration, changed = apply_settings(schema, args.settings, str(connector.service_type))
        errors = check_settings(configuration, changed)
        status = ConnectorStatus.NEEDS_CONFIGURATION if errors else ConnectorStatus.CONFIGURED
        await conn.store.update_configuration(connector.id, schema=configuration, status=status)
    rows = []
    for key in changed:
        entry = configuration[key]
        value = entry.get("value")
        rows.append((key, mask_secret(value) if entry.get("sensitive") else value))
    _remaining_note(connector.id, errors)
    if args.json:
        print_json({"id": connector.id, "status": status.value, "set": dict(rows)})
        return 0
    print_table(rows, ["key", "value"])
    print(f"status: {status.value}")
    return 0


@command
async def schedule_connector(args: argparse.Namespace) -> int:
    from sluice.core.protocol.scheduling import validate_cron

    requested = {
        name: getattr(args, name) for name in SCHEDULE_TYPES if getattr(args, name) is not None
    }
    if not requested and not args.disable:
        raise usage_error("give at least one of --full, --incremental, --access-control, --disable")
    both = sorted(set(requested) & set(args.disable))
    if both:
        raise usage_error(f"{both[0]} is both scheduled and disabled")
    scheduling: dict[str, dict[str, Any]] = {}
    for name, cron in requested.items():
        problem = validate_cron(cron)
        if problem:
            raise usage_error(f"--{name.replace('_', '-')}: {problem}")
        scheduling[name] = {"enabled": True, "interval": cron}
    for name in args.disable:
        scheduling[name] = {"enabled": False}
    async with open_connection(args) as conn:
        await _connector_or_fail(conn.store, args.connector_id)
        await conn.store.update_scheduling(args.connector_id, scheduling)
        connector = await _connector_or_fail(conn.store, args.connector_id)
    if args.json:
        print_json(connector.scheduling)
        return 0
    print_table(schedule_rows(connector), ["type", "enabled", "interval", "next run"])
    return 0


@command
async def delete_connector(args: argparse.Namespace) -> int:
    async with open_connection(args) as conn:
        await _connector_or_fail(conn.store, args.connector_id)  # deleted ones are gone too
        await conn.store.delete_connector(args.connector_id)
    if args.json:
        print_json({"id": args.connector_id, "deleted": True})
        return 0
    print(f"deleted connector {args.connector_id} (its index and sync history are kept)")
    return 0
