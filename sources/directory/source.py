"""The `dir` source: one document per file of a local folder, with its text."""

from __future__ import annotations

import asyncio
import base64
import errno
import functools
import grp
import hashlib
import itertools
import mimetypes
import os
import pwd
import stat
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sluice.core import extraction
from sluice.core.echo import quoted
from sluice.sources.base import (
    BaseSource,
    ContentError,
    Document,
    SourceFailure,
    SourceItem,
    folder_scope,
    source_failure,
    with_content,
    with_error,
)
from sluice.sources.directory.batched_reads import BatchedReads
from sluice.sources.directory.walker import FoundFile, Selection, WalkKey, walk, walk_key
from sluice.sources.errors import ConfigurationError, InsufficientPrivilegesError, PathNotFoundError
from sluice.sources.globs import glob_problem

DEFAULT_MAX_FILE_SIZE = extraction.DEFAULT_MAX_BYTES
_WALK_BATCH = 256


def sample_data_directory() -> Path | None:
    """The small sample folder shipped in the repository (for a first try), if present."""
    path = Path(__file__).resolve().parents[2] / "sample-data"
    return path if path.is_dir() else None


class DirectorySource(BaseSource):
    """Files of a folder on this machine, with their text (PDF, Office, HTML, plain text)."""

    service_type = "dir"
    lazy_content = True
    #: Reading a file (to extract its text) moves its access time: no change of content.
    volatile_fields = ("last_access_time",)
    #: Small files are read in batches, one thread hop per batch: more loads in flight make
    #: bigger batches (measured: 0.215 → 0.199 ms of CPU per file).
    content_concurrency = 64
    display_name = "Local folder"
    description = "Files of a folder on this machine, with the text of documents."
    prerequisites = [
        "The folder exists on the machine that runs the sync (a local disk or a mount).",
        "The user running Sluice can list every folder and read every file to index.",
        "Symbolic links are skipped unless 'Follow symbolic links' is on: "
        "turn it on only for trees whose links you trust.",
    ]

    @classmethod
    def get_default_configuration(cls) -> dict[str, dict[str, Any]]:
        return {
            "directory": {
                "label": "Directory path",
                "order": 1,
                "type": "str",
                "display": "text",
                "required": True,
                "value": "",
                "tooltip": "Absolute path of the folder to index, on the machine running the sync.",
            },
            "pattern": {
                "label": "File glob-like pattern",
                "order": 2,
                "type": "str",
                "display": "text",
                "required": True,
                "value": "**/*",
                "default_value": "**/*",
                "tooltip": "Relative to the folder; ** matches any depth: **/*.pdf, docs/**/*.md",
            },
            "include_patterns": {
                "label": "Only files matching (globs)",
                "order": 3,
                "type": "list",
                "display": "textarea",
                "required": False,
                "value": "",
                "tooltip": "Comma-separated globs; a glob without / matches file names at any "
                "depth (*.pdf, *.docx). Empty = every file the pattern selects.",
            },
            "exclude_patterns": {
                "label": "Skip files matching (globs)",
                "order": 4,
                "type": "list",
                "display": "textarea",
                "required": False,
                "value": "",
                "tooltip": "Comma-separated globs to leave out (.git, node_modules, *.tmp). "
                "A matching folder is skipped with everything in it.",
            },
            "follow_symlinks": {
                "label": "Follow symbolic links",
                "order": 5,
                "type": "bool",
                "display": "toggle",
                "required": False,
                "value": False,
                "default_value": False,
                "tooltip": "Index what links point to (loops are detected). "
                "Off: links are skipped.",
            },
            "extract_text": {
                "label": "Extract text from documents",
                "order": 6,
                "type": "bool",
                "display": "toggle",
                "required": False,
                "value": True,
                "default_value": True,
                "tooltip": "Index the text of PDF, Word, Excel, PowerPoint, HTML and text files.",
            },
            "max_file_size": {
                "label": "Maximum file size for text extraction (bytes)",
                "order": 7,
                "type": "int",
                "display": "numeric",
                "required": False,
                "value": DEFAULT_MAX_FILE_SIZE,
                "default_value": DEFAULT_MAX_FILE_SIZE,
                "validations": [{"type": "greater_than", "constraint": 0}],
                "tooltip": "Bigger files are indexed without their text (10485760 = 10 MiB).",
                "ui_restrictions": ["advanced"],
            },
            "extraction_timeout": {
                "label": "Text extraction time limit per file (seconds)",
                "order": 8,
                "type": "int",
                "display": "numeric",
                "required": False,
                "value": 30,
                "default_value": 30,
                "validations": [{"type": "greater_than", "constraint": 0}],
                "ui_restrictions": ["advanced"],
            },
            "use_attachment_pipeline": {
                "label": "Let Elasticsearch extract the text (attachment pipeline)",
                "order": 9,
                "type": "bool",
                "display": "toggle",
                "required": False,
                "value": False,
                "default_value": False,
                "depends_on": [{"field": "extract_text", "value": True}],
                "tooltip": "Send each file's bytes as `_attachment` for the connector's ingest "
                "pipeline (its attachment processor) instead of extracting here. Needs a "
                "cluster with that pipeline; without it the files are indexed without text.",
                "ui_restrictions": ["advanced"],
            },
        }

    def __init__(self, configuration: Mapping[str, Any]) -> None:
        super().__init__(configuration)
        self.directory = os.path.abspath(os.path.expanduser(self.values["directory"] or "."))
        self.selection = Selection(
            pattern=self.values["pattern"] or "**/*",
            include=tuple(self.values["include_patterns"] or ()),
            exclude=tuple(self.values["exclude_patterns"] or ()),
        )
        self.follow_symlinks = bool(self.values["follow_symlinks"])
        self.extract = self.values["extract_text"] is not False
        self.max_file_size = _positive(self.values["max_file_size"], DEFAULT_MAX_FILE_SIZE)
        self.extraction_timeout = float(_positive(self.values["extraction_timeout"], 30))
        self.attachments = bool(self.values.get("use_attachment_pipeline"))
        self._names: dict[tuple[str, int], str] = {}
        self.files_read = 0
        """Files whose content this source read (text or bytes): lazy content leaves out
        those the engine does not write."""
        self._small_reads: BatchedReads[FoundFile, str | Exception | None] = BatchedReads(
            self._small_text
        )

    # ------------------------------------------------------------ checks

    def check_values(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        pattern = self.values.get("pattern") or ""
        if pattern.startswith("/"):
            errors["pattern"] = (
                "'File glob-like pattern' must be relative to the directory (like **/*.pdf); "
                "put the folder in 'Directory path'."
            )
        elif problem := glob_problem(pattern):
            errors["pattern"] = f"'File glob-like pattern': {quoted(pattern)} {problem}"
        for key, label in (
            ("include_patterns", "Only files matching (globs)"),
            ("exclude_patterns", "Skip files matching (globs)"),
        ):
            for item in self.values.get(key) or ():
                if problem := glob_problem(str(item), in_list=True):
                    errors[key] = f"'{label}': {quoted(item)} {problem}"
                    break
        return errors

    async def validate_config(self) -> None:
        await super().validate_config()
        try:
            await self.ping()
        except (PathNotFoundError, InsufficientPrivilegesError) as exc:
            raise ConfigurationError({"directory": str(exc)}) from None

    async def ping(self) -> None:
        await asyncio.to_thread(self._check_directory)

    def _check_directory(self) -> None:
        label = "'Directory path'"
        if not os.path.exists(self.directory):
            raise PathNotFoundError(
                f"{label} {self.directory} does not exist.",
                "Check the path, or mount the share, on the machine that runs the sync.",
                fields=["directory"],
            )
        if not os.path.isdir(self.directory):
            raise PathNotFoundError(
                f"{label} {self.directory} is a file, not a folder.",
                "Give the folder that contains the files.",
                fields=["directory"],
            )
        try:
            with os.scandir(self.directory) as listing:
                next(listing, None)
        except PermissionError:
            raise InsufficientPrivilegesError(
                f"The folder {self.directory} cannot be listed by user {_current_user()}.",
                "Grant that user read and execute permission on it (chmod/ACL), or run "
                "Sluice as a user who can read it.",
                fields=["directory"],
            ) from None

    # ------------------------------------------------------------ documents

    async def get_docs(
        self, filtering: Mapping[str, Any] | None = None
    ) -> AsyncIterator[SourceItem]:
        """Every selected file, in path order: its metadata now, its content (text, or bytes
        for the attachment pipeline) as lazy content the engine loads only for files it
        writes, so an unchanged file of an incremental sync is never read."""
        await self.ping()
        async for found in self._found_files(self._resume_key):
            self._position = {"path": found.relative, "folder": found.folder}
            yield self._item(found)

    # A full read continues after a checkpoint's place (`core.engine.checkpoint`).
    _position: dict[str, Any] | None = None
    _resume_key: WalkKey | None = None

    def read_position(self) -> Any:
        """The last file (or unlisted folder) yielded, as its relative path."""
        return self._position

    def resume_after(self, position: Any) -> None:
        """Make the next read continue after `position`; a value this source did not
        write means "from the start"."""
        if isinstance(position, dict) and isinstance(position.get("path"), str):
            self._resume_key = walk_key(position["path"], folder=bool(position.get("folder")))
        else:
            self._resume_key = None

    async def count_documents(self, filtering: Mapping[str, Any] | None = None) -> int:
        """Files a full sync will read, for progress and ETA: a second walk, in thread
        batches so it stops as soon as the sync does."""
        files: Iterator[FoundFile] = walk(
            self.directory, self.selection, follow_symlinks=self.follow_symlinks
        )
        total = 0
        while batch := await asyncio.to_thread(lambda: list(itertools.islice(files, _WALK_BATCH))):
            total += sum(1 for found in batch if not found.folder)
        return total

    async def _found_files(self, after: WalkKey | None = None) -> AsyncIterator[FoundFile]:
        """The walk, in a thread a batch at a time (a slow share must not stall the loop)."""
        files: Iterator[FoundFile] = walk(
            self.directory, self.selection, follow_symlinks=self.follow_symlinks, after=after
        )
        while batch := await asyncio.to_thread(lambda: list(itertools.islice(files, _WALK_BATCH))):
            for found in batch:
                yield found

    def _item(self, found: FoundFile) -> SourceItem:
        """A file's document, with its content to load when it has one to extract."""
        if found.folder:
            return self._unlisted_folder(found)
        document = self._metadata(found)
        if found.error is not None or found.info is None:
            return with_error(document, f"{found.relative}: {found.error}")
        if not self.extract or not extraction.supported_extension(found.relative):
            return document
        if found.info.st_size > self.max_file_size:
            self.logger.info(
                "%s is over the size limit (%d bytes); indexed without its text.",
                found.relative,
                self.max_file_size,
            )
            return document
        load = self._attachment if self.attachments else self._text
        return with_content(document, partial(load, found))

    async def _text(self, found: FoundFile) -> dict[str, Any]:
        """The file's text as `body` (lazy content: only for files the sync writes). Small
        text files are read in batches, one thread hop for many (`batched_reads`)."""
        self.files_read += 1
        small = await self._small_reads.read(found)
        if isinstance(small, str):
            return {"body": small}
        if isinstance(small, Exception):
            raise ContentError(str(small)) from None
        try:
            text = await extraction.extract_text(
                found.path,
                filename=found.relative,
                max_bytes=self.max_file_size,
                timeout=self.extraction_timeout,
            )
        except extraction.FileTooLargeError:
            return {}  # it grew after the walk saw it
        except extraction.ExtractionError as exc:
            raise ContentError(str(exc)) from None
        except Exception as exc:  # one file's problem is that document's
            raise ContentError(f"{found.relative}: {type(exc).__name__}: {exc}") from None
        return {"body": text}

    async def _attachment(self, found: FoundFile) -> dict[str, Any]:
        """The file's bytes, base64, as `_attachment`: Elastic's convention for content the
        ingest pipeline extracts (lazy content too)."""
        self.files_read += 1
        try:
            data = await asyncio.to_thread(Path(found.path).read_bytes)
        except OSError as exc:
            raise ContentError(f"{found.relative}: cannot read it: {exc.strerror}") from None
        return {"_attachment": base64.b64encode(data).decode("ascii")}

    def _small_text(self, found: FoundFile) -> str | Exception | None:
        """On a worker thread: the text of a small plain-text file, or why it could not be
        read; None when it needs the extraction pool (another format, or big)."""
        if found.info is None:
            return None
        try:
            return extraction.extract_small_text(
                found.path,
                filename=found.relative,
                size=found.info.st_size,
                max_bytes=self.max_file_size,
            )
        except extraction.ExtractionError as exc:
            return exc
        except Exception as exc:  # one file's problem is that document's
            return RuntimeError(f"{found.relative}: {type(exc).__name__}: {exc}")

    def _unlisted_folder(self, found: FoundFile) -> SourceFailure:
        """A folder the walk could not list: a failure for the job, not only a log line, and
        scoped to the folder's relative path, so a full sync keeps its indexed files instead
        of deleting them as gone."""
        path = _display(found.path)
        self.logger.warning("Cannot list %s (%s); its files are left out.", path, found.error)
        reason = (
            f"cannot list this folder ({found.error}); its files are left out and their "
            "indexed documents kept"
        )
        if found.error == os.strerror(errno.EACCES):
            reason += f": grant user {_current_user()} read and execute permission on it"
        return source_failure(path, reason, "list", folder_scope(_display(found.relative)))

    def _metadata(self, found: FoundFile) -> Document:
        """Elastic's `dir` document for the file (same `_id`, field names and JSON types, so
        either service can sync the same index), then Sluice's extra fields."""
        relative = _display(found.relative)
        name = relative.rsplit("/", 1)[-1]
        extension = os.path.splitext(name)[1].lstrip(".").lower()
        document: Document = {
            "_id": file_id(found.path),
            "path": _display(found.path),
            "relative_path": relative,
            "name": name,
            "extension": extension,
            "mime_type": _mime_type(name),
        }
        info = found.info
        if info is None:
            document["_timestamp"] = datetime.now(UTC).isoformat()
            return document
        modified = _iso(info.st_mtime)
        document.update(
            {
                "_timestamp": modified,
                # Elastic's fields and types: ISO text for the modification time, epoch
                # seconds as floats (even when whole) for ctime and access time, ints.
                "last_modified_time": modified,
                "inode_protection_mode": info.st_mode,
                "inode_number": info.st_ino,
                "device_inode_reside": info.st_dev,
                "number_of_links": info.st_nlink,
                "uid": info.st_uid,
                "gid": info.st_gid,
                "ctime": float(info.st_ctime),
                "last_access_time": float(info.st_atime),
                "size": info.st_size,
                # Sluice's own
                "owner": self._name("user", info.st_uid),
                "group": self._name("group", info.st_gid),
                "mode": f"{stat.S_IMODE(info.st_mode):04o}",
            }
        )
        return document

    def _name(self, kind: str, number: int) -> str:
        """User or group name of an id (cached: lookups may hit NSS/LDAP)."""
        key = (kind, number)
        if key not in self._names:
            try:
                if kind == "user":
                    self._names[key] = pwd.getpwuid(number).pw_name
                else:
                    self._names[key] = grp.getgrgid(number).gr_name
            except KeyError:
                self._names[key] = str(number)
        return self._names[key]


def file_id(path: str) -> str:
    """`_id` of the file at absolute `path` (the folder joined with the path under it, links
    not resolved), as Elastic's `dir` source computes it: the MD5 hex digest of the path's
    UTF-8 bytes. A name that is not valid UTF-8 (which Elastic's source cannot encode) is
    hashed from its bytes on disk. Moving the folder therefore changes every id."""
    try:
        raw = path.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept by Python as surrogate escapes
        raw = os.fsencode(path)
    return hashlib.md5(raw, usedforsecurity=False).hexdigest()


#: Suffixes `mimetypes` reads as an encoding, so the type depends on the suffix before them.
_ENCODINGS = frozenset(mimetypes.encodings_map)


@functools.lru_cache(maxsize=1024)
def _mime_of_suffix(suffix: str) -> str | None:
    return mimetypes.guess_type(f"x{suffix}", strict=False)[0]


def _mime_type(name: str) -> str | None:
    """`mimetypes.guess_type(name)`'s type, cached by suffix (it was 8 µs a file)."""
    suffix = os.path.splitext(name)[1]
    if not suffix or suffix.lower() in _ENCODINGS:
        return mimetypes.guess_type(name, strict=False)[0]
    return _mime_of_suffix(suffix)


def _display(name: str) -> str:
    """A file name as valid UTF-8 text (undecodable bytes become U+FFFD)."""
    return os.fsencode(name).decode("utf-8", errors="replace")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat()


def _positive(value: Any, default: int) -> int:
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default
    )


def _current_user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())
