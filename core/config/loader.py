"""Load config.yml: substitute `${VAR}`, parse, split dotted keys, validate, merge Elastic's
defaults, resolve `keyring:` references — and report every problem at once as a
`ConfigError`, never as a traceback."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from sluice.core.config.defaults import default_config
from sluice.core.config.elastic_compat import compat_warnings
from sluice.core.config.envsubst import (
    STRICT_DISABLE_VARIABLE,
    MissingVariable,
    single_reference,
    strict_disabled,
    substitute_text,
    substitute_value,
)
from sluice.core.config.exposure import exposed_secret_problem
from sluice.core.config.files import read_config_text
from sluice.core.config.model import Config
from sluice.core.config.parse import Parsed, YamlSyntaxError, parse_text
from sluice.core.config.problems import MAX_LISTED, ConfigError, Problem, cap_problems
from sluice.core.config.schema import Path as KeyPath
from sluice.core.config.schema import Validator, format_path
from sluice.core.config.unused import unused_warnings
from sluice.core.redact import remember_secret
from sluice.core.secrets import SECRET_FIELD_NAMES, SecretError, parse_reference, read_secret


def load_config(
    path: str | os.PathLike[str],
    *,
    environ: Mapping[str, str] | None = None,
    resolve_secrets: bool = True,
) -> Config:
    """Read and check config.yml. Raises `ConfigError` listing every error found.

    `environ` defaults to `os.environ`. With `resolve_secrets=False`, `keyring:` references
    stay as written and unset `${VAR}`s are warnings that leave the text as written (for
    screens that edit a config without needing its secrets)."""
    env = os.environ if environ is None else environ
    file_path = Path(path)
    label = str(path)
    raw = read_config_text(file_path, label)
    config = config_from_text(
        raw, path=file_path, label=label, environ=env, resolve_secrets=resolve_secrets
    )
    exposed = exposed_secret_problem(file_path, raw, config.parsed, label)
    if exposed is not None:
        config.warnings.append(exposed)
    return config


def config_from_text(
    text: str,
    *,
    path: Path | None = None,
    label: str | None = None,
    environ: Mapping[str, str] | None = None,
    resolve_secrets: bool = True,
) -> Config:
    """`load_config` for text already in hand (a rendered `ConfigDocument`, a test)."""
    env = os.environ if environ is None else environ
    label = label if label is not None else (str(path) if path else None)
    tolerated = strict_disabled(env)
    substituted, missing = substitute_text(text, env, keep_unset=tolerated or not resolve_secrets)
    try:
        parsed = parse_text(substituted, label)
    except YamlSyntaxError as exc:
        raise ConfigError([exc.problem]) from None
    problems = [_unset_problem(parsed, m, label, tolerated, resolve_secrets) for m in missing]
    return _build(
        parsed,
        problems,
        path=path,
        environ=env,
        resolve_secrets=resolve_secrets,
        unchecked_lines={m.line for m in missing},
    )


def _unset_problem(
    parsed: Parsed, missing: MissingVariable, label: str | None, tolerated: bool, strict: bool
) -> Problem:
    name = missing.name
    if tolerated or not strict:
        why = f"{STRICT_DISABLE_VARIABLE} is set" if tolerated else "secrets are not needed here"
        message = f"environment variable `{name}` is not set; kept as written ({why})"
        hint, severity = None, "warning"
    else:
        message = f"environment variable `{name}` is not set"
        hint = (
            f"export it, or give a default as ${{{name}|value}} — Elastic's service refuses "
            "to start too"
        )
        severity = "error"
    return Problem(
        key=parsed.key_at_line(missing.line) or "",
        message=message,
        hint=hint,
        line=missing.line,
        column=missing.column,
        severity=severity,  # type: ignore[arg-type]
        file=label,
    )


def config_from_mapping(
    data: Mapping[str, Any],
    *,
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    resolve_secrets: bool = True,
) -> Config:
    """Check a config built in memory: the same rules as a file, without line numbers."""
    env = os.environ if environ is None else environ
    label = str(path) if path is not None else None
    problems: list[Problem] = []
    nested: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            problems.append(Problem(str(key), "top-level keys must be text", file=label))
            continue
        parts = key.split(".")
        target = nested
        for part in parts[:-1]:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        substituted = _substitute_tree(value, env, (*parts,), problems, label, resolve_secrets)
        if isinstance(target.get(parts[-1]), dict) and isinstance(substituted, dict):
            target[parts[-1]] = _merge(target[parts[-1]], substituted)
        else:
            target[parts[-1]] = substituted
    parsed = Parsed(data=nested, file=label)
    return _build(
        parsed,
        problems,
        path=Path(path) if path is not None else None,
        environ=env,
        resolve_secrets=resolve_secrets,
    )


def _build(
    parsed: Parsed,
    problems: list[Problem],
    *,
    path: Path | None,
    environ: Mapping[str, str],
    resolve_secrets: bool,
    unchecked_lines: set[int] | frozenset[int] = frozenset(),
) -> Config:
    """Validate, merge defaults, resolve references. Values on `unchecked_lines` hold an unset
    `${VAR}` (already reported), so their own checks would only repeat that problem."""
    problems = [*parsed.problems, *problems]
    base_dir = str(path.parent) if path is not None else None
    validator = Validator(
        parsed.locate_key, parsed.locate_value, file=parsed.file, base_dir=base_dir
    )
    problems += [
        p for p in validator.run(parsed.data) if not (p.is_error and p.line in unchecked_lines)
    ]
    problems += _duplicate_connectors(parsed)
    if any(p.is_error for p in problems):
        raise ConfigError(problems)
    problems += compat_warnings(parsed.data, parsed.locate_key, parsed.file)
    problems += unused_warnings(parsed.data, parsed.locate_key, parsed.file)
    # A copy: resolving `keyring:` references must not touch the file as written.
    data = _merge(default_config(), copy.deepcopy(parsed.data))
    if resolve_secrets:
        problems += _resolve_keyring_references(data, (), parsed)
        if any(p.is_error for p in problems):
            raise ConfigError(problems)
    _remember_secrets(data)
    if len(problems) > MAX_LISTED:  # a hostile file: say how many, do not list them all
        problems = cap_problems(problems)
    return Config(data, path=path, warnings=problems, parsed=parsed)


def _remember_secrets(value: Any) -> None:
    """Hand every secret value to `core.redact`, so crash reports and logs scrub it."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if str(key).rsplit(".", 1)[-1] in SECRET_FIELD_NAMES:
                remember_secret(item)
            else:
                _remember_secrets(item)
    elif isinstance(value, list):
        for item in value:
            _remember_secrets(item)


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Elastic's `_merge_dicts`: mappings merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(merged.get(key), dict) and isinstance(value, Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _duplicate_connectors(parsed: Parsed) -> list[Problem]:
    seen: dict[str, int] = {}
    problems = []
    connectors = parsed.data.get("connectors")
    for index, entry in enumerate(connectors if isinstance(connectors, list) else []):
        if not isinstance(entry, Mapping) or entry.get("connector_id") in (None, ""):
            continue
        connector_id = str(entry["connector_id"])
        if connector_id in seen:
            where = parsed.locate_key(("connectors", index))
            problems.append(
                Problem(
                    key=f"connectors[{index}]",
                    message=f"connector `{connector_id}` is listed twice (also as "
                    f"connectors[{seen[connector_id]}]); the later entry wins, as in "
                    "Elastic's service",
                    line=where[0] if where else None,
                    column=where[1] if where else None,
                    severity="warning",
                    file=parsed.file,
                )
            )
        seen[connector_id] = index
    return problems


