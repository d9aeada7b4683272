"""Which documents the index held and which ones this sync has seen — on disk, not in RAM.

Elastic's service keeps every existing id in memory (~46 MB per million). Here both sets live
in a temporary SQLite file with a small page cache, so peak memory stays flat however large
the index grows: ids are listed with a point-in-time scan in large pages, the ids the source
yields are recorded as they pass, and the stale ones are read back with one anti-join.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

from elasticsearch import AsyncElasticsearch, NotFoundError
from elasticsearch.exceptions import ApiError

from sluice.core.engine.fingerprint import FINGERPRINT_FIELD
from sluice.core.engine.orphans import LEDGER_PREFIX, write_owner

_BATCH = 500


#: One indexed document as listed: its id, `_timestamp` and content fingerprint.
Listed = tuple[str, str | None, str | None]


class IdLedger:
    """Existing ids (with their `_timestamp` and fingerprint) and seen ids of one sync, in
    SQLite.

    By default in a temporary folder (`sluice-sync-*`, with an owner file naming this
    process, so a later instance can remove what a killed one left: `core.engine.orphans`),
    removed on `close`. With `durable`, in that folder, crash-safe (WAL), and kept by `close`
    when asked: a resumed job continues the same ledger, each seen id carrying the number of
    the source item it came from, so what its checkpoint does not cover can be forgotten
    (`forget_seen_after`)."""

    def __init__(self, directory: Path | None = None, *, durable: Path | None = None) -> None:
        if durable is not None:
            self._dir = durable
            durable.mkdir(parents=True, exist_ok=True, mode=0o700)
        else:
            self._dir = Path(tempfile.mkdtemp(prefix=LEDGER_PREFIX, dir=directory))
        self.durable = durable is not None
        write_owner(self._dir)
        self.path = self._dir / "ids.sqlite"
        self.resumed = self.durable and self.path.exists()
        self._db = sqlite3.connect(self.path, isolation_level=None)
        if self.durable:
            pragmas = ("journal_mode=WAL", "synchronous=NORMAL")
        else:
            pragmas = ("journal_mode=OFF", "synchronous=OFF")
        for pragma in (*pragmas, "temp_store=FILE", "cache_size=-4096"):  # 4 MiB page cache
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS existing (id TEXT PRIMARY KEY, ts TEXT, fp TEXT) "
            "WITHOUT ROWID"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID"
        )
        self._pending_seen: list[tuple[str, int]] = []

    # -- existing --------------------------------------------------------------------------
    def add_existing(self, rows: Iterable[Listed]) -> None:
        self._db.execute("BEGIN")
        self._db.executemany("INSERT OR REPLACE INTO existing VALUES (?, ?, ?)", rows)
        self._db.execute("COMMIT")

    def clear_existing(self) -> None:
        """Forget the listing (a resumed job lists the index again: it changed since)."""
        self._db.execute("DELETE FROM existing")

    def forget_seen_after(self, number: int) -> None:
        """Forget ids seen from source items numbered above `number` (after the checkpoint
        a resumed job continues from: they are read again)."""
        self._pending_seen.clear()
        self._db.execute("DELETE FROM seen WHERE n > ?", (number,))

    def existing(self, doc_id: str) -> tuple[str | None, str | None] | None:
        """The indexed document's `(_timestamp, fingerprint)`; None when not indexed."""
        row = self._db.execute("SELECT ts, fp FROM existing WHERE id = ?", (doc_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def existing_timestamp(self, doc_id: str) -> str | None:
        found = self.existing(doc_id)
        return found[0] if found else None

    # -- seen ------------------------------------------------------------------------------
    def mark_seen(self, doc_id: str, number: int = 0) -> None:
        """`doc_id` was yielded by the source (as its item `number`): not stale."""
        self._pending_seen.append((doc_id, number))
        if len(self._pending_seen) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        if self._pending_seen:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO seen VALUES (?, ?)", self._pending_seen)
            self._db.execute("COMMIT")
            self._pending_seen.clear()

    def count_existing(self) -> int:
        """How many documents the index held when it was listed."""
        return int(self._db.execute("SELECT COUNT(*) FROM existing").fetchone()[0])

    def count_unseen(self) -> int:
        """How many ids the index held that the source did not yield (the stale ones)."""
        self.flush()
        query = "SELECT COUNT(*) FROM existing e LEFT JOIN seen s ON s.id = e.id WHERE s.id IS NULL"
        return int(self._db.execute(query).fetchone()[0])

    def unseen_after(self, after: str | None, limit: int) -> list[str]:
        """Up to `limit` stale ids greater than `after`, in id order: pages that stay valid
        while `mark_kept` writes between them (no cursor is held open across pages)."""
        self.flush()
        query = (
            "SELECT e.id FROM existing e LEFT JOIN seen s ON s.id = e.id "
            "WHERE s.id IS NULL AND e.id > ? ORDER BY e.id LIMIT ?"
        )
        return [row[0] for row in self._db.execute(query, (after or "", limit))]

    def mark_kept(self, ids: Iterable[str]) -> None:
        """Take ids off the stale list without the source having yielded them (documents of
        a part the source could not read)."""
        self.flush()
        self._db.execute("BEGIN")
        self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?, 0)", ((i,) for i in ids))
        self._db.execute("COMMIT")

    def unseen_ids(self, page: int = 1000) -> Iterator[list[str]]:
        """Pages of ids the index held that the source did not yield."""
        self.flush()
        cursor = self._db.execute(
            "SELECT e.id FROM existing e LEFT JOIN seen s ON s.id = e.id WHERE s.id IS NULL"
        )
        while rows := cursor.fetchmany(page):
            yield [r[0] for r in rows]

    # -- after the sync (`core.engine.reconcile`) -----------------------------------------
    def count_seen(self) -> int:
        """How many documents the index should hold now: the ids seen (and kept)."""
        self.flush()
        return int(self._db.execute("SELECT COUNT(*) FROM seen").fetchone()[0])

    def start_final(self) -> None:
        """Start a fresh listing of the index as the sync left it."""
        self.flush()
        self._db.execute("CREATE TABLE IF NOT EXISTS final (id TEXT PRIMARY KEY) WITHOUT ROWID")
        self._db.execute("DELETE FROM final")

    def add_final(self, ids: Iterable[str]) -> None:
        self._db.execute("BEGIN")
        self._db.executemany("INSERT OR IGNORE INTO final VALUES (?)", ((i,) for i in ids))
        self._db.execute("COMMIT")

    def seen_not_final(self, sample: int) -> tuple[int, list[str]]:
        """Ids seen by the sync but not in the index: how many, and the first few."""
        return self._difference("seen", "final", sample)

    def final_not_seen(self, sample: int) -> tuple[int, list[str]]:
        """Ids in the index that the sync did not see: how many, and the first few."""
        return self._difference("final", "seen", sample)

    def _difference(self, left: str, right: str, sample: int) -> tuple[int, list[str]]:
        query = f"FROM {left} a LEFT JOIN {right} b ON b.id = a.id WHERE b.id IS NULL"
        count = int(self._db.execute(f"SELECT COUNT(*) {query}").fetchone()[0])
        rows = self._db.execute(f"SELECT a.id {query} ORDER BY a.id LIMIT ?", (sample,))
        return count, [row[0] for row in rows]

    def close(self, *, keep: bool = False) -> None:
        """Close; the folder is removed unless the ledger is durable and `keep` (a suspended
        job resumes with it)."""
        if keep and self.durable:
            self.flush()
            self._db.close()
            return
        self._db.close()
        shutil.rmtree(self._dir, ignore_errors=True)


async def scan_index_ids(
    client: AsyncElasticsearch, index: str, *, page_size: int, with_state: bool = True
) -> AsyncIterator[list[Listed]]:
    """Pages of `(id, _timestamp, fingerprint)` for every document of `index` (the last two
    None without `with_state`: ids only, the cheapest listing).

    Uses a point in time with `search_after` (a consistent snapshot taken now, so documents
    this sync writes later are not listed); falls back to a scroll where PIT is missing.
    """
    source: Any = ["_timestamp", FINGERPRINT_FIELD] if with_state else False
    try:
        pit = await client.open_point_in_time(index=index, keep_alive="5m")
    except NotFoundError:
        return
    except ApiError as exc:
        if exc.status_code not in (400, 405):
            raise
        async for page in _scroll_ids(client, index, page_size, source):
            yield page
        return
    pit_id = pit["id"]
    search_after = None
    try:
        while True:
            body: dict[str, Any] = {
                "size": page_size,
                "pit": {"id": pit_id, "keep_alive": "5m"},
                "sort": [{"_shard_doc": "asc"}],
                "_source": source,
                "track_total_hits": False,
            }
            if search_after is not None:
                body["search_after"] = search_after
            response = await client.search(**body)
            hits = response["hits"]["hits"]
            if not hits:
                return
            pit_id = response.get("pit_id", pit_id)
            search_after = hits[-1]["sort"]
            yield [_listed(h) for h in hits]
            if len(hits) < page_size:
                return
    finally:
        try:
            await client.close_point_in_time(id=pit_id)
        except ApiError:
            pass


async def _scroll_ids(
    client: AsyncElasticsearch, index: str, page_size: int, source: Any
) -> AsyncIterator[list[Listed]]:
    response = await client.search(
        index=index, scroll="5m", size=page_size, sort=["_doc"], source=source
    )
    scroll_id = response.get("_scroll_id")
    try:
        while hits := response["hits"]["hits"]:
            yield [_listed(h) for h in hits]
            response = await client.scroll(scroll_id=scroll_id, scroll="5m")
            scroll_id = response.get("_scroll_id", scroll_id)
    finally:
        if scroll_id:
            try:
                await client.clear_scroll(scroll_id=scroll_id)
            except ApiError:
                pass


def _listed(hit: dict[str, Any]) -> Listed:
    found = hit.get("_source") or {}
    timestamp, fingerprint = found.get("_timestamp"), found.get(FINGERPRINT_FIELD)
    return (
        hit["_id"],
        None if timestamp is None else str(timestamp),
        fingerprint if isinstance(fingerprint, str) else None,
    )
