"""Run a pipeline with kfp.local: SubprocessRunner by default (its tasks forked from a warm
server, pipelines/warm), DockerRunner with --runner docker.

`mlrig run` starts this module in a child process and shows its stage events as progress.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Any

from mlrig.components.config import env
from mlrig.components.config.loader import LoadedConfig, load
from mlrig.pipelines.warm import warm_stages


def docker_runner(loaded: LoadedConfig) -> Any:
    """Each stage in its own container of the mlrig image. The project folder is mounted at the
    same path (the MLflow store, Feast registry and feature tables live there) and the container
    runs as the calling user so the files it writes stay the caller's."""
    import docker.types
    from kfp import local

    root = str(loaded.root)
    passed = {k: v for k, v in os.environ.items() if k.startswith("MLRIG")}
    return local.DockerRunner(
        mounts=[docker.types.Mount(target=root, source=root, type="bind")],
        user=f"{os.getuid()}:{os.getgid()}",
        environment={**env.QUIET_TELEMETRY, **passed, "HOME": "/tmp"},
        working_dir=root,
    )


def run_local(
    loaded: LoadedConfig,
    runner: str = "subprocess",
    pipeline: str = "training",
    params: dict[str, str] | None = None,
) -> Any:
    """Execute a pipeline locally; raises if any task fails."""
    env.quiet_telemetry()
    docker = runner == "docker"
    # a subprocess task is a fork of one process that imported the libraries once: it starts
    # first, so its imports overlap this process's own
    with contextlib.nullcontext() if docker else warm_stages(pipeline):
        from kfp import local

        from mlrig.pipelines.registry import PIPELINES, arguments

        root = loaded.path(loaded.config.workdir) / "pipeline_root"
        root.mkdir(parents=True, exist_ok=True)
        chosen = docker_runner(loaded) if docker else local.SubprocessRunner(use_venv=False)
        local.init(runner=chosen, pipeline_root=str(root.resolve()), raise_on_error=True)
        return PIPELINES[pipeline](**arguments(loaded, pipeline), **(params or {}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=None)
    parser.add_argument("--profile", default=None)
    parser.add_argument("--runner", choices=["subprocess", "docker"], default="subprocess")
    parser.add_argument("--pipeline", default="training")
    parser.add_argument("--param", action="append", default=[], help="name=value")
    args = parser.parse_args(argv)
    from mlrig.components.runtime.process import kill_own_group_on_term

    kill_own_group_on_term()
    params = dict(p.split("=", 1) for p in args.param)
    run_local(load(args.config, args.profile), args.runner, args.pipeline, params)
    return 0


if __name__ == "__main__":
    sys.exit(main())
