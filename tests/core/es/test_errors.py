"""One wording of Elasticsearch's errors for every part of Sluice (core/es/errors.py), on real
answers of the local server: its reason, no quoted value, the status when there is no body."""

from __future__ import annotations

import uuid

import pytest
from elasticsearch import ApiError

from sluice.core.es.errors import error_reason, error_type

pytestmark = pytest.mark.es

SECRET = "hunter2-Canary-7731"


async def test_a_rejected_value_is_named_by_the_reason_without_the_value(es) -> None:
    index = f"search-sluice-test-{uuid.uuid4().hex[:8]}"
    await es.indices.create(index=index, mappings={"properties": {"port": {"type": "long"}}})
    try:
        with pytest.raises(ApiError) as caught:
            await es.index(index=index, document={"port": SECRET}, refresh=True)
        words = error_reason(caught.value)
        assert SECRET not in words and words
        assert error_type(caught.value) == "document_parsing_exception"
    finally:
        await es.options(ignore_status=404).indices.delete(index=index)


async def test_a_missing_index_is_said_with_its_type(es) -> None:
    with pytest.raises(ApiError) as caught:
        await es.get(index=f"search-sluice-test-missing-{uuid.uuid4().hex[:8]}", id="x")
    assert error_type(caught.value) == "index_not_found_exception"
    assert "no such index" in error_reason(caught.value)


async def test_an_answer_without_a_body_is_its_status(es) -> None:
    """A HEAD request's 404 has no body: the error as the client would raise it for it."""
    answer = await es.options(ignore_status=404).perform_request(
        "HEAD", f"/search-sluice-test-missing-{uuid.uuid4().hex[:8]}"
    )
    error = ApiError("", meta=answer.meta, body=answer.body)
    assert error_reason(error) == "HTTP 404"
    assert error_type(error) is None
