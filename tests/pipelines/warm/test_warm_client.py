"""The client: hands kfp.local's task to the warm server, runs anything else (or everything, when
no server listens) as the plain interpreter, and ends as the task ended."""

from __future__ import annotations

import signal
import subprocess
import sys

from mlrig.pipelines.warm import CLIENT


def _client(socket_path: str, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-I", "-S", str(CLIENT), socket_path, sys.executable, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_other_commands_run_as_the_plain_interpreter(tmp_path):
    done = _client(
        str(tmp_path / "none.sock"), "-c", "import sys; print(sys.flags.isolated); sys.exit(4)"
    )
    assert (done.returncode, done.stdout.strip()) == (4, "0")


def test_a_task_with_no_server_listening_runs_as_the_plain_interpreter(tmp_path):
    done = _client(str(tmp_path / "none.sock"), "-m", "kfp.dsl.executor_main")
    assert done.returncode == 2
    assert "--function_to_execute" in done.stderr


def _exit_as(status: int) -> int:
    code = f"from mlrig.pipelines.warm.client import exit_as; exit_as({status})"
    return subprocess.run([sys.executable, "-c", code], timeout=60).returncode


def test_it_ends_with_the_tasks_exit_code():
    assert _exit_as(3 << 8) == 3


def test_it_ends_by_the_signal_that_ended_the_task():
    assert _exit_as(signal.SIGKILL) == -signal.SIGKILL
    assert _exit_as(signal.SIGTERM) == -signal.SIGTERM
