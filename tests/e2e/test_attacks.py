"""The service attacked on loopback, bounded in count and time: schema-generated bad requests,
pickle and odd content-type payloads, and a soak at 8 connections. Every bad request gets a 4xx,
nothing a client sends is executed, and the service neither errs nor grows under load."""

from __future__ import annotations

import base64
import io
import os
import pickle
import threading
import time
from collections import Counter

import httpx
import numpy as np
import psutil
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from tests.e2e.test_local_e2e import GOOD, serving
from tests.helpers import service_pids

pytestmark = pytest.mark.e2e
SOAK_SECONDS = float(os.environ.get("MLRIG_SOAK_SECONDS", "60"))
SOAK_RSS_GROWTH_MB = 150  # the stated bound: after warm-up, 60 s of load may add at most this


@pytest.fixture(scope="module")
def server(trained):
    folder, config, _ = trained
    with serving(config, folder) as base:
        yield base


def _generated(base: str, path: str, mode: GenerationMode, count: int) -> Counter:
    """Send `count` requests that schemathesis generates from the service's OpenAPI schema."""
    schema = schemathesis.openapi.from_url(f"{base}/docs.json")
    statuses: Counter = Counter()
    examples: dict[int, object] = {}

    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(schema[path]["POST"].as_strategy(generation_mode=mode))
    def send(case):
        answer = case.call(base_url=base, timeout=30)
        statuses[answer.status_code] += 1
        examples.setdefault(answer.status_code, (case.body, answer.text[:300]))

    send()
    statuses["examples"] = examples  # type: ignore[assignment]
    return statuses


def test_500_generated_bad_requests_all_get_a_4xx(server):
    total = 0
    for path in ("/predict", "/predict_batch"):
        statuses = _generated(server, path, GenerationMode.NEGATIVE, 300)
        examples = statuses.pop("examples")
        codes = {code: n for code, n in statuses.items()}
        total += sum(codes.values())
        assert all(400 <= code < 500 for code in codes), (path, codes, examples)
    assert total >= 500


def test_requests_that_pass_the_schema_never_get_a_5xx(server):
    for path in ("/predict", "/predict_batch"):
        statuses = _generated(server, path, GenerationMode.POSITIVE, 100)
        examples = statuses.pop("examples")
        assert not [code for code in statuses if code >= 500], (path, dict(statuses), examples)


class _Run:
    """A pickle that, if ever unpickled, creates the marker file."""

    def __init__(self, marker: str, how: str) -> None:
        self.marker, self.how = marker, how

    def __reduce__(self):
        if self.how == "system":
            return (os.system, (f"touch {self.marker}",))
        if self.how == "exec":
            return (exec, (f"open({self.marker!r}, 'w').write('ran')",))
        return (eval, (f"open({self.marker!r}, 'w').write('ran')",))


def _payloads(marker: str) -> list[tuple[str, bytes]]:
    pickles = [pickle.dumps(_Run(marker, how), protocol=p)
               for how in ("system", "exec", "eval") for p in (0, 2, 5)]  # fmt: skip
    npy = io.BytesIO()
    np.save(npy, np.array([_Run(marker, "system")], dtype=object), allow_pickle=True)
    part = (b"--xx\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.pkl\"\r\n"
            b"Content-Type: application/octet-stream\r\n\r\n" + pickles[0] + b"\r\n--xx--\r\n")  # fmt: skip
    yaml_bomb = f"!!python/object/apply:os.system ['touch {marker}']".encode()
    out = [(kind, body) for body in pickles
           for kind in ("application/python-pickle", "application/octet-stream")]  # fmt: skip
    out += [
        ("application/x-pickle", pickles[1]),
        ("application/json", pickles[2]),
        ("application/json", b'{"__reduce__": "' + base64.b64encode(pickles[0]) + b'"}'),
        ("multipart/form-data", pickles[0]),
        ("multipart/form-data; boundary=xx", part),
        ("application/x-www-form-urlencoded", b"tailnum=" + base64.b64encode(pickles[0])),
        ("text/plain", pickles[3]),
        ("application/x-yaml", yaml_bomb),
        ("application/x-npy", npy.getvalue()),
        ("application/xml", b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'),
        ("image/png", b"\x89PNG\r\n\x1a\n" + pickles[4]),
        ("application/vnd.apache.arrow.stream", pickles[5]),
    ]
    return out


def test_pickles_and_odd_content_types_are_refused_and_run_nothing(server, tmp_path):
    marker = tmp_path / "payload-ran"
    payloads = _payloads(str(marker))
    assert len(payloads) >= 20
    for path in ("/predict", "/predict_batch"):
        for kind, body in payloads:
            answer = httpx.post(f"{server}{path}", content=body,
                                headers={"Content-Type": kind}, timeout=30)  # fmt: skip
            assert 400 <= answer.status_code < 500, (path, kind, answer.status_code, answer.text)
            assert "Descriptor" not in answer.text and "Traceback" not in answer.text
    assert not marker.exists()
    assert httpx.post(f"{server}/predict", json=GOOD, timeout=10).status_code == 200


def _server_rss(base: str) -> int:
    """RSS of the process listening on the service's port and all its children, in bytes."""
    port = int(base.rsplit(":", 1)[1])
    procs = [psutil.Process(pid) for pid in service_pids(port)]
    return sum(p.memory_info().rss for p in procs if p.is_running())


def test_a_60_second_soak_at_8_connections_has_no_error_and_bounded_memory(server):
    tailnums = ["N14228", "N24211", "N619AA", "N804JB", "N668DN", "N39463", "N0NE"]
    with httpx.Client(timeout=10) as warm:
        for i in range(100):
            assert warm.post(f"{server}/predict", json={**GOOD, "tailnum": tailnums[i % 7]}
                             ).status_code == 200  # fmt: skip
    before = _server_rss(server)
    errors: list[str] = []
    counts = [0] * 8
    stop = time.monotonic() + SOAK_SECONDS

    def client(slot: int) -> None:
        with httpx.Client(timeout=10) as http:
            while time.monotonic() < stop:
                body = {**GOOD, "tailnum": tailnums[(slot + counts[slot]) % 7]}
                try:
                    answer = http.post(f"{server}/predict", json=body)
                    if answer.status_code != 200:
                        errors.append(f"{answer.status_code}: {answer.text[:200]}")
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                counts[slot] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    growth_mb = (_server_rss(server) - before) / 2**20
    assert not errors, (len(errors), errors[:5])
    assert sum(counts) > 8 * SOAK_SECONDS  # more than one answer per second per connection
    assert growth_mb < SOAK_RSS_GROWTH_MB, (
        f"RSS grew {growth_mb:.0f} MB over {sum(counts)} requests"
    )
