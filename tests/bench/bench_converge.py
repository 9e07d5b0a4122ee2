# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How long site.yml takes on the testbed, against the floor of doing it by hand. Figures only, nothing asserted.

Not part of the test suite: it converges 1 + 1 + 4 + 8 fresh test hosts (about 10 minutes on 2 cores). Run it from
the repository root, testbed up:

    python3 tests/testbed/testbed.py up && source ~/.cache/gpufleet-testbed/testbed.env
    .venv/bin/python tests/bench/bench_converge.py                 # floor, then 1, 4 and 8 hosts over SSH
    .venv/bin/python tests/bench/bench_converge.py --scales 1 4    # what fits

What it measures, in one run:
  floor       a fresh host, the bare commands of NVIDIA's install guide run by hand through `docker exec`: add the
              repository (key + source), apt-get update, apt-get install docker.io nvidia-container-toolkit,
              nvidia-ctk runtime configure, restart docker, docker load of the CUDA image tarball (the testbed's
              stand-in for `docker pull`, which site.yml does too), one `docker run --gpus all ... nvidia-smi`.
  N hosts     N fresh hosts reached over SSH (sshd on 127.0.0.1:2251...), `ansible-playbook site.yml`: the cold
              converge, then the same command again (the no-op rerun) with the tasks that ran on the first host.
The hosts are made ready the same way for both (systemd booted, simulated GPU, image tarball copied); that
preparation is not timed. Hosts are removed at the end unless --keep. The testbed's GPU is simulated.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
IMAGE = os.environ.get("GPUFLEET_IMAGE_AMD64", "gpufleet-testbed/debian:12-amd64")
CUDA_IMAGE = "gpufleet-testbed/cuda-sim:12.4.1-base"
SIM_PROFILE = "a100-80gb-x8"
FIRST_PORT = 2251
PREFIX = "gpufleet-bench-"
# Every capability but SYS_RESOURCE (--privileged fails on these machines), as the molecule platforms list them.
CAPABILITIES = [
    "AUDIT_CONTROL",
    "AUDIT_READ",
    "AUDIT_WRITE",
    "BLOCK_SUSPEND",
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "IPC_LOCK",
    "IPC_OWNER",
    "KILL",
    "LEASE",
    "LINUX_IMMUTABLE",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "MKNOD",
    "NET_ADMIN",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_RAW",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYSLOG",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_CHROOT",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PACCT",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "WAKE_ALARM",
]
RECAP = re.compile(r"^(\S+)\s+: (ok=.*)$", re.MULTILINE)


def log(message):
    print("bench: " + message, file=sys.stderr, flush=True)


def require_env(name):
    value = os.environ.get(name)
    if not value:
        raise SystemExit("bench: %s is not set; run `source ~/.cache/gpufleet-testbed/testbed.env` first" % name)
    return value


