# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How long site.yml and the toolkit role take on the testbed, plain and with mitogen. Figures only, nothing asserted.

Not part of the test suite. Run it from the repository root, testbed up, nothing else converging on the machine
(other work turns the figures into noise):

    python3 tests/testbed/testbed.py up && source ~/.cache/gpufleet-testbed/testbed.env
    .venv/bin/python -m pip install --target .cache/bench/mitogen -r requirements/bench.txt   # optional: mitogen
    .venv/bin/python tests/bench/bench_converge.py                       # floor, toolkit job x5, 1 host (~12 min)
    .venv/bin/python tests/bench/bench_converge.py --scales 1 4 8        # and 4 and 8 hosts (~10 more minutes)
    .venv/bin/python tests/bench/bench_converge.py --scales 1 --rounds 1 # a quick look (~6 min)

The default run takes about 10-12 minutes on 2 cores with mitogen installed (about half without); each strategy
converges fresh hosts of its own, so every fleet size costs twice its converge.

What it measures, in one run:
  floor        a fresh host, the bare commands of NVIDIA's install guide run by hand through `docker exec`: add the
               repository (key + source), apt-get update, apt-get install docker.io nvidia-container-toolkit,
               nvidia-ctk runtime configure, restart docker, docker load of the CUDA image tarball (the testbed's
               stand-in for `docker pull`, which site.yml does too), one `docker run --gpus all ... nvidia-smi`.
  toolkit job  the job issue 12 compares with the roles users would pick instead: the toolkit role (with its docker
               dependency, tests/bench/toolkit_job.yml) on a fresh Debian 12 host with docker.io already installed,
               the fixture repository, the docker connection; cold run, then the same again (no-op); median of
               --rounds interleaved rounds, each round one fresh host per strategy.
  N hosts      N fresh hosts reached over SSH (sshd on 127.0.0.1:2251...), `ansible-playbook site.yml`: the cold
               converge, then the same command again (the no-op rerun) with the tasks that ran on the first host.
Each run is made once with Ansible's own linear strategy ("plain") and once with mitogen's mitogen_linear strategy
when mitogen is installed (requirements/bench.txt) and runs a task on this ansible-core; otherwise the report says
why it was left out. Hosts are made ready the same way for every run (systemd booted, simulated GPU, image tarball
copied; for the toolkit job docker.io installed, once, into a cached image gpufleet-bench/debian); that
preparation is not timed. Containers are named gpufleet-bench-* and removed at the end, on failure too; the work
folder (logs, reports) is kept when a run failed or with --keep. The testbed's GPU is simulated.
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
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
# The toolkit job's host: the testbed image with docker.io installed, built once and cached by the base image's id.
TOOLKIT_IMAGE_REPO = "gpufleet-bench/debian"
# Bump when the way that image is made changes, so an image made the old way is not reused.
TOOLKIT_IMAGE_RECIPE = "1"
TOOLKIT_JOB = os.path.join(ROOT, "tests", "bench", "toolkit_job.yml")
# Figures from issue 12, measured by its author on this testbed with the toolkit job above. DeepOps' and NVIDIA's
# roles come from Galaxy or GitHub, neither of which this machine reaches, so they are quoted, not measured here.
QUOTED_TOOLKIT_JOB = [
    ("DeepOps' toolkit role", 16.9, 13.2, None),
    ("NVIDIA's old nvidia_docker role", 19.6, 13.6, None),
    ("this collection before issue 12", 19.9, 8.1, 26),
]
MITOGEN_DEFAULT_PATH = os.path.join(ROOT, ".cache", "bench", "mitogen")
MITOGEN_INSTALL = ".venv/bin/python -m pip install --target .cache/bench/mitogen -r requirements/bench.txt"
PLAIN = "plain"
MITOGEN = "mitogen"
# Containers this run started and has not removed yet: removed on any way out (exception, Ctrl-C, SIGTERM).
LIVE_HOSTS = set()


def log(message):
    print("bench: " + message, file=sys.stderr, flush=True)


def require_env(name):
    value = os.environ.get(name)
    if not value:
        raise SystemExit("bench: %s is not set; run `source ~/.cache/gpufleet-testbed/testbed.env` first" % name)
    return value


