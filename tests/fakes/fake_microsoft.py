"""A FAKE Microsoft identity platform, Microsoft Graph and SharePoint REST API, on loopback.

Microsoft's services cannot be reached from tests, so this fake answers the requests a
SharePoint Online connector makes, shaped as Microsoft's public API reference documents them:

- identity platform v2 token endpoint `/{tenant}/oauth2/v2.0/token`, client credentials
  with a client secret or a certificate's signed JWT assertion (`x5t`, RS256, `aud` = the
  token URL); errors as AADSTS bodies (`error`, `error_description`, `error_codes`, ...);
- Graph v1.0: site collections (`$filter=siteCollection/root ne null`), `sites/root`,
  `sites/{hostname}/sites?search=*`, a site by path (`sites/{host}:/sites/{path}`,
  `?expand=sites`), sub-sites, drives, `drives/{id}/root/delta` (paging by
  `@odata.nextLink`, `@odata.deltaLink`, the `deleted` facet, `410 resyncRequired` for an
  expired token), file content (a `302` to a pre-authenticated download URL), lists and list
  items with `$expand=fields`; errors as Graph bodies (`{"error": {"code", "message",
  "innerError"}}`); application permissions checked from the token's roles;
- SharePoint REST (`{site}/_api/...`, minimal-metadata JSON, `odata.nextLink`): the Site
  Pages list's items, a list item's `AttachmentFiles`, an attachment's `$value`; an app-only
  token obtained with a client secret is refused, as SharePoint Online does;
- throttling: `429` or `503` with `Retry-After`, for the next N requests or for a span of
  time (a storm).

The tenant's content is generated on the fly where it is big (`add_synthetic_files`), so a
100k-item drive costs the test process no memory. Not a product: lives under `tests/`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

GRAPH_READ_SITES = {"Sites.Read.All", "Sites.ReadWrite.All", "Sites.FullControl.All"}
GRAPH_READ_FILES = {"Files.Read.All", "Files.ReadWrite.All"} | GRAPH_READ_SITES
SHAREPOINT_READ = {"Sites.Read.All", "Sites.FullControl.All", "Sites.Manage.All"}
PAGE_SIZE = 200
SYNTHETIC_PREFIX = "01SYN"


def iso(moment: float) -> str:
    """Graph's timestamps: UTC, whole seconds, `Z`."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---------------------------------------------------------------------------- the tenant


@dataclass
class RegisteredApp:
    """An app registration with its credentials and the application permissions an admin
    consented to (`graph_roles` for Graph, `sharepoint_roles` for SharePoint)."""

    client_id: str
    secrets: dict[str, float] = field(default_factory=dict)  # value -> expiry (epoch)
    thumbprints: dict[str, Any] = field(default_factory=dict)  # x5t -> public key
    graph_roles: set[str] = field(default_factory=set)
    sharepoint_roles: set[str] = field(default_factory=set)
    consented: bool = True
    disabled: bool = False


@dataclass
class DriveItem:
    id: str
    name: str
    parent_id: str | None
    folder: bool = False
    content: bytes = b""
    modified: float = field(default_factory=time.time)
    created: float = field(default_factory=time.time)
    deleted: bool = False
    change: int = 0  # the drive's change number when last touched


@dataclass
class Drive:
    id: str
    name: str
    site: Site
    items: dict[str, DriveItem] = field(default_factory=dict)
    changes: int = 1
    synthetic: int = 0  # files generated on the fly (ids SYNTHETIC_PREFIX + number)
    synthetic_size: int = 64
    synthetic_modified: float = 1_700_000_000.0
    oldest_delta: int = 0  # delta tokens older than this answer 410 resyncRequired

    @property
    def root_id(self) -> str:
        return f"01ROOT{self.id[-8:]}"

    def touch(self, item: DriveItem) -> None:
        self.changes += 1
        item.change = self.changes
        item.modified = max(time.time(), item.modified + 1)


@dataclass
class ListItem:
    id: int
    title: str
    modified: float = field(default_factory=time.time)
    created: float = field(default_factory=time.time)
    attachments: dict[str, bytes] = field(default_factory=dict)
    content_type: str = "Item"


@dataclass
class SiteList:
    id: str
    name: str
    display_name: str
    items: dict[int, ListItem] = field(default_factory=dict)
    modified: float = field(default_factory=time.time)
    created: float = field(default_factory=time.time)


@dataclass
class SitePage:
    id: int
    title: str
    html: str
    modified: float = field(default_factory=time.time)


@dataclass
class Site:
    id: str
    name: str
    path: str  # server-relative, "" for the root site
    display_name: str
    parent: Site | None = None
    modified: float = field(default_factory=time.time)
    created: float = field(default_factory=time.time)
    drives: list[Drive] = field(default_factory=list)
    lists: list[SiteList] = field(default_factory=list)
    pages: list[SitePage] = field(default_factory=list)


@dataclass
class Tenant:
    id: str
    name: str  # contoso in contoso.sharepoint.com and contoso.onmicrosoft.com
    apps: dict[str, RegisteredApp] = field(default_factory=dict)
    sites: list[Site] = field(default_factory=list)

    @property
    def hostname(self) -> str:
        return f"{self.name}.sharepoint.com"


