#!/usr/bin/env bash
# Installs what the test suite and the local demo need on a fresh Debian/Ubuntu machine (root):
# Debian packages for the testbed, and a Python virtual environment with the pinned tools in .venv.
# Safe to run again: it only installs what is missing.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${GPUFLEET_VENV:-$repo_root/.venv}"

debian_packages=(
  docker.io          # the engine that runs the test hosts
  debootstrap        # builds the Debian test-host images without a registry
  qemu-user-static   # arm64 test hosts under emulation
  binfmt-support
  apt-utils          # apt-ftparchive for the fixture NVIDIA repository
  dpkg-dev
  gnupg              # signs the fixture repository with a throwaway key
  git
  openssh-client     # the fleet scenario reaches its test hosts over SSH
  python3-venv
  shellcheck         # ansible-test sanity checks the shell scripts only when it is there
  chromium           # tests/collection.sh renders the HTML fleet report in a real (headless) browser
  fonts-dejavu-core  # so that its screenshot has readable text
)

missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# containerd's shim does not start under Debian 12's qemu 7.2 ("invalid argument"), so emulated arm64 test hosts
# could install Docker but never run a container; qemu 10 from bookworm-backports runs it.
if grep -q '^VERSION_CODENAME=bookworm' /etc/os-release && ! dpkg-query -W -f='${Version}' qemu-user 2>/dev/null | grep -q bpo; then
  echo "setup: installing qemu-user-static from bookworm-backports"
  echo "deb http://deb.debian.org/debian bookworm-backports main" >/etc/apt/sources.list.d/gpufleet-testbed-backports.list
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports qemu-user-static >/dev/null
fi

requirements_hash="$(sha256sum "$repo_root/requirements/test.txt" "$repo_root/requirements/controller.txt" | sha256sum | cut -c1-16)"
if [[ ! -x "$venv/bin/python" ]] || [[ "$(cat "$venv/.requirements-hash" 2>/dev/null)" != "$requirements_hash" ]]; then
  echo "setup: creating the Python environment in $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$repo_root/requirements/test.txt"
  echo "$requirements_hash" >"$venv/.requirements-hash"
fi
# The tools that check the collection as Galaxy and users get it (tests/collection.sh) live in their own environment:
# galaxy-importer, antsibull and ansible-builder pin what they need without moving the main environment's pins.
collection_venv="${GPUFLEET_COLLECTION_VENV:-$repo_root/.cache/venv-collection}"
collection_hash="$(sha256sum "$repo_root/requirements/collection-test.txt" "$repo_root/requirements/controller.txt" | sha256sum | cut -c1-16)"
if [[ ! -x "$collection_venv/bin/python" ]] || [[ "$(cat "$collection_venv/.requirements-hash" 2>/dev/null)" != "$collection_hash" ]]; then
  echo "setup: creating the collection tools' Python environment in $collection_venv"
  python3 -m venv "$collection_venv"
  "$collection_venv/bin/pip" install -q --disable-pip-version-check -r "$repo_root/requirements/collection-test.txt"
  echo "$collection_hash" >"$collection_venv/.requirements-hash"
fi
echo "setup: ready ($("$venv/bin/ansible" --version | head -1))"
