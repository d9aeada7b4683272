"""A connector's content index: create it (with a language's analyzer) and list candidates.

Creating the index up front, rather than letting the first bulk request create it with
dynamic defaults, gives it explicit mappings for the fields every connector writes (`id`,
`_timestamp`, `title`, `body`) and the analyzer of the content's language.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import AsyncElasticsearch, BadRequestError

from sluice.core.checks.index_names import index_name_problems
from sluice.core.engine.fingerprint import FINGERPRINT_FIELD, FINGERPRINT_MAPPING
from sluice.core.languages import LANGUAGES

BASE_PROPERTIES: dict[str, Any] = {
    "id": {"type": "keyword"},
    "_timestamp": {"type": "date"},
    "title": {"type": "text"},
    "body": {"type": "text"},
    FINGERPRINT_FIELD: FINGERPRINT_MAPPING,
}


class ContentIndexError(ValueError):
    """The index can't be created as asked; the message names the problem and the fix."""


def analyzer_for(language: str | None) -> str:
    return next((a for code, _, a in LANGUAGES if code == (language or "")), "standard")


def content_index_body(language: str | None = None) -> dict[str, Any]:
    """Settings and mappings for a new content index."""
    analyzer = analyzer_for(language)
    body: dict[str, Any] = {
        "mappings": {
            "dynamic": True,
            "dynamic_templates": [
                {
                    "strings": {
                        "match_mapping_type": "string",
                        "mapping": {
                            "type": "text",
                            "fields": {"keyword": {"type": "keyword", "ignore_above": 256}},
                        },
                    }
                }
            ],
            "properties": BASE_PROPERTIES,
        }
    }
    if analyzer != "standard":
        body["settings"] = {"analysis": {"analyzer": {"default": {"type": analyzer}}}}
    return body


async def create_content_index(
    client: AsyncElasticsearch, name: str, *, language: str | None = None
) -> bool:
    """Create `name` for a connector; False when it already exists (left as it is)."""
    problems = index_name_problems(name)
    if problems:
        raise ContentIndexError(f"index name {name!r} " + "; ".join(problems))
    if await client.indices.exists(index=name):
        return False
    try:
        await client.indices.create(index=name, **content_index_body(language))
    except BadRequestError as exc:
        if "resource_already_exists_exception" in str(exc):
            return False
        raise ContentIndexError(
            f"Elasticsearch refused to create {name!r}: {exc.message}"
        ) from None
    return True


async def list_content_indices(client: AsyncElasticsearch) -> list[str]:
    """Names of the regular (not hidden, not system) indices, sorted."""
    response = await client.indices.get_alias(index="*", expand_wildcards="open")
    return sorted(name for name in response.body if not name.startswith("."))
