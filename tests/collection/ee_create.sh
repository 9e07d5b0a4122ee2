#!/usr/bin/env bash
# The execution environment's definition and build context are valid: `ansible-builder create` over
# execution-environment.yml with a freshly built artifact beside it, then the checks a full build would fail on
# late: the artifact is in the context under the name meta/ee-requirements.yml installs, and ansible-builder's own
# introspection, run over the installed collection, reads the collection's dependencies.
# A full `ansible-builder build` needs the base image from its registry, which this machine cannot reach.
#
#   bash tests/collection/ee_create.sh     (tests/collection.sh runs it with the collection tools on PATH)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d /tmp/gpufleet-ee-XXXXXX)"
trap 'rm -rf "$work"' EXIT

# execution-environment.yml copies gpufleet-containers-*.tar.gz from its own folder: build it there, in a copy of the
# definition's files, so the clone gets no artifact and no context/ folder.
mkdir -p "$work/def/meta"
cp "$repo_root/execution-environment.yml" "$work/def/"
cp "$repo_root"/meta/ee-requirements.yml "$work/def/meta/"
(cd "$repo_root" && ansible-galaxy collection build --force --output-path "$work/def" >/dev/null)

(cd "$work/def" && ansible-builder create --file execution-environment.yml --context "$work/context" -v 2) |
  tail -3
failed=0
containerfile=""
for candidate in "$work/context/Containerfile" "$work/context/Dockerfile"; do
  [[ -f "$candidate" ]] && containerfile="$candidate"
done
[[ -n "$containerfile" ]] || {
  echo "ee: ansible-builder wrote no Containerfile" >&2
  exit 1
}
if ! ls "$work"/context/_build/collection/gpufleet-containers-*.tar.gz >/dev/null 2>&1; then
  echo "ee: the collection artifact did not reach the build context (additional_build_files)" >&2
  failed=1
fi
grep -q "/tmp/gpufleet-containers.tar.gz" "$work/context/_build/requirements.yml" || {
  echo "ee: the galaxy requirements in the context do not install the copied artifact" >&2
  failed=1
}

# What the builder stage runs: introspect.py over the collections installed in the image. Installed from $work with
# an empty ansible.cfg: the clone's would offer its own gpufleet.containers, and the install would do nothing.
cd "$work"
: >"$work/ansible.cfg"
export ANSIBLE_CONFIG="$work/ansible.cfg" ANSIBLE_COLLECTIONS_PATH="$work/collections"
ansible-galaxy collection install --collections-path "$work/collections" "$work"/def/gpufleet-containers-*.tar.gz >/dev/null
# PyYAML (meta/requirements.txt) comes with ansible-core, so introspection leaves it out; the system packages show
# that ansible-builder reads the collection's meta/execution-environment.yml.
python "$work/context/_build/scripts/introspect.py" introspect "$work/collections" >"$work/introspect.yml"
if ! grep -q "openssh-client.*from collection gpufleet.containers" "$work/introspect.yml"; then
  cat "$work/introspect.yml"
  echo "ee: introspection of the installed collection misses its meta/bindep.txt (meta/execution-environment.yml)" >&2
  failed=1
fi
echo "ee: context ok ($(basename "$containerfile"), $(find "$work/context" -type f | wc -l) files);" \
  "introspection found: $(grep -c 'from collection gpufleet.containers' "$work/introspect.yml") requirement(s)"
exit "$failed"
