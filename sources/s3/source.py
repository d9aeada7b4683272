"""The `s3` source: objects of Amazon S3 buckets, or of any S3-compatible store."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from sluice.sources.base import ContentError, Document, advanced_rules
from sluice.sources.errors import (
    AdvancedRulesError,
    InsufficientPrivilegesError,
    SourceError,
)
from sluice.sources.filetree.schema import text_extraction_service_field, tree_fields
from sluice.sources.filetree.source import FileTreeSource, Unlisted, positive
from sluice.sources.filetree.tree import RemoteFile, Root, iso_utc
from sluice.sources.s3 import problems
from sluice.sources.s3.client import MAX_PAGE_SIZE, S3Client, S3Settings

DEFAULT_PAGE_SIZE = 100
DEFAULT_MAX_RETRY_ATTEMPTS = 5
DEFAULT_CONNECTION_TIMEOUT = 90
DEFAULT_READ_TIMEOUT = 90
#: Storage classes whose objects cannot be read until restored.
ARCHIVED_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})


def iam_policy(buckets: list[str]) -> dict[str, Any]:
    """The least IAM policy a sync needs for `buckets` (every bucket: `*`)."""
    names = buckets or ["*"]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets"], "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": [f"arn:aws:s3:::{name}" for name in names],
            },
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{name}/*" for name in names],
            },
        ],
    }


class S3Source(FileTreeSource):
    """Objects of S3 buckets, with their text."""

    #: S3 lists keys in UTF-8 binary order: a stopped sync continues after its last key.
    sorted_listing = True

    service_type = "s3"
    display_name = "Amazon S3"
    description = "Objects of S3 buckets (AWS or S3-compatible: MinIO, Ceph, R2…), with text."
    prerequisites = [
        "An IAM user (or a store's access key) for Sluice, with an access key id and secret.",
        "Its policy allows s3:ListBucket and s3:GetBucketLocation on each bucket, "
        "s3:GetObject on its objects (arn:aws:s3:::BUCKET/*), and s3:ListAllMyBuckets "
        "(for '*'). Step 5 shows that policy for the buckets you type, to copy.",
        "For MinIO, Ceph, SeaweedFS, Cloudflare R2 or Wasabi: the store's S3 endpoint URL "
        "(such as https://minio.example.com:9000) and its region name.",
    ]
    advanced_rules_enabled = True
    roots_key = "buckets"
    root_kind = "bucket"

    @classmethod
    def get_default_configuration(cls) -> dict[str, dict[str, Any]]:
        return {
            # Elastic's keys, order, types and defaults (connectors/sources/s3/datasource.py)
            "buckets": {
                "display": "textarea",
                "label": "AWS Buckets",
                "order": 1,
                "tooltip": "AWS Buckets are ignored when Advanced Sync Rules are used. "
                "Comma-separated; * for every bucket; bucket/prefix/ reads only keys "
                "under that prefix.",
                "type": "list",
            },
            "aws_access_key_id": {"label": "AWS Access Key Id", "order": 2, "type": "str"},
            "aws_secret_access_key": {
                "label": "AWS Secret Key",
                "order": 3,
                "sensitive": True,
                "type": "str",
            },
            "read_timeout": _advanced_int("Read timeout", 4, DEFAULT_READ_TIMEOUT),
            "connect_timeout": _advanced_int("Connection timeout", 5, DEFAULT_CONNECTION_TIMEOUT),
            "max_attempts": _advanced_int("Maximum retry attempts", 6, DEFAULT_MAX_RETRY_ATTEMPTS),
            "page_size": _advanced_int("Maximum size of page", 7, DEFAULT_PAGE_SIZE)
            | {"validations": [{"type": "less_than", "constraint": MAX_PAGE_SIZE + 1}]},
            "use_text_extraction_service": text_extraction_service_field(8),
            # Sluice's: S3-compatible stores
            "endpoint_url": {
                "label": "Endpoint URL",
                "order": 9,
                "type": "str",
                "required": False,
                "value": "",
                "tooltip": "Empty for Amazon S3. For an S3-compatible store: its address, "
                "like https://minio.example.com:9000 (path-style requests).",
            },
            "region": {
                "label": "Region",
                "order": 10,
                "type": "str",
                "required": False,
                "value": "",
                "tooltip": "Empty for Amazon S3 (each bucket's region is looked up). "
                "For another store: the region it expects (us-east-1 for most).",
            },
            **tree_fields(11),
        }

    def __init__(self, configuration: Mapping[str, Any]) -> None:
        super().__init__(configuration)
        values = self.values
        self.endpoint = str(values.get("endpoint_url") or "").strip().rstrip("/")
        self.page_size = positive(values.get("page_size"), DEFAULT_PAGE_SIZE)
        self.client = S3Client(
            S3Settings(
                access_key_id=str(values.get("aws_access_key_id") or "").strip(),
                secret_access_key=str(values.get("aws_secret_access_key") or ""),
                endpoint_url=self.endpoint,
                region=str(values.get("region") or "").strip(),
                connect_timeout=positive(values.get("connect_timeout"), 90),
                read_timeout=positive(values.get("read_timeout"), 90),
                max_attempts=positive(values.get("max_attempts"), DEFAULT_MAX_RETRY_ATTEMPTS),
            )
        )
        self._extensions: dict[Root, tuple[str, ...]] = {}

    # ------------------------------------------------------------ checks

    def check_values(self) -> dict[str, str]:
        errors = super().check_values()
        if self.endpoint and not self.endpoint.startswith(("http://", "https://")):
            errors["endpoint_url"] = (
                f"'Endpoint URL': {self.endpoint!r} needs its scheme, like "
                "https://minio.example.com:9000."
            )
        for root in self.roots:
            if problem := bucket_name_problem(root.name):
                errors.setdefault("buckets", f"'AWS Buckets': {root.name!r} {problem}")
        return errors

    def setup_links(self) -> list[tuple[str, str]]:
        """The IAM policy for the buckets typed so far, to paste in AWS's console."""
        names = sorted({root.name for root in self.roots})
        if self.endpoint or not (names or self.every_root):
            return []  # another store: its own permission model
        policy = iam_policy(names if not self.every_root else [])
        return [("IAM policy (JSON)", json.dumps(policy, separators=(",", ":")))]

    async def ping(self) -> None:
        """The keys work: ListBuckets (a user limited to some buckets may not list them
        all, which is fine unless '*' is asked)."""
        try:
            await self.client.list_buckets()
        except Exception as exc:
            if problems.error_code(exc) == "AccessDenied":
                if self.every_root:
                    raise InsufficientPrivilegesError(
                        "These credentials may not list the buckets, which '*' needs.",
                        "Allow s3:ListAllMyBuckets in the IAM user's policy, or name the "
                        "buckets in 'AWS Buckets'.",
                        fields=["buckets"],
                    ) from None
                return  # the signature was accepted: the keys are right
            raise self._problem(exc) from None

    async def list_root_names(self) -> list[str]:
        try:
            return await self.client.list_buckets()
        except Exception as exc:
            raise self._problem(exc) from None

    async def check_root(self, root: Root) -> None:
        try:
            await self.client.list_page(root.name, root.prefix, None, 1)
        except Exception as exc:
            raise self._problem(exc, root.name) from None

    def _problem(self, error: BaseException, bucket: str | None = None) -> SourceError:
        found = problems.connection_problem(error, self.endpoint)
        if found is None and bucket is not None:
            found = problems.bucket_problem(error, bucket, self.endpoint)
        if found is not None:
            return found
        code = problems.error_code(error) or type(error).__name__
        return SourceError(
            f"{self.endpoint or 'Amazon S3'} answered: {code}: {str(error).strip()[:300]}",
            "Check the endpoint, the keys and the bucket names.",
        )

    # ------------------------------------------------------------ advanced rules

    def advanced_rules_validate(self, rules: Any) -> list[str]:
        """Elastic's S3 rules: a list of {"bucket", "prefix"?, "extension"?: [...]}."""
        if rules in (None, "", [], {}):
            return []
        if not isinstance(rules, list):
            return ['Advanced rules must be a list like [{"bucket": "b", "prefix": "p/"}].']
        found: list[str] = []
        for number, rule in enumerate(rules, 1):
            where = f"Rule {number}"
            if not isinstance(rule, dict):
                found.append(f"{where} must be an object with a 'bucket'.")
                continue
            if unknown := set(rule) - {"bucket", "prefix", "extension"}:
                found.append(f"{where}: unknown key(s) {', '.join(sorted(unknown))}.")
            if not isinstance(rule.get("bucket"), str) or not rule["bucket"]:
                found.append(f"{where}: 'bucket' must be a bucket name.")
            if "prefix" in rule and not isinstance(rule["prefix"], str):
                found.append(f"{where}: 'prefix' must be a string.")
            extension = rule.get("extension", [])
            if not isinstance(extension, list) or not all(isinstance(e, str) for e in extension):
                found.append(f'{where}: \'extension\' must be a list like [".pdf", ".txt"].')
        return found

    async def get_docs(self, filtering: Mapping[str, Any] | None = None) -> AsyncIterator[Any]:
        rules = advanced_rules(filtering)
        if rules:
            if errors := self.advanced_rules_validate(rules):
                raise AdvancedRulesError(errors)
            self.roots = [Root(rule["bucket"], rule.get("prefix", "")) for rule in rules]
            self.every_root = False
            self._extensions = {
                Root(rule["bucket"], rule.get("prefix", "")): tuple(
                    "." + e.lower().lstrip(".") for e in rule.get("extension", [])
                )
                for rule in rules
            }
        async for item in super().get_docs(filtering):
            yield item

    # ------------------------------------------------------------ the store

    async def list_files(self, root: Root) -> AsyncIterator[RemoteFile | Unlisted]:
        token: str | None = None
        extensions = self._extensions.get(root, ())
        while True:
            try:
                objects, token = await self.client.list_page(
                    root.name, root.prefix, token, self.page_size
                )
            except Exception as exc:
                problem = self._problem(exc, root.name)
                if isinstance(problem, InsufficientPrivilegesError):
                    yield Unlisted(root.prefix, str(problem))
                    return
                raise problem from None
            for entry in objects:
                key = entry["Key"]
                if key.endswith("/") and not entry.get("Size"):
                    continue  # a "folder" marker of the console
                if extensions and not key.lower().endswith(extensions):
                    continue
                yield RemoteFile(
                    key=key,
                    size=int(entry.get("Size") or 0),
                    modified=entry["LastModified"],
                    etag=str(entry.get("ETag") or "").strip('"') or None,
                    raw=entry,
                )
            if not token:
                return

    def document(self, root: Root, file: RemoteFile) -> Document:
        """Elastic's S3 document: `_id` is the MD5 of "bucket/key"."""
        entry = file.raw or {}
        owner = entry.get("Owner") or {}
        doc_id = hashlib.md5(f"{root.name}/{file.key}".encode(), usedforsecurity=False).hexdigest()
        return {
            "_id": doc_id,
            "id": doc_id,
            "filename": file.key,
            "size_in_bytes": file.size,
            "bucket": root.name,
            "owner": owner.get("DisplayName") or "",
            "storage_class": entry.get("StorageClass") or "STANDARD",
            "_timestamp": iso_utc(file.modified),
            "etag": file.etag,
        }

    async def download(self, root: Root, file: RemoteFile) -> bytes:
        try:
            return await self.client.read(root.name, file.key, self.max_file_size)
        except Exception as exc:
            code = problems.error_code(exc)
            if code in {"NoSuchKey", "404"}:
                raise ContentError(f"{root.name}/{file.key}: deleted since it was listed") from None
            if code in {"AccessDenied", "403"}:
                raise ContentError(
                    f"{root.name}/{file.key}: these credentials may not read it "
                    f"(allow s3:GetObject on arn:aws:s3:::{root.name}/*)"
                ) from None
            if code == "InvalidObjectState":
                raise ContentError(
                    f"{root.name}/{file.key}: archived ({file.raw.get('StorageClass')}); "
                    "restore it to index its text"
                ) from None
            raise

    def unreadable(self, file: RemoteFile) -> str | None:
        """Objects archived in S3 Glacier must be restored before they can be read."""
        storage_class = str((file.raw or {}).get("StorageClass") or "")
        if storage_class in ARCHIVED_CLASSES:
            return (
                f"Objects archived in {storage_class} are indexed without their text: "
                "restore them (S3 RestoreObject) to index their text."
            )
        return None

    def is_transient(self, error: BaseException) -> bool:
        return problems.is_transient(error)

    @property
    def attempts(self) -> int:
        return 1  # botocore retries itself, `max_attempts` times

    async def close(self) -> None:
        self.client.close()


def bucket_name_problem(name: str) -> str | None:
    """Why `name` cannot be an S3 bucket name (AWS's rules), as the end of a sentence."""
    if not 3 <= len(name) <= 63:
        return "is not a bucket name: bucket names have 3 to 63 characters."
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789.-_")
    if not set(name) <= allowed or not name[0].isalnum() or not name[-1].isalnum():
        return (
            "is not a bucket name: use lower-case letters, digits, '.' and '-', "
            "starting and ending with a letter or digit."
        )
    return None


def _advanced_int(label: str, order: int, default: int) -> dict[str, Any]:
    return {
        "default_value": default,
        "display": "numeric",
        "label": label,
        "order": order,
        "required": False,
        "type": "int",
        "ui_restrictions": ["advanced"],
    }
