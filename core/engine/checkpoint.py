"""Checkpoints: where a stopped job continues, kept in its job record.

A source that can continue mid-way (`ResumableSource`: a sorted walk position for a file
tree) tells its position after any item it yielded. The engine takes such a position as a
*candidate* every few seconds and confirms it once everything read before it is safely in
Elasticsearch:

1. every lazy content load of an item up to the candidate has finished (its document is
   then queued), and
2. every bulk operation queued by then has been answered (`queue.InFlight`).

Only then is the checkpoint handed on (the runner writes it to the job record with its
heartbeat). It carries what the end of the job needs too: the counters so far and the
parts the source could not read (their stale documents must still be kept). The ids seen
before it are in the job's durable ledger (`snapshot.IdLedger`), on the host that ran it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from sluice.core.engine.content import ContentLoads
from sluice.core.engine.progress import Counters
from sluice.core.engine.queue import ByteBoundedQueue, InFlight
from sluice.core.engine.source import Scope
from sluice.core.engine.unread import UnreadPart

#: Seconds between checkpoint candidates.
CHECKPOINT_INTERVAL = 5.0


@runtime_checkable
class ResumableSource(Protocol):
    """A source whose full read can continue after a given item."""

    def read_position(self) -> Any:
        """Where the read stands now, right after the last item yielded (JSON-able)."""

    def resume_after(self, position: Any) -> None:
        """Make the next `get_docs` continue after `position` (one `read_position` gave)."""


def resumable(source: object) -> ResumableSource | None:
    return source if isinstance(source, ResumableSource) else None


def continue_at(position: Any, places: Sequence[str], place: str, after: str) -> tuple[int, Any]:
    """Where a resumed read over ordered places (tables, roots) starts: the index of the
    first place to read and `position[after]`, the value to continue after in it (None: its
    start). A position naming a place no longer listed starts over; one marked `done`
    continues with the next place."""
    if not isinstance(position, Mapping) or position.get(place) not in places:
        return 0, None
    index = list(places).index(position[place])
    if position.get("done"):
        return index + 1, None
    return index, position.get(after)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A confirmed place to continue from (see the module docstring)."""

    position: Any
    items: int  # source items read up to the position
    counters: dict[str, int]
    unread: list[dict[str, Any]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    at: float = field(default_factory=time.time)

    def as_doc(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_doc(cls, value: Any) -> Checkpoint | None:
        """Read back from a job record; None when absent or not this shape."""
        if not isinstance(value, Mapping) or "position" not in value:
            return None
        items, counters = value.get("items"), value.get("counters")
        if not isinstance(items, int) or not isinstance(counters, Mapping):
            return None
        known = set(Counters.__dataclass_fields__)
        return cls(
            position=value["position"],
            items=items,
            counters={k: int(v) for k, v in counters.items() if k in known},
            unread=[dict(u) for u in value.get("unread") or [] if isinstance(u, Mapping)],
            notices=[str(n) for n in value.get("notices") or []],
            at=float(value.get("at") or 0.0),
        )

    def restored_counters(self) -> Counters:
        return Counters(**self.counters)

    def restored_unread(self) -> list[UnreadPart]:
        parts = []
        for entry in self.unread:
            scope = entry.get("scope")
            parts.append(
                UnreadPart(
                    str(entry.get("name") or "part of the source"),
                    str(entry.get("operation") or "read"),
                    Scope(**scope) if isinstance(scope, Mapping) else None,
                )
            )
        return parts


def unread_docs(parts: list[UnreadPart]) -> list[dict[str, Any]]:
    return [
        {
            "name": p.name,
            "operation": p.operation,
            "scope": None if p.scope is None else asdict(p.scope),
        }
        for p in parts
    ]


@dataclass(slots=True)
class _Candidate:
    checkpoint: Checkpoint
    queued_by: int | None = None  # operations queued once its loads were done


class CheckpointTracker:
    """Takes candidates and confirms them (see the module docstring)."""

    def __init__(
        self,
        on_checkpoint: Callable[[Checkpoint], None],
        interval: float = CHECKPOINT_INTERVAL,
    ) -> None:
        self.on_checkpoint = on_checkpoint
        self.interval = interval
        self.due = False  # the extraction takes a candidate after its next item
        self._candidate: _Candidate | None = None
        self._last = time.monotonic()

    def tick(self) -> None:
        """Called often: ask for a candidate when the interval has passed and none waits."""
        if self._candidate is None and time.monotonic() - self._last >= self.interval:
            self.due = True

    def take(self, checkpoint: Checkpoint) -> None:
        self.due = False
        self._candidate = _Candidate(checkpoint)

    def confirm(
        self,
        loads: ContentLoads | None,
        queue: ByteBoundedQueue[Any],
        inflight: InFlight,
        before_commit: Callable[[Checkpoint], Checkpoint],
    ) -> Checkpoint | None:
        """Advance the waiting candidate; the checkpoint once it is confirmed."""
        candidate = self._candidate
        if candidate is None:
            return None
        if candidate.queued_by is None:
            oldest = loads.oldest() if loads is not None else None
            if oldest is not None and oldest <= candidate.checkpoint.items:
                return None
            candidate.queued_by = queue.put_count
        if inflight.resolved_below(queue) < candidate.queued_by:
            return None
        self._candidate = None
        self._last = time.monotonic()
        checkpoint = before_commit(candidate.checkpoint)
        self.on_checkpoint(checkpoint)
        return checkpoint
