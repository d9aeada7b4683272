"""Basic sync rules: the first matching rule by `order` decides, no match means include.

Rules come from the connector's active filtering, as Kibana writes them:
`{id, policy: include|exclude, field, rule: equals|starts_with|ends_with|contains|regex|<|>,
value, order}`. Kibana always adds a catch-all `DEFAULT` rule (field `_`, regex `.*`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

DEFAULT_RULE_ID = "DEFAULT"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    policy: str
    field: str
    rule: str
    value: str
    order: int
    matcher: Callable[[Any], bool]

    @property
    def includes(self) -> bool:
        return self.policy == "include"


class RuleError(ValueError):
    """A rule that cannot be applied (e.g. an invalid regex), named by its id."""


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _compare(doc_value: Any, rule_value: str, greater: bool) -> bool:
    """`<` and `>` compare numbers as numbers, dates as dates, anything else as text."""
    left_n, right_n = _as_number(doc_value), _as_number(rule_value)
    if left_n is not None and right_n is not None:
        return left_n > right_n if greater else left_n < right_n
    left_d, right_d = _as_datetime(doc_value), _as_datetime(rule_value)
    if left_d is not None and right_d is not None:
        try:
            return left_d > right_d if greater else left_d < right_d
        except TypeError:  # naive vs aware: fall back to text
            pass
    left, right = str(doc_value), rule_value
    return left > right if greater else left < right


def _equals(doc_value: Any, rule_value: str) -> bool:
    left_n, right_n = _as_number(doc_value), _as_number(rule_value)
    if left_n is not None and right_n is not None:
        return left_n == right_n
    if isinstance(doc_value, bool):
        return str(doc_value).lower() == rule_value.lower()
    return str(doc_value) == rule_value


def _make_matcher(rule_id: str, kind: str, value: str) -> Callable[[Any], bool]:
    if kind == "equals":
        return lambda v: _equals(v, value)
    if kind == "starts_with":
        return lambda v: str(v).startswith(value)
    if kind == "ends_with":
        return lambda v: str(v).endswith(value)
    if kind == "contains":
        return lambda v: value in str(v)
    if kind == "regex":
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise RuleError(f"sync rule {rule_id}: invalid regex {value!r}: {exc}") from exc
        return lambda v: pattern.fullmatch(str(v)) is not None
    if kind == "<":
        return lambda v: _compare(v, value, greater=False)
    if kind == ">":
        return lambda v: _compare(v, value, greater=True)
    raise RuleError(f"sync rule {rule_id}: unknown rule type {kind!r}")


class SyncRules:
    """Compiled basic rules, applied to every document the source yields."""

    def __init__(self, rules: Iterable[Mapping[str, Any]] = ()) -> None:
        compiled: list[Rule] = []
        for raw in rules:
            rule_id = str(raw.get("id", ""))
            if rule_id == DEFAULT_RULE_ID:
                continue  # the catch-all include is the default outcome anyway
            policy = str(raw.get("policy", "include"))
            if policy not in ("include", "exclude"):
                raise RuleError(f"sync rule {rule_id}: policy must be include or exclude")
            kind, value = str(raw.get("rule", "")), str(raw.get("value", ""))
            compiled.append(
                Rule(
                    id=rule_id,
                    policy=policy,
                    field=str(raw.get("field", "")),
                    rule=kind,
                    value=value,
                    order=int(raw.get("order", 0)),
                    matcher=_make_matcher(rule_id, kind, value),
                )
            )
        self.rules = sorted(compiled, key=lambda r: r.order)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def includes(self, doc: Mapping[str, Any]) -> bool:
        """True when the document should be synced."""
        for rule in self.rules:
            if rule.field in doc and rule.matcher(doc[rule.field]):
                return rule.includes
        return True
