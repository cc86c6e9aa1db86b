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