def start_host(name, image=IMAGE):
    subprocess.run(["docker", "rm", "-f", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    argv = ["docker", "run", "-d", "--name", name, "--network", "host", "--cgroupns", "host"]
    argv += ["--cap-add=" + cap for cap in CAPABILITIES]
    argv += ["--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined"]
    argv += ["-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock"]
    argv += [image, "/lib/systemd/systemd"]
    LIVE_HOSTS.add(name)
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


def remove_hosts(names):
    if names:
        subprocess.run(
            ["docker", "rm", "-f"] + list(names), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
        )
        LIVE_HOSTS.difference_update(names)


def remove_leftover_hosts():
    """Containers a killed earlier run left behind (SIGKILL skips every cleanup); only the bench's own names."""
    listing = subprocess.run(
        ["docker", "ps", "-a", "--format", "{{.Names}}", "--filter", "name=^" + PREFIX],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    leftovers = [name for name in listing.stdout.split() if name.startswith(PREFIX)]
    if leftovers:
        log("removing containers an earlier run left: %s" % " ".join(leftovers))
        remove_hosts(leftovers)


def host_exec(name, command, what):
    result = subprocess.run(
        ["docker", "exec", name, "sh", "-ec", command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit("bench: %s failed on %s:\n%s" % (what, name, result.stdout[-2000:]))
    return result.stdout


def write_inventory(workdir, names, ssh, label):
    """An inventory like molecule/default's, over SSH (ssh=True) or docker exec.

    Connections by their short names, which are the same plugins (ssh is ansible.builtin.ssh, docker is redirected
    to community.docker.docker): mitogen's strategy swaps in its own transport only for these names, so plain and
    mitogen runs read the very same inventory.
    """
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
                "ansible_connection": "ssh",
                "ansible_host": "127.0.0.1",
                "ansible_port": FIRST_PORT + index,
                "ansible_user": "root",
                "ansible_ssh_private_key_file": os.path.join(workdir, "ssh", "id_ed25519"),
                "ansible_ssh_common_args": "-o UserKnownHostsFile=%s" % os.path.join(workdir, "ssh", "known_hosts"),
            }
        else:
            hosts[name] = {"ansible_connection": "docker"}
    path = os.path.join(workdir, "inventory-%s.json" % label)
    with open(path, "w") as handle:
        json.dump({"all": {"vars": group_vars, "children": {"gpu_hosts": {"hosts": hosts}}}}, handle, indent=2)
    return path


def playbook(workdir, inventory, path, label, strategy_env=None):
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
    env.update(strategy_env or {})
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


def tasks_ran(counts):
    """Tasks that ran on a host, from its recap line: ok counts changed ones too; skipped ones did not run."""
    return counts.get("ok", 0) + counts.get("failed", 0) + counts.get("unreachable", 0)


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


# --- mitogen -------------------------------------------------------------------------------------------------------


def ansible_core_version():
    result = subprocess.run(
        [sys.executable, "-c", "import ansible.release; print(ansible.release.__version__)"],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def installed_mitogen_version(path):
    for entry in sorted(os.listdir(path)):
        match = re.match(r"^mitogen-(.+)\.dist-info$", entry)
        if match:
            return match.group(1)
    return "(version unknown)"


def error_excerpt(output, lines=4):
    """The lines of ansible's output that say what went wrong, without the deprecation chatter."""
    kept = [line for line in output.splitlines() if line.strip() and "DEPRECATION" not in line]
    for index, line in enumerate(kept):
        if "ERROR" in line or "Error" in line or "UNREACHABLE" in line or "FAILED" in line:
            return " ".join(part.strip() for part in kept[index : index + lines])
    return " ".join(part.strip() for part in kept[-lines:])


def probe_mitogen(path):
    """Whether mitogen's strategy runs a task on this ansible-core.

    Returns {"env": ..., "version": ..., "notes": [...]} when it does, or {"env": None, "reason": ...} when not (not
    installed, refused by its own version check, or failing to run a task), so the bench reports it and goes on.
    """
    strategy_dir = os.path.join(path, "ansible_mitogen", "plugins", "strategy")
    if not os.path.isfile(os.path.join(strategy_dir, "mitogen_linear.py")):
        return {"env": None, "reason": "mitogen is not installed in %s; install it with: %s" % (path, MITOGEN_INSTALL)}
    version = installed_mitogen_version(path)
    env = {"ANSIBLE_STRATEGY_PLUGINS": strategy_dir, "ANSIBLE_STRATEGY": "mitogen_linear"}
    probe_env = dict(os.environ, ANSIBLE_NOCOLOR="1", **env)
    try:
        result = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "ansible"), "-i", "localhost,", "-c", "local"]
            + ["-e", "ansible_python_interpreter=" + sys.executable, "-m", "ansible.builtin.ping", "localhost"],
            cwd=ROOT,
            env=probe_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"env": None, "reason": "mitogen %s: a ping on localhost did not finish in 120 s" % version}
    if result.returncode != 0 or "SUCCESS" not in result.stdout:
        return {
            "env": None,
            "reason": "mitogen %s does not run a task on ansible-core %s: %s"
            % (version, ansible_core_version(), error_excerpt(result.stdout)),
        }
    notes = []
    if "strategy plugins not included in ansible.builtin are deprecated" in result.stdout:
        notes.append(
            "ansible-core %s warns that strategy plugins from outside ansible.builtin are deprecated and will be "
            "removed (no replacement planned)" % ansible_core_version()
        )
    return {"env": env, "version": version, "notes": notes}


# --- floor ---------------------------------------------------------------------------------------------------------

FETCH = "python3 -c 'import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1]).read())'"
KEYRING = "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg"
# The testbed's hosts share this machine's network: their Docker gets no bridge and no iptables rules.
WRITE_DAEMON_JSON = 'mkdir -p /etc/docker && echo \'{"bridge": "none", "iptables": false}\' >/etc/docker/daemon.json'
FLOOR_STEPS = [
    # NVIDIA's guide, with python3 for curl (the minimal image has no curl).
    ("add NVIDIA's key", FETCH + " {url}/gpgkey | gpg --dearmor -o " + KEYRING),
    (
        "add NVIDIA's source",
        FETCH
        + " {url}/stable/deb/nvidia-container-toolkit.list > /etc/apt/sources.list.d/nvidia-container-toolkit.list",
    ),
    ("write daemon.json", WRITE_DAEMON_JSON.replace("{", "{{").replace("}", "}}")),
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
            host_exec(name, command.format(url=url), "floor step %r" % label)
            steps.append((label, time.monotonic() - started))
            log("floor: %-50s %6.1f s" % (label, steps[-1][1]))
        return steps
    finally:
        remove_hosts([name])


# --- the toolkit job -----------------------------------------------------------------------------------------------


def image_exists(tag):
    probe = subprocess.run(
        ["docker", "image", "inspect", tag], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return probe.returncode == 0


def toolkit_host_image(workdir):
    """The image of a fresh Debian 12 host with docker.io installed (and the testbed's simulated GPU), made once.

    Tagged by the testbed image's id, so a rebuilt testbed image gets a new one. docker.io is installed the way a user
    would (apt-get, with the daemon.json this machine's network needs), then the engine is stopped and its state
    cleared for the snapshot; each host started from it boots with docker.io enabled, as a host that had it installed
    would.
    """
    base_id = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", IMAGE], stdout=subprocess.PIPE, text=True, check=True
    ).stdout.strip()
    tag = "%s:12-docker.io-%s-r%s" % (TOOLKIT_IMAGE_REPO, base_id.split(":")[-1][:12], TOOLKIT_IMAGE_RECIPE)
    if image_exists(tag):
        log("toolkit job: host image %s (cached)" % tag)
        return tag
    name = PREFIX + "toolkit-base"
    started = time.monotonic()
    start_host(name)
    try:
        inventory = write_inventory(workdir, [name], ssh=False, label="toolkit-base")
        prepare_hosts(workdir, inventory, ssh=False, label="toolkit-base")
        host_exec(name, WRITE_DAEMON_JSON, "writing daemon.json")
        host_exec(name, "apt-get update -q", "apt-get update")
        host_exec(name, "DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io", "installing docker.io")
        host_exec(name, "docker info >/dev/null", "docker.io's engine check")
        host_exec(name, "systemctl stop docker.service docker.socket containerd.service", "stopping docker")
        # The engine's state goes: dockerd renames folders in it at start, which overlayfs refuses for folders of a
        # lower layer (EXDEV); each host's engine makes it anew in its first boot, before any timed run.
        host_exec(name, "rm -rf /var/lib/docker /var/lib/containerd", "clearing the engine's state")
        subprocess.run(["docker", "stop", name], stdout=subprocess.DEVNULL, check=True)
        subprocess.run(["docker", "commit", name, tag], stdout=subprocess.DEVNULL, check=True)
    finally:
        remove_hosts([name])
    log("toolkit job: made host image %s in %.0f s (not timed)" % (tag, time.monotonic() - started))
    return tag


def wait_until_booted(name):
    """systemd up and docker.io's engine answering, so that no run pays for the boot."""
    host_exec(name, "systemctl is-system-running --wait || true", "waiting for boot")
    for _second in range(60):
        probe = subprocess.run(
            ["docker", "exec", name, "docker", "info"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        if probe.returncode == 0:
            return
        time.sleep(1)
    raise SystemExit("bench: docker.io did not answer on %s within 60 s of boot" % name)


def toolkit_job_round(workdir, image, strategy, strategy_env, round_number):
    name = PREFIX + "toolkit"
    label = "toolkit-%s-round%d" % (strategy, round_number)
    start_host(name, image)
    try:
        wait_until_booted(name)
        inventory = write_inventory(workdir, [name], ssh=False, label=label)
        cold, cold_rc, cold_recap = playbook(workdir, inventory, TOOLKIT_JOB, label + "-cold", strategy_env)
        noop, noop_rc, noop_recap = playbook(workdir, inventory, TOOLKIT_JOB, label + "-noop", strategy_env)
    finally:
        remove_hosts([name])
    row = {
        "cold": cold,
        "noop": noop,
        "ok": cold_rc == 0 and noop_rc == 0,
        "cold_tasks_ran": tasks_ran(cold_recap.get(name, {})),
        "noop_tasks_ran": tasks_ran(noop_recap.get(name, {})),
        "cold_changed": cold_recap.get(name, {}).get("changed", 0),
        "noop_changed": noop_recap.get(name, {}).get("changed", 0),
        "slowest_cold": slowest_tasks(os.path.join(workdir, label + "-cold.log"))[:5],
        "slowest_noop": slowest_tasks(os.path.join(workdir, label + "-noop.log"))[:5],
        "runs": [(label + "-cold.log", cold_rc), (label + "-noop.log", noop_rc)],
    }
    log(
        "toolkit job, %s, round %d: cold %.1f s (exit %d, %d tasks), no-op %.1f s (exit %d, %d tasks, %d changed)"
        % (
            strategy,
            round_number,
            cold,
            cold_rc,
            row["cold_tasks_ran"],
            noop,
            noop_rc,
            row["noop_tasks_ran"],
            row["noop_changed"],
        )
    )
    return row


def measure_toolkit_job(workdir, strategies, rounds):
    """{strategy: [row per round]}. Rounds interleave the strategies, the first one alternating, so drift in the
    machine's load (other work, the page cache warming) falls on each strategy alike."""
    image = toolkit_host_image(workdir)
    results = {strategy: [] for strategy in strategies}
    for round_number in range(1, rounds + 1):
        order = list(strategies) if round_number % 2 else list(reversed(strategies))
        for strategy in order:
            row = toolkit_job_round(workdir, image, strategy, strategies[strategy], round_number)
            results[strategy].append(row)
    return results


# --- site.yml on N hosts over SSH ----------------------------------------------------------------------------------


def measure_fleet(workdir, count, strategy, strategy_env):
    names = ["%sssh-%d" % (PREFIX, index + 1) for index in range(count)]
    for name in names:
        start_host(name)
    try:
        label = "fleet%d-%s" % (count, strategy)
        inventory = write_inventory(workdir, names, ssh=True, label=label)
        prepare_hosts(workdir, inventory, ssh=True, label=label)
        site = os.path.join(ROOT, "site.yml")
        cold, cold_rc, cold_recap = playbook(workdir, inventory, site, label + "-cold", strategy_env)
        log("%d host(s), %s: cold converge %.0f s (exit %d)" % (count, strategy, cold, cold_rc))
        noop, noop_rc, noop_recap = playbook(workdir, inventory, site, label + "-noop", strategy_env)
        log("%d host(s), %s: no-op rerun %.0f s (exit %d)" % (count, strategy, noop, noop_rc))
        return {
            "slowest": slowest_tasks(os.path.join(workdir, label + "-noop.log")),
            "hosts": count,
            "strategy": strategy,
            "cold": cold,
            "cold_ok": cold_rc == 0,
            "noop": noop,
            "noop_ok": noop_rc == 0,
            "cold_tasks_ran": tasks_ran(cold_recap.get(names[0], {})),
            "noop_tasks_ran": tasks_ran(noop_recap.get(names[0], {})),
            "noop_tasks_skipped": noop_recap.get(names[0], {}).get("skipped", 0),
            "noop_changed": sum(counts.get("changed", 0) for host, counts in noop_recap.items() if host in names),
            "runs": [(label + "-cold.log", cold_rc), (label + "-noop.log", noop_rc)],
        }
    finally:
        remove_hosts(names)


# --- report --------------------------------------------------------------------------------------------------------


def spread(values, fmt="%.1f"):
    return " ".join(fmt % value for value in values)


def distinct(rows, key):
    """The values a figure took over the rounds, "15" or "15/16" when a round differed."""
    return "/".join(str(value) for value in sorted({row[key] for row in rows}))


def print_toolkit_job(results, rounds):
    print("Toolkit job: the toolkit role (docker dependency included) on a fresh Debian 12 host with docker.io,")
    print("the fixture repository, the docker connection; median of %d interleaved round(s)" % rounds)
    header = "  %-40s %7s %8s %7s %6s %8s %6s %8s"
    print(header % ("", "cold s", "no-op s", "% cold", "tasks", "changed", "tasks", "changed"))
    print(header % ("", "", "", "", "cold", "cold", "no-op", "no-op"))
    for strategy, rows in results.items():
        cold = statistics.median(row["cold"] for row in rows)
        noop = statistics.median(row["noop"] for row in rows)
        print(
            "  %-40s %7.1f %8.1f %6.0f%% %6s %8s %6s %8s%s"
            % (
                "measured here, " + strategy,
                cold,
                noop,
                100.0 * noop / cold,
                distinct(rows, "cold_tasks_ran"),
                distinct(rows, "cold_changed"),
                distinct(rows, "noop_tasks_ran"),
                distinct(rows, "noop_changed"),
                "" if all(row["ok"] for row in rows) else "   (a run failed: see the logs)",
            )
        )
        if len(rows) > 1:
            print(
                "  %-40s cold %s; no-op %s"
                % ("  each round", spread(r["cold"] for r in rows), spread(r["noop"] for r in rows))
            )
    print("  Quoted, not measured here (by issue 12's author, same job on this testbed; DeepOps' and NVIDIA's roles")
    print("  come from Galaxy or GitHub, which this machine cannot reach, so they are not run side by side here):")
    for name, cold, noop, tasks in QUOTED_TOOLKIT_JOB:
        print(
            "  %-40s %7.1f %8.1f %6.0f%% %6s %8s %6s %8s"
            % ("quoted: " + name, cold, noop, 100.0 * noop / cold, tasks or "-", "-", "-", "-")
        )
    for strategy, rows in results.items():
        for run in ("cold", "noop"):
            print(
                "  Slowest tasks, toolkit job, %s, %s run of the last round:" % (strategy, run.replace("noop", "no-op"))
            )
            for seconds, name in rows[-1]["slowest_" + run]:
                print("    %6.2f s  %s" % (seconds, name))
    print()


def print_report(floor, toolkit_job, rounds, fleets, mitogen, kept_failures):
    floor_total = sum(seconds for _label, seconds in floor) if floor else None
    print()
    if mitogen.get("env"):
        print(
            "mitogen %s: its mitogen_linear strategy runs on ansible-core %s; measured beside plain runs."
            % (mitogen["version"], ansible_core_version())
        )
        for note in mitogen["notes"]:
            print("  note: " + note)
    else:
        print("mitogen: not measured. " + mitogen["reason"])
    print()
    if floor:
        print("Floor: the bare commands on one fresh host (docker exec)")
        for label, seconds in floor:
            print("  %-52s %7.1f s" % (label, seconds))
        print("  %-52s %7.1f s" % ("total", floor_total))
        print()
    if toolkit_job:
        print_toolkit_job(toolkit_job, rounds)
    if fleets:
        print("site.yml over SSH (cold converge, then the same command again)")
        header = "%6s %9s %9s %9s %8s %9s %10s %7s %11s %12s %8s"
        print(
            header
            % (
                "hosts",
                "strategy",
                "cold s",
                "cold s/h",
                "x floor",
                "no-op s",
                "no-op s/h",
                "% cold",
                "tasks cold",
                "tasks no-op",
                "changed",
            )
        )
        for row in fleets:
            ratio = "%.2f" % (row["cold"] / floor_total) if floor_total and row["hosts"] == 1 else "-"
            print(
                "%6d %9s %9.1f %9.1f %8s %9.1f %10.1f %6.0f%% %11d %12d %8d%s"
                % (
                    row["hosts"],
                    row["strategy"],
                    row["cold"],
                    row["cold"] / row["hosts"],
                    ratio,
                    row["noop"],
                    row["noop"] / row["hosts"],
                    100.0 * row["noop"] / row["cold"],
                    row["cold_tasks_ran"],
                    row["noop_tasks_ran"],
                    row["noop_changed"],
                    "" if row["cold_ok"] and row["noop_ok"] else "   (a run failed: see the logs)",
                )
            )
        print("  (tasks: those that ran on the first host; skipped ones did not run)")
        print()
        for row in fleets:
            print("Slowest tasks of the no-op rerun, %d host(s), %s (profile_tasks):" % (row["hosts"], row["strategy"]))
            for seconds, name in row["slowest"]:
                print("  %6.2f s  %s" % (seconds, name))
        print()
    print("Goals (issue 12): cold converge of one host <= 1.3 x floor; no-op rerun <= 15% of the cold converge, with")
    print("fewer than 35 tasks run per host; the toolkit job ahead of the roles quoted above.")
    print("GPU simulated (%s); apt downloads come from deb.debian.org and the fixture repository." % SIM_PROFILE)
    if kept_failures:
        print()
        print("Runs that failed (logs kept in %s):" % kept_failures[0][0])
        for _workdir, log_name, excerpt in kept_failures:
            print("  %s: %s" % (log_name, excerpt))


def failed_runs(workdir, toolkit_job, fleets):
    """[(workdir, log name, what went wrong)] for every timed run that exited non-zero."""
    failures = []
    rows = [row for rows in (toolkit_job or {}).values() for row in rows] + list(fleets)
    for row in rows:
        for log_name, exit_code in row["runs"]:
            if exit_code != 0:
                with open(os.path.join(workdir, log_name)) as handle:
                    failures.append((workdir, log_name, error_excerpt(handle.read())))
    return failures


def stop_on_signal(signum, _frame):
    # SystemExit unwinds through every finally, which removes the hosts; subprocess.run kills its child on the way.
    raise SystemExit("bench: stopped by signal %d; removing the test hosts" % signum)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--scales",
        type=int,
        nargs="*",
        default=[1],
        help="fleet sizes over SSH (default 1; 1 4 8 shows how it scales; none skips site.yml)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the toolkit job (default 5; 0 skips it)")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor measurement")
    parser.add_argument(
        "--strategies",
        nargs="+",
        choices=[PLAIN, MITOGEN],
        default=[PLAIN, MITOGEN],
        help="plain (Ansible's linear) and/or mitogen (mitogen_linear, when it runs here); default both",
    )
    parser.add_argument(
        "--mitogen-path", default=MITOGEN_DEFAULT_PATH, help="where mitogen was installed with pip --target"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, reports)")
    args = parser.parse_args()
    require_env("GPUFLEET_FIXTURE_REPO_URL")
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGHUP, stop_on_signal)
    remove_leftover_hosts()
    mitogen = probe_mitogen(args.mitogen_path)
    strategies = {}
    if PLAIN in args.strategies:
        strategies[PLAIN] = None
    if MITOGEN in args.strategies:
        if mitogen["env"]:
            strategies[MITOGEN] = mitogen["env"]
        else:
            log("mitogen left out: " + mitogen["reason"])
    if not strategies:
        raise SystemExit("bench: nothing to measure: " + mitogen["reason"])
    workdir = tempfile.mkdtemp(prefix="gpufleet-bench-")
    log("work folder %s" % workdir)
    keep = args.keep
    try:
        floor = None if args.no_floor else measure_floor(workdir)
        toolkit_job = measure_toolkit_job(workdir, strategies, args.rounds) if args.rounds > 0 else None
        fleets = []
        for count in args.scales:
            for strategy, strategy_env in strategies.items():
                fleets.append(measure_fleet(workdir, count, strategy, strategy_env))
        failures = failed_runs(workdir, toolkit_job, fleets)
        keep = keep or bool(failures)
        print_report(floor, toolkit_job, args.rounds, fleets, mitogen, failures)
    except BaseException:
        keep = True
        raise
    finally:
        remove_hosts(sorted(LIVE_HOSTS))
        if keep:
            log("kept %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
