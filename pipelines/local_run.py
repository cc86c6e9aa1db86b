"""Run the training pipeline with kfp.local (SubprocessRunner by default, DockerRunner on request).

`mlrig run` starts this module in a child process and shows its stage events as progress.
"""

from __future__ import annotations

import argparse
import sys

from mlrig.components.config import env
from mlrig.components.config.loader import LoadedConfig, load


def run_local(loaded: LoadedConfig, runner: str = "subprocess") -> object:
    """Execute the whole training pipeline locally; raises if any task fails."""
    env.quiet_telemetry()
    from kfp import local

    from mlrig.pipelines.training import training_pipeline

    root = loaded.path(loaded.config.workdir) / "pipeline_root"
    root.mkdir(parents=True, exist_ok=True)
    chosen = local.DockerRunner() if runner == "docker" else local.SubprocessRunner(use_venv=False)
    local.init(runner=chosen, pipeline_root=str(root.resolve()), raise_on_error=True)
    return training_pipeline(config=loaded.to_json())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=None)
    parser.add_argument("--profile", default=None)
    parser.add_argument("--runner", choices=["subprocess", "docker"], default="subprocess")
    args = parser.parse_args(argv)
    loaded = load(args.config, args.profile)
    run_local(loaded, args.runner)
    return 0


if __name__ == "__main__":
    sys.exit(main())