def start_host(name):
    subprocess.run(["docker", "rm", "-f", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    argv = ["docker", "run", "-d", "--name", name, "--network", "host", "--cgroupns", "host"]
    argv += ["--cap-add=" + cap for cap in CAPABILITIES]
    argv += ["--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined"]
    argv += ["-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock"]
    argv += [IMAGE, "/lib/systemd/systemd"]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


def remove_hosts(names):
    if names:
        subprocess.run(["docker", "rm", "-f"] + names, stdout=subprocess.DEVNULL, check=False)


def write_inventory(workdir, names, ssh, label):
    """An inventory like molecule/default's, over SSH (ssh=True) or docker exec (the floor host)."""
    repo_url = require_env("GPUFLEET_FIXTURE_REPO_URL")
    group_vars = {
        "gpufleet_report_dir": os.path.join(workdir, "report-" + label),
        "docker_daemon_options": {"bridge": "none", "iptables": False},
        "nvidia_container_toolkit_repo_base_url": repo_url,
        "nvidia_container_toolkit_gpg_key_url": repo_url + "/gpgkey",
        "nvidia_container_toolkit_gpg_fingerprint": require_env("GPUFLEET_FIXTURE_REPO_FINGERPRINT"),
        "preflight_required_urls": [repo_url + "/gpgkey"],
        "gpu_verify_image": CUDA_IMAGE,
        "gpu_verify_image_tarball": "/var/tmp/gpufleet-cuda-sim.tar",
        "gpu_verify_expect": {"model": "A100", "count": 8, "min_memory_mib": 80000},
        "gpufleet_sim_profile": SIM_PROFILE,
    }
    hosts = {}
    for index, name in enumerate(names):
        if ssh:
            hosts[name] = {
                "ansible_connection": "ansible.builtin.ssh",
                "ansible_host": "127.0.0.1",
                "ansible_port": FIRST_PORT + index,
                "ansible_user": "root",
                "ansible_ssh_private_key_file": os.path.join(workdir, "ssh", "id_ed25519"),
                "ansible_ssh_common_args": "-o UserKnownHostsFile=%s" % os.path.join(workdir, "ssh", "known_hosts"),
            }
        else:
            hosts[name] = {"ansible_connection": "community.docker.docker"}
    path = os.path.join(workdir, "inventory-%s.json" % label)
    with open(path, "w") as handle:
        json.dump({"all": {"vars": group_vars, "children": {"gpu_hosts": {"hosts": hosts}}}}, handle, indent=2)
    return path


def playbook(workdir, inventory, path, label):
    """Run one playbook; returns (seconds, exit code, recap {host: {ok: n, ...}}). Output kept in workdir."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_HOST_KEY_CHECKING="False",
        ANSIBLE_NOCOLOR="1",
        # Per-task times at the end of each log: where a no-op run spends its time.
        ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks",
        PROFILE_TASKS_TASK_OUTPUT_LIMIT="10",
        # What molecule/_shared/prepare_gpu_host.yml reads from molecule's environment.
        MOLECULE_PROJECT_DIRECTORY=ROOT,
        MOLECULE_EPHEMERAL_DIRECTORY=workdir,
    )
    started = time.monotonic()
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, path],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    with open(os.path.join(workdir, label + ".log"), "w") as handle:
        handle.write(result.stdout)
    recap = {}
    for host, counts in RECAP.findall(result.stdout):
        recap[host] = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", counts)}
    return seconds, result.returncode, recap


def slowest_tasks(log_path):
    """The profile_tasks summary at the end of a run's log: [(seconds, task name)], slowest first."""
    with open(log_path) as handle:
        text = handle.read()
    return [
        (float(seconds), name.strip())
        for name, seconds in re.findall(r"^(.+?) -+ ([0-9.]+)s$", text.split("=" * 20)[-1], re.MULTILINE)
    ]


def prepare_hosts(workdir, inventory, ssh, label):
    plays = [os.path.join(ROOT, "molecule", "_shared", "prepare_gpu_host.yml")]
    if ssh:
        plays.insert(0, os.path.join(ROOT, "tests", "testbed", "ssh", "start_sshd.yml"))
    for play in plays:
        seconds, rc, _recap = playbook(workdir, inventory, play, "%s-prepare-%s" % (label, os.path.basename(play)))
        if rc != 0:
            raise SystemExit("bench: preparing the hosts failed; see %s" % workdir)
        log("%s: %s in %.0f s (not timed)" % (label, os.path.basename(play), seconds))


FETCH = "python3 -c 'import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1]).read())'"
KEYRING = "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg"
FLOOR_STEPS = [
    # NVIDIA's guide, with python3 for curl (the minimal image has no curl).
    ("add NVIDIA's key", FETCH + " {url}/gpgkey | gpg --dearmor -o " + KEYRING),
    (
        "add NVIDIA's source",
        FETCH
        + " {url}/stable/deb/nvidia-container-toolkit.list > /etc/apt/sources.list.d/nvidia-container-toolkit.list",
    ),
    # The testbed's host shares this machine's network: its Docker gets no bridge and no iptables rules.
    (
        "write daemon.json",
        'mkdir -p /etc/docker && echo \'{{"bridge": "none", "iptables": false}}\' >/etc/docker/daemon.json',
    ),
    ("apt-get update", "apt-get update -q"),
    (
        "apt-get install docker.io nvidia-container-toolkit",
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io nvidia-container-toolkit",
    ),
    ("nvidia-ctk runtime configure", "nvidia-ctk runtime configure --runtime=docker"),
    ("systemctl restart docker", "systemctl restart docker"),
    ("docker load (stand-in for docker pull)", "docker load -i /var/tmp/gpufleet-cuda-sim.tar"),
    ("docker run --gpus all nvidia-smi", "docker run --rm --network none --gpus all %s nvidia-smi" % CUDA_IMAGE),
]


def measure_floor(workdir):
    name = PREFIX + "floor"
    start_host(name)
    try:
        inventory = write_inventory(workdir, [name], ssh=False, label="floor")
        prepare_hosts(workdir, inventory, ssh=False, label="floor")
        url = require_env("GPUFLEET_FIXTURE_REPO_URL")
        steps = []
        for label, command in FLOOR_STEPS:
            started = time.monotonic()
            result = subprocess.run(
                ["docker", "exec", name, "sh", "-ec", command.format(url=url)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                check=False,
            )
            steps.append((label, time.monotonic() - started))
            if result.returncode != 0:
                raise SystemExit("bench: floor step %r failed:\n%s" % (label, result.stdout[-2000:]))
            log("floor: %-50s %6.1f s" % (label, steps[-1][1]))
        return steps
    finally:
        remove_hosts([name])


def measure_fleet(workdir, count):
    names = ["%sssh-%d" % (PREFIX, index + 1) for index in range(count)]
    for name in names:
        start_host(name)
    try:
        label = "fleet%d" % count
        inventory = write_inventory(workdir, names, ssh=True, label=label)
        prepare_hosts(workdir, inventory, ssh=True, label=label)
        site = os.path.join(ROOT, "site.yml")
        cold, cold_rc, cold_recap = playbook(workdir, inventory, site, label + "-cold")
        log("%d host(s): cold converge %.0f s (exit %d)" % (count, cold, cold_rc))
        noop, noop_rc, noop_recap = playbook(workdir, inventory, site, label + "-noop")
        log("%d host(s): no-op rerun %.0f s (exit %d)" % (count, noop, noop_rc))
        first = noop_recap.get(names[0], {})
        return {
            "slowest": slowest_tasks(os.path.join(workdir, label + "-noop.log")),
            "hosts": count,
            "cold": cold,
            "cold_ok": cold_rc == 0,
            "noop": noop,
            "noop_ok": noop_rc == 0,
            # Tasks that ran on the host: ok counts changed ones too; skipped ones did not run.
            "noop_tasks_ran": first.get("ok", 0) + first.get("failed", 0),
            "noop_tasks_skipped": first.get("skipped", 0),
            "noop_changed": sum(counts.get("changed", 0) for host, counts in noop_recap.items() if host in names),
        }
    finally:
        remove_hosts(names)


def print_report(floor, fleets):
    floor_total = sum(seconds for _label, seconds in floor) if floor else None
    print()
    if floor:
        print("Floor: the bare commands on one fresh host (docker exec)")
        for label, seconds in floor:
            print("  %-52s %7.1f s" % (label, seconds))
        print("  %-52s %7.1f s" % ("total", floor_total))
        print()
    print("site.yml over SSH (cold converge, then the same command again)")
    header = "%6s %10s %10s %9s %10s %10s %8s %12s %9s"
    print(
        header % ("hosts", "cold s", "cold s/h", "x floor", "no-op s", "no-op s/h", "% cold", "tasks ran/h", "changed")
    )
    for row in fleets:
        ratio = "%.2f" % (row["cold"] / floor_total) if floor_total and row["hosts"] == 1 else "-"
        print(
            "%6d %10.1f %10.1f %9s %10.1f %10.1f %7.0f%% %12d %9d%s"
            % (
                row["hosts"],
                row["cold"],
                row["cold"] / row["hosts"],
                ratio,
                row["noop"],
                row["noop"] / row["hosts"],
                100.0 * row["noop"] / row["cold"],
                row["noop_tasks_ran"],
                row["noop_changed"],
                "" if row["cold_ok"] and row["noop_ok"] else "   (a run failed: see the logs)",
            )
        )
    print()
    for row in fleets:
        print("Slowest tasks of the no-op rerun, %d host(s) (profile_tasks):" % row["hosts"])
        for seconds, name in row["slowest"]:
            print("  %6.2f s  %s" % (seconds, name))
    print()
    print("Goals (issue 6): cold converge of one host <= 1.3 x floor; no-op rerun <= 15% of the cold converge.")
    print("GPU simulated (%s); apt downloads come from deb.debian.org and the fixture repository." % SIM_PROFILE)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 4, 8], help="fleet sizes (default 1 4 8)")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor measurement")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, reports)")
    args = parser.parse_args()
    require_env("GPUFLEET_FIXTURE_REPO_URL")
    workdir = tempfile.mkdtemp(prefix="gpufleet-bench-")
    log("work folder %s" % workdir)
    try:
        floor = None if args.no_floor else measure_floor(workdir)
        fleets = [measure_fleet(workdir, count) for count in args.scales]
        print_report(floor, fleets)
    finally:
        if args.keep:
            log("kept %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
