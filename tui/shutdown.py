"""Ending the process when its terminal goes away (SIGHUP) or it is told to stop (SIGTERM).

A closed terminal (a dropped SSH session) is the hard case: Textual's own shutdown writes to
the terminal, and with the terminal gone its writer thread dies on EIO, its queue fills and
the app blocks forever while its input thread spins on EOF. So the hang-up path does not go
through Textual at all: a plain thread silences the terminal's file descriptors, asks every
running sync to suspend (the job record becomes `suspended`, resumable), waits for them up to
a deadline, stops the child processes this app owns and leaves with `os._exit`.

SIGTERM first takes the graceful path (the app's stop hooks, the terminal restored) and falls
back to the hang-up path when that has not ended the process within the deadline.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from sluice.core.processes import end_child_processes, silence_terminal

#: Seconds a suspending sync gets to write its job record before the process leaves anyway.
SUSPEND_DEADLINE = 8.0


@dataclass
class Participant:
    """Something running that must stop before the process ends (a sync, the sandbox)."""

    stop: Callable[[], None]
    finished: Callable[[], bool] = lambda: True


class Shutdown:
    """Process-wide SIGHUP/SIGTERM handling for one app. `install()` from the main thread."""

    def __init__(
        self,
        graceful: Callable[[int], None],
        *,
        deadline: float = SUSPEND_DEADLINE,
        hard_exit: bool = True,
    ) -> None:
        self._graceful = graceful
        self.deadline = deadline
        #: False in tests that run the app inside the test process: never `os._exit` there.
        self.hard_exit = hard_exit
        self._participants: list[Participant] = []
        self._lock = threading.Lock()
        self._previous: dict[int, Any] = {}
        self._stopping = threading.Event()  # the hard stop has started
        self._watchdog = threading.Event()  # SIGTERM's fallback to it is armed
        self.installed: list[int] = []

    # ---------------------------------------------------------------- registration
    def track(self, stop: Callable[[], None], finished: Callable[[], bool]) -> Callable[[], None]:
        """Have `stop()` called (from any thread) before the process ends; `finished()` says
        when it is done. Returns the function that removes it again."""
        participant = Participant(stop, finished)
        with self._lock:
            self._participants.append(participant)

        def remove() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._participants.remove(participant)

        return remove

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for name, handler in (("SIGHUP", self._on_hangup), ("SIGTERM", self._on_terminate)):
            sig = getattr(signal, name, None)
            if sig is None:
                continue
            with contextlib.suppress(ValueError, OSError):
                self._previous[sig] = signal.signal(sig, handler)
                self.installed.append(sig)

    def uninstall(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, previous in self._previous.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, previous)
        self._previous.clear()
        self.installed.clear()

    # ---------------------------------------------------------------- signals
    def _on_hangup(self, sig: int, _frame: FrameType | None) -> None:
        if not self.hard_exit:
            self._graceful(sig)
            return
        self._start(self._stop_now, sig)

    def _on_terminate(self, sig: int, _frame: FrameType | None) -> None:
        self._graceful(sig)
        if self.hard_exit and not self._watchdog.is_set():
            self._watchdog.set()
            self._thread(self._stop_if_still_running, sig)

    def _start(self, target: Callable[[int], None], sig: int) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._thread(target, sig)

    @staticmethod
    def _thread(target: Callable[[int], None], sig: int) -> None:
        threading.Thread(target=target, args=(sig,), name="sluice-shutdown", daemon=True).start()

    def _stop_if_still_running(self, sig: int) -> None:
        time.sleep(self.deadline)  # the graceful path would have ended the process by now
        self._start(self._stop_now, sig)

    def _stop_now(self, sig: int) -> None:
        silence_terminal()
        self.stop_participants()
        os._exit(128 + sig)

    def stop_participants(self) -> None:
        """Stop the participants newest first (a sync before the sandbox it writes to),
        each waited for within one shared deadline, then end the child processes still
        running (extraction workers)."""
        with self._lock:
            participants = list(reversed(self._participants))
        until = time.monotonic() + self.deadline
        for participant in participants:
            with contextlib.suppress(Exception):
                participant.stop()
            while time.monotonic() < until and not _done(participant):
                time.sleep(0.05)
        end_child_processes()


def _done(participant: Participant) -> bool:
    try:
        return bool(participant.finished())
    except Exception:
        return True
