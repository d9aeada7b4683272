"""The Google Cloud Storage servers of the tests, and the source's configuration for them.

- The EMULATOR `gcp-storage-emulator` started by `scripts/services.sh` (SLUICE_GCS_URL):
  Google's JSON API, real uploads and downloads, but no authentication, no paging (one
  answer holds every object) and no 403. Each test gets a bucket of its own (`gcs_bucket`).
- The FAKE token endpoint (tests/fakes/fake_google_oauth.py), the `token_uri` of the service
  account JSON the tests paste, so the source signs in as it would at Google.
- `FakeStorage`, a small FAKE of the JSON API on loopback for what the emulator cannot do:
  403 answers with Google's error JSON, paging by `maxResults`/`pageToken`, bearer tokens
  checked against the fake token endpoint, and synthetic buckets of any size generated a
  page at a time (a 50,000-object listing costs the test process one page of memory).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import httpx
import pytest

from tests.conftest import service_url
from tests.fakes.fake_google_oauth import FakeGoogleOAuth, ServiceAccount

PROJECT = "sluice-project"
READ_SCOPES = (
    "https://www.googleapis.com/auth/devstorage.read_only",
    "https://www.googleapis.com/auth/devstorage.full_control",
    "https://www.googleapis.com/auth/cloud-platform",
)


def gcs_config(key_json: str, endpoint: str, buckets: str, **values: Any) -> dict[str, Any]:
    """The source's configuration: Elastic's keys, then Sluice's endpoint."""
    return {
        "buckets": buckets,
        "service_account_credentials": key_json,
        "endpoint_url": endpoint,
        **values,
    }


# ---------------------------------------------------------------------------- the emulator


@dataclass
class EmulatorBucket:
    """A bucket of the test's own on the emulator, emptied and removed afterwards."""

    http: httpx.Client
    name: str

    def put(
        self,
        name: str,
        body: bytes | str = b"",
        content_type: str = "text/plain",
        **metadata: Any,
    ) -> dict[str, Any]:
        """Upload an object (multipart: its metadata, like `contentLanguage`, with it)."""
        data = body.encode() if isinstance(body, str) else body
        boundary = f"sluice-{uuid.uuid4().hex}"
        meta = json.dumps({"name": name, **metadata}).encode()
        payload = (
            f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode()
            + meta
            + f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\n\r\n".encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        response = self.http.post(
            f"/upload/storage/v1/b/{self.name}/o",
            params={"uploadType": "multipart"},
            content=payload,
            headers={"Content-Type": f"multipart/related; boundary={boundary}"},
        )
        response.raise_for_status()
        return dict(response.json())

    def delete(self, name: str) -> None:
        response = self.http.delete(f"/storage/v1/b/{self.name}/o/{quote(name, safe='')}")
        response.raise_for_status()

    def names(self) -> list[str]:
        response = self.http.get(f"/storage/v1/b/{self.name}/o")
        response.raise_for_status()
        return [item["name"] for item in response.json().get("items") or []]

    def remove(self) -> None:
        for name in self.names():
            self.delete(name)
        self.http.delete(f"/storage/v1/b/{self.name}")


@dataclass
class Emulator:
    url: str
    http: httpx.Client

    def new_bucket(self) -> EmulatorBucket:
        name = f"sluice-test-{uuid.uuid4().hex[:10]}"
        self.http.post("/storage/v1/b", params={"project": PROJECT}, json={"name": name})
        # No soft delete: a deleted object is gone, not kept (the emulator rewrites all it
        # keeps on every write, so what tests leave behind slows every later test)
        self.http.patch(
            f"/storage/v1/b/{name}", json={"softDeletePolicy": {"retentionDurationSeconds": "0"}}
        ).raise_for_status()
        return EmulatorBucket(self.http, name)


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[Emulator]:
    url = service_url("SLUICE_GCS_URL", "")
    if not url:
        pytest.skip("SLUICE_GCS_URL is not set: run scripts/services.sh up")
    with httpx.Client(base_url=url, timeout=30) as http:
        try:
            http.get("/storage/v1/b", params={"project": PROJECT})
        except httpx.TransportError:
            pytest.skip(f"The GCS emulator does not answer at {url}: run scripts/services.sh up")
        yield Emulator(url, http)


