"""Compile pipelines to KFP IR YAML, submit them to a KFP endpoint, follow and list runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlrig.components.config.loader import LoadedConfig

# The pipelines by name; importing them (kfp) costs seconds, so it happens only when compiling.
PIPELINE_NAMES = ("training", "scoring", "scoring-parts")

TERMINAL = {"SUCCEEDED", "FAILED", "SKIPPED", "CANCELED", "CANCELLED"}
RUNNER_SERVICE_ACCOUNT = "mlrig-pipeline-runner"


class KfpError(RuntimeError):
    """The KFP endpoint could not be used; the message says why."""


def compile_pipeline(name: str, out_dir: Path) -> Path:
    """Write <name>.yaml (pipeline spec + Kubernetes platform spec) and return its path."""
    from kfp import compiler

    from mlrig.pipelines.registry import PIPELINES

    if name not in PIPELINES:
        raise KfpError(f"unknown pipeline '{name}' (have: {', '.join(PIPELINES)})")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.yaml"
    compiler.Compiler().compile(PIPELINES[name], str(path))
    return path


def client(host: str, namespace: str | None = None) -> Any:
    """A kfp.Client that has answered a health check."""
    import kfp

    try:
        kfp_client = kfp.Client(host=host, namespace=namespace)
        kfp_client.get_kfp_healthz()
    except Exception as exc:  # connection refused, DNS, auth: all mean "not usable"
        raise KfpError(f"no KFP API at {host}: {type(exc).__name__}: {exc}") from None
    return kfp_client


def submit(
    kfp_client: Any,
    package: Path,
    loaded: LoadedConfig,
    params: dict[str, str] | None = None,
    experiment: str = "mlrig",
) -> str:
    """Create a run of a compiled pipeline with the (cluster profile) config; return its id."""
    from mlrig.pipelines.registry import arguments  # builds every pipeline: not for `--help`

    run = kfp_client.create_run_from_pipeline_package(
        str(package),
        arguments={**arguments(loaded, package.stem), **(params or {})},
        run_name=f"{package.stem}-{time.strftime('%Y%m%d-%H%M%S')}",
        experiment_name=experiment,
        service_account=RUNNER_SERVICE_ACCOUNT,
        enable_caching=False,
    )
    return run.run_id


def follow(
    kfp_client: Any, run_id: str, on_state: Callable[[str], None], timeout_s: float = 7200
) -> str:
    """Poll a run until it ends; return its final state."""
    deadline = time.monotonic() + timeout_s
    state = "PENDING"
    while time.monotonic() < deadline:
        state = str(kfp_client.get_run(run_id).state or "PENDING")
        on_state(state)
        if state in TERMINAL:
            return state
        time.sleep(5)
    raise KfpError(f"run {run_id} still {state} after {timeout_s:.0f} s")


def list_runs(kfp_client: Any, limit: int = 20) -> list[dict[str, Any]]:
    """The newest runs: id, name, state, created."""
    response = kfp_client.list_runs(page_size=limit, sort_by="created_at desc")
    return [
        {
            "id": r.run_id,
            "name": r.display_name,
            "state": r.state,
            "created": str(r.created_at),
        }
        for r in (response.runs or [])
    ]
