"""A FAKE of Elasticsearch's Connector API, for clusters (like the local stand-in) without it.

It is an HTTP server on 127.0.0.1 (free port, own thread) placed in front of a real
Elasticsearch-compatible server:

- `/_connector/...` requests are answered here, as Elasticsearch's public REST docs and its
  x-pack `ConnectorIndexService` / `ConnectorSyncJobIndexService` describe: same paths,
  bodies, responses (`{"result": "updated"}`, `{"count", "results"}`, `{"id"}`), the same
  default documents, state-machine checks (400) and 404s. Like the real API it stores
  everything in `.elastic-connectors` / `.elastic-connectors-sync-jobs` of the server
  behind it, so direct index access and API calls see the same documents.
- every other request is proxied unchanged.

Every request is recorded in `requests` (method, path, headers), so tests can check which
endpoints a client used and what it sent to the connector indices.

Not faithful where irrelevant to Sluice: no security (credentials are forwarded as is), no
`_connector/_secret`, no native-connector rules.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from sluice.core.protocol.documents import default_filtering, default_scheduling
from sluice.core.protocol.errors import InvalidTransition
from sluice.core.protocol.mappings import CONNECTORS_MAPPINGS, JOBS_MAPPINGS, SETTINGS, IndexNames
from sluice.core.protocol.scheduling import validate_cron
from sluice.core.protocol.transitions import JOB_TRANSITIONS, check_connector_transition

ORIGIN = {"X-elastic-product-origin": "connectors"}
HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "accept-encoding"}


def now_iso() -> str:
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


class ApiFailure(Exception):
    """An error answer, in Elasticsearch's error body format."""

    def __init__(self, status: int, error_type: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.error_type = error_type
        self.reason = reason

    def body(self) -> dict[str, Any]:
        cause = {"type": self.error_type, "reason": self.reason}
        return {"error": {"root_cause": [cause], **cause}, "status": self.status}


def not_found(reason: str) -> ApiFailure:
    return ApiFailure(404, "resource_not_found_exception", reason)


def bad_request(reason: str) -> ApiFailure:
    return ApiFailure(400, "status_exception", reason)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]


class Backend:
    """Document access to the server behind the fake (as the internal origin)."""

    def __init__(self, upstream: str, names: IndexNames, auth: dict[str, str]) -> None:
        self.http = httpx.Client(base_url=upstream, timeout=30, verify=False)
        self.names = names
        self.auth = auth
        self._lock = threading.Lock()
        self._ready = False

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth, **ORIGIN, **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def ensure_indices(self) -> None:
        with self._lock:
            if self._ready:
                return
            for alias, mappings in (
                (self.names.connectors, CONNECTORS_MAPPINGS),
                (self.names.jobs, JOBS_MAPPINGS),
            ):
                if self.call("HEAD", f"/{alias}").status_code == 200:
                    continue
                self.call(
                    "PUT",
                    f"/{alias}-v1",
                    json={"aliases": {alias: {}}, "mappings": mappings, "settings": SETTINGS},
                )
            self._ready = True

    def get(self, index: str, doc_id: str) -> dict[str, Any] | None:
        resp = self.call("GET", f"/{index}/_doc/{doc_id}")
        if resp.status_code == 404:
            return None
        resp.raise_for_status()
        return resp.json()

    def put(self, index: str, doc: dict[str, Any], doc_id: str | None = None, **params: Any) -> str:
        self.ensure_indices()
        path = f"/{index}/_doc/{doc_id}" if doc_id else f"/{index}/_doc"
        resp = self.call(
            "PUT" if doc_id else "POST", path, json=doc, params={"refresh": "true", **params}
        )
        if resp.status_code == 409:
            raise ApiFailure(409, "version_conflict_engine_exception", "version conflict")
        resp.raise_for_status()
        return str(resp.json()["_id"])

    def modify(
        self,
        index: str,
        doc_id: str,
        change: Callable[[dict[str, Any]], dict[str, Any]],
        missing: ApiFailure,
    ) -> dict[str, Any]:
        """Atomic read-modify-write, as Elasticsearch's own updates are."""
        for _ in range(50):
            got = self.get(index, doc_id)
            if got is None:
                raise missing
            new = change(copy.deepcopy(got["_source"]))
            try:
                self.put(
                    index,
                    new,
                    doc_id,
                    if_seq_no=got["_seq_no"],
                    if_primary_term=got["_primary_term"],
                )
            except ApiFailure as exc:
                if exc.status == 409:
                    continue
                raise
            return new
        raise ApiFailure(409, "version_conflict_engine_exception", f"[{doc_id}] kept changing")

    def search(
        self, index: str, query: dict[str, Any], sort: list[Any], start: int, size: int
    ) -> tuple[list[dict[str, Any]], int]:
        body = {"query": query, "sort": sort, "from": start, "size": size}
        resp = self.call("POST", f"/{index}/_search", json=body)
        if resp.status_code == 404:
            return [], 0
        resp.raise_for_status()
        hits = resp.json()["hits"]
        return hits["hits"], int(hits["total"]["value"])


