"""Sources defined outside Sluice, as a third-party package would (used by registry tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from sluice.sources.base import BaseSource, Document


class EchoSource(BaseSource):
    service_type = "echo"
    display_name = "Echo"
    description = "Yields the documents given in its configuration."
    prerequisites = ["Nothing at all."]

    @classmethod
    def get_default_configuration(cls) -> dict[str, dict[str, Any]]:
        return {
            "count": {"label": "How many", "type": "int", "value": 2, "order": 1},
            "prefix": {"label": "Id prefix", "type": "str", "value": "echo", "order": 2},
        }

    async def get_docs(self, filtering: Mapping[str, Any] | None = None) -> AsyncIterator[Document]:
        for number in range(self.values["count"]):
            yield {
                "_id": f"{self.values['prefix']}-{number}",
                "_timestamp": "2024-01-01T00:00:00+00:00",
            }


class NotASource:
    """Looks like nothing Sluice can drive."""
