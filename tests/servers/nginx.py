"""nginx with HTTP basic auth in front of a plain-http server: real 401s, as a reverse proxy
that guards Elasticsearch answers them (HTML body, `WWW-Authenticate: Basic`)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers.ports import free_port, stop, wait_for_port

CONFIG = """\
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            auth_basic "security";
            auth_basic_user_file {dir}/htpasswd;
            proxy_set_header Authorization "";
            proxy_pass {upstream};
        }}
    }}
}}
"""


@contextmanager
def nginx_basic_auth(upstream: str, username: str, password: str, directory: Path) -> Iterator[str]:
    """Yield the URL of an nginx that lets `username:password` through to `upstream`."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tmp").mkdir(exist_ok=True)
    hashed = subprocess.run(
        ["openssl", "passwd", "-apr1", "-stdin"],
        input=password,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (directory / "htpasswd").write_text(f"{username}:{hashed}\n")
    port = free_port()
    config = directory / "nginx.conf"
    config.write_text(CONFIG.format(dir=directory, port=port, upstream=upstream.rstrip("/")))
    log = directory / "error.log"
    log.touch()
    with (directory / "nginx.stdio").open("wb") as stdio:
        process = subprocess.Popen(
            ["nginx", "-p", str(directory), "-c", str(config), "-e", str(log)],
            stdin=subprocess.DEVNULL,
            stdout=stdio,
            stderr=stdio,
        )
    try:
        wait_for_port(port, process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
