"""A fake Elasticsearch whose `_bulk` endpoint swallows requests without ever answering.

A black-holed connection (a dead load balancer, a network path that drops replies) accepts
the request and then says nothing; a real server can't be made to do that on demand. This
fake answers everything else as `FakeBulkRejections` does (an empty cluster that accepts
documents), but holds the first `swallow` `_bulk` requests open, unanswered, until the fake
is closed, so only the client's read timeout can end them.
"""

from __future__ import annotations

import threading
from typing import Any

from tests.fakes.fake_bulk_rejections import FakeBulkRejections


class FakeBlackHole(FakeBulkRejections):
    def __init__(self, swallow: int = 1) -> None:
        super().__init__(reject_first=0)
        self.swallow = swallow
        self.swallowed = 0
        self._closing = threading.Event()
        self._count_lock = threading.Lock()

    def bulk(self, body: bytes) -> tuple[int, dict[str, Any]]:
        with self._count_lock:
            hold = self.swallowed < self.swallow
            if hold:
                self.swallowed += 1
        if hold:
            self._closing.wait()  # no answer, ever: the client has to give up
        return super().bulk(body)

    def __exit__(self, *exc_info: object) -> None:
        self._closing.set()
        super().__exit__(*exc_info)
