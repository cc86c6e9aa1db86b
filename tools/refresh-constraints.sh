#!/usr/bin/env bash
# Re-pin constraints.txt: install mlrig with every extra into a new venv from the newest releases
# PyPI has (no constraints), then freeze it. Run the tests against the result before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d)/venv
python3 -m venv "$venv"
"$venv/bin/pip" install -q -U pip
"$venv/bin/pip" install -q -e '.[dev,examples,cluster]'
{
  echo "# Every package the tests, the image and the benchmarks use, pinned as they were measured."
  echo "# Refresh with tools/refresh-constraints.sh (a new venv, newest releases, pip freeze); commit the result."
  "$venv/bin/pip" freeze --exclude-editable | grep -v '^-e '
} > constraints.txt
rm -rf "$(dirname "$venv")"
git --no-pager diff --stat constraints.txt || true
