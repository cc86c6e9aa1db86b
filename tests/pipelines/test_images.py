"""Image build inputs: the Dockerfile's base is a build argument, extra CAs are staged and removed."""

from __future__ import annotations

import pytest

from mlrig.cluster.images import ImageError, build_command, stage_extra_ca
from tests.conftest import REPO


def test_dockerfile_takes_the_base_image_and_extra_cas():
    text = (REPO / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=python:3.11-slim" in text and "FROM ${BASE_IMAGE}" in text
    assert "COPY extra-ca/ /usr/local/share/ca-certificates/mlrig/" in text
    assert "USER 10001" in text


def test_build_command_passes_the_base(tmp_path):
    cmd = build_command(tmp_path, "mlrig:t", "local/python:3.11-bookworm")
    assert cmd[:4] == ["docker", "build", "--tag", "mlrig:t"]
    assert "BASE_IMAGE=local/python:3.11-bookworm" in cmd and cmd[-1] == str(tmp_path)


def test_extra_ca_is_staged_as_crt(tmp_path):
    (tmp_path / "extra-ca").mkdir()
    cert = tmp_path / "corp.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\n")
    staged = stage_extra_ca(tmp_path, [cert])
    assert staged == [tmp_path / "extra-ca/corp.crt"] and staged[0].read_text().startswith("-----")
    with pytest.raises(ImageError, match="--extra-ca: no such file"):
        stage_extra_ca(tmp_path, [tmp_path / "missing.pem"])
