"""Tasks and one-task pipelines for the warm stage tests, run by kfp.local."""

# no `from __future__ import annotations`: kfp reads the components' annotations as types
import time
from pathlib import Path

from kfp import dsl

from mlrig.pipelines.warm import LOADED_NAME, SOCKET_NAME

PRELOADED = "lightgbm"  # imported by the server, by no task here, nor by kfp's executor


@dsl.component(install_kfp_package=False)
def loaded(module: str) -> bool:
    import sys

    return module in sys.modules


@dsl.component(install_kfp_package=False)
def frozen_objects() -> int:
    import gc

    return gc.get_freeze_count()


@dsl.component(install_kfp_package=False)
def env_value(name: str) -> str:
    import os

    return os.environ.get(name, "<unset>")


@dsl.component(install_kfp_package=False)
def fails(message: str) -> str:
    raise ValueError(message)


@dsl.component(install_kfp_package=False)
def killed() -> str:
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)
    return "not reached"


@dsl.pipeline
def sees_loaded(module: str) -> bool:
    return loaded(module=module).output


@dsl.pipeline
def counts_frozen() -> int:
    return frozen_objects().output


@dsl.pipeline
def sees_env(name: str) -> str:
    return env_value(name=name).output


@dsl.pipeline
def one_failing(message: str) -> str:
    return fails(message=message).output


@dsl.pipeline
def one_killed() -> str:
    return killed().output


def wait_until_serving(script: Path, timeout_s: float = 120.0) -> None:
    """Until the warm server has taken every import step, a task may import some itself."""
    deadline = time.monotonic() + timeout_s
    while not (script.parent / LOADED_NAME).exists():
        assert time.monotonic() < deadline, "the warm server never finished its imports"
        time.sleep(0.2)


def wait_until_listening(script: Path, timeout_s: float = 60.0) -> None:
    """Until the warm server listens: a task started before that runs cold."""
    deadline = time.monotonic() + timeout_s
    while not (script.parent / SOCKET_NAME).exists():
        assert time.monotonic() < deadline, "the warm server never listened"
        time.sleep(0.05)