@dataclass
class Issued:
    tenant: Tenant
    app: RegisteredApp
    audience: str  # "graph" or "sharepoint"
    method: str  # "secret" or "certificate"
    roles: set[str]
    expires: float


@dataclass
class Throttle:
    remaining: int = 0
    until: float = 0.0
    retry_after: int = 1
    status: int = 429
    tokens: bool = False  # the sign-in endpoint too


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeMicrosoft:
    """One fake cloud (login, Graph and SharePoint on one loopback port). Build a tenant with
    `add_tenant`, `add_app`, `add_site`, `add_file`, ... and point the source at `url`."""

    def __init__(self) -> None:
        self.tenants: list[Tenant] = []
        self.tokens: dict[str, Issued] = {}
        self.throttle = Throttle()
        self.requests: list[tuple[str, str]] = []  # (method, path?query)
        self.token_requests: list[dict[str, str]] = []
        self.throttled = 0
        self.token_lifetime = 3599
        self.download_epoch = 0  # pre-authenticated download addresses of older epochs fail
        self._lock = threading.RLock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeMicrosoft:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeMicrosoft:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ building a tenant
    def add_tenant(self, name: str = "contoso", tenant_id: str | None = None) -> Tenant:
        tenant = Tenant(id=tenant_id or str(uuid.uuid4()), name=name)
        root = Site(id=self._site_id(tenant), name=name, path="", display_name="Communication site")
        tenant.sites.append(root)
        self.tenants.append(tenant)
        return tenant

    def add_app(
        self,
        tenant: Tenant,
        *,
        secret: str | None = None,
        secret_expires: float | None = None,
        certificate_pem: bytes | None = None,
        graph_roles: set[str] | None = None,
        sharepoint_roles: set[str] | None = None,
        consented: bool = True,
    ) -> RegisteredApp:
        app = RegisteredApp(
            client_id=str(uuid.uuid4()),
            graph_roles=set(graph_roles or {"Sites.Read.All", "Files.Read.All"}),
            sharepoint_roles=set(sharepoint_roles or {"Sites.Read.All"}),
            consented=consented,
        )
        if secret:
            app.secrets[secret] = secret_expires or time.time() + 86_400 * 365
        if certificate_pem:
            self.add_certificate(app, certificate_pem)
        tenant.apps[app.client_id] = app
        return app

    @staticmethod
    def add_certificate(app: RegisteredApp, certificate_pem: bytes) -> None:
        cert = x509.load_pem_x509_certificate(certificate_pem)
        x5t = base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA1())).decode().rstrip("=")
        app.thumbprints[x5t] = cert.public_key()

    def _site_id(self, tenant: Tenant) -> str:
        return f"{tenant.hostname},{uuid.uuid4()},{uuid.uuid4()}"

    def add_site(
        self, tenant: Tenant, name: str, *, parent: Site | None = None, title: str = ""
    ) -> Site:
        path = f"{parent.path}/{name}" if parent and parent.path else f"/sites/{name}"
        site = Site(
            id=self._site_id(tenant),
            name=name,
            path=path,
            display_name=title or name.title(),
            parent=parent,
        )
        tenant.sites.append(site)
        self.add_drive(site, "Documents")
        return site

    def add_drive(self, site: Site, name: str) -> Drive:
        drive = Drive(id=f"b!{secrets.token_hex(12)}", name=name, site=site)
        site.drives.append(drive)
        return drive

    def add_file(
        self, drive: Drive, name: str, content: bytes, *, folder: DriveItem | None = None
    ) -> DriveItem:
        with self._lock:
            item = DriveItem(
                id=f"01{secrets.token_hex(10).upper()}",
                name=name,
                parent_id=folder.id if folder else None,
                content=content,
            )
            drive.items[item.id] = item
            drive.touch(item)
            return item

    def add_folder(self, drive: Drive, name: str) -> DriveItem:
        with self._lock:
            item = DriveItem(
                id=f"01{secrets.token_hex(10).upper()}", name=name, parent_id=None, folder=True
            )
            drive.items[item.id] = item
            drive.touch(item)
            return item

    def change_file(self, drive: Drive, item: DriveItem, content: bytes) -> None:
        with self._lock:
            item.content = content
            drive.touch(item)

    def delete_file(self, drive: Drive, item: DriveItem) -> None:
        with self._lock:
            item.deleted = True
            drive.touch(item)

    def add_synthetic_files(self, drive: Drive, count: int, size: int = 64) -> None:
        """`count` small text files generated on demand (never held in memory)."""
        drive.synthetic = count
        drive.synthetic_size = size

    def expire_delta_tokens(self, drive: Drive) -> None:
        """Every delta link handed out so far now answers `410 resyncRequired`."""
        with self._lock:
            drive.changes += 1
            drive.oldest_delta = drive.changes

    def add_list(self, site: Site, name: str, display_name: str = "") -> SiteList:
        site_list = SiteList(id=str(uuid.uuid4()), name=name, display_name=display_name or name)
        site.lists.append(site_list)
        return site_list

    def add_list_item(
        self, site_list: SiteList, title: str, attachments: dict[str, bytes] | None = None
    ) -> ListItem:
        with self._lock:
            item = ListItem(id=len(site_list.items) + 1, title=title)
            item.attachments.update(attachments or {})
            site_list.items[item.id] = item
            site_list.modified = time.time()
            return item

    def add_page(self, site: Site, title: str, html: str) -> SitePage:
        page = SitePage(id=len(site.pages) + 1, title=title, html=html)
        site.pages.append(page)
        return page

    def storm(self, seconds: float, retry_after: int = 1, status: int = 429) -> None:
        """Throttle every Graph and SharePoint request for `seconds`."""
        self.throttle = Throttle(
            until=time.time() + seconds, retry_after=retry_after, status=status
        )

    def throttle_next(
        self, count: int, retry_after: int = 1, status: int = 429, *, tokens: bool = False
    ) -> None:
        """Throttle the next `count` Graph and SharePoint requests (and sign-ins, with
        `tokens`)."""
        self.throttle = Throttle(
            remaining=count, retry_after=retry_after, status=status, tokens=tokens
        )

    # ------------------------------------------------------------------ dispatch
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        parts = urlsplit(target)
        path = unquote(parts.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with self._lock:
            self.requests.append((method, target))
        if method == "POST" and (m := re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", path)):
            if self.throttle.tokens and (throttled := self._throttled()):
                return throttled
            return self._token(m.group(1), body)
        if path.startswith("/_download/"):
            return self._download(path, query)
        if throttled := self._throttled():
            return throttled
        if path.startswith("/v1.0/"):
            return self._graph(method, path[len("/v1.0") :], query, headers)
        if "/_api/" in path:
            return self._rest(parts.path, query, headers)
        return graph_error(404, "itemNotFound", "The resource could not be found.")

    def _throttled(self) -> Answer | None:
        with self._lock:
            throttle = self.throttle
            if throttle.remaining > 0:
                throttle.remaining -= 1
            elif throttle.until <= time.time():
                return None
            self.throttled += 1
        answer = graph_error(
            throttle.status,
            "activityLimitReached" if throttle.status == 429 else "serviceNotAvailable",
            "The request has been throttled",
        )
        answer.headers["Retry-After"] = str(throttle.retry_after)
        return answer

    # ------------------------------------------------------------------ identity platform
    def _tenant(self, key: str) -> Tenant | None:
        for tenant in self.tenants:
            if key.lower() in (tenant.id, f"{tenant.name}.onmicrosoft.com"):
                return tenant
        return None

    def _token(self, tenant_key: str, body: bytes) -> Answer:
        form = {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        with self._lock:
            self.token_requests.append({k: v for k, v in form.items() if k != "client_secret"})
        tenant = self._tenant(tenant_key)
        if tenant is None:
            if not re.fullmatch(r"[0-9a-fA-F-]{36}|[A-Za-z0-9.-]+\.[A-Za-z]{2,}", tenant_key):
                return aad_error(
                    400,
                    "invalid_request",
                    900023,
                    f"Specified tenant identifier '{tenant_key}' is neither a valid DNS name, "
                    "nor a valid external domain.",
                )
            return aad_error(
                400,
                "invalid_request",
                90002,
                f"Tenant '{tenant_key}' not found. Check to make sure you have the correct "
                "tenant ID and are signing into the correct cloud.",
            )
        if form.get("grant_type") != "client_credentials":
            return aad_error(
                400, "unsupported_grant_type", 70003, "The grant type is not supported."
            )
        client_id = form.get("client_id", "")
        app = tenant.apps.get(client_id)
        if app is None:
            return aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{tenant.name}'. This can happen if the application has not been installed "
                "by the administrator of the tenant or consented to by any user in the tenant. "
                "You may have sent your authentication request to the wrong tenant.",
            )
        if app.disabled:
            return aad_error(400, "unauthorized_client", 7000112, "Application is disabled.")
        method, problem = self._client_authentication(tenant, app, form)
        if problem is not None:
            return problem
        scope = form.get("scope", "")
        audience = self._audience(tenant, scope)
        if isinstance(audience, Answer):
            return audience
        roles: set[str] = set()
        if app.consented:
            roles = app.graph_roles if audience == "graph" else app.sharepoint_roles
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = Issued(
                tenant, app, audience, method, set(roles), time.time() + self.token_lifetime
            )
        return Answer(
            200,
            {"token_type": "Bearer", "expires_in": self.token_lifetime, "access_token": token},
        )

    def _client_authentication(
        self, tenant: Tenant, app: RegisteredApp, form: dict[str, str]
    ) -> tuple[str, Answer | None]:
        if "client_secret" in form:
            secret = form["client_secret"]
            if secret not in app.secrets:
                return "secret", aad_error(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the "
                    f"request is the client secret value, not the client secret ID, for a "
                    f"secret added to app '{app.client_id}'.",
                )
            if app.secrets[secret] < time.time():
                return "secret", aad_error(
                    401,
                    "invalid_client",
                    7000222,
                    f"The provided client secret keys for app '{app.client_id}' are expired. "
                    "Visit the Azure portal to create new keys for your app: "
                    "https://aka.ms/NewClientSecret, or consider using certificate "
                    "credentials for added security: https://aka.ms/certCreds.",
                )
            return "secret", None
        assertion = form.get("client_assertion")
        if (
            form.get("client_assertion_type")
            != ("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            or not assertion
        ):
            return "", aad_error(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' "
                "or 'client_secret'.",
            )
        problem = self._check_assertion(tenant, app, assertion)
        return "certificate", problem

    def _check_assertion(self, tenant: Tenant, app: RegisteredApp, assertion: str) -> Answer | None:
        try:
            header_b64, claims_b64, signature_b64 = assertion.split(".")
            header = json.loads(_b64url_decode(header_b64))
            claims = json.loads(_b64url_decode(claims_b64))
            signature = _b64url_decode(signature_b64)
        except ValueError:
            return aad_error(400, "invalid_request", 50027, "JWT token is invalid or malformed.")
        key = app.thumbprints.get(str(header.get("x5t", "")).rstrip("="))
        if key is None or header.get("alg") != "RS256":
            return aad_error(
                401,
                "invalid_client",
                700027,
                "Client assertion failed signature validation. Reason - The key was not found.",
            )
        try:
            key.verify(
                signature,
                f"{header_b64}.{claims_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except Exception:
            return aad_error(
                401,
                "invalid_client",
                700027,
                "Client assertion failed signature validation. Reason - The signature is invalid.",
            )
        audience = f"{self.url}/{tenant.id}/oauth2/v2.0/token"
        alternatives = {audience, f"{self.url}/{tenant.name}.onmicrosoft.com/oauth2/v2.0/token"}
        if claims.get("aud") not in alternatives or claims.get("iss") != app.client_id:
            return aad_error(
                401,
                "invalid_client",
                700021,
                "Client assertion audience claim does not match Realm issuer.",
            )
        now = time.time()
        if not (claims.get("nbf", 0) - 300 <= now <= claims.get("exp", 0) + 300):
            return aad_error(
                401,
                "invalid_client",
                700024,
                "Client assertion is not within its valid time range.",
            )
        return None

    def _audience(self, tenant: Tenant, scope: str) -> str | Answer:
        if scope == f"{self.url}/.default" or scope == "https://graph.microsoft.com/.default":
            return "graph"
        match = re.fullmatch(r"https://([^/]+)/\.default", scope)
        if match and match.group(1).endswith(".sharepoint.com"):
            if match.group(1) == tenant.hostname:
                return "sharepoint"
            return aad_error(
                400,
                "invalid_resource",
                500011,
                f"The resource principal named https://{match.group(1)} was not found in the "
                f"tenant named {tenant.name}. This can happen if the application has not been "
                "installed by the administrator of the tenant or consented to by any user in "
                "the tenant. You might have sent your authentication request to the wrong "
                "tenant.",
            )
        return aad_error(
            400,
            "invalid_scope",
            70011,
            f"The provided value for the input parameter 'scope' is not valid. The scope "
            f"{scope} is not valid.",
        )

    def _bearer(self, headers: dict[str, str], audience: str) -> Issued | Answer:
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        issued = self.tokens.get(token)
        if issued is None or issued.expires < time.time() or issued.audience != audience:
            if audience == "sharepoint":
                return Answer(401, {"error_description": "Invalid JWT token."})
            return graph_error(
                401, "InvalidAuthenticationToken", "Access token validation failure."
            )
        if not issued.roles:
            if audience == "sharepoint":
                return Answer(
                    401, {"error_description": "Either scp or roles claim need to be present."}
                )
            return graph_error(
                401,
                "InvalidAuthenticationToken",
                "Either scp or roles claim need to be present in the token.",
            )
        return issued

    # ------------------------------------------------------------------ Graph
    def _graph(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str]
    ) -> Answer:
        issued = self._bearer(headers, "graph")
        if isinstance(issued, Answer):
            return issued
        tenant = issued.tenant
        if method != "GET":
            return graph_error(405, "invalidRequest", "Method not allowed.")
        routes: list[tuple[str, Any]] = [
            (r"/sites/?", self._g_site_collections),
            (r"/sites/root", self._g_root),
            (r"/sites/([^/:]+)/sites", self._g_sites_of),
            (r"/sites/([^/:]+):(/.+)", self._g_site_by_path),
            (r"/sites/([^/:]+)/drives", self._g_drives),
            (r"/drives/([^/]+)/root/delta", self._g_delta),
            (r"/drives/([^/]+)/items/([^/]+)/content", self._g_content),
            (r"/sites/([^/:]+)/lists", self._g_lists),
            (r"/sites/([^/:]+)/lists/([^/]+)/items", self._g_list_items),
            (r"/sites/([^/:]+)", self._g_site),
        ]
        for pattern, handler in routes:
            if m := re.fullmatch(pattern, path):
                with self._lock:
                    return handler(issued, tenant, query, *m.groups())
        return graph_error(400, "BadRequest", f"Resource not found for the segment '{path}'.")

    def _need(self, issued: Issued, allowed: set[str]) -> Answer | None:
        if issued.roles & allowed:
            return None
        return graph_error(403, "accessDenied", "Access denied")

    def _site_json(self, site: Site, tenant: Tenant) -> dict[str, Any]:
        return {
            "id": site.id,
            "name": site.name,
            "displayName": site.display_name,
            "description": "",
            "createdDateTime": iso(site.created),
            "lastModifiedDateTime": iso(site.modified),
            "webUrl": f"{self.url}{site.path}",
            "siteCollection": {"hostname": tenant.hostname},
        }

    def _paged(self, rows: list[Any] | Iterator[Any], query: dict[str, str], base: str) -> Answer:
        top = min(int(query.get("$top") or PAGE_SIZE), 1000)
        skip = int(query.get("$skiptoken") or 0)
        items = list(rows)
        page = items[skip : skip + top]
        body: dict[str, Any] = {"value": page}
        if skip + top < len(items):
            rest = {k: v for k, v in query.items() if k != "$skiptoken"}
            rest["$skiptoken"] = str(skip + top)
            body["@odata.nextLink"] = f"{self.url}/v1.0{base}?" + "&".join(
                f"{k}={quote(v, safe='')}" for k, v in rest.items()
            )
        return Answer(200, body)

    def _g_site_collections(self, issued: Issued, tenant: Tenant, query: dict[str, str]) -> Answer:
        if problem := self._need(issued, GRAPH_READ_SITES):
            return problem
        root = tenant.sites[0]
        rows = [
            {
                "webUrl": f"{self.url}{root.path}",
                "siteCollection": {"hostname": tenant.hostname, "root": {}},
            }
        ]
        return self._paged(rows, query, "/sites")

    def _g_root(self, issued: Issued, tenant: Tenant, query: dict[str, str]) -> Answer:
        if problem := self._need(issued, GRAPH_READ_SITES):
            return problem
        return Answer(200, self._site_json(tenant.sites[0], tenant))

    def _g_sites_of(
        self, issued: Issued, tenant: Tenant, query: dict[str, str], key: str
    ) -> Answer:
        if problem := self._need(issued, GRAPH_READ_SITES):
            return problem
        if key == tenant.hostname and "search" in query:
            rows = [self._site_json(s, tenant) for s in tenant.sites[1:]]
            return self._paged(rows, query, f"/sites/{key}/sites")
        site = self._site(tenant, key)
        if site is None:
            return graph_error(404, "itemNotFound", "Requested site could not be found")
        rows = [self._with_subsites(s, tenant, query) for s in tenant.sites if s.parent is site]
        return self._paged(rows, query, f"/sites/{key}/sites")

    def _with_subsites(self, site: Site, tenant: Tenant, query: dict[str, str]) -> dict[str, Any]:
        body = self._site_json(site, tenant)
        if query.get("expand") == "sites" or query.get("$expand") == "sites":
            body["sites"] = [self._site_json(s, tenant) for s in tenant.sites if s.parent is site]
        return body

    def _g_site_by_path(
        self, issued: Issued, tenant: Tenant, query: dict[str, str], host: str, path: str
    ) -> Answer:
        if problem := self._need(issued, GRAPH_READ_SITES):
            return problem
        for site in tenant.sites:
            if host == tenant.hostname and site.path.lower() == path.rstrip("/").lower():
                return Answer(200, self._with_subsites(site, tenant, query))
        return graph_error(404, "itemNotFound", "Requested site could not be found")

    def _site(self, tenant: Tenant, key: str) -> Site | None:
        return next((s for s in tenant.sites if s.id == key), None)

    def _g_site(self, issued: Issued, tenant: Tenant, query: dict[str, str], key: str) -> Answer:
        if problem := self._need(issued, GRAPH_READ_SITES):
            return problem
        site = self._site(tenant, key)
        if site is None:
            return graph_error(404, "itemNotFound", "Requested site could not be found")
        return Answer(200, self._with_subsites(site, tenant, query))

    def _g_drives(self, issued: Issued, tenant: Tenant, query: dict[str, str], key: str) -> Answer:
        if problem := self._need(issued, GRAPH_READ_FILES):
            return problem
        site = self._site(tenant, key)
        if site is None:
            return graph_error(404, "itemNotFound", "Requested site could not be found")
        rows = [
            {
                "id": d.id,
                "name": d.name,
                "description": "",
                "driveType": "documentLibrary",
                "createdDateTime": iso(site.created),
                "lastModifiedDateTime": iso(site.modified),
                "webUrl": f"{self.url}{site.path}/{quote(d.name)}",
                "createdBy": {"user": {"displayName": "System Account"}},
            }
            for d in site.drives
        ]
        return self._paged(rows, query, f"/sites/{key}/drives")

    def _drive(self, tenant: Tenant, drive_id: str) -> Drive | None:
        for site in tenant.sites:
            for drive in site.drives:
                if drive.id == drive_id:
                    return drive
        return None

    def _item_json(self, drive: Drive, item: DriveItem) -> dict[str, Any]:
        if item.deleted:
            return {
                "id": item.id,
                "deleted": {"state": "deleted"},
                "parentReference": {"driveId": drive.id},
            }
        body: dict[str, Any] = {
            "id": item.id,
            "name": item.name,
            "createdDateTime": iso(item.created),
            "lastModifiedDateTime": iso(item.modified),
            "webUrl": f"{self.url}{drive.site.path}/{quote(drive.name)}/{quote(item.name)}",
            "createdBy": {"user": {"displayName": "Adele Vance", "email": "adele@contoso.com"}},
            "lastModifiedBy": {"user": {"displayName": "Adele Vance"}},
            "parentReference": {
                "driveId": drive.id,
                "driveType": "documentLibrary",
                "id": item.parent_id or drive.root_id,
            },
        }
        if item.folder:
            body["folder"] = {"childCount": 0}
            body["size"] = 0
        else:
            body["file"] = {"mimeType": "application/octet-stream"}
            body["size"] = len(item.content)
            body["@microsoft.graph.downloadUrl"] = (
                f"{self.url}/_download/{drive.id}/{item.id}?tempauth={self._tempauth()}"
            )
        return body

    def _synthetic_json(self, drive: Drive, number: int) -> dict[str, Any]:
        item_id = f"{SYNTHETIC_PREFIX}{number:09d}"
        name = f"file-{number:06d}.txt"
        return {
            "id": item_id,
            "name": name,
            "createdDateTime": iso(drive.synthetic_modified),
            "lastModifiedDateTime": iso(drive.synthetic_modified),
            "webUrl": f"{self.url}{drive.site.path}/{quote(drive.name)}/{name}",
            "parentReference": {
                "driveId": drive.id,
                "driveType": "documentLibrary",
                "id": drive.root_id,
            },
            "file": {"mimeType": "text/plain"},
            "size": drive.synthetic_size,
            "@microsoft.graph.downloadUrl": (
                f"{self.url}/_download/{drive.id}/{item_id}?tempauth={self._tempauth()}"
            ),
        }

    def _g_delta(
        self, issued: Issued, tenant: Tenant, query: dict[str, str], drive_id: str
    ) -> Answer:
        if problem := self._need(issued, GRAPH_READ_FILES):
            return problem
        drive = self._drive(tenant, drive_id)
        if drive is None:
            return graph_error(404, "itemNotFound", "The resource could not be found.")
        token = query.get("token", "")
        since, offset = 0, 0
        if token:
            kind, _, rest = token.partition(":")
            since_text, _, offset_text = rest.partition(":")
            since, offset = int(since_text or 0), int(offset_text or 0)
            if kind == "delta" and since < drive.oldest_delta:
                return graph_error(
                    410,
                    "resyncRequired",
                    "Resync required. Replace any local items with the server's version "
                    "(including deletes) if you're sure that the service was up to date with "
                    "your local changes when you last sync'd. Upload any local changes that the "
                    "server doesn't know about.",
                )
        top = min(int(query.get("$top") or PAGE_SIZE), 1000)
        changed = sorted(
            (
                i
                for i in drive.items.values()
                if i.change > since and not (since == 0 and i.deleted)
            ),
            key=lambda i: i.change,
        )
        synthetic = drive.synthetic if since == 0 else 0
        total = len(changed) + synthetic + (1 if since == 0 else 0)
        rows: list[dict[str, Any]] = []
        position = offset
        while position < total and len(rows) < top:
            if since == 0 and position == 0:
                rows.append(
                    {
                        "id": drive.root_id,
                        "name": "root",
                        "root": {},
                        "folder": {"childCount": len(drive.items) + drive.synthetic},
                        "webUrl": f"{self.url}{drive.site.path}/{quote(drive.name)}",
                        "lastModifiedDateTime": iso(drive.site.modified),
                        "createdDateTime": iso(drive.site.created),
                        "parentReference": {"driveId": drive.id, "driveType": "documentLibrary"},
                        "size": 0,
                    }
                )
            else:
                index = position - (1 if since == 0 else 0)
                if index < synthetic:
                    rows.append(self._synthetic_json(drive, index))
                else:
                    rows.append(self._item_json(drive, changed[index - synthetic]))
            position += 1
        base = f"{self.url}/v1.0/drives/{drive.id}/root/delta"
        select = query.get("$select")
        extra = f"&$select={quote(select, safe=',')}" if select else ""
        body: dict[str, Any] = {"value": rows}
        if position < total:
            body["@odata.nextLink"] = f"{base}?token=page:{since}:{position}{extra}"
        else:
            body["@odata.deltaLink"] = f"{base}?token=delta:{drive.changes}{extra}"
        return Answer(200, body)

    def _g_content(
        self, issued: Issued, tenant: Tenant, query: dict[str, str], drive_id: str, item_id: str
    ) -> Answer:
        if problem := self._need(issued, GRAPH_READ_FILES):
            return problem
        drive = self._drive(tenant, drive_id)
        if drive is None or not self._content(drive, item_id)[0]:
            return graph_error(404, "itemNotFound", "The resource could not be found.")
        location = f"{self.url}/_download/{drive.id}/{item_id}?tempauth={self._tempauth()}"
        return Answer(302, b"", {"Location": location})

    def _content(self, drive: Drive, item_id: str) -> tuple[bool, bytes]:
        if item_id.startswith(SYNTHETIC_PREFIX):
            number = int(item_id[len(SYNTHETIC_PREFIX) :])
            line = f"Synthetic file {number} of the fake tenant.\n".encode()
            return True, (line * (drive.synthetic_size // len(line) + 1))[: drive.synthetic_size]
        item = drive.items.get(item_id)
        if item is None or item.deleted or item.folder:
            return False, b""
        return True, item.content

    def _tempauth(self) -> str:
        return f"{self.download_epoch}-{secrets.token_hex(6)}"

    def expire_download_urls(self) -> None:
        """Every pre-authenticated download address handed out so far now answers 401
        (Microsoft's last about an hour)."""
        self.download_epoch += 1

    def _download(self, path: str, query: dict[str, str]) -> Answer:
        _, _, drive_id, item_id = path.split("/", 3)
        epoch = query.get("tempauth", "").split("-", 1)[0]
        if not epoch.isdigit() or int(epoch) < self.download_epoch:
            return Answer(401, b"")
        with self._lock:
            for tenant in self.tenants:
                drive = self._drive(tenant, drive_id)
                if drive is not None:
                    found, content = self._content(drive, item_id)
                    if found:
                        return Answer(200, content, {"Content-Type": "application/octet-stream"})
        return Answer(404, b"")

    def _g_lists(self, issued: Issued, tenant: Tenant, query: dict[str, str], key: str) -> Answer:
        if problem := self._need(issued, GRAPH_READ_SITES):
            return problem
        site = self._site(tenant, key)
        if site is None:
            return graph_error(404, "itemNotFound", "Requested site could not be found")
        rows = [
            {
                "id": lst.id,
                "name": lst.name,
                "displayName": lst.display_name,
                "createdDateTime": iso(lst.created),
                "lastModifiedDateTime": iso(lst.modified),
                "webUrl": f"{self.url}{site.path}/Lists/{quote(lst.name)}",
                "createdBy": {"user": {"displayName": "Adele Vance"}},
            }
            for lst in site.lists
        ]
        return self._paged(rows, query, f"/sites/{key}/lists")

    def _g_list_items(
        self, issued: Issued, tenant: Tenant, query: dict[str, str], key: str, list_id: str
    ) -> Answer:
        if problem := self._need(issued, GRAPH_READ_SITES):
            return problem
        site = self._site(tenant, key)
        site_list = next((lst for lst in site.lists if lst.id == list_id), None) if site else None
        if site is None or site_list is None:
            return graph_error(404, "itemNotFound", "The specified list was not found")
        list_url = f"{self.url}{site.path}/Lists/{quote(site_list.name)}"
        rows = [
            {
                "id": str(item.id),
                "createdDateTime": iso(item.created),
                "lastModifiedDateTime": iso(item.modified),
                "webUrl": f"{list_url}/DispForm.aspx?ID={item.id}",
                "createdBy": {"user": {"displayName": "Adele Vance"}},
                "contentType": {"id": "0x0100", "name": item.content_type},
                "fields": {
                    "Title": item.title,
                    "Attachments": bool(item.attachments),
                    "LinkTitle": item.title,
                },
            }
            for item in site_list.items.values()
        ]
        return self._paged(rows, query, f"/sites/{key}/lists/{list_id}/items")

    # ------------------------------------------------------------------ SharePoint REST
    def _rest(self, raw_path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
        issued = self._bearer(headers, "sharepoint")
        if isinstance(issued, Answer):
            return issued
        if issued.method == "secret":
            return Answer(401, {"error_description": "Unsupported app only token."})
        if not issued.roles & SHAREPOINT_READ:
            return sharepoint_error(
                403,
                "-2147024891, System.UnauthorizedAccessException",
                "Access denied. You do not have permission to perform this action or access "
                "this resource.",
            )
        path = unquote(raw_path)
        site_path, _, api = path.partition("/_api/")
        with self._lock:
            site = next((s for s in issued.tenant.sites if s.path == site_path), None)
            if site is None:
                return sharepoint_error(
                    404, "-2147024894, System.IO.FileNotFoundException", "File Not Found."
                )
            if api == "web/lists":
                return self._r_lists(site)
            if m := re.fullmatch(r"web/lists/GetByTitle\('Site Pages'\)/items", api):
                return self._r_pages(site, query)
            if m := re.fullmatch(r"lists/GetByTitle\('(.+)'\)/items\((\d+)\)", api):
                return self._r_attachments(site, m.group(1), int(m.group(2)))
            if m := re.fullmatch(
                r"Web/Lists\(guid'([^']+)'\)/Items\((\d+)\)/AttachmentFiles\('(.+)'\)/\$value", api
            ):
                return self._r_attachment_value(site, m.group(1), int(m.group(2)), m.group(3))
        return sharepoint_error(
            400,
            "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
            "The expression is not valid.",
        )

    def _r_lists(self, site: Site) -> Answer:
        """The site's visible lists and libraries with their sizes (`ItemCount`)."""
        rows: list[dict[str, Any]] = [
            {"Title": d.name, "ItemCount": len(d.items) + d.synthetic, "BaseTemplate": 101}
            for d in site.drives
        ]
        rows += [
            {"Title": lst.display_name, "ItemCount": len(lst.items), "BaseTemplate": 100}
            for lst in site.lists
        ]
        rows.append({"Title": "Site Pages", "ItemCount": len(site.pages), "BaseTemplate": 119})
        return Answer(200, {"value": [{"Hidden": False, **row} for row in rows]})

    def _r_pages(self, site: Site, query: dict[str, str]) -> Answer:
        top = PAGE_SIZE
        skip = int(query.get("$skiptoken", "0") or 0)
        rows = [
            {
                "odata.type": "SP.Data.SitePagesItem",
                "odata.id": f"{self.url}{site.path}/_api/Web/Lists(guid'pages')/Items({p.id})",
                "Id": p.id,
                "ID": p.id,
                "Title": p.title,
                "EncodedAbsUrl": f"{self.url}{site.path}/SitePages/{quote(p.title)}.aspx",
                "CanvasContent1": p.html,
                "LayoutWebpartsContent": None,
                "WikiField": None,
                "Description": p.title,
                "Created": iso(p.modified),
                "Modified": iso(p.modified),
                "AuthorId": 6,
                "EditorId": 6,
                "OData__UIVersionString": "1.0",
                "FileLeafRef": f"{p.title}.aspx",
            }
            for p in site.pages
        ]
        body: dict[str, Any] = {"value": rows[skip : skip + top]}
        if skip + top < len(rows):
            body["odata.nextLink"] = (
                f"{self.url}{site.path}/_api/web/lists/GetByTitle('Site%20Pages')/items"
                f"?%24select=*%2cEncodedAbsUrl&$skiptoken={skip + top}"
            )
        return Answer(200, body)

    def _r_attachments(self, site: Site, list_name: str, item_id: int) -> Answer:
        site_list = next((lst for lst in site.lists if lst.name == list_name), None)
        item = site_list.items.get(item_id) if site_list else None
        if site_list is None or item is None:
            return sharepoint_error(
                404, "-2130575338, System.ArgumentException", "Item does not exist."
            )
        item_api = f"{self.url}{site.path}/_api/Web/Lists(guid'{site_list.id}')/Items({item_id})"
        folder = f"{site.path}/Lists/{site_list.name}/Attachments/{item_id}"
        files = [
            {
                "odata.type": "SP.Attachment",
                "odata.id": f"{item_api}/AttachmentFiles('{quote(name)}')",
                "FileName": name,
                "FileNameAsPath": {"DecodedUrl": name},
                "ServerRelativePath": {"DecodedUrl": f"{folder}/{name}"},
                "ServerRelativeUrl": f"{folder}/{name}",
            }
            for name in item.attachments
        ]
        return Answer(200, {"odata.type": "SP.Data.Item", "Id": item_id, "AttachmentFiles": files})

    def _r_attachment_value(self, site: Site, list_id: str, item_id: int, name: str) -> Answer:
        site_list = next((lst for lst in site.lists if lst.id == list_id), None)
        item = site_list.items.get(item_id) if site_list else None
        if item is None or name not in item.attachments:
            return sharepoint_error(
                404, "-2147024894, System.IO.FileNotFoundException", "File Not Found."
            )
        return Answer(200, item.attachments[name], {"Content-Type": "application/octet-stream"})


def aad_error(status: int, error: str, code: int, description: str) -> Answer:
    """An identity-platform error body, as Microsoft documents it."""
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return Answer(
        status,
        {
            "error": error,
            "error_description": f"AADSTS{code}: {description} Trace ID: {trace} "
            f"Correlation ID: {correlation} Timestamp: {stamp}",
            "error_codes": [code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={code}",
        },
    )


def graph_error(status: int, code: str, message: str) -> Answer:
    """A Microsoft Graph error body."""
    return Answer(
        status,
        {
            "error": {
                "code": code,
                "message": message,
                "innerError": {
                    "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                    "request-id": str(uuid.uuid4()),
                    "client-request-id": str(uuid.uuid4()),
                },
            }
        },
    )


def sharepoint_error(status: int, code: str, message: str) -> Answer:
    """A SharePoint REST error body (minimal metadata JSON)."""
    return Answer(
        status, {"odata.error": {"code": code, "message": {"lang": "en-US", "value": message}}}
    )


def certificate_pair(common_name: str = "sluice-test") -> tuple[str, str]:
    """A self-signed certificate and its unencrypted RSA key, both PEM text, as an admin
    makes them for an app registration (`openssl req -x509 -newkey rsa:2048 ...`)."""
    from datetime import timedelta

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return cert_pem, key_pem


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without this, Nagle's algorithm and the
    # client's delayed ACK hold every answer ~40 ms
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            answer = self.server.fake.handle(self.command, self.path, headers, body)
        except Exception as exc:  # a fake's bug must show as a 500, not a hang
            answer = graph_error(500, "generalException", f"{type(exc).__name__}: {exc}")
        payload = (
            answer.body
            if isinstance(answer.body, bytes)
            else (b"" if answer.body is None else json.dumps(answer.body).encode())
        )
        self.send_response(answer.status)
        content_type = "application/json" if not isinstance(answer.body, bytes) else None
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if content_type and "Content-Type" not in answer.headers:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _serve
    do_POST = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeMicrosoft


def content_hash(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()
