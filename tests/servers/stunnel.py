"""stunnel4 in front of a plain-http server: one process, one TLS port per certificate."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from tests.servers.certs import ServerCert
from tests.servers.ports import free_port, stop, wait_for_port


@contextmanager
def stunnel(
    certs: Mapping[str, ServerCert], upstream: str, directory: Path
) -> Iterator[dict[str, str]]:
    """Yield `{name: "https://127.0.0.1:PORT"}`, each port serving `certs[name]` and
    forwarding to `upstream` (an http:// URL)."""
    target = urlsplit(upstream)
    ports = {name: free_port() for name in certs}
    log = directory / "stunnel.log"
    lines = ["foreground = yes", "pid =", f"output = {log}", "debug = 4", ""]
    for name, cert in certs.items():
        lines += [
            f"[{name}]",
            f"accept = 127.0.0.1:{ports[name]}",
            f"connect = {target.hostname}:{target.port or 80}",
            f"cert = {cert.chain}",
            f"key = {cert.key}",
            "",
        ]
    config = directory / "stunnel.conf"
    config.write_text("\n".join(lines))
    with (directory / "stunnel.stdio").open("wb") as stdio:
        process = subprocess.Popen(
            ["stunnel4", str(config)], stdin=subprocess.DEVNULL, stdout=stdio, stderr=stdio
        )
    try:
        for port in ports.values():
            wait_for_port(port, process, log)
        yield {name: f"https://127.0.0.1:{port}" for name, port in ports.items()}
    finally:
        stop(process)
