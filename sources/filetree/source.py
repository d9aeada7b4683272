"""`FileTreeSource`: listing, selection, lazy content and failures, once for every store."""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from sluice.core import extraction
from sluice.core.echo import quoted
from sluice.core.engine.checkpoint import continue_at
from sluice.core.engine.source import SourceEvent, SourceNotice
from sluice.sources.base import (
    BaseSource,
    ContentError,
    Document,
    Scope,
    SourceItem,
    source_failure,
    with_content,
)
from sluice.sources.filetree.retries import retrying
from sluice.sources.filetree.schema import DEFAULT_MAX_FILE_SIZE
from sluice.sources.filetree.tree import KeySelection, RemoteFile, Root, parse_roots
from sluice.sources.globs import glob_problem

#: The Sluice field every file-tree document carries: "<root>/<key>". A listing failure is
#: scoped by it, so a full sync keeps the documents under what it could not list.
STORE_PATH = "store_path"
#: Configured roots checked one by one by "test connection" (more are checked when read).
MAX_ROOTS_CHECKED = 20


@dataclass(frozen=True, slots=True)
class Unlisted:
    """A part of a root that could not be listed (`prefix` under the root; "" = all of it):
    a failure of the job, and its indexed documents are kept by a full sync."""

    prefix: str
    reason: str


