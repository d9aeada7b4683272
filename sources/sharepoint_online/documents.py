"""The documents, in Elastic's SharePoint Online shapes.

Elastic's connector indexes the API object as Microsoft returns it, plus `_id`,
`object_type` and `_timestamp`, and its framework copies `_id` into `id`. Keeping the same
ids, kinds and fields means an index built by Elastic's connector is updated in place by
Sluice (and back), never duplicated:

| kind | `object_type` | `_id` |
|---|---|---|
| site collection | `site_collection` | its `webUrl` |
| site | `site` | Graph site id |
| document library | `site_drive` | drive id |
| file or folder | `drive_item` | drive item id |
| list | `site_list` | list id |
| list item | `list_item` | `{list id}-{item id}` |
| list item attachment | `list_item_attachment` | the attachment's REST `odata.id` |
| site page | `site_page` | `{site id}-site_page-{page Id}` |
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sluice.core.extraction.readers import read_html
from sluice.sources.base import Document

#: The page fields Elastic keeps (SharePoint REST names), HTML ones converted to text.
PAGE_FIELDS = (
    "Id",
    "Title",
    "webUrl",
    "LayoutWebpartsContent",
    "CanvasContent1",
    "WikiField",
    "Description",
    "Created",
    "AuthorId",
    "Modified",
    "EditorId",
    "odata.id",
    "OData__UIVersionString",
)
PAGE_HTML_FIELDS = ("LayoutWebpartsContent", "CanvasContent1", "WikiField")
#: List items of these content types are SharePoint's plumbing, not content (Elastic skips
#: them too: their attachments answer 404).
SKIPPED_CONTENT_TYPES = frozenset({"Web Template Extensions", "Client Side Component Manifests"})
SKIPPED_LISTS = frozenset({"SharePointHomeCacheList"})
DRIVE_ITEM_SELECT = (
    "id,content.downloadUrl,lastModifiedDateTime,lastModifiedBy,root,deleted,file,folder,"
    "package,name,webUrl,createdBy,createdDateTime,size,parentReference"
)
DRIVE_SELECT = (
    "createdDateTime,description,id,lastModifiedDateTime,name,webUrl,driveType,createdBy,"
    "lastModifiedBy,owner"
)
LIST_SELECT = (
    "createdDateTime,id,lastModifiedDateTime,name,webUrl,displayName,createdBy,lastModifiedBy"
)
LIST_ITEM_QUERY = (
    "$select=createdDateTime,id,lastModifiedDateTime,weburl,createdBy,lastModifiedBy,"
    "contentType&$expand=fields($select=Title,Link,Attachments,LinkTitle,LinkFilename,"
    "Description,Conversation)"
)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _document(raw: dict[str, Any], doc_id: str, kind: str, timestamp: str | None) -> Document:
    document: Document = dict(raw)
    document["_id"] = doc_id
    document["id"] = doc_id  # as Elastic's framework stores it
    document["object_type"] = kind
    document["_timestamp"] = timestamp or now_iso()
    return document


def site_collection(raw: dict[str, Any], synced_at: str) -> Document:
    return _document(raw, str(raw["webUrl"]), "site_collection", synced_at)


def site(raw: dict[str, Any]) -> Document:
    body = {k: v for k, v in raw.items() if k not in ("sites", "sites@odata.context")}
    return _document(body, str(raw["id"]), "site", raw.get("lastModifiedDateTime"))


def drive(raw: dict[str, Any]) -> Document:
    return _document(raw, str(raw["id"]), "site_drive", raw.get("lastModifiedDateTime"))


def drive_item(raw: dict[str, Any]) -> Document:
    return _document(raw, str(raw["id"]), "drive_item", raw.get("lastModifiedDateTime"))


def site_list(raw: dict[str, Any]) -> Document:
    return _document(raw, str(raw["id"]), "site_list", raw.get("lastModifiedDateTime"))


def list_item(raw: dict[str, Any], list_id: str) -> Document:
    return _document(raw, f"{list_id}-{raw['id']}", "list_item", raw.get("lastModifiedDateTime"))


def attachment(raw: dict[str, Any], site_web_url: str, item_modified: str | None) -> Document:
    """A list item's attachment; its `webUrl` is the file's address on the site's host."""
    body = dict(raw)
    decoded = (raw.get("ServerRelativePath") or {}).get("DecodedUrl")
    if decoded:
        body["webUrl"] = _origin(site_web_url) + decoded
    return _document(body, str(raw["odata.id"]), "list_item_attachment", item_modified)


def site_page(raw: dict[str, Any], site_id: str) -> Document:
    """A page of the Site Pages library, with its HTML parts as text (and all of it in
    `body`, for search)."""
    body: dict[str, Any] = {}
    for key in PAGE_FIELDS:
        if key == "webUrl":
            body["webUrl"] = raw.get("EncodedAbsUrl")
        elif key in raw:
            body[key] = raw[key]
    texts = []
    for key in PAGE_HTML_FIELDS:
        value = body.get(key)
        if isinstance(value, str) and value:
            body[key] = read_html(value.encode("utf-8"))
            texts.append(body[key])
    if texts:
        body["body"] = "\n\n".join(texts)
    return _document(body, f"{site_id}-site_page-{raw.get('Id')}", "site_page", raw.get("Modified"))


def drive_item_is_file(raw: dict[str, Any]) -> bool:
    return "file" in raw and "deleted" not in raw and "folder" not in raw


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
