"""Helpers for tests that start servers: a free loopback port, and waiting for readiness."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

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