class FileTreeSource(BaseSource):
    """Base of the sources that read a tree of files from a store.

    A subclass names its roots key (`roots_key`, Elastic's key: `buckets`, `containers`)
    and what a root is called (`root_kind`), and implements the store's part: `ping`,
    `list_root_names`, `check_root`, `list_files`, `document`, `download`, `is_transient`
    and `close`. It adds `tree_fields()` after Elastic's keys in its schema.
    """

    lazy_content = True
    incremental_sync_enabled = True
    """Every store gives a modification time: an incremental sync lists, and writes (and
    downloads) only the files whose `_timestamp` changed."""

    roots_key: ClassVar[str] = "buckets"
    root_kind: ClassVar[str] = "bucket"

    def __init__(self, configuration: Mapping[str, Any]) -> None:
        super().__init__(configuration)
        self.roots, self.every_root = parse_roots(self.values.get(self.roots_key) or ())
        self.selection = KeySelection(
            include=tuple(self.values.get("include_patterns") or ()),
            exclude=tuple(self.values.get("exclude_patterns") or ()),
        )
        self.extract = self.values.get("extract_text") is not False
        self.max_file_size = positive(self.values.get("max_file_size"), DEFAULT_MAX_FILE_SIZE)
        self.files_read = 0
        """Files downloaded for their content: lazy content leaves out those not written."""
        self._downloads: asyncio.Semaphore | None = None
        self._covered: int | None = None
        self._listeners: list[Callable[[SourceEvent], None]] = []
        self._told: set[str] = set()

    # ------------------------------------------------------------ the store's part

    @abstractmethod
    async def list_root_names(self) -> list[str]:
        """Every root the credentials can list (for `*`)."""

    @abstractmethod
    async def check_root(self, root: Root) -> None:
        """Raise `PathNotFoundError` / `InsufficientPrivilegesError` (fields: the roots key)
        when `root` does not exist or cannot be listed."""

    @abstractmethod
    def list_files(self, root: Root) -> AsyncIterator[RemoteFile | Unlisted]:
        """The files under `root` (and its prefix), a page at a time. Yield `Unlisted` for
        a part the credentials may not list; raise a `SourceError` when the root is gone or
        the store stops answering: the sync then fails and deletes nothing."""

    @abstractmethod
    def document(self, root: Root, file: RemoteFile) -> Document:
        """The file's document: `_id` and fields as Elastic's source writes them."""

    @abstractmethod
    async def download(self, root: Root, file: RemoteFile) -> bytes:
        """The file's bytes (at most `max_file_size`). Raise `ContentError` for a problem of
        this file alone (gone since the listing, not readable)."""

    def unreadable(self, file: RemoteFile) -> str | None:
        """Why the store cannot give this file's content at all (an archived blob or
        object), as a notice for the job: it is then indexed with its metadata and never
        downloaded. None: it can be read."""
        return None

    def is_transient(self, error: BaseException) -> bool:
        """Whether trying again may help (throttling, a dropped connection)."""
        return isinstance(error, (ConnectionError, TimeoutError))

    @property
    def attempts(self) -> int:
        """Tries per request (Elastic's `max_attempts` / `retry_count` where it has one)."""
        return 3

    @property
    def concurrent_downloads(self) -> int:
        """Downloads in flight (the engine loads at most 16 documents' content at once)."""
        return 16

    # ------------------------------------------------------------ what the engine hears

    def watch(self, listener: Callable[[SourceEvent], None]) -> None:
        """The engine listens here for notices (files left without text, and why)."""
        self._listeners.append(listener)

    def notice(self, words: str) -> None:
        """Tell the job once per sync, however many files it concerns."""
        if words not in self._told:
            self._told.add(words)
            for listener in self._listeners:
                listener(SourceNotice(words))

    # ------------------------------------------------------------ checks

    def check_values(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        label = self.configuration.get(self.roots_key, {}).get("label", self.roots_key)
        if not self.roots and not self.every_root:
            errors[self.roots_key] = (
                f"'{label}': give at least one {self.root_kind} name, or * for every "
                f"{self.root_kind} the credentials can list."
            )
        for key in ("include_patterns", "exclude_patterns"):
            entry = self.configuration.get(key)
            for item in self.values.get(key) or ():
                if entry and (problem := glob_problem(str(item), in_list=True)):
                    errors[key] = f"'{entry['label']}': {quoted(item)} {problem}"
                    break
        return errors

    async def validate_config(self) -> None:
        """Local rules, then the credentials (`ping`), then each configured root."""
        await super().validate_config()
        await self.ping()
        roots = await self.all_roots()
        for root in roots[:MAX_ROOTS_CHECKED]:
            await self.check_root(root)
        self._covered = len(roots)

    def coverage(self) -> str | None:
        if self._covered is None:
            return None
        kind = self.root_kind if self._covered == 1 else f"{self.root_kind}s"
        return f"{self._covered} {kind}"

    async def all_roots(self) -> list[Root]:
        """The configured roots, with every listable root in place of `*`."""
        roots = list(self.roots)
        if self.every_root:
            roots += [
                Root(name) for name in await self.list_root_names() if Root(name) not in roots
            ]
        return roots

    # ------------------------------------------------------------ documents

    async def get_docs(
        self, filtering: Mapping[str, Any] | None = None
    ) -> AsyncIterator[SourceItem]:
        """Every selected file of every root, metadata first; content loads lazily. Where
        the store lists keys in order (`sorted_listing`), a resumed read skips the roots and
        keys up to its checkpoint's position (listed again, but not yielded)."""
        roots = await self.all_roots()
        start, after = self._resume_point([str(r) for r in roots])
        for number, root in enumerate(roots[start:], start=start):
            skip_to = after if number == start else None
            async for found in self.list_files(root):
                if isinstance(found, Unlisted):
                    yield self._unlisted(root, found)
                    continue
                if skip_to is not None:
                    if found.key <= skip_to:
                        continue
                    skip_to = None
                if found.folder or self.selection.wants(found.key):
                    if self.sorted_listing:
                        self._position = {"root": str(root), "key": found.key}
                    yield self._item(root, found)
            if self.sorted_listing:
                self._position = {"root": str(root), "key": None, "done": True}

    # A full read continues after a checkpoint's place (`core.engine.checkpoint`): the root
    # and the last key yielded, for stores that list a root's keys in order.
    sorted_listing = False
    _position: dict[str, Any] | None = None
    _resume: dict[str, Any] | None = None

    def read_position(self) -> Any:
        return self._position

    def resume_after(self, position: Any) -> None:
        self._resume = position if isinstance(position, dict) else None

    def _resume_point(self, roots: list[str]) -> tuple[int, str | None]:
        """The first root to read and the key to skip to in it; a position naming a root no
        longer listed starts over."""
        resume, self._resume = self._resume, None
        if not self.sorted_listing:
            return 0, None
        index, key = continue_at(resume, roots, "root", "key")
        return index, key if isinstance(key, str) else None

    async def count_documents(self, filtering: Mapping[str, Any] | None = None) -> int:
        """Files a full sync will read (a second listing), for progress and ETA."""
        total = 0
        for root in await self.all_roots():
            async for found in self.list_files(root):
                if isinstance(found, RemoteFile) and (
                    found.folder or self.selection.wants(found.key)
                ):
                    total += 1
        return total

    def _item(self, root: Root, file: RemoteFile) -> SourceItem:
        document = self.document(root, file)
        document[STORE_PATH] = f"{root.name}/{file.key}"
        if file.folder or not self.extract or file.size <= 0:
            return document
        if not extraction.supported_extension(file.key):
            return document
        if (reason := self.unreadable(file)) is not None:
            return with_content(document, partial(self._unread, root, file, reason))
        if file.size > self.max_file_size:
            self.logger.info(
                "%s/%s is over the size limit (%d bytes); indexed without its text.",
                root.name,
                file.key,
                self.max_file_size,
            )
            return document
        return with_content(document, partial(self._content, root, file))

    async def _content(self, root: Root, file: RemoteFile) -> dict[str, Any]:
        """Download (a bounded number at a time, retried when the store says "slow down")
        and extract; any failure is this document's alone."""
        if self._downloads is None:
            self._downloads = asyncio.Semaphore(max(1, self.concurrent_downloads))
        where = f"{root.name}/{file.key}"
        try:
            async with self._downloads:
                data = await retrying(
                    partial(self.download, root, file),
                    attempts=self.attempts,
                    transient=self.is_transient,
                    what=f"downloading {where}",
                )
        except ContentError:
            raise
        except Exception as exc:
            raise ContentError(f"{where}: cannot download it: {_reason(exc)}") from None
        self.files_read += 1
        try:
            text = await extraction.extract_text(
                data, filename=file.name, max_bytes=self.max_file_size
            )
        except extraction.FileTooLargeError:
            return {}  # it grew after the listing saw it
        except extraction.ExtractionError as exc:
            raise ContentError(f"{where}: {exc}") from None
        except Exception as exc:  # one file's problem is that document's
            raise ContentError(f"{where}: {type(exc).__name__}: {exc}") from None
        return {"body": text}

    async def _unread(self, root: Root, file: RemoteFile, reason: str) -> dict[str, Any]:
        """Lazy too, so only documents the engine writes are warned about."""
        self.logger.warning("%s/%s is not downloaded: %s", root.name, file.key, reason)
        self.notice(reason)
        return {}

    def _unlisted(self, root: Root, unlisted: Unlisted) -> SourceItem:
        place = f"{root.name}/{unlisted.prefix}" if unlisted.prefix else root.name
        kind = self.root_kind if unlisted.prefix == root.prefix else "folder"
        self.logger.warning("Cannot list %s %s: %s", kind, place, unlisted.reason)
        return source_failure(
            f"{kind} {place}",
            unlisted.reason,
            "list",
            Scope(STORE_PATH, f"{root.name}/{unlisted.prefix}", prefix=True),
        )


def _reason(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def positive(value: Any, default: int) -> int:
    """`value` when it is a positive int (not a bool), else `default`."""
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default
    )