@pytest.fixture
def gcs_bucket(gcs_emulator: Emulator) -> Iterator[EmulatorBucket]:
    made = gcs_emulator.new_bucket()
    try:
        yield made
    finally:
        made.remove()


@pytest.fixture
def google_oauth() -> Iterator[FakeGoogleOAuth]:
    with FakeGoogleOAuth() as fake:
        yield fake


@pytest.fixture
def gcs_account(google_oauth: FakeGoogleOAuth) -> ServiceAccount:
    return google_oauth.add_account("sluice-reader", PROJECT)


# ---------------------------------------------------------------------------- the fake API


def iso(moment: float) -> str:
    """The JSON API's timestamps: UTC, milliseconds, `Z`."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class FakeObject:
    name: str
    data: bytes
    content_type: str = "text/plain"
    generation: int = 1_700_000_000_000_000
    updated: float = 1_700_000_000.0


@dataclass
class FakeBucket:
    name: str
    objects: dict[str, FakeObject] = field(default_factory=dict)
    synthetic: int = 0
    """Objects generated on the fly, `many/000000.txt`...; never held in memory."""
    list_forbidden: bool = False
    read_forbidden: set[str] = field(default_factory=set)


class FakeStorage:
    """A FAKE of the Cloud Storage JSON API: buckets list, objects list (paged), object
    media; Google's error JSON for 401, 403 and 404. Bearer tokens must come from `oauth`."""

    def __init__(self, oauth: FakeGoogleOAuth, project: str = PROJECT) -> None:
        self.oauth = oauth
        self.project = project
        self.buckets: dict[str, FakeBucket] = {}
        self.buckets_forbidden = False
        self.requests: list[str] = []
        self.fail_next: list[int] = []  # "slow down" (429) or 5xx for the next requests
        self.failed = 0
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

    def __enter__(self) -> FakeStorage:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_bucket(self, name: str, synthetic: int = 0) -> FakeBucket:
        self.buckets[name] = FakeBucket(name, synthetic=synthetic)
        return self.buckets[name]

    def put(self, bucket: str, name: str, data: bytes, content_type: str = "text/plain") -> None:
        self.buckets[bucket].objects[name] = FakeObject(name, data, content_type)

    def object_requests(self, bucket: str) -> int:
        """How many listing pages of `bucket` were asked for."""
        return sum(1 for r in self.requests if r.startswith(f"/storage/v1/b/{bucket}/o?"))

    # ------------------------------------------------------------------ requests
    def handle(self, path: str, headers: dict[str, str]) -> tuple[int, bytes, str]:
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self.requests.append(path)
            failure = self.fail_next.pop(0) if self.fail_next else None
            if failure is not None:
                self.failed += 1
        if failure is not None:
            return _error(
                failure,
                "We encountered an internal error. Please try again.",
                "rateLimitExceeded" if failure == 429 else "backendError",
            )
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        issued = self.oauth.token_info(token) if token else None
        if issued is None:
            return _error(401, "Invalid Credentials", "authError")
        if not any(scope in issued.scope.split() for scope in READ_SCOPES):
            return _error(403, "Insufficient Permission", "insufficientPermissions")
        segments = [unquote(s) for s in parts.path.split("/")]
        # ['', 'storage', 'v1', 'b', bucket?, 'o'?, object?]
        if segments[:4] != ["", "storage", "v1", "b"]:
            return _error(404, "Not Found", "notFound")
        if len(segments) == 4:
            return self._list_buckets(query, issued.email)
        bucket = self.buckets.get(segments[4])
        if bucket is None:
            return _error(404, "The specified bucket does not exist.", "notFound")
        if len(segments) == 6 and segments[5] == "o":
            return self._list_objects(bucket, query, issued.email)
        if len(segments) >= 7 and segments[5] == "o" and query.get("alt") == "media":
            return self._media(bucket, "/".join(segments[6:]), issued.email)
        return _error(404, "Not Found", "notFound")

    def _list_buckets(self, query: dict[str, str], email: str) -> tuple[int, bytes, str]:
        if query.get("project") != self.project:
            return _error(400, "Invalid argument: project.", "invalid")
        if self.buckets_forbidden:
            return _error(
                403,
                f"{email} does not have storage.buckets.list access to the Google Cloud "
                f"project. Permission 'storage.buckets.list' denied on resource (or it may "
                "not exist).",
            )
        names = sorted(self.buckets)
        start, size = int(query.get("pageToken") or 0), _page_size(query)
        body: dict[str, Any] = {"kind": "storage#buckets"}
        page = names[start : start + size]
        if page:
            body["items"] = [{"kind": "storage#bucket", "name": n, "id": n} for n in page]
        if start + size < len(names):
            body["nextPageToken"] = str(start + size)
        return 200, json.dumps(body).encode(), "application/json"

    def _list_objects(
        self, bucket: FakeBucket, query: dict[str, str], email: str
    ) -> tuple[int, bytes, str]:
        if bucket.list_forbidden:
            return _error(
                403,
                f"{email} does not have storage.objects.list access to the Google Cloud "
                f"Storage bucket. Permission 'storage.objects.list' denied on resource (or it "
                "may not exist).",
            )
        start, size = int(query.get("pageToken") or 0), _page_size(query)
        prefix = query.get("prefix", "")
        if bucket.synthetic:
            total = bucket.synthetic
            items = [
                _resource(bucket.name, FakeObject(f"many/{i:06d}.txt", b"x"))
                for i in range(start, min(start + size, total))
            ]
        else:
            names = sorted(n for n in bucket.objects if n.startswith(prefix))
            total = len(names)
            items = [_resource(bucket.name, bucket.objects[n]) for n in names[start : start + size]]
        body: dict[str, Any] = {"kind": "storage#objects"}
        if items:
            body["items"] = items
        if start + size < total:
            body["nextPageToken"] = str(start + size)
        return 200, json.dumps(body).encode(), "application/json"

    def _media(self, bucket: FakeBucket, name: str, email: str) -> tuple[int, bytes, str]:
        if name in bucket.read_forbidden:
            return _error(
                403,
                f"{email} does not have storage.objects.get access to the Google Cloud "
                "Storage object. Permission 'storage.objects.get' denied on resource (or it "
                "may not exist).",
            )
        found = bucket.objects.get(name)
        if found is None:
            return _error(404, f"No such object: {bucket.name}/{name}", "notFound")
        return 200, found.data, found.content_type


