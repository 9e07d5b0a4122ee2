#!/usr/bin/env bash
# The collection as users and Galaxy get it, checked from the outside:
#
#   bash tests/collection.sh                 every check below
#   bash tests/collection.sh changelog docs  only some (changelog docs galaxy ee render artifact)
#
#   changelog  antsibull-changelog lint (fragments) and lint-changelog-yaml (changelogs/changelog.yaml)
#   docs       antsibull-docs lint-collection-docs: every module, filter and role entry point renders without warnings
#   galaxy     galaxy-importer on the built artifact, offline (tests/collection/galaxy_import.sh)
#   ee         ansible-builder create over execution-environment.yml (tests/collection/ee_create.sh)
#   render     the HTML fleet report in headless Chromium, 500 synthetic hosts (tests/collection/render_report.py)
#   artifact   build, install into an empty collections path, `ansible-playbook gpufleet.containers.site` against a
#              throwaway test host, three report files (tests/collection/artifact_site.sh)
#
# Needs what tests/setup.sh installs: the Debian package chromium, .venv (ansible with community.docker) and
# .cache/venv-collection (the tools from requirements/collection-test.txt). The artifact check needs the testbed's
# environment: when GPUFLEET_IMAGE_AMD64 is not set, this script runs `tests/testbed/testbed.py up --arch amd64`
# (cached images; it starts a Docker engine when none answers) and leaves it up; tests/run.sh stops it at its end.
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root" || exit 1
venv="${GPUFLEET_VENV:-$repo_root/.venv}"
tools="${GPUFLEET_COLLECTION_VENV:-$repo_root/.cache/venv-collection}"
checks=("$@")
((${#checks[@]})) || checks=(changelog docs galaxy ee render artifact)
export PATH="$venv/bin:$PATH" ANSIBLE_FORCE_COLOR=0 PY_COLORS=0
for needed in "$venv/bin/ansible-playbook" "$tools/bin/antsibull-changelog" "$tools/bin/antsibull-docs" \
  "$tools/bin/ansible-builder" "$tools/bin/python"; do
  if [[ ! -x "$needed" ]]; then
    echo "collection: $needed is missing; run: bash tests/setup.sh" >&2
    exit 2
  fi
done

summary=()
failed=0
timed() { # name, command...
  local name="$1" started result
  shift
  started=$(date +%s)
  echo "=== $name"
  if "$@"; then result=ok; else result=FAILED && failed=1; fi
  summary+=("$(printf '%-52s %-6s %5ss' "$name" "$result" "$(($(date +%s) - started))")")
}
# The collection tools run from their own environment, first on PATH (galaxy-importer calls ansible-doc and
# ansible-lint by name); the main one stays behind it for everything else.
# shellcheck disable=SC2317  # called through timed "$@", which shellcheck does not follow
with_tools() { PATH="$tools/bin:$PATH" "$@"; }

check_changelog() {
  timed "antsibull-changelog lint" with_tools antsibull-changelog lint
  timed "antsibull-changelog lint-changelog-yaml" with_tools antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
}
check_docs() {
  # Through the committed link, so the collection sits in an ansible_collections/gpufleet/containers tree.
  timed "antsibull-docs lint-collection-docs" with_tools antsibull-docs lint-collection-docs --plugin-docs \
    --validate-collection-refs self --skip-rstcheck collections/ansible_collections/gpufleet/containers
}
check_galaxy() { timed "galaxy-importer (offline) on the artifact" with_tools bash tests/collection/galaxy_import.sh; }
check_ee() { timed "ansible-builder create (execution environment)" with_tools bash tests/collection/ee_create.sh; }
check_render() {
  timed "HTML report in headless Chromium (500 hosts)" python tests/collection/render_report.py \
    --out "${GPUFLEET_RENDER_OUT:-$(mktemp -d /tmp/gpufleet-render-XXXXXX)}"
}
check_artifact() {
  if [[ -z "${GPUFLEET_IMAGE_AMD64:-}" ]]; then
    local env_file
    if ! env_file="$(python3 tests/testbed/testbed.py up --arch amd64)"; then
      summary+=("$(printf '%-52s %-6s %5ss' "testbed up (for the artifact check)" FAILED 0)")
      failed=1
      return
    fi
    # shellcheck disable=SC1090
    source "$env_file"
  fi
  timed "gpufleet.containers.site from the installed artifact" bash tests/collection/artifact_site.sh
}

for check in "${checks[@]}"; do
  case "$check" in
    changelog) check_changelog ;;
    docs) check_docs ;;
    galaxy) check_galaxy ;;
    ee) check_ee ;;
    render) check_render ;;
    artifact) check_artifact ;;
    *) echo "collection: unknown check '$check' (use: changelog docs galaxy ee render artifact)" >&2 && exit 2 ;;
  esac
done

echo
echo "=== collection checks"
printf '%s\n' "${summary[@]}"
passed=0
for line in "${summary[@]}"; do [[ "$line" == *" ok "* ]] && passed=$((passed + 1)); done
echo "collection: $passed passed, $((${#summary[@]} - passed)) failed"
exit "$failed"
