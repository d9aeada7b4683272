"""The `sharepoint_online` source: a Microsoft 365 tenant's sites, document libraries and
files, lists and list items (with attachments), and site pages.

Microsoft Graph serves sites, drives, files (`root/delta`: one enumeration that also hands
back a delta link, so the next incremental sync reads only what changed), lists and list
items; SharePoint's REST API serves what Graph lacks: the Site Pages library's items and list
item attachments. Documents keep Elastic's ids and fields (`documents.py`), and the sync
cursor keeps Elastic's shape (`site_drives` → delta link, `cursor_timestamp`), so either
service can continue the other's incremental syncs.

Memory stays flat with the tenant's size: every collection is read a page at a time and
each page is yielded before the next is asked for; a file's bytes are fetched only when the
engine writes its document (lazy content), one bounded set at a time.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import quote

from sluice.core import extraction
from sluice.core.engine.progress import SourceWaiting
from sluice.core.engine.source import Operation, SourceEvent, SourceNotice
from sluice.sources.base import (
    BaseSource,
    ContentError,
    SourceDocument,
    SourceItem,
    advanced_rules,
)
from sluice.sources.errors import ConfigurationError, InsufficientPrivilegesError, SourceError
from sluice.sources.sharepoint_online import documents as docs
from sluice.sources.sharepoint_online.client import (
    GRAPH,
    SHAREPOINT,
    Gone,
    LinkExpired,
    MicrosoftClient,
    NotFound,
    Throttled,
)
from sluice.sources.sharepoint_online.clouds import CUSTOM, cloud_of
from sluice.sources.sharepoint_online.credentials import ClientCertificate, ClientSecret, Credential
from sluice.sources.sharepoint_online.problems import NoAdminConsentError, SiteNotFoundError
from sluice.sources.sharepoint_online.schema import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_FILE_SIZE,
    DEFAULT_THROTTLE_MINUTES,
    default_configuration,
)

RULE_SKIP_OLDER = "skipExtractingDriveItemsOlderThan"
#: SharePoint's BaseTemplate of a document library (100 is a generic list, 119 Site Pages).
LIBRARY_TEMPLATE = 101
#: Sites whose address holds this segment are SharePoint Embedded containers, not sites.
EXCLUDED_PATH_SEGMENT = "/contentstorage/"
PERMISSIONS = {
    "Graph": ["Sites.Read.All", "Files.Read.All"],
    "SharePoint": ["Sites.Read.All"],
}
NO_REST_NOTICE = (
    "Site pages and list item attachments were left out: SharePoint's REST API accepts "
    "app-only tokens from certificates only. Set 'Authentication Method' to Certificate to "
    "include them."
)

Emit = Callable[[SourceEvent], None]


class SharePointOnlineSource(BaseSource):
    """Sites, libraries and files, lists and items, and pages of a Microsoft 365 tenant."""

    service_type = "sharepoint_online"
    display_name = "SharePoint Online"
    description = (
        "Sites, document libraries and files, lists, list items and site pages of a "
        "Microsoft 365 tenant."
    )
    lazy_content = True
    incremental_sync_enabled = True
    advanced_rules_enabled = True
    prerequisites = [
        "An app registration in Microsoft Entra ID (Entra admin center > App registrations > "
        "New registration, single tenant): note its Application (client) ID and Directory "
        "(tenant) ID.",
        "A credential on the app: a certificate (recommended; needed for site pages and list "
        "attachments) — openssl req -x509 -nodes -days 365 -newkey rsa:2048 -keyout "
        "app.key -out app.crt, upload app.crt under Certificates & secrets — or a client "
        "secret (copy its Value).",
        "Application permissions (API permissions > Add a permission): Microsoft Graph "
        "Sites.Read.All and Files.Read.All; SharePoint Sites.Read.All.",
        "Admin consent for those permissions, by a Global or Privileged Role Administrator: "
        "https://login.microsoftonline.com/<tenant id>/adminconsent?client_id=<client id> "
        "(step 5 fills in both and shows it to copy).",
        "Your tenant name: the <name> of https://<name>.sharepoint.com.",
    ]

    @classmethod
    def get_default_configuration(cls) -> dict[str, dict[str, Any]]:
        return default_configuration()

    def __init__(self, configuration: Mapping[str, Any]) -> None:
        super().__init__(configuration)
        values = self.values
        self.cloud = cloud_of(values)
        self.tenant_id = str(values.get("tenant_id") or "").strip()
        self.tenant_name = _tenant_name(str(values.get("tenant_name") or ""))
        self.client_id = str(values.get("client_id") or "").strip()
        self.auth_method = str(values.get("auth_method") or "secret")
        self.extract = values.get("extract_text") is not False
        self.max_file_size = _positive(values.get("max_file_size"), DEFAULT_MAX_FILE_SIZE)
        self.concurrency = min(50, _positive(values.get("concurrency"), DEFAULT_CONCURRENCY))
        self.max_throttle_minutes = _positive(
            values.get("max_throttle_minutes"), DEFAULT_THROTTLE_MINUTES
        )
        self.files_read = 0
        self._client: MicrosoftClient | None = None
        self._listeners: list[Emit] = []
        self._skip_older_days: int | None = None
        self._told: set[str] = set()
        self._coverage: dict[str, int] | None = None

    # ------------------------------------------------------------ what the engine hears
    def watch(self, listener: Emit) -> None:
        """The engine listens here: throttling waits (shown live) and notices."""
        self._listeners.append(listener)

    def _emit(self, event: SourceEvent) -> None:
        for listener in self._listeners:
            listener(event)

    def _tell(self, notice: str) -> None:
        if notice not in self._told:
            self._told.add(notice)
            self.logger.warning("%s", notice)
            self._emit(SourceNotice(notice))

    def _on_throttle(self, throttled: Throttled | None) -> None:
        if throttled is None:
            self._emit(None)
        else:
            reason = f"throttled by Microsoft (HTTP {throttled.status})"
            self._emit(SourceWaiting(throttled.since, throttled.until, reason))

    # ------------------------------------------------------------ checks
    def check_values(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if self.values.get("use_document_level_security"):
            errors["use_document_level_security"] = (
                "'Enable document level security': Sluice's engine does not apply document "
                "level security yet. Turn it off, or let Elastic's connector service run "
                "this connector."
            )
        if self.tenant_id and not (
            _GUID.fullmatch(self.tenant_id) or _DOMAIN.fullmatch(self.tenant_id)
        ):
            errors["tenant_id"] = (
                f"'Tenant ID' {self.tenant_id!r} is not a tenant id: paste the Directory "
                "(tenant) ID from the app's Overview page (a GUID), or the tenant's domain "
                "(contoso.onmicrosoft.com)."
            )
        if self.client_id and not _GUID.fullmatch(self.client_id):
            errors["client_id"] = (
                f"'Client ID' {self.client_id!r} is not an application id: paste the "
                "Application (client) ID from the app's Overview page (a GUID like "
                "6731de76-14a6-49ae-97bc-6eba6914391e), not the secret or object id."
            )
        if self.tenant_name and not _valid_tenant_name(self.tenant_name):
            errors["tenant_name"] = (
                f"'Tenant name' {self.tenant_name!r} is not a tenant name: use the <name> of "
                "https://<name>.sharepoint.com (letters and digits)."
            )
        if self.values.get("cloud") == CUSTOM:
            for key, label in (
                ("login_endpoint", "Sign-in endpoint"),
                ("graph_endpoint", "Microsoft Graph endpoint"),
            ):
                value = str(self.values.get(key) or "")
                if not value.startswith(("https://", "http://")):
                    errors[key] = f"'{label}' must be an address like https://host, not {value!r}."
        if self.auth_method == "certificate" and not errors:
            try:
                ClientCertificate.from_pem(
                    str(self.values.get("certificate") or ""),
                    str(self.values.get("private_key") or ""),
                )
            except ConfigurationError as exc:
                errors.update(exc.field_errors)
        return errors

    def _credential(self) -> Credential:
        if self.auth_method == "certificate":
            return ClientCertificate.from_pem(
                str(self.values.get("certificate") or ""),
                str(self.values.get("private_key") or ""),
            )
        return ClientSecret(str(self.values.get("secret_value") or ""))

    @property
    def client(self) -> MicrosoftClient:
        if self._client is None:
            self._client = MicrosoftClient(
                cloud=self.cloud,
                tenant_id=self.tenant_id,
                tenant_name=self.tenant_name,
                client_id=self.client_id,
                credential=self._credential(),
                auth_method=self.auth_method,
                concurrency=self.concurrency,
                max_throttle_wait=self.max_throttle_minutes * 60.0,
            )
            self._client.listeners.append(self._on_throttle)
        return self._client

    @property
    def consent_url(self) -> str:
        return self.cloud.admin_consent_url(self.tenant_id, self.client_id)

    @property
    def uses_rest(self) -> bool:
        """SharePoint's REST API (pages, attachments) takes certificate tokens only."""
        return self.auth_method == "certificate"

    async def ping(self) -> None:
        """Sign in to Graph (and SharePoint with a certificate), and read the root site."""
        client = self.client
        await client.token(GRAPH)
        # also with a secret (whose token SharePoint's REST API refuses): the identity
        # platform checks 'Tenant name' when it issues a token for <name>.sharepoint.com
        await client.token(SHAREPOINT)

    async def validate_config(self) -> None:
        await super().validate_config()
        await self.ping()
        self._coverage = await self.check_sites()

    def coverage(self) -> str | None:
        if self._coverage is None:
            return None
        sites, libraries, lists = (
            self._coverage["sites"],
            self._coverage["libraries"],
            self._coverage["lists"],
        )
        return (
            f"{sites} site{'s' * (sites != 1)}, {libraries} document "
            f"librar{'ies' if libraries != 1 else 'y'} and {lists} list{'s' * (lists != 1)}"
        )

    def setup_links(self) -> list[tuple[str, str]]:
        """The admin-consent page for this tenant and app, once both ids are typed."""
        if not self.tenant_id or not self.client_id:
            return []
        return [("Admin consent", self.consent_url)]

    async def check_sites(self) -> dict[str, int]:
        """What a sync will cover: the configured sites exist and can be read, with the
        libraries and lists under them counted (for the user, and progress)."""
        counts = {"sites": 0, "libraries": 0, "lists": 0}
        async for _collection, site in self._sites():
            counts["sites"] += 1
            counts["libraries"] += sum(
                [len(page.get("value", [])) async for page in self._drive_pages(site)]
            )
            counts["lists"] += sum(
                [len(page.get("value", [])) async for page in self._list_pages(site)]
            )
        if counts["sites"] == 0:
            raise SiteNotFoundError(
                "No site matches 'Comma-separated list of sites'.",
                "Use * for every site, or names (with 'Enumerate all sites?') or paths "
                "(like sites/marketing, without it) of existing sites.",
                fields=["site_collections"],
            )
        return counts

    async def count_documents(self, filtering: Mapping[str, Any] | None = None) -> int | None:
        """An estimate of what a full sync yields, for progress and ETA: SharePoint's
        `ItemCount` of every visible list and library of each site (its REST API, so with a
        certificate only; None otherwise). Graph has no count of a library's files."""
        if not self.uses_rest:
            return None
        sites = await self._find_sites()
        total = len({collection["webUrl"] for collection, _ in sites})
        for _collection, site in sites:
            total += 1
            url = (
                f"{site['webUrl']}/_api/web/lists"
                "?$select=Title,ItemCount,BaseTemplate,Hidden&$filter=Hidden%20eq%20false"
            )
            async for page in self.client.pages(
                url,
                audience=SHAREPOINT,
                what="list sizes",
                permission="Sites.Read.All",
                missing_ok=True,
            ):
                for info in page.get("value", []):
                    # a library: its drive and root folder too; a list: its own document
                    extra = 2 if info.get("BaseTemplate") == LIBRARY_TEMPLATE else 1
                    total += int(info.get("ItemCount") or 0) + extra
        return total

    # ------------------------------------------------------------ sync rules
    def advanced_rules_validate(self, rules: Any) -> list[str]:
        if not isinstance(rules, Mapping):
            return ['advanced rules must be a JSON object, like {"' + RULE_SKIP_OLDER + '": 60}.']
        problems = [
            f"unknown key {key!r}: the only advanced rule is {RULE_SKIP_OLDER!r}."
            for key in rules
            if key != RULE_SKIP_OLDER
        ]
        days = rules.get(RULE_SKIP_OLDER)
        if RULE_SKIP_OLDER in rules and (
            not isinstance(days, int) or isinstance(days, bool) or days < 0
        ):
            problems.append(f"{RULE_SKIP_OLDER!r} must be a whole number of days (0 or more).")
        return problems

    def _read_rules(self, filtering: Mapping[str, Any] | None) -> None:
        rules = advanced_rules(filtering)
        self._skip_older_days = None
        if isinstance(rules, Mapping) and isinstance(rules.get(RULE_SKIP_OLDER), int):
            self._skip_older_days = int(rules[RULE_SKIP_OLDER])

    # ------------------------------------------------------------ full sync
    async def get_docs(
        self, filtering: Mapping[str, Any] | None = None
    ) -> AsyncIterator[SourceItem]:
        """Everything the configured sites hold. The drives' delta links read on the way
        become `self.sync_cursor`, the start of the next incremental sync."""
        self._read_rules(filtering)
        started = docs.now_iso()
        cursor: dict[str, Any] = {"site_drives": {}, "cursor_timestamp": started}
        seen_collections: set[str] = set()
        async for collection, site in self._sites():
            if collection["webUrl"] not in seen_collections:
                seen_collections.add(collection["webUrl"])
                yield docs.site_collection(collection, started)
            async for item, _operation in self._site_content(site, cursor, since=None):
                yield item
        self.sync_cursor = cursor

    # ------------------------------------------------------------ incremental sync
    async def get_docs_incrementally(
        self, sync_cursor: Any, filtering: Mapping[str, Any] | None = None
    ) -> AsyncIterator[tuple[SourceItem, Operation]]:
        """Files changed since the cursor (each library's delta link: new, changed and
        deleted items), and sites, lists, list items and pages modified since its time.
        Unlike a full sync, nothing but files is deleted."""
        self._read_rules(filtering)
        old = _cursor(sync_cursor)
        since = old["cursor_timestamp"]
        started = docs.now_iso()
        cursor: dict[str, Any] = {
            "site_drives": dict(old["site_drives"]),
            "cursor_timestamp": started,
        }
        seen_collections: set[str] = set()
        async for collection, site in self._sites():
            if collection["webUrl"] not in seen_collections:
                seen_collections.add(collection["webUrl"])
                yield docs.site_collection(collection, started), Operation.INDEX
            async for pair in self._site_content(site, cursor, since=since):
                yield pair
        self.sync_cursor = cursor

    def supports_incremental_sync(self) -> bool:
        return True

    # ------------------------------------------------------------ walking the tenant
    async def _site_content(
        self, site: dict[str, Any], cursor: dict[str, Any], since: str | None
    ) -> AsyncIterator[tuple[SourceItem, Operation]]:
        index = Operation.INDEX
        if _changed(site.get("lastModifiedDateTime"), since):
            yield docs.site(site), index
        async for page in self._drive_pages(site):
            for drive in page.get("value", []):
                yield docs.drive(drive), index  # always: a file's change leaves it as it was
                async for pair in self._drive_items(drive, cursor, incremental=since is not None):
                    yield pair
        async for page in self._list_pages(site):
            for site_list in page.get("value", []):
                if site_list.get("name") in docs.SKIPPED_LISTS:
                    continue
                if _changed(site_list.get("lastModifiedDateTime"), since):
                    yield docs.site_list(site_list), index
                async for item in self._list_items(site, site_list, since):
                    yield item, index
        if self.uses_rest:
            async for item in self._pages(site, since):
                yield item, index
        else:
            self._tell(NO_REST_NOTICE)

    async def _sites(self) -> AsyncIterator[tuple[dict[str, Any], dict[str, Any]]]:
        """(site collection, site) for every configured site, each site once. All are found
        before the first is yielded, so a configured site that is missing fails the sync
        before anything is written (a tenant's sites fit in memory; its files need not)."""
        for pair in await self._find_sites():
            yield pair

    async def _find_sites(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        wanted = [str(s).strip().strip("/") for s in self.values.get("site_collections") or []]
        wanted = [s for s in wanted if s] or ["*"]
        everything = wanted == ["*"]
        seen: set[str] = set()
        found_names: set[str] = set()
        found: list[tuple[dict[str, Any], dict[str, Any]]] = []
        async for collection in self._site_collections():
            hostname = collection["siteCollection"]["hostname"]
            if everything or self.values.get("enumerate_all_sites") is not False:
                sites = self._all_sites(hostname)
            else:
                sites = self._sites_by_path(hostname, wanted)
            async for site in sites:
                if (
                    site["id"] in seen
                    or EXCLUDED_PATH_SEGMENT in str(site.get("webUrl", "")).lower()
                ):
                    continue
                by_name = not everything and self.values.get("enumerate_all_sites") is not False
                if by_name and site.get("name") not in wanted:
                    continue
                seen.add(site["id"])
                found_names.add(str(site.get("name")))
                found_names.add(_site_path(site))
                found.append((collection, site))
        if not everything:
            missing = [
                s
                for s in wanted
                if s not in found_names and s.removeprefix("sites/") not in found_names
            ]
            if missing:
                raise SiteNotFoundError(
                    f"These configured sites do not exist or the app may not see them: "
                    f"{', '.join(missing)}.",
                    "Check 'Comma-separated list of sites': site names with 'Enumerate all "
                    "sites?' on, site paths (like sites/marketing) with it off.",
                    fields=["site_collections"],
                )
        return found

    async def _site_collections(self) -> AsyncIterator[dict[str, Any]]:
        url = (
            f"{self.client.graph_root}/sites/?$filter=siteCollection/root%20ne%20null"
            "&$select=siteCollection,webUrl"
        )
        try:
            async for page in self.client.pages(
                url, what="the tenant's site collections", permission="Sites.Read.All"
            ):
                for collection in page.get("value", []):
                    yield collection
        except NoAdminConsentError:
            raise
        except InsufficientPrivilegesError:
            # an app without Sites.Read.All may not list collections: the root site's own
            root = await self.client.get_json(
                f"{self.client.graph_root}/sites/root",
                what="the root site",
                permission="Sites.Read.All",
            )
            yield root

    async def _all_sites(self, hostname: str) -> AsyncIterator[dict[str, Any]]:
        url = f"{self.client.graph_root}/sites/{hostname}/sites?search=*"
        async for page in self.client.pages(
            url, what="the tenant's sites", permission="Sites.Read.All"
        ):
            for site in page.get("value", []):
                yield site

    async def _sites_by_path(
        self, hostname: str, paths: list[str]
    ) -> AsyncIterator[dict[str, Any]]:
        subsites = self.values.get("fetch_subsites") is not False
        for path in paths:
            relative = (
                path if path.startswith("sites/") or path.startswith("teams/") else f"sites/{path}"
            )
            url = f"{self.client.graph_root}/sites/{hostname}:/{quote(relative)}"
            if subsites:
                url += "?expand=sites"
            try:
                site = await self.client.get_json(
                    url, what=f"the site {path}", permission="Sites.Read.All"
                )
            except NotFound:
                continue  # reported as missing once all are read
            async for found in self._with_subsites(site):
                yield found

    async def _with_subsites(self, site: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The site, then, when Graph's `expand=sites` showed it has some, its sub-sites
        (read with theirs expanded, depth first)."""
        children = site.pop("sites", None)
        site.pop("sites@odata.context", None)
        yield site
        if not children:
            return
        url = f"{self.client.graph_root}/sites/{site['id']}/sites?expand=sites"
        async for page in self.client.pages(url, what="sub-sites", permission="Sites.Read.All"):
            for child in page.get("value", []):
                async for found in self._with_subsites(child):
                    yield found

    def _drive_pages(self, site: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        where = _site_path(site) or "the root site"
        return self._site_pages(
            site,
            f"drives?$select={docs.DRIVE_SELECT}",
            f"the document libraries of {where}",
            "Files.Read.All",
        )

    def _list_pages(self, site: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        where = _site_path(site) or "the root site"
        return self._site_pages(
            site, f"lists?$select={docs.LIST_SELECT}", f"the lists of {where}", "Sites.Read.All"
        )

    def _site_pages(
        self, site: dict[str, Any], path: str, what: str, permission: str
    ) -> AsyncIterator[dict[str, Any]]:
        """The pages of one of a site's Graph collections; none when the site has gone."""
        url = f"{self.client.graph_root}/sites/{site['id']}/{path}"
        return self.client.pages(url, what=what, permission=permission, missing_ok=True)

    # ------------------------------------------------------------ files
    async def _drive_items(
        self, drive: dict[str, Any], cursor: dict[str, Any], *, incremental: bool
    ) -> AsyncIterator[tuple[SourceItem, Operation]]:
        """The library's files and folders through `root/delta`: all of them without a
        delta link, what changed since it with one; the new link goes into the cursor once
        the last page is read."""
        drive_id = str(drive["id"])
        fresh = (
            f"{self.client.graph_root}/drives/{drive_id}/root/delta"
            f"?$select={docs.DRIVE_ITEM_SELECT}"
        )
        link = cursor["site_drives"].get(drive_id) if incremental else None
        try:
            async for pair in self._delta(link or fresh, drive, cursor):
                yield pair
        except Gone:
            # the delta link expired (resyncRequired): read the library whole again
            self._tell(
                f"The change token of library '{drive.get('name')}' had expired: it was read "
                "whole again; files deleted meanwhile go at the next full sync."
            )
            async for pair in self._delta(fresh, drive, cursor):
                yield pair

    async def _delta(
        self, url: str, drive: dict[str, Any], cursor: dict[str, Any]
    ) -> AsyncIterator[tuple[SourceItem, Operation]]:
        what = f"the files of library '{drive.get('name')}'"
        async for page in self.client.pages(url, what=what, permission="Files.Read.All"):
            for raw in page.get("value", []):
                if "deleted" in raw:
                    yield {"_id": str(raw["id"])}, Operation.DELETE
                else:
                    yield self._file(raw), Operation.INDEX
            if delta_link := page.get("@odata.deltaLink"):
                cursor["site_drives"][str(drive["id"])] = delta_link

    def _file(self, raw: dict[str, Any]) -> SourceItem:
        document = docs.drive_item(raw)
        name = str(raw.get("webUrl") or raw.get("name") or raw["id"])
        if not docs.drive_item_is_file(raw) or not self.extract:
            return SourceDocument(document, name=name)
        filename = str(raw.get("name") or "")
        if not extraction.supported_extension(filename) or not raw.get("size"):
            return SourceDocument(document, name=name)
        if int(raw.get("size") or 0) > self.max_file_size:
            self.logger.info("%s is over the size limit; indexed without its text.", name)
            return SourceDocument(document, name=name)
        if self._too_old(raw.get("lastModifiedDateTime")):
            return SourceDocument(document, name=name)
        drive_id = (raw.get("parentReference") or {}).get("driveId")
        url = f"{self.client.graph_root}/drives/{drive_id}/items/{raw['id']}/content"
        # Graph's pre-authenticated address first: one request, outside Graph's quota
        direct = raw.get("@microsoft.graph.downloadUrl")
        load = partial(self._text, url, filename, GRAPH, direct=direct)
        return SourceDocument(document, name=name, content=load)

    def _too_old(self, modified: Any) -> bool:
        if self._skip_older_days is None or not isinstance(modified, str):
            return False
        try:
            moment = datetime.fromisoformat(modified.replace("Z", "+00:00"))
        except ValueError:
            return False
        return moment < datetime.now(UTC) - timedelta(days=self._skip_older_days)

    async def _text(
        self, url: str, filename: str, audience: str, direct: str | None = None
    ) -> dict[str, Any]:
        """A file's text as `body` (lazy content: fetched only for documents written).
        `direct`: a pre-authenticated address to try first; `url` once it has expired."""
        self.files_read += 1
        try:
            data = None
            if direct:
                try:
                    data = await self.client.download(
                        direct, audience=None, what=filename, max_bytes=self.max_file_size
                    )
                except LinkExpired:
                    direct = None
            if not direct:
                data = await self.client.download(
                    url, audience=audience, what=filename, max_bytes=self.max_file_size
                )
        except SourceError as exc:
            raise ContentError(f"{filename}: {exc}") from None
        except NotFound:
            raise ContentError(
                f"{filename}: gone from SharePoint before it could be read"
            ) from None
        if data is None:
            return {}  # grew past the limit since it was listed
        try:
            text = await extraction.extract_text(
                data, filename=filename, max_bytes=self.max_file_size
            )
        except extraction.ExtractionError as exc:
            raise ContentError(str(exc)) from None
        return {"body": text}

    # ------------------------------------------------------------ lists
    async def _list_items(
        self, site: dict[str, Any], site_list: dict[str, Any], since: str | None
    ) -> AsyncIterator[SourceItem]:
        list_id = str(site_list["id"])
        url = (
            f"{self.client.graph_root}/sites/{site['id']}/lists/{list_id}/items"
            f"?{docs.LIST_ITEM_QUERY}"
        )
        what = f"the items of list '{site_list.get('displayName') or site_list.get('name')}'"
        pages = self.client.pages(url, what=what, permission="Sites.Read.All", missing_ok=True)
        async for page in pages:
            for item in page.get("value", []):
                if (item.get("contentType") or {}).get("name") in docs.SKIPPED_CONTENT_TYPES:
                    continue
                if not _changed(item.get("lastModifiedDateTime"), since):
                    continue
                fields = item.get("fields") or {}
                if fields.get("Attachments") and self.uses_rest:
                    async for attachment in self._attachments(site, site_list, item):
                        yield attachment
                document = docs.list_item(item, list_id)
                yield SourceDocument(document, name=str(item.get("webUrl") or document["_id"]))

    async def _attachments(
        self, site: dict[str, Any], site_list: dict[str, Any], item: dict[str, Any]
    ) -> AsyncIterator[SourceItem]:
        web_url = str(site["webUrl"])
        name = quote(str(site_list.get("name")), safe="")
        url = (
            f"{web_url}/_api/lists/GetByTitle('{name}')/items({item['id']})?$expand=AttachmentFiles"
        )
        try:
            body = await self.client.get_json(
                url, audience=SHAREPOINT, what="list item attachments", permission="Sites.Read.All"
            )
        except NotFound:
            return
        for raw in body.get("AttachmentFiles") or []:
            document = docs.attachment(raw, web_url, item.get("lastModifiedDateTime"))
            filename = str(raw.get("FileName") or "")
            label = str(document.get("webUrl") or filename)
            if self.extract and extraction.supported_extension(filename):
                load = partial(self._text, f"{raw['odata.id']}/$value", filename, SHAREPOINT)
                yield SourceDocument(document, name=label, content=load)
            else:
                yield SourceDocument(document, name=label)

    # ------------------------------------------------------------ pages
    async def _pages(self, site: dict[str, Any], since: str | None) -> AsyncIterator[SourceItem]:
        url = (
            f"{site['webUrl']}/_api/web/lists/GetByTitle('Site%20Pages')/items"
            "?$select=*,EncodedAbsUrl"
        )
        async for page in self.client.pages(
            url,
            audience=SHAREPOINT,
            what="site pages",
            permission="Sites.Read.All",
            missing_ok=True,
        ):
            for raw in page.get("value", []):
                if not _changed(raw.get("Modified"), since):
                    continue
                document = await asyncio.to_thread(docs.site_page, raw, str(site["id"]))
                yield SourceDocument(document, name=str(document.get("webUrl") or document["_id"]))

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()


def _cursor(value: Any) -> dict[str, Any]:
    """Elastic's cursor shape, checked; a cursor of another shape starts from nothing."""
    if isinstance(value, Mapping) and isinstance(value.get("site_drives"), Mapping):
        return {
            "site_drives": {str(k): str(v) for k, v in value["site_drives"].items()},
            "cursor_timestamp": str(value.get("cursor_timestamp") or "1970-01-01T00:00:00Z"),
        }
    raise SourceError(
        "This connector has no usable sync cursor for an incremental sync.",
        "Run a full sync first; incremental syncs continue from it.",
    )


def _changed(modified: Any, since: str | None) -> bool:
    """True in a full sync; in an incremental one, when modified at or after `since`
    (ISO 8601 strings of one form compare as times)."""
    if since is None:
        return True
    return not isinstance(modified, str) or modified >= since


def _site_path(site: Mapping[str, Any]) -> str:
    """`sites/marketing` of a site's address (empty for the root site)."""
    url = str(site.get("webUrl") or "")
    for marker in ("/sites/", "/teams/"):
        if marker in url:
            return marker.strip("/") + "/" + url.split(marker, 1)[1].strip("/")
    return ""


def _tenant_name(value: str) -> str:
    """The tenant's name, also from a pasted address (contoso.sharepoint.com, https://...)."""
    value = value.strip().lower().removeprefix("https://").removeprefix("http://")
    return value.split("/", 1)[0].split(".", 1)[0]


_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DOMAIN = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def _valid_tenant_name(name: str) -> bool:
    return name.isascii() and name.replace("-", "").isalnum()


def _positive(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default
