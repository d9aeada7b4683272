"""A FAKE Elasticsearch with security, for what the local stand-in lacks: the Security,
License and X-Pack APIs, real 401/403 answers, and (optionally) the `GET _connector` list.

It is an HTTP server on 127.0.0.1 (free port, own thread). Answers follow Elasticsearch's
public REST docs:

- every request is authenticated (`Authorization: ApiKey <base64 id:key>`, `Basic`, or
  `Bearer`) unless security is off; failures are 401 `security_exception` with the three
  `WWW-Authenticate` challenges Elasticsearch sends; missing cluster privileges are 403.
- `GET /_security/_authenticate`, `POST /_security/user/_has_privileges` (cluster and index
  privileges, unknown privilege names rejected with 400 as the real API does),
  `GET /_security/api_key` (400 `feature_not_enabled_exception` when API keys are off),
  `GET /_license`, `GET /_xpack`, `GET /_xpack/usage`, `GET /`.
- with security off (8.x), the security endpoints are not registered: 400 "no handler found".
- unknown `/_name` paths are read as index names and rejected (`invalid_index_name_exception`),
  like Elasticsearch does.

Everything else is proxied to `upstream` (the local stand-in) after authentication, or 404.
Test helpers: `script` queues canned answers (status, headers, body) to exercise retries,
`drop_next` closes connections without answering, `requests` records what clients sent.
Requests in absolute form (`GET http://host/ HTTP/1.1`) are served as a forward proxy would,
and recorded with `via_proxy=True`.

Not faithful where irrelevant to Sluice: privileges are matched with fnmatch patterns and a
small implication table, not Elasticsearch's automata; no realms beyond one user table.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

CHALLENGES = ['Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', "ApiKey"]
PRODUCT = {"X-elastic-product": "Elasticsearch"}

#: Cluster privileges Elasticsearch knows, by the version that introduced the newest ones.
CLUSTER_PRIVILEGES = {
    "all",
    "monitor",
    "manage",
    "manage_api_key",
    "manage_own_api_key",
    "manage_ingest_pipelines",
    "read_pipeline",
    "manage_security",
    "manage_index_templates",
    "monitor_connector",
    "manage_connector",
    "manage_search_application",
}
INDEX_PRIVILEGES = {
    "all",
    "read",
    "write",
    "index",
    "create",
    "create_doc",
    "delete",
    "create_index",
    "delete_index",
    "view_index_metadata",
    "manage",
    "monitor",
    "maintenance",
}
#: A granted privilege implies these (the rest of Elasticsearch's table is not needed here).
IMPLIES = {
    "all": CLUSTER_PRIVILEGES | INDEX_PRIVILEGES,
    "manage": {"monitor", "view_index_metadata", "manage_ingest_pipelines", "read_pipeline"},
    "write": {"index", "create", "create_doc", "delete"},
    "manage_api_key": {"manage_own_api_key"},
    "manage_connector": {"monitor_connector"},
    "manage_ingest_pipelines": {"read_pipeline"},
}


@dataclass
class Principal:
    """A user or API key and what its role grants."""

    username: str
    cluster: set[str] = field(default_factory=set)
    indices: list[tuple[list[str], set[str]]] = field(default_factory=list)
    roles: list[str] = field(default_factory=lambda: ["sluice_test"])
    api_key: dict[str, str] | None = None  # {"id", "name"} when authenticated by API key
    realm: str = "default_native"

    def has_cluster(self, privilege: str) -> bool:
        return any(privilege == g or privilege in IMPLIES.get(g, ()) for g in self.cluster)

    def has_index(self, name: str, privilege: str) -> bool:
        for patterns, granted in self.indices:
            if any(fnmatch.fnmatchcase(name, p) for p in patterns) and any(
                privilege == g or privilege in IMPLIES.get(g, ()) for g in granted
            ):
                return True
        return False


@dataclass
class Canned:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    via_proxy: bool = False


@dataclass
class FakeCluster:
    """The state the fake answers from; tests change it freely between requests."""

    version: str = "8.15.3"
    build_flavor: str = "default"
    security: str = "on"  # "on" | "off"
    license_type: str = "basic"
    license_status: str = "active"
    license_expiry_millis: int | None = None
    api_keys_enabled: bool = True
    connector_api: bool = True
    users: dict[str, tuple[str, Principal]] = field(default_factory=dict)
    api_keys: dict[str, tuple[str, Principal]] = field(default_factory=dict)
    tokens: dict[str, Principal] = field(default_factory=dict)


def elastic_error(status: int, error_type: str, reason: str, **extra: Any) -> dict[str, Any]:
    cause = {"type": error_type, "reason": reason, **extra}
    return {"error": {"root_cause": [cause], **cause}, "status": status}


class FakeElasticsearch:
    """Start with `start()` (or as a context manager); `url` is its address."""

    def __init__(self, upstream: str | None = None, cluster: FakeCluster | None = None) -> None:
        self.upstream = upstream.rstrip("/") if upstream else None
        self.cluster = cluster or FakeCluster()
        self.script: dict[str, deque[Canned]] = {}
        self.drop_next = 0
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeElasticsearch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeElasticsearch:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- test helpers -------------------------------------------------------------------

    def add_user(self, username: str, password: str, **grants: Any) -> Principal:
        principal = Principal(username, **grants)
        self.cluster.users[username] = (password, principal)
        return principal

    def add_api_key(self, key_id: str, secret: str, name: str, owner: str, **grants: Any) -> str:
        """Register a key; returns the encoded form Kibana shows (base64 of `id:secret`)."""
        principal = Principal(
            owner, api_key={"id": key_id, "name": name}, realm="_es_api_key", **grants
        )
        self.cluster.api_keys[key_id] = (secret, principal)
        return base64.b64encode(f"{key_id}:{secret}".encode()).decode()

    def queue(self, path: str, *answers: Canned) -> None:
        """Answer the next requests to `path` with `answers`, in order."""
        self.script.setdefault(path, deque()).extend(answers)

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path.split("?")[0] == path)

    # ---- request handling ---------------------------------------------------------------

    def authenticate(self, header: str | None, path: str) -> Principal | Canned:
        if not header:
            return self._unauthenticated(
                f"missing authentication credentials for REST request [{path}]"
            )
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        try:
            if scheme == "basic":
                user, _, password = base64.b64decode(value).decode().partition(":")
                known = self.cluster.users.get(user)
                if known and known[0] == password:
                    return known[1]
                return self._unauthenticated(
                    f"unable to authenticate user [{user}] for REST request [{path}]"
                )
            if scheme == "apikey":
                key_id, _, secret = base64.b64decode(value).decode().partition(":")
                if not self.cluster.api_keys_enabled:
                    return self._unauthenticated("api keys are not enabled")
                known = self.cluster.api_keys.get(key_id)
                if known and known[0] == secret:
                    return known[1]
            if scheme == "bearer" and value in self.cluster.tokens:
                return self.cluster.tokens[value]
        except (ValueError, UnicodeDecodeError):
            pass
        return self._unauthenticated(
            "unable to authenticate with provided credentials and anonymous access is not "
            "allowed for this request"
        )

    @staticmethod
    def _unauthenticated(reason: str) -> Canned:
        body = elastic_error(
            401, "security_exception", reason, header={"WWW-Authenticate": CHALLENGES}
        )
        return Canned(401, {"WWW-Authenticate": "\n".join(CHALLENGES)}, body)

    @staticmethod
    def _forbidden(principal: Principal, action: str, privileges: str) -> Canned:
        who = (
            f"API key id [{principal.api_key['id']}] of user [{principal.username}]"
            if (principal.api_key)
            else f"user [{principal.username}]"
        )
        reason = (
            f"action [{action}] is unauthorized for {who} with effective roles "
            f"[{','.join(principal.roles)}], this action is granted by the cluster "
            f"privileges [{privileges}]"
        )
        return Canned(403, {}, elastic_error(403, "security_exception", reason))

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> Canned:
        canned = self.script.get(path)
        if canned:
            return canned.popleft()
        security_on = self.cluster.security == "on"
        principal: Principal | None = None
        if security_on:
            result = self.authenticate(headers.get("authorization"), path)
            if isinstance(result, Canned):
                return result
            principal = result
        segments = [s for s in path.split("/") if s]
        if path.startswith("/_security/"):
            if not security_on:
                return Canned(
                    400, {}, {"error": f"no handler found for uri [{path}] and method [{method}]"}
                )
            assert principal is not None
            return self._security(method, path, query, principal, body)
        if path == "/_license" and method == "GET":
            return self._license(principal)
        if path == "/_xpack" and method == "GET":
            return self._xpack(query)
        if path == "/_xpack/usage" and method == "GET":
            if principal and not principal.has_cluster("monitor"):
                return self._forbidden(
                    principal, "cluster:monitor/xpack/usage", "monitor,manage,all"
                )
            return Canned(
                200,
                {},
                {
                    "security": {
                        "available": True,
                        "enabled": security_on,
                        "api_key_service": {"enabled": self.cluster.api_keys_enabled},
                    }
                },
            )
        if path == "/_connector" and self.cluster.connector_api and method == "GET":
            if principal and not principal.has_cluster("monitor_connector"):
                return self._forbidden(
                    principal,
                    "cluster:admin/xpack/connector/list",
                    "monitor_connector,manage_connector,all",
                )
            return Canned(200, {}, {"count": 0, "results": []})
        if path == "/" and method in ("GET", "HEAD"):
            if principal and not principal.has_cluster("monitor"):
                return self._forbidden(principal, "cluster:monitor/main", "monitor,manage,all")
            return Canned(200, {}, self._info())  # its own version, whatever is behind it
        if (
            segments
            and segments[0].startswith("_")
            and segments[0]
            not in (
                "_bulk",
                "_search",
                "_count",
                "_mapping",
                "_resolve",
                "_ingest",
                "_cat",
                "_cluster",
                "_aliases",
                "_alias",
                "_refresh",
                "_doc",
                "_index_template",
                "_nodes",
                "_mget",
                "_data_stream",
                "_pit",
                "_tasks",
                "_update_by_query",
                "_delete_by_query",
            )
        ):
            name = segments[0]
            return Canned(
                400,
                {},
                elastic_error(
                    400,
                    "invalid_index_name_exception",
                    f"Invalid index name [{name}], must not start with '_', '-', or '+'",
                    index=name,
                    index_uuid="_na_",
                ),
            )
        if self.upstream:
            return self._proxy(method, path, query, headers, body)
        return Canned(
            404,
            {},
            elastic_error(
                404,
                "index_not_found_exception",
                f"no such index [{segments[0] if segments else ''}]",
            ),
        )

    def _info(self) -> dict[str, Any]:
        return {
            "name": "fake-security",
            "cluster_name": "fake",
            "cluster_uuid": "fake-uuid",
            "version": {
                "number": self.cluster.version,
                "build_flavor": self.cluster.build_flavor,
                "build_type": "docker",
                "build_hash": "fake",
                "build_snapshot": False,
                "lucene_version": "9.11.1",
                "minimum_wire_compatibility_version": "7.17.0",
                "minimum_index_compatibility_version": "7.0.0",
            },
            "tagline": "You Know, for Search",
        }

    def _security(
        self, method: str, path: str, query: dict[str, list[str]], principal: Principal, body: bytes
    ) -> Canned:
        if path == "/_security/_authenticate" and method == "GET":
            answer: dict[str, Any] = {
                "username": principal.username,
                "roles": principal.roles,
                "full_name": None,
                "email": None,
                "metadata": {},
                "enabled": True,
                "authentication_realm": {
                    "name": principal.realm,
                    "type": principal.realm.split("_", 1)[-1]
                    if principal.realm != "_es_api_key"
                    else "_es_api_key",
                },
                "lookup_realm": {"name": principal.realm, "type": "native"},
                "authentication_type": "api_key" if principal.api_key else "realm",
            }
            if principal.api_key:
                answer["api_key"] = principal.api_key
            return Canned(200, {}, answer)
        if path == "/_security/user/_has_privileges" and method in ("GET", "POST"):
            return self._has_privileges(principal, json.loads(body or b"{}"))
        if path == "/_security/api_key" and method == "GET":
            if not self.cluster.api_keys_enabled:
                return Canned(
                    400,
                    {},
                    elastic_error(
                        400,
                        "feature_not_enabled_exception",
                        "api keys are not enabled",
                        **{"es.disabled.feature": "api_keys"},
                    ),
                )
            owner = query.get("owner", ["false"])[0] == "true"
            if not owner and not principal.has_cluster("manage_api_key"):
                return self._forbidden(
                    principal,
                    "cluster:admin/xpack/security/api_key/get",
                    "manage_api_key,manage_security,all",
                )
            keys = [
                {
                    "id": kid,
                    "name": p.api_key["name"] if p.api_key else "",
                    "username": p.username,
                    "invalidated": False,
                    "realm": "default_native",
                }
                for kid, (_, p) in self.cluster.api_keys.items()
                if not owner or p.username == principal.username
            ]
            return Canned(200, {}, {"api_keys": keys})
        return Canned(
            400, {}, {"error": f"no handler found for uri [{path}] and method [{method}]"}
        )

    def _known_cluster_privileges(self) -> set[str]:
        known = set(CLUSTER_PRIVILEGES)
        major, minor = (int(x) for x in self.cluster.version.split(".")[:2])
        if (major, minor) < (8, 15) and self.cluster.build_flavor != "serverless":
            known -= {"manage_connector", "monitor_connector"}
        return known

    def _has_privileges(self, principal: Principal, request: dict[str, Any]) -> Canned:
        known = self._known_cluster_privileges()
        for privilege in request.get("cluster", []):
            if privilege not in known:
                return Canned(
                    400,
                    {},
                    elastic_error(
                        400,
                        "illegal_argument_exception",
                        f"unknown cluster privilege [{privilege}]. a privilege must be either "
                        "one of the predefined cluster privilege names "
                        f"[{','.join(sorted(known))}] or a pattern over one of the available "
                        "cluster actions",
                    ),
                )
        cluster = {p: principal.has_cluster(p) for p in request.get("cluster", [])}
        index: dict[str, dict[str, bool]] = {}
        for entry in request.get("index", []):
            for privilege in entry.get("privileges", []):
                if privilege not in INDEX_PRIVILEGES:
                    return Canned(
                        400,
                        {},
                        elastic_error(
                            400,
                            "illegal_argument_exception",
                            f"unknown index privilege [{privilege}]. a privilege must be "
                            "either one of the predefined fixed indices privileges or a "
                            "pattern over one of the available index actions",
                        ),
                    )
            for name in entry.get("names", []):
                index.setdefault(name, {}).update(
                    {p: principal.has_index(name, p) for p in entry.get("privileges", [])}
                )
        granted = all(cluster.values()) and all(all(v.values()) for v in index.values())
        return Canned(
            200,
            {},
            {
                "username": principal.username,
                "has_all_requested": granted,
                "cluster": cluster,
                "index": index,
                "application": {},
            },
        )

    def _license(self, principal: Principal | None) -> Canned:
        if principal and not principal.has_cluster("monitor"):
            return self._forbidden(
                principal, "cluster:monitor/xpack/license/get", "monitor,manage,all"
            )
        lic: dict[str, Any] = {
            "status": self.cluster.license_status,
            "uid": "fake-license",
            "type": self.cluster.license_type,
            "issue_date": "2024-01-01T00:00:00.000Z",
            "issue_date_in_millis": 1704067200000,
            "max_nodes": 1000,
            "max_resource_units": None,
            "issued_to": "fake",
            "issuer": "elasticsearch",
            "start_date_in_millis": -1,
        }
        if self.cluster.license_expiry_millis is not None:
            lic["expiry_date_in_millis"] = self.cluster.license_expiry_millis
        return Canned(200, {}, {"license": lic})

    def _xpack(self, query: dict[str, list[str]]) -> Canned:
        return Canned(
            200,
            {},
            {
                "build": {"hash": "fake", "date": "2024-09-05T00:00:00.000Z"},
                "license": {
                    "uid": "fake-license",
                    "type": self.cluster.license_type,
                    "mode": self.cluster.license_type,
                    "status": self.cluster.license_status,
                },
                "features": {
                    "security": {"available": True, "enabled": self.cluster.security == "on"}
                },
                "tagline": "You know, for X",
            },
        )

    def _proxy(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> Canned:
        assert self.upstream is not None
        forward = {
            k: v
            for k, v in headers.items()
            if k not in ("host", "content-length", "authorization", "connection")
        }
        # trust_env=False: a test may point HTTP_PROXY at this very fake.
        with httpx.Client(trust_env=False, timeout=30) as client:
            response = client.request(
                method, self.upstream + path, params=query, headers=forward, content=body or None
            )
        kept = {
            k: v
            for k, v in response.headers.items()
            if k.lower() in ("content-type", "x-elastic-product", "warning")
        }
        return Canned(response.status_code, kept, response.content)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _serve(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        via_proxy = self.path.startswith(("http://", "https://"))
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        with fake._lock:
            fake.requests.append(Recorded(self.command, parts.path or "/", headers, via_proxy))
            if fake.drop_next > 0:
                fake.drop_next -= 1
                self.close_connection = True
                self.connection.close()
                return
        answer = fake.handle(self.command, parts.path or "/", parse_qs(parts.query), headers, body)
        payload = (
            answer.body
            if isinstance(answer.body, bytes)
            else (b"" if answer.body is None else json.dumps(answer.body).encode())
        )
        self.send_response(answer.status)
        sent = {k.lower() for k in answer.headers}
        for key, value in answer.headers.items():
            for line in value.split("\n"):
                self.send_header(key, line)
        if "content-type" not in sent:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        if "x-elastic-product" not in sent:
            self.send_header("X-elastic-product", "Elasticsearch")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeElasticsearch
