"""warm_stages: kfp.local's interpreter is the client only while it is open, and plain
interpreters run the tasks when MLRIG_COLD_STAGES is set."""

import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kfp import local

from mlrig.components.config import env
from mlrig.pipelines.warm import INTERPRETER_NAME, warm_stages
from tests.pipelines.warm.tasks import (
    PRELOADED,
    sees_loaded,
    wait_until_listening,
    wait_until_serving,
)

LAST_SCORING_STEP = "mlrig.components.score.io"  # the server loads it after Feast and MLflow


def test_the_interpreter_is_the_clients_only_while_stages_are_warm(tmp_path):
    before = sys.executable
    with warm_stages() as script:
        assert sys.executable == str(script)
        folder = script.parent
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # only this user may hand it tasks
    assert sys.executable == before
    assert not folder.exists()


def test_cold_stages_start_plain_interpreters(tmp_path, monkeypatch):
    monkeypatch.setenv(env.COLD_STAGES, "1")
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path),
               raise_on_error=True)  # fmt: skip
    before = sys.executable
    with warm_stages() as script:
        assert (script, sys.executable) == (None, before)
        assert sees_loaded(module=PRELOADED).output is False


def test_a_scoring_runs_server_stops_loading_once_its_one_task_has_come(tmp_path):
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path),
               raise_on_error=True)  # fmt: skip
    with warm_stages("scoring") as script:
        wait_until_listening(script)
        assert sees_loaded(module=LAST_SCORING_STEP).output is False  # came before it was loaded
        wait_until_serving(script)  # the server says it is done
        assert sees_loaded(module=LAST_SCORING_STEP).output is False  # and loaded nothing more


def test_with_no_place_for_the_socket_the_stages_start_cold_and_say_so(monkeypatch, capsys):
    def no_folder(*args, **kwargs):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(tempfile, "mkdtemp", no_folder)
    before = sys.executable
    with warm_stages() as script:
        assert (script, sys.executable) == (None, before)
    assert "warm stages off (read-only file system)" in capsys.readouterr().out


STOPPED_RUN = """
import sys, time
from mlrig.components.runtime.process import kill_own_group_on_term
from mlrig.pipelines.warm import warm_stages

kill_own_group_on_term()
with warm_stages() as script:
    print(script.parent, flush=True)
    time.sleep(120)
"""


def test_a_stopped_run_leaves_no_warm_folder_behind():
    run = subprocess.Popen([sys.executable, "-c", STOPPED_RUN], stdout=subprocess.PIPE,
                           text=True, start_new_session=True)  # fmt: skip
    folder = Path(run.stdout.readline().strip())
    assert folder.is_dir()
    run.send_signal(signal.SIGTERM)  # as `mlrig run` stops its pipeline, or its death does
    assert run.wait(timeout=60) == -signal.SIGKILL
    assert not folder.exists()


KILLED_RUN = """
import time
from mlrig.pipelines.warm import warm_stages

with warm_stages() as script:
    print(script.parent, flush=True)
    time.sleep(120)
"""


def test_a_run_killed_outright_leaves_no_warm_folder_behind():
    """SIGKILL runs no clean-up in the run: its server, told by the kernel that its parent
    died, removes the folder itself."""
    run = subprocess.Popen([sys.executable, "-c", KILLED_RUN], stdout=subprocess.PIPE,
                           text=True, start_new_session=True)  # fmt: skip
    folder = Path(run.stdout.readline().strip())
    assert folder.is_dir()
    wait_until_listening(folder / INTERPRETER_NAME)  # its handler is set before it listens
    run.kill()
    assert run.wait(timeout=60) == -signal.SIGKILL
    deadline = time.monotonic() + 30
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not folder.exists()