def _page_size(query: dict[str, str]) -> int:
    return max(1, min(int(query.get("maxResults") or 1000), 1000))


def _resource(bucket: str, item: FakeObject) -> dict[str, Any]:
    """An object as the JSON API describes it."""
    stamp = iso(item.updated)
    return {
        "kind": "storage#object",
        "id": f"{bucket}/{item.name}/{item.generation}",
        "selfLink": f"https://www.googleapis.com/storage/v1/b/{bucket}/o/"
        + quote(item.name, safe=""),
        "name": item.name,
        "bucket": bucket,
        "generation": str(item.generation),
        "metageneration": "1",
        "contentType": item.content_type,
        "storageClass": "STANDARD",
        "size": str(len(item.data)),
        "timeCreated": stamp,
        "updated": stamp,
        "etag": "CAE=",
    }


def _error(status: int, message: str, reason: str = "forbidden") -> tuple[int, bytes, str]:
    """Google's error JSON."""
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
        }
    }
    return status, json.dumps(body).encode(), "application/json; charset=UTF-8"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            status, body, content_type = self.server.fake.handle(self.path, headers)
        except Exception as exc:  # a fake's bug must show as a 500, not a hang
            status, body, content_type = _error(500, f"{type(exc).__name__}: {exc}", "backend")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeStorage


@pytest.fixture
def fake_gcs(google_oauth: FakeGoogleOAuth) -> Iterator[FakeStorage]:
    with FakeStorage(google_oauth) as fake:
        yield fake
