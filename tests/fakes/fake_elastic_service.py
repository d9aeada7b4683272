"""A FAKE of Elastic's connector service (elastic/connectors), for the flows where Sluice sets a
connector up and Elastic's service runs it. Elastic's service is on no package registry, so
it can't run in tests; this fake behaves as its documented protocol says
(docs/CONNECTOR_PROTOCOL.md, and the facts in shared/reference/connector-protocol.md):

- it serves the connectors its config lists (`connector_id` + `service_type`); a connector
  whose record says another type, or that it isn't given, is never touched;
- check-in: `last_seen` on every loop; an empty `configuration` gets the type's schema as
  Elastic's service writes it (tests/fakes/schemas/*.json) and status `needs_configuration`;
- validation: a `configured` record (or changed values) is judged — required fields set
  (honouring `depends_on`), then a per-type rule standing in for `validate_config` + `ping` —
  and set `connected`, or `error` with the message in `error`;
- jobs: a `pending` job of a served connector is claimed (`in_progress`, `worker_hostname`,
  `started_at`), documents are really indexed into the connector's index a batch per loop
  with the counts and `last_seen` updated, then `completed` with the connector's
  `last_sync_status`/`last_synced`/counts; a `canceling` job becomes `canceled`.

It talks to the cluster through the two indices (index mode, `X-elastic-product-origin:
connectors`), as Elastic's service does with `feature_use_connectors_api: false`. It shares no
code with Sluice: it checks Sluice's records, it doesn't trust them. Runs in its own thread.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

CONNECTORS = ".elastic-connectors"
JOBS = ".elastic-connectors-sync-jobs"
ORIGIN = {"X-elastic-product-origin": "connectors"}
SCHEMAS = Path(__file__).with_name("schemas")
HOSTNAME = "fake-elastic-service"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

Validator = Callable[[str, Mapping[str, Any]], str | None]


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def schema_for(service_type: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{service_type}.json").read_text(encoding="utf-8"))


def _shown(entry: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    return all(values.get(dep["field"]) == dep["value"] for dep in entry.get("depends_on") or [])


def default_validator(service_type: str, values: Mapping[str, Any]) -> str | None:
    """Stand-ins for the sources' `validate_config` + `ping`, with their kind of message."""
    if service_type == "sharepoint_online":
        tenant = str(values.get("tenant_id") or "")
        if not _GUID.match(tenant):
            return f"Tenant ID '{tenant}' is not a valid GUID"
        if values.get("secret_value") == "wrong-secret":
            return (
                "Error while authenticating with the Azure app: AADSTS7000215: Invalid client "
                "secret provided"
            )
    if service_type == "confluence":
        url = str(values.get("confluence_url") or "")
        if not url.startswith(("http://", "https://")):
            return f"Confluence URL '{url}' must start with http:// or https://"
        if "unreachable" in url:
            return f"Cannot connect to Confluence at {url}: Connection refused"
    return None


