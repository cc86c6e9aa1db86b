"""Windowed aggregates as of the request on the cluster profile's online store: Redis, behind its
password, holding each key's next window changes beside its values."""

from __future__ import annotations

import pytest

from tests.anytable.live import start_live, windows_follow_the_request
from tests.services import servers

pytestmark = pytest.mark.services


def test_windows_read_from_redis_are_as_of_the_request(tmp_path):
    if servers.missing():
        pytest.skip(f"not installed: {', '.join(servers.missing())}")
    with servers.redis(servers.PASSWORDS["redis"]) as redis:
        where = f"127.0.0.1:{redis.port},password={servers.PASSWORDS['redis']}"
        stores = {"feast_online_type": "redis", "feast_redis": where}
        config = start_live(tmp_path, stores, clear_online=lambda: _flush(redis.port))
        windows_follow_the_request(tmp_path, config)


def _flush(port: int) -> None:
    import redis

    redis.Redis(port=port, password=servers.PASSWORDS["redis"]).flushall()
