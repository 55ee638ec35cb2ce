#!/usr/bin/env bash
# Install the oldest releases pyproject.toml allows for every direct dependency
# (uv's --resolution lowest-direct) into a temporary virtual environment and run the
# test suite there, so that the lower bounds stay honest. Needs uv (pip install uv).
# Usage: bash scripts/check_lower_bounds.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v uv >/dev/null || { echo "check_lower_bounds: needs uv on PATH (pip install uv)" >&2; exit 2; }
venv="$(mktemp -d "${TMPDIR:-/tmp}/carbon-balance-lowest.XXXXXX")"
trap 'rm -rf "$venv"' EXIT
uv venv -q --python "$(command -v python3)" "$venv"
VIRTUAL_ENV="$venv" uv pip install -q --resolution lowest-direct -e '.[test]'
echo "check_lower_bounds: oldest allowed releases installed:"
VIRTUAL_ENV="$venv" uv pip freeze --exclude-editable | sed 's/^/  /'
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
