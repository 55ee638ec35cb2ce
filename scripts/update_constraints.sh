#!/usr/bin/env bash
# Regenerate constraints.txt: the exact versions of every dependency (and test
# dependency) that a fresh install resolves today, against which the suite was last run.
#
#     bash scripts/update_constraints.sh          # then: bash .ci/run, and commit both
#
# CI installs with these pins (PIP_CONSTRAINT in .ci/run), so a new release of a
# dependency cannot break CI's fresh install without anyone noticing; users who install
# with `pip install -e '.[test]' -c constraints.txt` get the same set. The ranges in
# pyproject.toml stay what the package supports; this file is only what was tested.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(mktemp -d "${TMPDIR:-/tmp}/carbon-balance-constraints.XXXXXX")"
trap 'rm -rf "$venv"' EXIT
python -m venv "$venv"
"$venv/bin/python" -m pip install -q -e '.[test]'
{
  echo "# The versions the test suite last passed with (Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())'), $(date -u +%Y-%m-%d))."
  echo "# Made by: bash scripts/update_constraints.sh (docs/developing.md, \"Dependencies\")."
  "$venv/bin/python" -m pip freeze --exclude-editable | grep -iv '^carbon-balance'
} > constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) pinned distributions"