def _resolve_keyring_references(value: Any, path: KeyPath, parsed: Parsed) -> list[Problem]:
    """Replace `keyring:` references in place by their secrets."""
    problems: list[Problem] = []
    items: list[tuple[Any, Any]]
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return problems
    for key, item in items:
        child_path = (*path, key)
        if isinstance(item, str) and parse_reference(item) is not None:
            try:
                value[key] = read_secret(item)
            except SecretError as exc:
                where = parsed.locate_value(child_path)
                problems.append(
                    Problem(
                        key=format_path(child_path),
                        message=str(exc),
                        hint="store the secret again (`sluice` wizard), or replace the "
                        "reference by ${SLUICE_...} and export that variable",
                        line=where[0] if where else None,
                        column=where[1] if where else None,
                        file=parsed.file,
                    )
                )
        elif path[:1] != ("sources",):
            problems += _resolve_keyring_references(item, child_path, parsed)
    return problems


def _substitute_tree(
    value: Any,
    environ: Mapping[str, str],
    path: KeyPath,
    problems: list[Problem],
    label: str | None,
    strict: bool,
) -> Any:
    """`${VAR}` in strings of an in-memory config, typed as YAML would type the text."""
    if isinstance(value, Mapping):
        return {
            k: _substitute_tree(v, environ, (*path, k), problems, label, strict)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [
            _substitute_tree(v, environ, (*path, i), problems, label, strict)
            for i, v in enumerate(value)
        ]
    if not isinstance(value, str):
        return value
    result, missing = substitute_value(value, environ)
    strict = strict and not strict_disabled(environ)
    for name in missing:
        problems.append(
            Problem(
                format_path(path),
                f"environment variable `{name}` is not set"
                + ("" if strict else "; kept as written"),
                severity="error" if strict else "warning",
                file=label,
            )
        )
    if single_reference(value) is not None and not missing:
        try:
            typed = yaml.safe_load(result) if result.strip() else None
        except yaml.YAMLError:
            return result
        return typed if isinstance(typed, str | int | float | bool) or typed is None else result
    return result
