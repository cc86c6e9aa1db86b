"""Helpers for tests that start servers: a free loopback port, waiting for readiness, and a
loopback HTTP API answering a fixed JSON body."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(
    url: str, timeout: float = 120, died: Callable[[], str | None] = lambda: None
) -> None:
    """Wait until GET url answers 200; fail early with died()'s text when the server is gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reason = died()
        if reason:
            pytest.fail(f"server for {url} exited: {reason}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"{url} not ready in {timeout:.0f} s")


def service_pids(port: int) -> list[int]:
    """The pids of the service on a port, the BentoML arbiter first (it restarts a worker that
    dies, so it must go before its workers), then every process under it. psutil names one
    process per shared listening socket, which may be any worker: a worker missed that way
    outlived a kill -9 test, so the tree is taken from the arbiter."""
    import psutil

    found = {c.pid for c in psutil.net_connections(kind="tcp")
             if c.laddr and c.laddr.port == port and c.pid}  # fmt: skip
    roots = set()
    for pid in found:
        parent = psutil.Process(pid).parent()
        bentoml = parent is not None and "bentoml" in " ".join(parent.cmdline())
        roots.add(parent.pid if bentoml else pid)
    ordered = sorted(roots)
    for root in sorted(roots):
        ordered += [c.pid for c in psutil.Process(root).children(recursive=True)]
    return list(dict.fromkeys(ordered))


@contextmanager
def json_api(
    body: bytes | dict[str, bytes],
    token: str | None = None,
    hits: list[str] | None = None,
    redirects: dict[str, str] | None = None,
    auth_seen: list[str | None] | None = None,
) -> Iterator[str]:
    """A loopback HTTP server answering every GET with body (JSON), or with the body of its
    path where body maps paths to bodies (404 elsewhere); paths under /private need
    `Authorization: Bearer <token>` (else 401). Each path asked for is appended to hits.
    redirects maps a path to the Location it answers 302 with; auth_seen collects the
    Authorization header of every request. Yields its base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if hits is not None:
                hits.append(self.path)
            if auth_seen is not None:
                auth_seen.append(self.headers["Authorization"])
            if redirects and self.path in redirects:
                self.send_response(302)
                self.send_header("Location", redirects[self.path])
                self.end_headers()
                return
            if (
                self.path.startswith("/private")
                and self.headers["Authorization"] != f"Bearer {token}"
            ):
                self.send_response(401)
                self.end_headers()
                return
            answer = body.get(self.path) if isinstance(body, dict) else body
            if answer is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
