"""Walk a folder tree: glob selection, exclusions, symlinks with a loop guard.

Written on `os.scandir` rather than `Path.glob` so that symlink handling is explicit:
links are skipped unless asked for, followed links never revisit a directory (loops and
links to an ancestor end), and a broken link is reported instead of silently vanishing.
A folder that cannot be listed is reported too (`FoundFile.folder`), for the caller to count
as a failure; the walker itself logs nothing, since a sync walks twice (count, then read).
FIFOs, sockets and devices are never listed (opening a FIFO blocks).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from wcmatch import glob

logger = logging.getLogger("sluice.sources.dir")

_FLAGS = glob.GLOBSTAR | glob.DOTGLOB | glob.BRACE
# include/exclude patterns without a slash match the file name at any depth ("*.tmp").
_FILTER_FLAGS = _FLAGS | glob.MATCHBASE


@dataclass(frozen=True)
class FoundFile:
    """A file selected for indexing. `info` is None when it could not be stat'ed, and then
    `error` says why (broken link, link loop, vanished). With `folder`, it is a folder that
    could not be listed (`error` says why): its files are missing from the walk."""

    path: str
    relative: str
    info: os.stat_result | None
    error: str | None = None
    folder: bool = False


@dataclass(frozen=True)
class Selection:
    """Which files to take: `pattern` (Elastic's glob, relative to the root), narrowed by
    `include` (any of) and cut by `exclude` (any of)."""

    pattern: str = "**/*"
    include: Sequence[str] = ()
    exclude: Sequence[str] = ()

    def wants_file(self, relative: str) -> bool:
        if not glob.globmatch(relative, self.pattern, flags=_FLAGS):
            return False
        if self.include and not glob.globmatch(relative, list(self.include), flags=_FILTER_FLAGS):
            return False
        return not (
            self.exclude and glob.globmatch(relative, list(self.exclude), flags=_FILTER_FLAGS)
        )

    def prunes_directory(self, relative: str) -> bool:
        """True when an exclusion covers the whole directory (`node_modules`, `.git/**`)."""
        for pattern in self.exclude:
            if glob.globmatch(relative, pattern, flags=_FILTER_FLAGS):
                return True
            if pattern.endswith("/**") and glob.globmatch(
                relative, pattern[:-3], flags=_FILTER_FLAGS
            ):
                return True
        return False


#: A place in the walk's order: per level, (0, file name) or (1, folder name) — a folder's
#: files come before its subfolders, each in name order, as `walk` yields them.
WalkKey = tuple[tuple[int, str], ...]


def walk_key(relative: str, *, folder: bool = False) -> WalkKey:
    """The place of a file (or, with `folder`, of entering a folder) in the walk's order."""
    parts = [p for p in relative.split("/") if p]
    if folder or not parts:
        return tuple((1, p) for p in parts)
    return (*((1, p) for p in parts[:-1]), (0, parts[-1]))


def walk(
    root: str,
    selection: Selection,
    *,
    follow_symlinks: bool = False,
    after: WalkKey | None = None,
) -> Iterator[FoundFile]:
    """Yield the selected files under `root`, depth first, in name order; with `after`, only
    what comes after that place (folders wholly before it are not even listed)."""
    root = os.path.abspath(root)
    root_info = os.stat(root)
    visited = {(root_info.st_dev, root_info.st_ino)}
    stack: list[tuple[str, str, WalkKey]] = [(root, "", ())]
    while stack:
        directory, prefix, key = stack.pop()
        if after is not None and key > after:
            after = None  # everything from here on comes after it
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:  # (also while continuing: what it holds after the place)
            reason = exc.strerror or type(exc).__name__
            yield FoundFile(directory, prefix.rstrip("/"), None, reason, folder=True)
            continue
        subdirectories: list[tuple[str, str, WalkKey]] = []
        for entry in entries:
            relative = f"{prefix}{entry.name}"
            if after is not None:
                as_file, as_folder = (*key, (0, entry.name)), (*key, (1, entry.name))
                folder_done = as_folder < after and after[: len(as_folder)] != as_folder
                if as_file <= after and folder_done:
                    continue  # wholly before the place to continue after: not even a stat
            found = _classify(entry, follow_symlinks)
            if found is None:
                continue
            kind, info, error = found
            if kind == "dir" and info is not None:
                inode = (info.st_dev, info.st_ino)
                if inode in visited:
                    logger.info("Skipping %s: already visited (symbolic link loop).", entry.path)
                elif not selection.prunes_directory(relative):
                    sub_key = (*key, (1, entry.name))
                    if after is None or not (sub_key < after and after[: len(sub_key)] != sub_key):
                        visited.add(inode)
                        subdirectories.append((entry.path, relative + "/", sub_key))
            elif selection.wants_file(relative):
                if after is not None and (*key, (0, entry.name)) <= after:
                    continue
                yield FoundFile(entry.path, relative, info, error)
        stack.extend(reversed(subdirectories))


def _classify(
    entry: os.DirEntry[str], follow_symlinks: bool
) -> tuple[str, os.stat_result | None, str | None] | None:
    """('dir' | 'file', stat, error) for an entry to consider, None to skip it."""
    try:
        is_link = entry.is_symlink()
        if is_link and not follow_symlinks:
            return None
        info = entry.stat(follow_symlinks=True)
    except FileNotFoundError:
        if entry.is_symlink():
            target = _readlink(entry.path)
            return ("file", None, f"broken symbolic link (points to {target})")
        return None  # vanished while we listed it
    except OSError as exc:
        return ("file", None, f"cannot be examined: {exc.strerror}")
    if stat.S_ISDIR(info.st_mode):
        return ("dir", info, None)
    if stat.S_ISREG(info.st_mode):
        return ("file", info, None)
    return None  # FIFO, socket, device


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"
