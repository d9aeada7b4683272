"""Advanced sync rules of the SQL sources: a JSON list of custom queries.

    [{"tables": ["orders", "customers"],
      "query": "SELECT o.id, c.name FROM orders o JOIN customers c ON ...",
      "id_columns": ["id"]}]

`tables` name the tables the query reads (they prefix the document ids and fields, as in
Elastic's connectors); `id_columns` (optional) name the result columns that identify a row,
else the tables' primary keys are used. Queries run in read-only transactions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_KEYS = {"tables", "query", "id_columns"}


@dataclass(frozen=True)
class QueryRule:
    tables: tuple[str, ...]
    query: str
    id_columns: tuple[str, ...] = ()


def validate_query_rules(rules: Any) -> list[str]:
    """Every structural problem, one message each; empty when the rules are usable."""
    if isinstance(rules, str):
        try:
            rules = json.loads(rules)
        except json.JSONDecodeError as exc:
            return [f"The advanced rules are not valid JSON ({exc.msg} at line {exc.lineno})."]
    if not isinstance(rules, list):
        return ["The advanced rules must be a JSON list of {tables, query, id_columns} objects."]
    problems: list[str] = []
    for number, rule in enumerate(rules, start=1):
        where = f"Rule {number}"
        if not isinstance(rule, dict):
            problems.append(f"{where} must be an object with 'tables' and 'query'.")
            continue
        unknown = sorted(set(rule) - _KEYS)
        if unknown:
            problems.append(
                f"{where} has unknown keys {', '.join(unknown)}; "
                "allowed: tables, query, id_columns."
            )
        if not _names(rule.get("tables")):
            problems.append(f"{where}: 'tables' must be a non-empty list of table names.")
        query = rule.get("query")
        if not isinstance(query, str) or not query.strip():
            problems.append(f"{where}: 'query' must be a non-empty SQL text.")
        if "id_columns" in rule and not _names(rule["id_columns"]):
            problems.append(f"{where}: 'id_columns' must be a non-empty list of column names.")
    return problems


def parse_query_rules(rules: Any) -> list[QueryRule]:
    """The rules as `QueryRule`s. Call `validate_query_rules` first."""
    if isinstance(rules, str):
        rules = json.loads(rules)
    return [
        QueryRule(
            tables=tuple(t.strip() for t in rule["tables"]),
            query=rule["query"].strip().rstrip(";"),
            id_columns=tuple(c.strip() for c in rule.get("id_columns") or ()),
        )
        for rule in rules
    ]


def _names(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) > 0
        and all(isinstance(item, str) and item.strip() for item in value)
    )