class ConnectorApi:
    """The `_connector` endpoints, on top of a Backend."""

    def __init__(self, backend: Backend) -> None:
        self.db = backend
        self.names = backend.names
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Any]]] = [
            ("GET", r"/_connector/_sync_job", self.list_jobs),
            ("POST", r"/_connector/_sync_job", self.post_job),
            ("GET", r"/_connector/_sync_job/(?P<job>[^/]+)", self.get_job),
            ("DELETE", r"/_connector/_sync_job/(?P<job>[^/]+)", self.delete_job),
            ("PUT", r"/_connector/_sync_job/(?P<job>[^/]+)/_claim", self.claim_job),
            ("PUT", r"/_connector/_sync_job/(?P<job>[^/]+)/_stats", self.job_stats),
            ("PUT", r"/_connector/_sync_job/(?P<job>[^/]+)/_check_in", self.job_check_in),
            ("PUT", r"/_connector/_sync_job/(?P<job>[^/]+)/_cancel", self.cancel_job),
            ("PUT", r"/_connector/_sync_job/(?P<job>[^/]+)/_error", self.job_error),
            ("GET", r"/_connector", self.list_connectors),
            ("POST", r"/_connector", self.post_connector),
            ("PUT", r"/_connector/(?P<cid>(?!_sync_job$)[^/]+)", self.put_connector),
            ("GET", r"/_connector/(?P<cid>(?!_sync_job$)[^/]+)", self.get_connector),
            ("DELETE", r"/_connector/(?P<cid>(?!_sync_job$)[^/]+)", self.delete_connector),
            ("PUT", r"/_connector/(?P<cid>[^/]+)/_check_in", self.check_in),
            ("PUT", r"/_connector/(?P<cid>[^/]+)/_configuration", self.configuration),
            ("PUT", r"/_connector/(?P<cid>[^/]+)/_scheduling", self.scheduling),
            ("PUT", r"/_connector/(?P<cid>[^/]+)/_filtering", self.filtering),
            ("PUT", r"/_connector/(?P<cid>[^/]+)/_filtering/_validation", self.validation),
            ("PUT", r"/_connector/(?P<cid>[^/]+)/_filtering/_activate", self.activate),
            ("PUT", r"/_connector/(?P<cid>[^/]+)/_status", self.status),
            ("PUT", r"/_connector/(?P<cid>[^/]+)/_error", self.error),
            ("PUT", r"/_connector/(?P<cid>[^/]+)/_last_sync", self.last_sync),
            ("PUT", r"/_connector/(?P<cid>[^/]+)/_index_name", self.index_name),
            ("PUT", r"/_connector/(?P<cid>[^/]+)/_api_key_id", self.api_key_id),
            ("PUT", r"/_connector/(?P<cid>[^/]+)/_name", self.name),
            ("PUT", r"/_connector/(?P<cid>[^/]+)/_features", self.features),
            ("PUT", r"/_connector/(?P<cid>[^/]+)/_pipeline", self.pipeline),
            ("PUT", r"/_connector/(?P<cid>[^/]+)/_service_type", self.service_type),
            ("PUT", r"/_connector/(?P<cid>[^/]+)/_native", self.native),
        ]

    def dispatch(
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any]:
        path = path.rstrip("/") or "/"
        for verb, pattern, handler in self.routes:
            match = re.fullmatch(pattern, path)
            if match and verb == method:
                return handler(query=query, body=body, **match.groupdict())
        raise ApiFailure(405, "illegal_argument_exception", f"no handler for {method} {path}")

    # ------------------------------------------------------------ connector helpers

    def _connector(self, cid: str, *, include_deleted: bool = False) -> dict[str, Any]:
        got = self.db.get(self.names.connectors, cid)
        if got is None or (got["_source"].get("deleted") is True and not include_deleted):
            raise not_found(f"connector [{cid}] not found")
        return got["_source"]

    def _update(self, cid: str, change: Callable[[dict[str, Any]], None]) -> tuple[int, Any]:
        def apply(doc: dict[str, Any]) -> dict[str, Any]:
            if doc.get("deleted") is True:
                raise not_found(f"connector [{cid}] not found")
            change(doc)
            return doc

        self.db.modify(self.names.connectors, cid, apply, not_found(f"connector [{cid}] not found"))
        return 200, {"result": "updated"}

    def _index_name_in_use(self, index_name: str | None, exclude: str | None) -> None:
        if index_name is None:
            return
        must_not: list[Any] = [{"term": {"deleted": True}}]
        if exclude:
            must_not.append({"ids": {"values": [exclude]}})
        query = {"bool": {"filter": [{"term": {"index_name": index_name}}], "must_not": must_not}}
        hits, _ = self.db.search(self.names.connectors, query, ["_doc"], 0, 1)
        if hits:
            raise bad_request(f"Index name [{index_name}] is used by another connector.")

    def _new_connector(self, body: dict[str, Any]) -> dict[str, Any]:
        is_native = bool(body.get("is_native") or False)
        doc: dict[str, Any] = {"configuration": {}, "custom_scheduling": {}}
        if body.get("description") is not None:
            doc["description"] = body["description"]
        doc["filtering"] = default_filtering(now_iso())
        if body.get("index_name") is not None:
            doc["index_name"] = body["index_name"]
        doc["is_native"] = is_native
        if body.get("language") is not None:
            doc["language"] = body["language"]
        doc["name"] = body.get("name") or ""
        doc["scheduling"] = default_scheduling()
        if body.get("service_type") is not None:
            doc["service_type"] = body["service_type"]
        doc["status"] = "needs_configuration" if is_native else "created"
        doc["sync_now"] = False
        doc["deleted"] = False
        return doc

    # ------------------------------------------------------------ connectors

    def put_connector(self, cid: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        self._index_name_in_use(body.get("index_name"), cid)
        existed = self.db.get(self.names.connectors, cid) is not None
        self.db.put(self.names.connectors, self._new_connector(body), cid)
        return (200 if existed else 201), {"result": "updated" if existed else "created", "id": cid}

    def post_connector(self, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        self._index_name_in_use(body.get("index_name"), None)
        cid = self.db.put(self.names.connectors, self._new_connector(body))
        return 201, {"result": "created", "id": cid}

    def get_connector(self, cid: str, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        include = query.get("include_deleted") == "true"
        return 200, {"id": cid, **self._connector(cid, include_deleted=include)}

    def list_connectors(self, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        filters: list[Any] = []
        for param, field in (
            ("index_name", "index_name"),
            ("connector_name", "name"),
            ("service_type", "service_type"),
        ):
            if query.get(param):
                filters.append({"terms": {field: query[param].split(",")}})
        must_not = [] if query.get("include_deleted") == "true" else [{"term": {"deleted": True}}]
        hits, total = self.db.search(
            self.names.connectors,
            {"bool": {"filter": filters, "must_not": must_not}},
            [{"index_name": "asc"}],
            int(query.get("from", 0)),
            int(query.get("size", 100)),
        )
        return 200, {"count": total, "results": [{"id": h["_id"], **h["_source"]} for h in hits]}

    def delete_connector(self, cid: str, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        self._connector(cid)
        self._update(cid, lambda doc: doc.update(deleted=True))
        if query.get("delete_sync_jobs") == "true":
            hits, _ = self.db.search(
                self.names.jobs, {"term": {"connector.id": cid}}, ["_doc"], 0, 10_000
            )
            for hit in hits:
                self.db.call(
                    "DELETE", f"/{self.names.jobs}/_doc/{hit['_id']}", params={"refresh": "true"}
                )
        return 200, {"acknowledged": True}

    def check_in(self, cid: str, **_: Any) -> tuple[int, Any]:
        return self._update(cid, lambda doc: doc.update(last_seen=now_iso()))

    def configuration(self, cid: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        full, values = body.get("configuration"), body.get("values")
        if full is None and values is None:
            raise bad_request("[configuration] and [values] cannot both be null.")

        def change(doc: dict[str, Any]) -> None:
            if full is not None:
                doc["configuration"] = full
            else:
                existing = doc.get("configuration") or {}
                unknown = sorted(set(values) - set(existing))
                if unknown:
                    raise bad_request(
                        f"Unknown [configuration] fields in the request payload: "
                        f"[{', '.join(unknown)}]. Remove them from request or register their "
                        "schema first."
                    )
                for key, value in values.items():
                    existing[key]["value"] = value
                doc["configuration"] = existing
            doc["status"] = "configured"

        return self._update(cid, change)

    def scheduling(self, cid: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        scheduling = body.get("scheduling")
        if not isinstance(scheduling, dict):
            raise ApiFailure(400, "x_content_parse_exception", "[scheduling] is required")
        for job_type in ("access_control", "full", "incremental"):
            entry = scheduling.get(job_type)
            if not isinstance(entry, dict):
                raise ApiFailure(
                    400, "x_content_parse_exception", f"[scheduling.{job_type}] is required"
                )
            problem = validate_cron(str(entry.get("interval")))
            if problem:
                raise ApiFailure(400, "illegal_argument_exception", problem)
        return self._update(cid, lambda doc: doc.update(scheduling=scheduling))

    @staticmethod
    def _first_filtering(doc: dict[str, Any]) -> dict[str, Any]:
        return doc["filtering"][0]

    def filtering(self, cid: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        rules, snippet = body.get("rules"), body.get("advanced_snippet")
        if rules is not None and not any(
            r.get("id") == "DEFAULT" and r.get("value") == ".*" and r.get("policy") == "include"
            for r in rules
        ):
            raise ApiFailure(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: [rules] need to include the default filtering rule.;",
            )

        def change(doc: dict[str, Any]) -> None:
            draft = self._first_filtering(doc)["draft"]
            if rules is not None:
                draft["rules"] = sorted(rules, key=lambda r: r.get("order", 0))
            if snippet is not None:
                stamp = now_iso()
                draft["advanced_snippet"] = {
                    "created_at": snippet.get("created_at", stamp),
                    "updated_at": snippet.get("updated_at", stamp),
                    "value": snippet.get("value"),
                }
            draft["validation"] = {"errors": [], "state": "edited"}

        return self._update(cid, change)

    def validation(self, cid: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        validation = body.get("validation") or {}
        return self._update(
            cid, lambda doc: self._first_filtering(doc)["draft"].update(validation=validation)
        )

    def activate(self, cid: str, **_: Any) -> tuple[int, Any]:
        def change(doc: dict[str, Any]) -> None:
            first = self._first_filtering(doc)
            state = first["draft"]["validation"]["state"]
            if state != "valid":
                raise bad_request(
                    "Filtering draft needs to be validated by the connector service before "
                    f"activation. Current filtering draft validation state [{state}] is not "
                    "equal to [valid]."
                )
            first["active"] = copy.deepcopy(first["draft"])

        return self._update(cid, change)

    def status(self, cid: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        from sluice.core.protocol.models import ConnectorStatus

        target = ConnectorStatus(body.get("status"))

        def change(doc: dict[str, Any]) -> None:
            try:
                check_connector_transition(cid, ConnectorStatus(doc.get("status")), target)
            except InvalidTransition as exc:
                raise bad_request(str(exc)) from None
            doc["status"] = target.value

        return self._update(cid, change)

    def error(self, cid: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        error = body.get("error")
        status = "error" if error else "connected"
        return self._update(cid, lambda doc: doc.update(error=error, status=status))

    def last_sync(self, cid: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        return self._update(cid, lambda doc: doc.update(body))

    def index_name(self, cid: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        self._index_name_in_use(body.get("index_name"), cid)
        return self._update(cid, lambda doc: doc.update(index_name=body.get("index_name")))

    def _set(self, cid: str, body: dict[str, Any], *keys: str) -> tuple[int, Any]:
        values = {key: body[key] for key in keys if key in body}
        return self._update(cid, lambda doc: doc.update(values))

    def api_key_id(self, cid: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        return self._set(cid, body, "api_key_id", "api_key_secret_id")

    def name(self, cid: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        return self._set(cid, body, "name", "description")

    def features(self, cid: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        return self._set(cid, body, "features")

    def pipeline(self, cid: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        return self._set(cid, body, "pipeline")

    def service_type(self, cid: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        def change(doc: dict[str, Any]) -> None:
            doc["service_type"] = body.get("service_type")
            doc["status"] = "created" if doc.get("status") == "created" else "needs_configuration"

        return self._update(cid, change)

    def native(self, cid: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        return self._set(cid, body, "is_native")

    # ------------------------------------------------------------ sync jobs

    def _job(self, job: str) -> dict[str, Any]:
        got = self.db.get(self.names.jobs, job)
        if got is None:
            raise not_found(f"connector sync job [{job}] not found")
        return got["_source"]

    def _update_job(self, job: str, change: Callable[[dict[str, Any]], None]) -> tuple[int, Any]:
        def apply(doc: dict[str, Any]) -> dict[str, Any]:
            change(doc)
            return doc

        self.db.modify(
            self.names.jobs, job, apply, not_found(f"connector sync job [{job}] not found")
        )
        return 200, {"result": "updated"}

    def post_job(self, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        cid = body.get("id")
        if not cid:
            raise ApiFailure(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: [id] of the connector cannot be null or empty.;",
            )
        got = self.db.get(self.names.connectors, cid)
        if got is None:
            raise not_found(f"Connector with id '{cid}' does not exist.")
        source = got["_source"]
        job_type = body.get("job_type") or "full"
        if not source.get("index_name"):
            raise bad_request(
                f"Cannot start a sync for connector [{cid}] with no index attached. Set the "
                "[index_name] property for the connector to enable syncing data."
            )
        if not source.get("service_type"):
            raise bad_request(
                f"Cannot start a sync for connector [{cid}] with [service_type] not defined. "
                "Set the service type of your connector before starting the sync."
            )
        index = source["index_name"]
        if job_type == "access_control":
            index = f".search-acl-filter-{index}"
        filtering = source.get("filtering") or []
        snapshot: dict[str, Any] = {"id": cid}
        if filtering:
            snapshot["filtering"] = filtering[0].get("active")
        snapshot["index_name"] = index
        for key in ("language", "pipeline", "service_type", "configuration"):
            if source.get(key) is not None:
                snapshot[key] = source[key]
        stamp = now_iso()
        doc = {
            "connector": snapshot,
            "created_at": stamp,
            "deleted_document_count": 0,
            "indexed_document_count": 0,
            "indexed_document_volume": 0,
            "job_type": job_type,
            "last_seen": stamp,
            "metadata": {},
            "status": "pending",
            "total_document_count": 0,
            "trigger_method": body.get("trigger_method") or "on_demand",
        }
        return 200, {"id": self.db.put(self.names.jobs, doc)}

    def get_job(self, job: str, **_: Any) -> tuple[int, Any]:
        return 200, {"id": job, **self._job(job)}

    def delete_job(self, job: str, **_: Any) -> tuple[int, Any]:
        self._job(job)
        self.db.call("DELETE", f"/{self.names.jobs}/_doc/{job}", params={"refresh": "true"})
        return 200, {"acknowledged": True}

    def list_jobs(self, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        filters: list[Any] = []
        if query.get("connector_id"):
            filters.append({"term": {"connector.id": query["connector_id"]}})
        if query.get("status"):
            filters.append({"term": {"status": query["status"]}})
        if query.get("job_type"):
            filters.append({"terms": {"job_type": query["job_type"].split(",")}})
        hits, total = self.db.search(
            self.names.jobs,
            {"bool": {"filter": filters}},
            [{"created_at": "desc"}],
            int(query.get("from", 0)),
            int(query.get("size", 100)),
        )
        return 200, {"count": total, "results": [{"id": h["_id"], **h["_source"]} for h in hits]}

    def claim_job(self, job: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        if not body.get("worker_hostname"):
            raise ApiFailure(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: [worker_hostname] cannot be null or empty.;",
            )

        def change(doc: dict[str, Any]) -> None:
            stamp = now_iso()
            doc.update(
                worker_hostname=body["worker_hostname"],
                status="in_progress",
                last_seen=stamp,
                started_at=stamp,
            )
            if body.get("sync_cursor") is not None:
                doc.setdefault("connector", {})["sync_cursor"] = body["sync_cursor"]

        return self._update_job(job, change)

    def job_stats(self, job: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        for key in ("deleted_document_count", "indexed_document_count", "indexed_document_volume"):
            if key not in body:
                raise ApiFailure(400, "x_content_parse_exception", f"Required [{key}] is missing")

        def change(doc: dict[str, Any]) -> None:
            for key in (
                "deleted_document_count",
                "indexed_document_count",
                "indexed_document_volume",
                "total_document_count",
            ):
                if body.get(key) is not None:
                    doc[key] = body[key]
            doc["last_seen"] = body.get("last_seen") or now_iso()
            if body.get("metadata") is not None:
                doc["metadata"] = body["metadata"]

        return self._update_job(job, change)

    def job_check_in(self, job: str, **_: Any) -> tuple[int, Any]:
        return self._update_job(job, lambda doc: doc.update(last_seen=now_iso()))

    def cancel_job(self, job: str, **_: Any) -> tuple[int, Any]:
        def change(doc: dict[str, Any]) -> None:
            from sluice.core.protocol.models import JobStatus

            current = JobStatus(doc["status"])
            stamp = now_iso()
            target = (
                JobStatus.CANCELED
                if current in (JobStatus.PENDING, JobStatus.SUSPENDED)
                else JobStatus.CANCELING
            )
            if target not in JOB_TRANSITIONS[current]:
                raise bad_request(
                    f"Invalid transition attempt from [{current}] to [{target}]. Such a status "
                    "transition is not supported by the Connector Protocol."
                )
            doc.update(status=target.value, cancelation_requested_at=stamp)
            if target is JobStatus.CANCELED:
                doc.update(canceled_at=stamp, completed_at=stamp)

        return self._update_job(job, change)

    def job_error(self, job: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        def change(doc: dict[str, Any]) -> None:
            from sluice.core.protocol.models import JobStatus

            current = JobStatus(doc["status"])
            if JobStatus.ERROR not in JOB_TRANSITIONS[current]:
                raise bad_request(
                    f"Invalid transition attempt from [{current}] to [error]. Such a status "
                    "transition is not supported by the Connector Protocol."
                )
            doc.update(status="error", error=body.get("error"))

        return self._update_job(job, change)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("x-elastic-product", "Elasticsearch")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _handle(self) -> None:
        raw = self._body()
        url = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake = self.server.fake
        fake.record(Recorded(self.command, url.path, headers))
        if url.path == "/_connector" or url.path.startswith("/_connector/"):
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            try:
                body = json.loads(raw) if raw else {}
                fake.backend_for(headers)
                status, answer = fake.api.dispatch(self.command, url.path, query, body)
            except ApiFailure as exc:
                status, answer = exc.status, exc.body()
            self._send(status, json.dumps(answer).encode())
            return
        forward = {k: v for k, v in headers.items() if k not in HOP_HEADERS}
        resp = fake.upstream.request(self.command, self.path, content=raw or None, headers=forward)
        self._send(
            resp.status_code, resp.content, resp.headers.get("content-type", "application/json")
        )

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeConnectorApi


class FakeConnectorApi:
    """Start with `with FakeConnectorApi(upstream_url) as fake:`; point a client at `fake.url`."""

    def __init__(self, upstream: str, *, index_prefix: str = "") -> None:
        self.names = IndexNames(index_prefix)
        self.upstream = httpx.Client(base_url=upstream, timeout=60, verify=False)
        self._upstream_url = upstream
        self.backend = Backend(upstream, self.names, {})
        self.api = ConnectorApi(self.backend)
        self.requests: list[Recorded] = []
        self._record_lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def backend_for(self, headers: dict[str, str]) -> None:
        """Use the caller's credentials for the internal writes (the real API acts with the
        internal origin; credentials are what the server behind needs)."""
        if "authorization" in headers:
            self.backend.auth = {"authorization": headers["authorization"]}

    def record(self, entry: Recorded) -> None:
        with self._record_lock:
            self.requests.append(entry)

    def connector_index_requests(self) -> list[Recorded]:
        """Proxied requests that touched the connector indices."""
        marker = self.names.connectors
        return [r for r in self.requests if marker in r.path]

    def start(self) -> FakeConnectorApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.upstream.close()
        self.backend.http.close()

    def __enter__(self) -> FakeConnectorApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
