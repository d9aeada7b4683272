"""`${VAR}` substitution exactly as Elastic's service does it (it reads config.yml through the
`envyaml` library): textual, before YAML parsing, so `port: ${PORT}` becomes a number.

Forms: `${VAR}`, `${VAR|default}`, `$VAR`, `$VAR|default` (the default runs to the end of the
line), `$$` for a literal `$`. Lines starting with `#` in column 1 are left alone; every other
line is substituted, trailing comments included. A variable that is unset and has no default
makes Elastic's service refuse to start ("strict mode") unless `ENVYAML_STRICT_DISABLE` is set,
in which case the text stays as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

STRICT_DISABLE_VARIABLE = "ENVYAML_STRICT_DISABLE"

_PATTERN = re.compile(
    r"\$(?:(?P<escaped>\$|\d+)"
    r"|\{(?P<braced>.*?)(?:\|(?P<braced_default>.*?))?\}"
    r"|(?P<named>[\w\-.]+)(?:\|(?P<named_default>.*))?)"
)


@dataclass(frozen=True)
class MissingVariable:
    """An unset variable without a default, where it was written (1-based)."""

    name: str
    line: int
    column: int


def substitute_text(
    text: str, environ: Mapping[str, str], *, keep_unset: bool | None = None
) -> tuple[str, list[MissingVariable]]:
    """Return `text` with variables replaced, and the unset ones (without a default).

    Unset variables become "" — what strict mode would refuse, so the rest of the file can
    still be checked — or stay as written when `keep_unset` (default: when
    `ENVYAML_STRICT_DISABLE` is set, as in Elastic's service)."""
    if keep_unset is None:
        keep_unset = strict_disabled(environ)
    missing: list[MissingVariable] = []
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.startswith("#"):
            continue

        def replace(match: re.Match[str], index: int = index) -> str:
            value = _resolve(match, environ)
            if value is not None:
                return value
            missing.append(MissingVariable(_name(match), index + 1, match.start() + 1))
            return match.group(0) if keep_unset else ""

        lines[index] = _sub(replace, line)
    return "".join(lines), missing


def strict_disabled(environ: Mapping[str, str]) -> bool:
    """Elastic's service tolerates unset variables only when this variable is set."""
    return STRICT_DISABLE_VARIABLE in environ


def substitute_value(value: str, environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """Substitute inside one string (configs built in memory). Returns the names left unset."""
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        resolved = _resolve(match, environ)
        if resolved is not None:
            return resolved
        missing.append(_name(match))
        return match.group(0)

    return "".join(_sub(replace, line) for line in value.splitlines(keepends=True)), missing


def single_reference(value: str) -> tuple[str, str | None] | None:
    """`(name, default)` when `value` is exactly one variable reference, else None."""
    match = _PATTERN.fullmatch(value.strip())
    if not match or match.group("escaped"):
        return None
    if match.group("braced") is not None:
        return match.group("braced"), match.group("braced_default")
    return match.group("named"), match.group("named_default")


def has_reference(value: str) -> bool:
    """True when `value` contains a variable Elastic's service would substitute."""
    return any(
        not m.group("escaped") for line in value.splitlines(keepends=True) for m in _matches(line)
    )


def escape_dollars(value: str) -> str:
    """Write a literal value so the substitution leaves it unchanged (`$` → `$$`)."""
    return value.replace("$", "$$")


def _matches(line: str) -> Iterator[re.Match[str]]:
    """`_PATTERN.finditer(line)` in linear time. No match spans a line end, and a `${` with
    no `}` after it cannot match: the regex would scan to the end of the line for each one,
    so a line of `${${${...` took minutes; those are skipped without asking the regex."""
    last_close = line.rfind("}")
    position = line.find("$")
    while position != -1:
        if line.startswith("${", position) and position > last_close:
            position = line.find("$", position + 1)
            continue
        match = _PATTERN.match(line, position)
        if match is None:
            position = line.find("$", position + 1)
            continue
        yield match
        position = line.find("$", match.end())


def _sub(replace: Callable[[re.Match[str]], str], line: str) -> str:
    """`_PATTERN.sub(replace, line)` in linear time (see `_matches`)."""
    parts: list[str] = []
    end = 0
    for match in _matches(line):
        parts += [line[end : match.start()], replace(match)]
        end = match.end()
    return "".join(parts) + line[end:] if parts else line


def _name(match: re.Match[str]) -> str:
    return match.group("braced") if match.group("braced") is not None else match.group("named")


def _resolve(match: re.Match[str], environ: Mapping[str, str]) -> str | None:
    escaped = match.group("escaped")
    if escaped is not None:
        return "$" if escaped == "$" else match.group(0)
    if match.group("braced") is not None:
        name, default = match.group("braced"), match.group("braced_default")
    else:
        name, default = match.group("named"), match.group("named_default")
    if name in environ:
        return environ[name]
    return default
