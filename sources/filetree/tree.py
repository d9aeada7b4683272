"""The vocabulary of file-tree sources: roots, listed files, and which files to take."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from wcmatch import glob

# include/exclude patterns without a slash match the file name at any depth ("*.pdf"),
# as in the `dir` source
_FLAGS = glob.GLOBSTAR | glob.DOTGLOB | glob.BRACE | glob.MATCHBASE


@dataclass(frozen=True, slots=True)
class Root:
    """A bucket, container or share to read, with an optional key prefix under it.

    Typed as `name` or `name/prefix` in the roots list ("reports/2024/"): bucket, container
    and share names cannot hold a '/', so the first one ends the name.
    """

    name: str
    prefix: str = ""

    @classmethod
    def parse(cls, text: str) -> Root:
        name, _, prefix = text.strip().strip("/").partition("/")
        return cls(name, prefix.lstrip("/"))

    def __str__(self) -> str:
        return f"{self.name}/{self.prefix}" if self.prefix else self.name


def parse_roots(items: str | Iterable[Any]) -> tuple[list[Root], bool]:
    """The configured roots, and whether `*` (every root the credentials can list) is asked.
    Blank items and repeats are dropped; the order is kept."""
    roots: list[Root] = []
    every = False
    for item in [items] if isinstance(items, str) else items:
        text = str(item).strip()
        if not text:
            continue
        if text == "*":
            every = True
            continue
        root = Root.parse(text)
        if root.name and root not in roots:
            roots.append(root)
    return roots, every


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """One file as a listing page gave it: enough to build its document and decide whether
    to download it, nothing more (a bucket of millions never sits in memory)."""

    key: str
    """Its path in the root, '/'-separated, without a leading '/'."""
    size: int
    modified: datetime
    etag: str | None = None
    folder: bool = False
    """A folder of a file share, indexed as a document of its own (Elastic's network drive
    does so); never downloaded, never filtered by the globs."""
    raw: Any = field(default=None, compare=False, repr=False)
    """The store's own listing entry, for the fields of Elastic's document."""

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    @property
    def extension(self) -> str:
        name = self.name
        return name.rsplit(".", 1)[-1].lower() if "." in name.lstrip(".") else ""


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC, as Elastic's sources write `_timestamp` (naive = UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class KeySelection:
    """Which files to take: any of `include` (all when empty), none of `exclude`. A pattern
    without '/' matches the file name at any depth; `**` matches any depth."""

    include: Sequence[str] = ()
    exclude: Sequence[str] = ()

    def wants(self, key: str) -> bool:
        if self.include and not glob.globmatch(key, list(self.include), flags=_FLAGS):
            return False
        return not (self.exclude and glob.globmatch(key, list(self.exclude), flags=_FLAGS))
