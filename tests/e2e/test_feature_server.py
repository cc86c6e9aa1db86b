"""`mlrig features serve`: apps read online features over HTTP, and Feast's write routes are gone.

Against `feast serve` on the same store, each write below changes what the online store answers
(the test shows it for /write-to-online-store); here each is a 404 and the values stay."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pandas as pd
import pytest

from mlrig.components.config.loader import load
from mlrig.components.integrations.feast import feast_store
from mlrig.components.integrations.feast.repo import open_store, repo_config
from tests.helpers import free_port, wait_http

pytestmark = pytest.mark.e2e

WRITES = ["/push", "/write-to-online-store", "/materialize", "/materialize-incremental"]


def _request(folder, service: str) -> tuple[dict, dict]:
    training = next((folder / ".mlrig/pipeline_root").glob("*/features/training_set"))
    row = pd.read_parquet(training / "training_set.parquet").dropna(subset=["tailnum"]).iloc[0]
    entities = {"tailnum": [row["tailnum"]], "origin": [row["origin"]],
                "route": [f"{row['origin']}-{row['dest']}"]}  # fmt: skip
    read = {"feature_service": service, "full_feature_names": True, "entities": entities}
    return read, entities


def _guide_example(service: str) -> dict:
    """The body of the serving guide's feature-server curl example, with the printed service name."""
    import json
    import re
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs/how-to/serve.md").read_text()
    body = re.search(r"get-online-features .*?-d \\\n\s*'(\{.*?\})'", guide, re.S).group(1)
    return json.loads(body.replace("<the service name it prints>", service))


def _seats(answer: httpx.Response) -> object:
    body = answer.json()
    names = body["metadata"]["feature_names"]
    return body["results"][names.index(next(n for n in names if n.endswith("__seats")))]["values"]


def test_the_feature_server_reads_and_refuses_every_write(trained, tmp_path):
    folder, config, _ = trained
    loaded = load(config)
    live = feast_store.live_feature_set(loaded.place)
    view = next(v for v in live.views if live.views[v] == "plane_attributes")
    read, entities = _request(folder, live.service)
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLRIG")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlrig.cli", "features", "serve", "--config", str(config),
         "--port", str(port)],
        cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/health", died=lambda: None if proc.poll() is None else "exited")
        before = httpx.post(f"{base}/get-online-features", json=read, timeout=30)
        assert before.status_code == 200, before.text
        seats = _seats(before)
        assert seats[0] and seats[0] > 0
        overwrite = {"feature_view_name": view, "df": _overwrite(loaded, view, entities)}
        for path in WRITES:
            body = overwrite if path != "/push" else {"push_source_name": view, **overwrite}
            answer = httpx.post(f"{base}{path}", json=body, timeout=30)
            assert answer.status_code == 404, (path, answer.status_code, answer.text)
        after = httpx.post(f"{base}/get-online-features", json=read, timeout=30)
        assert _seats(after) == seats
        printed = _guide_example(live.service)  # the serving guide's example, as printed
        answer = httpx.post(f"{base}/get-online-features", json=printed, timeout=30)
        assert answer.status_code == 200, answer.text
        assert _seats(answer)[0] and _seats(answer)[0] > 0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    assert live.service in (tmp_path / "server.log").read_text()  # it tells apps what to ask for
    # the same write against Feast's own server app does change the store: the routes matter
    from fastapi.testclient import TestClient
    from feast import feature_server

    store = _store_on_a_copy(loaded, tmp_path)  # the session's store stays as it is
    with TestClient(feature_server.get_app(store)) as client:
        written = client.post("/write-to-online-store", json=overwrite)
        assert written.status_code == 200, written.text
        changed = client.post("/get-online-features", json=read)
        assert _seats(changed) == [-1.0]
    with TestClient(_read_only(store)) as client:
        assert client.post("/write-to-online-store", json=overwrite).status_code == 404


def _overwrite(loaded, view: str, entities: dict) -> dict:
    """One row of every feature of the view: seats -1, text "x", other numbers -1."""
    fields = open_store(loaded.place).get_feature_view(view).features
    row = {f.name: ["x"] if "String" in str(f.dtype) else [-1.0] for f in fields}
    return {"tailnum": entities["tailnum"], **row, "event_timestamp": ["2030-01-01T00:00:00+00:00"]}


def _store_on_a_copy(loaded, tmp_path):
    import shutil

    from feast import FeatureStore

    config = repo_config(loaded.place)
    copy = tmp_path / "online.db"
    shutil.copy(config.online_store.path, copy)
    config.online_store.path = str(copy)
    return FeatureStore(config=config)


def _read_only(store):
    from mlrig.components.integrations.feast.feature_server import read_only_app

    return read_only_app(store)
