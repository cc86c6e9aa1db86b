#!/usr/bin/env bash
# Start dockerd in the background if no daemon answers (machines without systemd). Prints its PID file.
set -euo pipefail
export PATH=/usr/bin:$PATH
if docker info >/dev/null 2>&1; then echo "docker already running"; exit 0; fi
command -v dockerd >/dev/null || { echo "dockerd missing: apt-get install -y docker.io" >&2; exit 1; }
nohup dockerd >/var/log/mlrig-dockerd.log 2>&1 &
echo $! >/tmp/mlrig-dockerd.pid
for _ in $(seq 120); do docker info >/dev/null 2>&1 && { echo "dockerd started"; exit 0; }; sleep 0.5; done
echo "dockerd did not start; see /var/log/mlrig-dockerd.log" >&2; exit 1
