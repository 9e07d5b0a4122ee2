#!/usr/bin/env bash
# ansible-test sanity, offline. ansible-test wants the collection at ansible_collections/<ns>/<name> and downloads
# a pip bootstrap script for its virtual environments; we give it a cached one that uses ensurepip instead, and its
# requirements then come from PyPI like everything else.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d /tmp/gpufleet-sanity.XXXXXX)"
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/gpufleet/containers"
mkdir -p "$dest"

# Only what git would ship (tracked, plus new files not ignored; files deleted but not yet committed left out); the
# collections link would recurse. ($1 in single quotes is the inner sh's.)
# shellcheck disable=SC2016
(cd "$repo_root" && git ls-files -z --cached --others --exclude-standard | grep -zv '^collections/' |
  xargs -0 -I{} sh -c 'if test -e "$1"; then echo "$1"; fi' _ {} | tar -c -T - -f -) | tar -x -C "$dest"

cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
for version in 24_2 25_3 25_1 24_3 24_0 23_1; do
  [[ -f "$cache/get_pip_$version.py" ]] || printf 'import ensurepip\nensurepip.bootstrap(upgrade=True)\n' >"$cache/get_pip_$version.py"
done

cd "$dest"
git init -q . # ansible-test lists files through git when it finds a repository; a fresh one keeps it to ours
git add -A >/dev/null
ansible-test sanity --venv --python "$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
  --color no "$@"
