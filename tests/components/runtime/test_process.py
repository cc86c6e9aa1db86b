import subprocess
import sys
import textwrap


def _run(body: str) -> subprocess.CompletedProcess:
    code = textwrap.dedent(
        """
        import atexit, sys
        from mlrig.components.runtime.process import exit_without_collecting

        class Cycle:
            def __init__(self):
                self.me = self
            def __del__(self):
                print("collected", flush=True)
        """
    )
    return subprocess.run(
        [sys.executable, "-c", code + textwrap.dedent(body)], capture_output=True, text=True
    )


def test_a_process_ends_without_collecting_its_cycles_but_keeps_handlers_output_and_status():
    ended = _run(
        """
        exit_without_collecting()
        exit_without_collecting()  # once is enough
        Cycle()
        atexit.register(lambda: print("handler ran"))
        print("unflushed", end="")
        sys.exit(3)
        """
    )
    assert ended.returncode == 3
    assert ended.stdout == "handler ran\nunflushed" or ended.stdout == "unflushedhandler ran\n"
    assert "collected" not in ended.stdout


def test_without_it_the_interpreter_collects_them_at_exit():
    ended = _run("Cycle()\n")
    assert ended.returncode == 0 and "collected" in ended.stdout


GROUP_KILLED = """
import os, signal, sys
from pathlib import Path
from mlrig.components.runtime.process import cleaned_before_group_kill, kill_own_group_on_term

kill_own_group_on_term()
with cleaned_before_group_kill(lambda: Path(sys.argv[1]).write_text("cleaned")):
    pass  # closed: no longer run
with cleaned_before_group_kill(lambda: 1 / 0):  # an error does not stop the next one
    with cleaned_before_group_kill(lambda: Path(sys.argv[2]).write_text("cleaned")):
        os.kill(os.getpid(), signal.SIGTERM)
        signal.pause()
"""


def test_a_group_killed_on_sigterm_runs_the_open_cleanups_first(tmp_path):
    closed, open_ = tmp_path / "closed", tmp_path / "open"
    ended = subprocess.run(
        [sys.executable, "-c", GROUP_KILLED, str(closed), str(open_)],
        start_new_session=True,  # its group, not pytest's
        timeout=60,
    )
    assert ended.returncode == -9
    assert not closed.exists()
    assert open_.read_text() == "cleaned"
