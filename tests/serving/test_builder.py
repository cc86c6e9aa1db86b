"""serving/builder.py: the service assembled from a config, with no MLflow call outside a worker
and the tracking store created once, by the deployment hook."""

from __future__ import annotations

from typing import Any

from mlrig.components.contract.contract import draft
from mlrig.components.integrations.mlflow import tracking
from mlrig.serving import builder
from mlrig.serving.guard import JsonOnly, UserErrors
from mlrig.serving.limits import BodyLimit
from tests.conftest import load_demo


def _hook(service: Any) -> Any:
    (hook,) = [
        member
        for name in dir(service.inner)
        if getattr(member := getattr(service.inner, name), "__bentoml_deployment_hook__", False)
    ]
    return hook


def test_building_outside_a_worker_declares_the_routes_from_the_config_without_touching_mlflow(
    demo_dir,
):
    loaded = load_demo(demo_dir)
    service = builder.build(loaded)
    assert service.name == "mlrig"
    assert set(service.apis) == {"predict", "predict_batch"}
    expected = set(draft(loaded.config, None).request_fields)
    assert set(service.apis["predict"].input_spec.model_fields) >= expected
    assert tracking.local_store_missing(loaded.place)  # asked nothing of MLflow


def test_the_middleware_runs_size_limit_first_then_media_type_then_error_wording(demo_dir):
    loaded = load_demo(demo_dir)
    service = builder.build(loaded)
    assert [kind for kind, _ in service.middlewares] == [BodyLimit, JsonOnly, UserErrors]
    assert service.middlewares[0][1] == {"max_bytes": loaded.config.serving.max_body_bytes}


def test_the_deployment_hook_creates_the_local_tracking_store_once(demo_dir):
    loaded = load_demo(demo_dir)
    hook = _hook(builder.build(loaded))
    hook()
    assert not tracking.local_store_missing(loaded.place)
    hook()  # a second deployment finds it and leaves it
    assert not tracking.local_store_missing(loaded.place)


def test_each_build_is_its_own_service_class(demo_dir):
    first = builder.build(load_demo(demo_dir))
    second = builder.build(load_demo(demo_dir))
    assert first.inner is not second.inner
    assert first.inner.service is first and second.inner.service is second
