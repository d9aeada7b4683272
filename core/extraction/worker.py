"""What a worker process runs: load the bytes safely, pick the reader, name any failure.

Every failure leaves here as an `ExtractionError` with a short, human reason, so the
parent never has to interpret a library's exception.
"""

from __future__ import annotations

import os
import resource
import signal
import stat

from sluice.core.extraction import formats
from sluice.core.extraction.errors import ExtractionError, FileTooLargeError, UnsupportedFormatError
from sluice.core.extraction.readers import READERS
from sluice.core.extraction.text import NotTextError

_REASON_LIMIT = 300


def init_worker(memory_limit: int | None) -> None:
    """Worker start-up: ignore Ctrl-C (the parent decides), cap the address space so a
    decompression bomb fails with MemoryError instead of waking the OOM killer."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if memory_limit:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = memory_limit if hard == resource.RLIM_INFINITY else min(memory_limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        os.nice(5)
    except OSError:
        pass


def load_bytes(source: str | bytes, filename: str, max_bytes: int) -> bytes:
    """The content to extract, never more than `max_bytes`.

    Paths are opened non-blocking and checked to be regular files first: a FIFO or a device
    under the synced folder must not hang or flood a worker.
    """
    if isinstance(source, bytes):
        if len(source) > max_bytes:
            raise _too_large(filename, len(source), max_bytes)
        return source
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise ExtractionError(filename, f"cannot be opened: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ExtractionError(filename, "is not a regular file")
        if info.st_size > max_bytes:
            raise _too_large(filename, info.st_size, max_bytes)
        chunks: list[bytes] = []
        remaining = max_bytes + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as exc:
        raise ExtractionError(filename, f"cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:  # grew while we read it
        raise _too_large(filename, len(data), max_bytes)
    return data


def extract(source: str | bytes, filename: str, max_bytes: int) -> str:
    """Extract the text of one file (a path or its bytes)."""
    kind = formats.format_of(filename)
    if kind is None:
        raise UnsupportedFormatError(filename, "has no extension Sluice can extract text from")
    data = load_bytes(source, filename, max_bytes)
    try:
        return READERS[kind](data)
    except ExtractionError:
        raise
    except NotTextError as exc:
        raise ExtractionError(filename, str(exc)) from None
    except MemoryError:
        raise ExtractionError(filename, "needs more memory than a reader may use") from None
    except Exception as exc:  # any library error on a corrupt file is one document's problem
        detail = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
        if len(detail) > _REASON_LIMIT:
            detail = detail[:_REASON_LIMIT] + "…"
        reason = f"is not a readable {kind.upper()} file ({detail})"
        raise ExtractionError(filename, reason) from None


def _too_large(filename: str, size: int, max_bytes: int) -> FileTooLargeError:
    return FileTooLargeError(
        filename, f"is {_mib(size)}, over the {_mib(max_bytes)} extraction limit"
    )


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.1f} MiB"
