#!/usr/bin/env bash
# The collection as users install it: build the artifact, install it into an EMPTY collections path, and run
# `ansible-playbook gpufleet.containers.site` from a folder outside the clone against a throwaway test host.
# Passes when the host converges and the three report files (JSON, Markdown, HTML) are written where the run was.
#
#   bash tests/collection/artifact_site.sh     (tests/collection.sh runs it)
#
# Needs the testbed's environment (tests/testbed/testbed.py up --arch amd64: the Debian test-host image, the fixture
# NVIDIA repository on 127.0.0.1, the CUDA-like image tarball), a Docker engine, and ansible-playbook with
# community.docker (the `ansible` package in .venv) for the connection to the test host. Nothing of the clone is on the
# collections path: ANSIBLE_CONFIG and ANSIBLE_COLLECTIONS_PATH point at a temporary folder, so the clone's
# ansible.cfg (which resolves gpufleet.containers to the checkout) is never read.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${GPUFLEET_IMAGE_AMD64:?run tests/testbed/testbed.py up --arch amd64 and source the env file it prints}"
: "${GPUFLEET_FIXTURE_REPO_URL:?the testbed env file sets it}"
: "${GPUFLEET_FIXTURE_REPO_FINGERPRINT:?the testbed env file sets it}"
: "${GPUFLEET_TESTBED_CACHE:?the testbed env file sets it}"

work="$(mktemp -d /tmp/gpufleet-artifact-XXXXXX)"
host="gpufleet-artifact-$$"
# shellcheck disable=SC2317  # run by the EXIT trap, which shellcheck does not follow
cleanup() {
  docker rm -f "$host" >/dev/null 2>&1 || true
  [[ -n "${GPUFLEET_KEEP_ARTIFACT_RUN:-}" ]] && echo "artifact: kept $work" && return
  rm -rf "$work"
}
trap cleanup EXIT
step() { echo "artifact: [$(($(date +%s) - started))s] $*"; }
started=$(date +%s)

step "building the collection artifact from $repo_root"
(cd "$repo_root" && ansible-galaxy collection build --force --output-path "$work/dist" >/dev/null)
artifact="$(ls "$work"/dist/gpufleet-containers-*.tar.gz)"

# Everything below runs from $work/run with its own ansible.cfg: the clone's is neither in the current folder nor
# named by ANSIBLE_CONFIG, and the collections path holds only what the artifact installs.
mkdir -p "$work/run" "$work/collections"
cat >"$work/run/ansible.cfg" <<EOF
[defaults]
collections_path = $work/collections
interpreter_python = auto_silent
stdout_callback = ansible.builtin.default
callback_result_format = yaml
EOF
export ANSIBLE_CONFIG="$work/run/ansible.cfg" ANSIBLE_COLLECTIONS_PATH="$work/collections"
export ANSIBLE_ROLES_PATH="$work/roles" ANSIBLE_LOCAL_TEMP="$work/tmp"
cd "$work/run"

step "installing $(basename "$artifact") into the empty collections path $work/collections"
ansible-galaxy collection install --collections-path "$work/collections" "$artifact" >/dev/null
installed="$(ansible-galaxy collection list gpufleet.containers --format json)"
if [[ "$installed" != *"\"$work/collections/ansible_collections\""* ]] || [[ "$installed" == *"$repo_root"* ]]; then
  echo "artifact: gpufleet.containers must come from $work/collections only; ansible-galaxy lists: $installed" >&2
  exit 1
