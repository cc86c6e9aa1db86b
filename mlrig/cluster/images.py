"""Build the mlrig image with `docker build`, showing progress."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

DEFAULT_BASE = "python:3.11-slim"
DEFAULT_TAG = "mlrig:0.1.0"


class ImageError(RuntimeError):
    """The image could not be built; the message says why."""


@functools.cache
def _has_buildx(path: str) -> bool:
    if not shutil.which("docker", path=path):
        return False
    probe = subprocess.run(
        ["docker", "buildx", "version"],
        env={**os.environ, "PATH": path},
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def docker_env() -> dict[str, str]:
    """Prefer the distribution's docker client, and the classic builder where buildx is absent."""
    child = dict(os.environ)
    child["PATH"] = "/usr/bin:" + child.get("PATH", "")
    if not _has_buildx(child["PATH"]):
        child["DOCKER_BUILDKIT"] = "0"
    return child


def stage_extra_ca(context: Path, certs: list[Path]) -> list[Path]:
    """Copy extra CA certificates into the build context's extra-ca/ folder."""
    staged = []
    for cert in certs:
        if not cert.is_file():
            raise ImageError(f"--extra-ca: no such file {cert}")
        target = context / "extra-ca" / (cert.stem + ".crt")
        shutil.copy(cert, target)
        staged.append(target)
    return staged


def build_command(context: Path, tag: str, base_image: str) -> list[str]:
    return [
        "docker",
        "build",
        "--tag",
        tag,
        "--build-arg",
        f"BASE_IMAGE={base_image}",
        "--file",
        str(context / "Dockerfile"),
        str(context),
    ]


def build(
    context: Path,
    tag: str = DEFAULT_TAG,
    base_image: str = DEFAULT_BASE,
    extra_ca: list[Path] | None = None,
    on_line: Callable[[str], None] = lambda _line: None,
) -> None:
    """Build the image; every output line goes to on_line; raise ImageError on failure."""
    if shutil.which("docker", path="/usr/bin:" + os.environ.get("PATH", "")) is None:
        raise ImageError("docker is not installed (Debian: apt-get install -y docker.io)")
    child = docker_env()
    if subprocess.run(["docker", "info"], env=child, capture_output=True).returncode != 0:
        raise ImageError("no Docker daemon answers (start dockerd, e.g. tools/start-dockerd.sh)")
    staged = stage_extra_ca(context, extra_ca or [])
    tail: list[str] = []
    try:
        proc = subprocess.Popen(
            build_command(context, tag, base_image),
            env=child,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            on_line(line.rstrip())
            tail = (tail + [line.rstrip()])[-30:]
        if proc.wait() != 0:
            raise ImageError("docker build failed:\n" + "\n".join(tail))
    finally:
        for path in staged:
            path.unlink(missing_ok=True)
