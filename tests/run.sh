#!/usr/bin/env bash
# The whole test suite, the one command CI runs:  bash tests/run.sh
#
#   bash tests/run.sh                  everything: lint, sanity, unit, registry, molecule scenarios
#   bash tests/run.sh lint unit        only some stages (lint sanity unit registry molecule collection)
#   GPUFLEET_SCENARIOS="docker_default toolkit_default" bash tests/run.sh molecule
#
# On a fresh Debian/Ubuntu machine (root) it installs what it needs (tests/setup.sh), starts a Docker engine when
# none runs, builds the test-host images and the fixture NVIDIA repository (cached), and prints which scenario ran
# on which distribution and architecture, with its time.
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root" || exit 1
venv="${GPUFLEET_VENV:-$repo_root/.venv}"
stages=("$@")
((${#stages[@]})) || stages=(lint sanity unit registry molecule collection)

# Every scenario, in the order that builds confidence: testbed first, then each role, then the whole recipe.
# Each entry: scenario:distribution:architecture (what the summary reports).
all_scenarios=(
  testbed_smoke:debian12:amd64
)
for candidate in molecule/*/molecule.yml; do
  name="$(basename "$(dirname "$candidate")")"
  [[ " ${all_scenarios[*]} " == *" $name:"* ]] && continue
  [[ "$name" == _* ]] && continue
  platform="$(sed -n 's/^# platform: *//p' "$candidate" | head -1)"
  all_scenarios+=("$name:${platform:-debian12:amd64}")
done

summary=()
failed=0
record() { # stage, result, seconds
  summary+=("$(printf '%-34s %-6s %5ss' "$1" "$2" "$3")")
  [[ "$2" == ok ]] || failed=1
}
timed() { # name, command...
  local name="$1" started result
  shift
  started=$(date +%s)
  echo "=== $name"
  if "$@"; then result=ok; else result=FAILED; fi
  record "$name" "$result" "$(($(date +%s) - started))"
}

bash tests/setup.sh || exit 1
export PATH="$venv/bin:$PATH"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0

# What the suite starts (the testbed's dockerd, the fixture repository servers) is stopped when it ends, failed stage
# or not, so a second run on the same machine starts clean. The testbed stops only the dockerd it started itself.
testbed_started=0
# shellcheck disable=SC2317  # run by the EXIT trap, which shellcheck does not follow
stop_testbed() {
  ((testbed_started)) || return 0
  echo "=== stopping what the suite started"
  python3 tests/testbed/testbed.py down || echo "run.sh: testbed down failed; see the lines above" >&2
}
trap stop_testbed EXIT
trap 'exit 130' INT TERM
start_engine() {
  testbed_started=1
  python3 tests/testbed/testbed.py engine-start
}

stage_lint() {
  timed "ruff" ruff check plugins tests
  timed "ruff format" ruff format --check plugins tests
  timed "yamllint" yamllint -s .
  timed "yaml types (argv words, modes, versions)" python tests/lint/yaml_types.py
  timed "ansible-lint (production)" ansible-lint --profile production --offline -q
}

stage_sanity() {
  timed "ansible-test sanity" bash tests/sanity.sh
}

stage_unit() {
  # pytest's exit code 5 (nothing collected) is a failure here: a suite that ran no test proves nothing.
  timed "pytest unit" python -m pytest -q tests/unit
}

stage_registry() {
  # image_platforms against real docker-registry processes on 127.0.0.1 (the fixture installs and starts them), and
  # against the local engine, which must run here: without it that test would skip on a fresh machine.
  if ! start_engine; then
    record "docker engine for the registry tests" FAILED 0
    return
  fi
  timed "pytest registry (docker-registry on 127.0.0.1)" python -m pytest -q tests/integration_registry
}

stage_molecule() {
  local testbed_args=(--arch amd64) entry scenario platform wanted
  wanted="${GPUFLEET_SCENARIOS:-}"
  for entry in "${all_scenarios[@]}"; do
    [[ "$entry" == *arm64* ]] && testbed_args+=(--arch arm64)
    [[ "$entry" == *debian13* ]] && testbed_args+=(--image trixie:amd64)
  done
  testbed_started=1
  if ! env_file="$(python3 tests/testbed/testbed.py up "${testbed_args[@]}")"; then
    record "testbed up" FAILED 0
    return
  fi
  # shellcheck disable=SC1090
  source "$env_file"
  for entry in "${all_scenarios[@]}"; do
    IFS=: read -r scenario platform arch <<<"$entry"
    if [[ -n "$wanted" && " $wanted " != *" $scenario "* ]]; then continue; fi
    timed "molecule $scenario [$platform $arch]" molecule test -s "$scenario"
  done
}

stage_collection() {
  # The collection as users install it: the built artifact in an empty collections path runs gpufleet.containers.site
  # on a test host; galaxy-importer, changelog and docs lint, ansible-builder create, the HTML report in Chromium.
  # It brings the testbed up itself when the molecule stage did not (stopped at the end like the rest).
  testbed_started=1
  timed "collection as installed (tests/collection.sh)" bash tests/collection.sh
}

for stage in "${stages[@]}"; do
  case "$stage" in
    lint) stage_lint ;;
    sanity) stage_sanity ;;
    unit) stage_unit ;;
    registry) stage_registry ;;
    molecule) stage_molecule ;;
    collection) stage_collection ;;
    *) echo "unknown stage '$stage' (use: lint sanity unit registry molecule collection)" >&2 && exit 2 ;;
  esac
done

echo
echo "=== summary (GPU simulated: the testbed replays captured nvidia-smi output, no GPU is used)"
printf '%s\n' "${summary[@]}"
passed=0
for line in "${summary[@]}"; do [[ "$line" == *" ok "* ]] && passed=$((passed + 1)); done
echo "checks: $passed passed, $((${#summary[@]} - passed)) failed"
exit "$failed"
