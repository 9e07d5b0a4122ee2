#!/usr/bin/env bash
# The README's first command: install everything, then run site.yml end to end against a throwaway local test host
# (Debian 12 in a systemd container, its GPU SIMULATED by replaying real captured nvidia-smi output, NVIDIA's
# repository replaced by a fixture one signed by a throwaway key), and print the fleet report.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
bash tests/setup.sh
export PATH="$repo_root/.venv/bin:$PATH" PY_COLORS=0 ANSIBLE_FORCE_COLOR=0
env_file="$(python3 tests/testbed/testbed.py up --arch amd64)"
# shellcheck disable=SC1090
source "$env_file"
export GPUFLEET_REPORT_DIR="$repo_root/report"
rm -rf "$GPUFLEET_REPORT_DIR"
echo "demo: running site.yml on a throwaway test host (simulated 8 x A100 80GB; no real GPU is used)"
molecule test -s default
echo
echo "demo: fleet report written to $GPUFLEET_REPORT_DIR: fleet-report.md, fleet-report.json and fleet-report.html (open it in a browser)"
cat "$GPUFLEET_REPORT_DIR/fleet-report.md"
