"""Which Sluice instance runs a job.

`worker_hostname` is Elastic's field and stays a plain host name (Kibana shows it), so two
instances on one host write the same value there. The instance itself — host, process id,
a random id and when it started — goes into the job's free-form `metadata`, as
`metadata.sluice.worker`, which Elastic's readers ignore; logs, `sluice job show` and the
monitor read it back to tell instances apart.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from sluice.core.processes import alive, start_time
from sluice.core.protocol.timeutil import iso_now


@dataclass(frozen=True, slots=True)
class WorkerIdentity:
    """One running Sluice instance (a `sluice run` service, or a one-off `sluice sync`/TUI
    process)."""

    host: str
    pid: int
    instance_id: str
    started: str
    #: The process's start time in clock ticks since boot (`core.processes.start_time`):
    #: with the pid, it tells a live process from a later one that reuses its number.
    ticks: int | None = None

    @classmethod
    def new(cls, host: str | None = None) -> WorkerIdentity:
        """A fresh instance: its own random id, started now."""
        pid = os.getpid()
        host = host or socket.gethostname()
        return cls(host, pid, secrets.token_hex(6), iso_now(), start_time(pid))

    @classmethod
    def of_this_process(cls, host: str | None = None) -> WorkerIdentity:
        """The identity of this process, the same for every job it runs (a new one after a
        fork); `host` overrides the host name when a caller names one."""
        global _PROCESS
        if _PROCESS is None or _PROCESS.pid != os.getpid():
            _PROCESS = cls.new()
        return replace(_PROCESS, host=host) if host else _PROCESS

    @classmethod
    def from_doc(cls, value: Any) -> WorkerIdentity | None:
        """Read back from `metadata.sluice.worker`; None when absent or not Sluice's shape
        (a job run by Elastic's service, or edited by hand)."""
        if not isinstance(value, Mapping):
            return None
        host, pid, instance_id = value.get("host"), value.get("pid"), value.get("instance_id")
        if not isinstance(host, str) or not isinstance(instance_id, str):
            return None
        if not isinstance(pid, int) or isinstance(pid, bool):
            return None
        started, ticks = value.get("started"), value.get("ticks")
        return cls(
            host,
            pid,
            instance_id,
            started if isinstance(started, str) else "",
            ticks if isinstance(ticks, int) and not isinstance(ticks, bool) else None,
        )

    def is_dead_here(self, host: str) -> bool:
        """This instance ran on `host` (this machine) and its process is gone: whatever it
        was doing stopped for good (killed, crashed), with no heartbeat to wait for."""
        return self.host == host and self.pid != os.getpid() and not alive(self.pid, self.ticks)

    def as_doc(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def label(self) -> str:
        """Short, for tables: enough to tell two instances on one host apart."""
        return f"{self.host} (pid {self.pid})"

    def describe(self) -> str:
        """Everything, for logs and `job show`."""
        started = f", started {self.started}" if self.started else ""
        return f"{self.host}, pid {self.pid}, instance {self.instance_id}{started}"


_PROCESS: WorkerIdentity | None = None


def with_worker(metadata: Any, identity: WorkerIdentity) -> dict[str, Any]:
    """A job's `metadata` with `identity` recorded as the instance running it."""
    result = dict(metadata) if isinstance(metadata, Mapping) else {}
    section = result.get("sluice")
    result["sluice"] = {
        **(section if isinstance(section, Mapping) else {}),
        "worker": identity.as_doc(),
    }
    return result


def worker_of(metadata: Any) -> WorkerIdentity | None:
    """The instance recorded in a job's `metadata`, if any."""
    if not isinstance(metadata, Mapping):
        return None
    section = metadata.get("sluice")
    return WorkerIdentity.from_doc(section.get("worker") if isinstance(section, Mapping) else None)
