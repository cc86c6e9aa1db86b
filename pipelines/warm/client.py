"""The interpreter kfp.local starts for each task of a local run, when stages start warm.

kfp.local's SubprocessRunner runs a task as `<python> -m kfp.dsl.executor_main ...` with the
interpreter it is given; mlrig gives it a script that runs this file with `python -I -S`
(standard library only, about 20 ms). It hands the task to the run's warm server
(pipelines/warm/server.py): the task's standard streams, arguments, environment and folder.
The server forks a process whose libraries are already imported, runs the task there and sends
back its exit status, which this process then exits with: the same status, output and signals as
the plain interpreter.

Anything else, or a server that cannot be reached, runs the plain interpreter instead, so a task
never depends on the server being up.

    python -I -S client.py SOCKET PYTHON ARGS...
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import sys

TASK = ["-m", "kfp.dsl.executor_main"]
STATUS = struct.Struct("!i")
LENGTH = struct.Struct("!Q")
FOLDER_PREFIX = "mlrig-warm-"  # the private folder of a run's socket and interpreter script
LOADED_SUFFIX = ".loaded"  # the server's file beside the socket once it has every import step


def receive(conn: socket.socket, size: int) -> bytes:
    """Up to size bytes: fewer when the other end closed first."""
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return data
        data += chunk
    return data


def _forward_signals(pid: int) -> None:
    def forward(signum: int, frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)


def exit_as(status: int) -> None:
    """End this process as a child ended with this wait status: its exit code, or its signal."""
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        if signum != signal.SIGKILL:  # its handler cannot change, and is the default
            signal.signal(signum, signal.SIG_DFL)  # not the forwarding one
        os.kill(os.getpid(), signum)
    sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def main(argv: list[str]) -> None:
    path, python, args = argv[1], argv[2], argv[3:]
    plain = [python, *args]
    if args[:2] != TASK:
        os.execv(python, plain)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
        task = {"argv": args[2:], "env": dict(os.environ), "cwd": os.getcwd()}
        payload = json.dumps(task).encode()
        socket.send_fds(conn, [LENGTH.pack(len(payload))], [0, 1, 2])
        conn.sendall(payload)
        started = receive(conn, STATUS.size)
    except OSError:
        started = b""
    if len(started) < STATUS.size:  # no server, or it ended before starting the task
        conn.close()
        os.execv(python, plain)
    _forward_signals(STATUS.unpack(started)[0])
    ended = receive(conn, STATUS.size)
    if len(ended) < STATUS.size:
        print("mlrig: the warm stage server ended before the task did", file=sys.stderr)
        sys.exit(1)
    exit_as(STATUS.unpack(ended)[0])


if __name__ == "__main__":
    main(sys.argv)
