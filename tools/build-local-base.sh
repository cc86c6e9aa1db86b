#!/usr/bin/env bash
# Build a local Python 3.11 base image without any container registry (Debian bookworm via mmdebstrap).
# Use it where `docker pull python:3.11-slim` is impossible:  tools/build-local-base.sh [TAG]
# then:  mlrig image build --base-image TAG
# Extra CA certificates in /usr/local/share/ca-certificates/*.crt (TLS-intercepting proxies) are copied in.
set -euo pipefail
tag="${1:-local/python:3.11-bookworm-omp}"
sources="${APT_SOURCES:-/etc/apt/sources.list.d/debian.sources}"
[ -f "$sources" ] || sources=/etc/apt/sources.list
if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "base image $tag already present"; exit 0
fi
command -v mmdebstrap >/dev/null || { echo "mmdebstrap is missing: apt-get install -y --no-install-recommends mmdebstrap" >&2; exit 1; }
mmdebstrap --variant=minbase --mode=root --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --include=python3,python3-venv,python3-pip,ca-certificates,git,libgomp1 \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --customize-hook='cp /usr/local/share/ca-certificates/*.crt "$1"/usr/local/share/ca-certificates/ 2>/dev/null || true; chroot "$1" update-ca-certificates' \
  --customize-hook='chroot "$1" python3 -m venv /opt/venv' \
  bookworm - "$sources" </dev/null \
| docker import \
  -c 'ENV LANG=C.UTF-8 VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PIP_CERT=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  -c 'CMD ["python3"]' - "$tag"
echo "built $tag"