fi
for playbook in "$work"/collections/ansible_collections/gpufleet/containers/playbooks/*.yml; do
  name="gpufleet.containers.$(basename "$playbook" .yml)"
  ansible-playbook --syntax-check -i localhost, "$name" >/dev/null || {
    echo "artifact: $name does not resolve from the installed collection" >&2
    exit 1
  }
done
step "every playbook under playbooks/ resolves as gpufleet.containers.<name>"

step "starting the test host $host from $GPUFLEET_IMAGE_AMD64 (systemd, as the molecule scenarios run it)"
# The molecule scenarios' platform options: --privileged fails on these machines (no CAP_SYS_RESOURCE), so every
# other capability is listed; host network, so the host's own dockerd adds no bridge.
capabilities=(AUDIT_CONTROL AUDIT_READ AUDIT_WRITE BLOCK_SUSPEND CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID
  IPC_LOCK IPC_OWNER KILL LEASE LINUX_IMMUTABLE MAC_ADMIN MAC_OVERRIDE MKNOD NET_ADMIN NET_BIND_SERVICE NET_BROADCAST
  NET_RAW SETFCAP SETGID SETPCAP SETUID SYSLOG SYS_ADMIN SYS_BOOT SYS_CHROOT SYS_MODULE SYS_NICE SYS_PACCT SYS_PTRACE
  SYS_RAWIO SYS_TIME SYS_TTY_CONFIG WAKE_ALARM)
docker run -d --name "$host" --cap-drop ALL "${capabilities[@]/#/--cap-add=}" \
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined --cgroupns host \
  -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock --network host \
  "$GPUFLEET_IMAGE_AMD64" /lib/systemd/systemd >/dev/null

cat >"$work/run/inventory.yml" <<EOF
all:
  vars:
    ansible_connection: community.docker.docker
    # The test host shares this machine's network namespace: its Docker must not add bridges or iptables rules.
    docker_daemon_options: {bridge: none, iptables: false}
    nvidia_container_toolkit_repo_base_url: $GPUFLEET_FIXTURE_REPO_URL
    nvidia_container_toolkit_gpg_key_url: $GPUFLEET_FIXTURE_REPO_URL/gpgkey
    nvidia_container_toolkit_gpg_fingerprint: $GPUFLEET_FIXTURE_REPO_FINGERPRINT
    preflight_required_urls: ["$GPUFLEET_FIXTURE_REPO_URL/gpgkey"]
    gpu_verify_image: gpufleet-testbed/cuda-sim:12.4.1-base
    gpu_verify_image_tarball: /var/tmp/gpufleet-cuda-sim.tar
  children:
    a100_nodes:
      hosts:
        $host:
      vars:
        gpufleet_sim_profile: a100-80gb-x8
        gpu_verify_expect: {model: A100, count: 8, min_memory_mib: 80000}
EOF

step "preparing the simulated GPU (molecule/_shared/prepare_gpu_host.yml, testbed side only)"
MOLECULE_PROJECT_DIRECTORY="$repo_root" MOLECULE_EPHEMERAL_DIRECTORY="$work" \
  ansible-playbook -i inventory.yml "$repo_root/molecule/_shared/prepare_gpu_host.yml" >"$work/prepare.log" ||
  {
    tail -40 "$work/prepare.log"
    exit 1
  }

step "running: ansible-playbook -i inventory.yml gpufleet.containers.site (from $work/run)"
if ! ansible-playbook -i inventory.yml gpufleet.containers.site >"$work/site.log" 2>&1; then
  tail -60 "$work/site.log"
  echo "artifact: gpufleet.containers.site failed from the installed collection (log above)" >&2
  exit 1
fi
grep -A3 "^PLAY RECAP" "$work/site.log"

failed=0
for report in fleet-report.json fleet-report.md fleet-report.html; do
  if [[ -s "$work/run/report/$report" ]]; then
    step "written: report/$report ($(stat -c %s "$work/run/report/$report") bytes)"
  else
    echo "artifact: report/$report was not written in the folder the run started from" >&2
    failed=1
  fi
done
python3 - "$work/run/report/fleet-report.json" "$host" <<'EOF' || failed=1
import json, sys
report = json.load(open(sys.argv[1]))
rows = {row["host"]: row for row in report["hosts"]}
row = rows.get(sys.argv[2], {})
print("artifact: verdict of %s: %s (%s)" % (sys.argv[2], row.get("verdict"), row.get("reason") or "as expected"))
sys.exit(0 if row.get("verdict") == "pass" else 1)
EOF
grep -q "data-host=\"$host\"" "$work/run/report/fleet-report.html" || {
  echo "artifact: the HTML report has no row for $host" >&2
  failed=1
}
step "done"
exit "$failed"
