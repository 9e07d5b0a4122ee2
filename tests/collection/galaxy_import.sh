#!/usr/bin/env bash
# Galaxy's own import checks on the built artifact: galaxy-importer as Galaxy runs it on upload (metadata, docs
# through ansible-doc, ansible-lint), offline (tests/collection/galaxy-importer.cfg: no ansible-test container).
# Fails on an import error and on any warning it prints, so a publish would import cleanly.
#
#   bash tests/collection/galaxy_import.sh     (tests/collection.sh runs it with the collection tools on PATH)
#
# galaxy.yml has no `repository` yet: the collection has no public address, and a made-up one would send Galaxy's
# users nowhere. Galaxy requires the field, so this check builds from a copy of the tree whose galaxy.yml names
# GPUFLEET_GALAXY_REPOSITORY (the real address, once there is one) or, by default, the clone itself as a file:// URL,
# and says so: the rest of the import is checked either way.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d /tmp/gpufleet-import-XXXXXX)"
trap 'rm -rf "$work"' EXIT

repository="${GPUFLEET_GALAXY_REPOSITORY:-}"
if grep -q '^repository:' "$repo_root/galaxy.yml"; then
  repository=""
elif [[ -z "$repository" ]]; then
  repository="file://$repo_root"
  echo "galaxy-import: NOTE galaxy.yml has no repository; Galaxy refuses a publish without one." \
    "Checking with repository: $repository (set GPUFLEET_GALAXY_REPOSITORY to the real address)"
fi

# The tree as ansible-galaxy would build it from this clone: tracked and new files, not what .gitignore leaves out.
mkdir "$work/tree"
# (A tracked file another change just deleted is skipped, as the build would skip it.)
(cd "$repo_root" && git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) |
  tar -xf - -C "$work/tree"
[[ -z "$repository" ]] || printf 'repository: %s\n' "$repository" >>"$work/tree/galaxy.yml"
(cd "$work/tree" && ansible-galaxy collection build --force --output-path "$work/dist" >/dev/null)
artifact="$(ls "$work"/dist/gpufleet-containers-*.tar.gz)"

echo "galaxy-import: galaxy-importer $(python -c 'import galaxy_importer; print(galaxy_importer.__version__)' 2>/dev/null || true) on $(basename "$artifact")"
export GALAXY_IMPORTER_CONFIG="$repo_root/tests/collection/galaxy-importer.cfg"
export ANSIBLE_LOCAL_TEMP="$work/ansible-tmp" GALAXY_IMPORTER_TMP_ROOT_DIR="$work"
status=0
(cd "$work" && python -m galaxy_importer.main "$artifact") >"$work/import.log" 2>&1 || status=$?
grep -vE '^Loading |^\.\.\.' "$work/import.log"
if ((status != 0)); then
  echo "galaxy-import: galaxy-importer failed (rc $status)" >&2
  exit 1
fi
if grep -qE '^(WARNING|ERROR)' "$work/import.log"; then
  echo "galaxy-import: galaxy-importer warned (lines above); Galaxy would show these on the collection's page" >&2
  exit 1
fi
echo "galaxy-import: imports cleanly"