class FakeElasticService:
    """Elastic's connector service, faked: `start()`, `stop()`, and what it did."""

    def __init__(
        self,
        es_url: str,
        connectors: Mapping[str, str],
        *,
        interval: float = 0.2,
        docs_per_loop: int = 5,
        total_docs: int = 40,
        validator: Validator = default_validator,
        headers: Mapping[str, str] | None = None,
        verify: str | bool = True,
    ) -> None:
        self.connectors = dict(connectors)  # connector id -> service_type (its config.yml)
        self.interval = interval
        self.docs_per_loop = docs_per_loop
        self.total_docs = total_docs
        self.validator = validator
        self.client = httpx.Client(
            base_url=es_url, headers={**ORIGIN, **(headers or {})}, verify=verify
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._validated: dict[str, str] = {}
        self.errors: list[str] = []
        self.claimed: list[str] = []

    @classmethod
    def for_settings(
        cls, settings: Mapping[str, Any], connectors: Mapping[str, str], **options: Any
    ) -> FakeElasticService:
        """With the credentials and CA of an `elasticsearch` section, as Elastic's service
        reads them from config.yml."""
        import base64

        headers: dict[str, str] = {}
        if settings.get("api_key"):
            headers["Authorization"] = f"ApiKey {settings['api_key']}"
        elif settings.get("username"):
            pair = f"{settings['username']}:{settings.get('password', '')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        verify: str | bool = str(settings["ca_certs"]) if settings.get("ca_certs") else True
        return cls(str(settings["host"]), connectors, headers=headers, verify=verify, **options)

    # ------------------------------------------------------------------ life
    def start(self) -> FakeElasticService:
        self._thread = threading.Thread(target=self._loop, name="fake-elastic-service", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.client.close()

    def __enter__(self) -> FakeElasticService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception as exc:  # a test reads `errors`; the loop goes on, like the service
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self._stop.wait(self.interval)

    # ------------------------------------------------------------------ one loop
    def tick(self) -> None:
        for connector_id, service_type in self.connectors.items():
            record = self._get(CONNECTORS, connector_id)
            if record is None or record.get("deleted") is True:
                continue
            if record.get("service_type") not in (None, service_type):
                continue  # its config says another type: Elastic's service won't serve it
            self._update(CONNECTORS, connector_id, {"last_seen": now_iso()})
            self._configure(connector_id, service_type, record)
        self._run_jobs()

    def _configure(self, connector_id: str, service_type: str, record: dict[str, Any]) -> None:
        configuration = record.get("configuration") or {}
        if not configuration:
            self._update(
                CONNECTORS,
                connector_id,
                {"configuration": schema_for(service_type), "status": "needs_configuration"},
            )
            self._validated.pop(connector_id, None)
            return
        values = {key: entry.get("value") for key, entry in configuration.items()}
        digest = json.dumps(values, sort_keys=True, default=str)
        if (
            record.get("status") == "needs_configuration"
            and self._validated.get(connector_id) is None
        ):
            return  # nothing filled in yet
        if self._validated.get(connector_id) == digest and record.get("status") != "configured":
            return
        self._validated[connector_id] = digest
        error = self._missing(configuration, values) or self.validator(service_type, values)
        if error is None:
            self._update(CONNECTORS, connector_id, {"status": "connected", "error": None})
        else:
            self._update(CONNECTORS, connector_id, {"status": "error", "error": error})

    @staticmethod
    def _missing(configuration: Mapping[str, Any], values: Mapping[str, Any]) -> str | None:
        for key, entry in configuration.items():
            if entry.get("required", True) and _shown(entry, values):
                value = entry.get("value")
                if value is None or (isinstance(value, str) and not value.strip()):
                    return (
                        f"Field validation errors: '{entry.get('label') or key}' cannot be empty."
                    )
        return None

    # ------------------------------------------------------------------ jobs
    def _run_jobs(self) -> None:
        ids = list(self.connectors)
        found = self.client.post(
            f"/{JOBS}/_search",
            json={
                "size": 20,
                "query": {
                    "bool": {
                        "filter": [
                            {"terms": {"connector.id": ids}},
                            {"terms": {"status": ["pending", "in_progress", "canceling"]}},
                        ]
                    }
                },
            },
        )
        if found.status_code == 404:
            return
        found.raise_for_status()
        for hit in found.json()["hits"]["hits"]:
            job, source = hit["_id"], hit["_source"]
            status = source.get("status")
            connector_id = source["connector"]["id"]
            if status == "pending":
                self._claim(job, connector_id)
            elif status == "canceling":
                self._finish(job, connector_id, source, "canceled")
            elif status == "in_progress" and source.get("worker_hostname") == HOSTNAME:
                self._sync_some(job, connector_id, source)

    def _claim(self, job: str, connector_id: str) -> None:
        self.claimed.append(job)
        stamp = now_iso()
        self._update(
            JOBS,
            job,
            {
                "status": "in_progress",
                "worker_hostname": HOSTNAME,
                "started_at": stamp,
                "last_seen": stamp,
            },
        )
        self._update(CONNECTORS, connector_id, {"last_sync_status": "in_progress"})

    def _sync_some(self, job: str, connector_id: str, source: Mapping[str, Any]) -> None:
        index = source["connector"].get("index_name")
        done = int(source.get("indexed_document_count") or 0)
        batch = min(self.docs_per_loop, self.total_docs - done)
        if batch > 0 and index:
            lines = []
            for n in range(done, done + batch):
                lines.append(json.dumps({"index": {"_index": index, "_id": f"item-{n}"}}))
                lines.append(
                    json.dumps({"id": f"item-{n}", "title": f"Item {n}", "_timestamp": now_iso()})
                )
            answer = self.client.post(
                "/_bulk",
                content="\n".join(lines) + "\n",
                headers={"Content-Type": "application/x-ndjson"},
            )
            answer.raise_for_status()
        counts = {
            "indexed_document_count": done + max(batch, 0),
            "indexed_document_volume": 0,
            "deleted_document_count": 0,
            "last_seen": now_iso(),
        }
        self._update(JOBS, job, counts)
        if done + batch >= self.total_docs:
            # as Elastic's service does at the end: the index's document count
            self.client.post(f"/{index}/_refresh")
            total = self.client.get(f"/{index}/_count").json().get("count", 0)
            self._update(JOBS, job, {"total_document_count": total})
            self._finish(job, connector_id, {**source, **counts}, "completed")

    def _finish(self, job: str, connector_id: str, source: Mapping[str, Any], status: str) -> None:
        stamp = now_iso()
        fields: dict[str, Any] = {"status": status, "last_seen": stamp}
        fields["canceled_at" if status == "canceled" else "completed_at"] = stamp
        self._update(JOBS, job, fields)
        self._update(
            CONNECTORS,
            connector_id,
            {
                "last_sync_status": status,
                "last_synced": stamp,
                "last_sync_error": None,
                "last_indexed_document_count": int(source.get("indexed_document_count") or 0),
                "last_deleted_document_count": 0,
            },
        )

    # ------------------------------------------------------------------ REST
    def _get(self, index: str, doc_id: str) -> dict[str, Any] | None:
        answer = self.client.get(f"/{index}/_doc/{doc_id}")
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return answer.json()["_source"]

    def _update(self, index: str, doc_id: str, fields: Mapping[str, Any]) -> None:
        answer = self.client.post(
            f"/{index}/_update/{doc_id}", params={"refresh": "true"}, json={"doc": dict(fields)}
        )
        answer.raise_for_status()


def wait_until(check: Callable[[], Any], timeout: float = 20.0, every: float = 0.1) -> Any:
    """Poll `check` until it returns something truthy; fail the test on time-out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not true within {timeout} s: {check}")
