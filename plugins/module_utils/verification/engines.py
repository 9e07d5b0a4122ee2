# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each container engine's read-only probes and its one change (adding the image), as commands.

Plain Python (no Ansible import), driven through the runner verification/run.py passes. An engine's image probe gives
a result shaped like `docker image inspect --format {{.Architecture}}` (rc 0 and the architecture when present), so
verdict.find_blocker reads all three alike; containerd's `images ls -q` names no architecture (stdout empty: not
checked, since the image is imported and pulled for this host's platform only).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.gpufleet.containers.plugins.module_utils.registry.reference import (
    InvalidReference,
    parse_reference,
)

SKIPPED = {"skipped": True}
# ansible-core's wording when an executable is missing, which verdict.docker_missing recognises.
NOT_FOUND = "Error executing command: %s not found"
CONTAINER_PREFIX = "gpufleet-verify-"
# `ctr version` prints a Client and a Server section; the Server one answers only when containerd runs.
_CTR_SERVER_VERSION = re.compile(r"^Server:\s*\n\s+Version:\s*(\S+)", re.MULTILINE)


def command(runner, argv):
    """A registered-result-shaped dict for argv: rc, stdout, stderr, and msg when the program is missing."""
    executable = runner.get_bin_path(argv[0])
    if executable is None:
        return {"rc": 127, "stdout": "", "stderr": "", "msg": NOT_FOUND % argv[0]}
    rc, stdout, stderr = runner.run([executable] + list(argv[1:]))
    return {"rc": rc, "stdout": stdout, "stderr": stderr, "msg": ""}


def cli(options, engine):
    return {"docker": options["docker_bin"], "containerd": options["ctr_bin"], "podman": options["podman_bin"]}[engine]


def image_name(options, engine):
    """The image as the engine pulls it: containerd and Podman take full names (docker.io/nvidia/cuda:TAG; Podman
    resolves no short name without search registries, which Debian's registries.conf has none of); Docker takes the
    user's own spelling."""
    if engine == "docker":
        return options["image"]
    try:
        return parse_reference(options["image"]).name
    except InvalidReference:
        return options["image"]


def podman_names(options):
    """The names a loaded or pulled image may have in Podman, most likely first: `podman load` of a `docker save`
    tarball names some tags localhost/REPO (measured with Podman 4.3), a pull names it docker.io/REPO; the user's
    spelling, when short, finds the localhost/ one."""
    full = image_name(options, "podman")
    return list(dict.fromkeys([full, options["image"]]))


def _ctr(options):
    return [options["ctr_bin"], "-n", options["containerd_namespace"]]


def version_argv(options, engine):
    if engine == "containerd":
        return [options["ctr_bin"], "version"]
    if engine == "podman":
        return [options["podman_bin"], "version", "--format", "{{.Client.Version}}"]
    return [options["docker_bin"], "version", "--format", "{{.Server.Version}}"]


def engine_version(engine, probe):
    """The engine's version from its version probe, or None when it did not answer."""
    if probe["rc"] != 0:
        return None
    if engine == "containerd":
        match = _CTR_SERVER_VERSION.search(probe["stdout"])
        return match.group(1) if match else None
    return probe["stdout"].strip() or None


def probe_image(runner, options, engine):
    """Is the image there: an inspect-shaped result (rc 0 and its architecture on stdout, or rc 1 and why)."""
    name = image_name(options, engine)
    if engine == "containerd":
        listed = command(runner, _ctr(options) + ["images", "ls", "-q"])
        if listed["rc"] != 0:
            return listed
        if name in listed["stdout"].split():
            return {"rc": 0, "stdout": "", "stderr": "", "msg": "", "name": name}
        why = "%s is not in containerd's namespace %s" % (name, options["containerd_namespace"])
        return {"rc": 1, "stdout": "", "stderr": why, "msg": "", "name": name}
    inspect = [cli(options, engine), "image", "inspect", "--format", "{{.Architecture}}"]
    if engine == "docker":
        return dict(command(runner, inspect + ["--", name]), name=name)
    for candidate in podman_names(options):
        found = dict(command(runner, inspect + [candidate]), name=candidate)
        if found["rc"] == 0:
            break
    return found


def add_image(runner, options, engine, architecture):
    """Load or pull the image; returns (load, pull), each a result or SKIPPED."""
    name = image_name(options, engine)
    tarball = options["image_tarball"]
    timeout = ["timeout", "--kill-after=10", str(options["pull_timeout"])]
    if engine == "containerd":
        # Only this host's platform: a multi-arch pull would fetch every architecture's layers.
        platform = ["--platform", "linux/" + architecture]
        if options["containerd_snapshotter"]:
            platform += ["--snapshotter", options["containerd_snapshotter"]]
        if tarball:
            return command(runner, _ctr(options) + ["images", "import"] + platform + [tarball]), SKIPPED
        return SKIPPED, command(runner, timeout + _ctr(options) + ["images", "pull"] + platform + [name])
    binary = cli(options, engine)
    if tarball:
        return command(runner, [binary, "load", "--input", tarball]), SKIPPED
    return SKIPPED, command(runner, timeout + [binary, "pull"] + (["--", name] if engine == "docker" else [name]))


def describe_addition(options, engine, check_mode):
    name = image_name(options, engine)
    how = ("load %s from %s" % (name, options["image_tarball"])) if options["image_tarball"] else ("pull " + name)
    if engine != "docker":
        how += " into " + engine
    return ("would " if check_mode else "") + how


def run_params(options, engine, expect, container_name, image):
    """What nvidia_smi.run.run_and_judge needs to run nvidia-smi through this engine, in image (as the engine named
    it when probed)."""
    return {
        "container_image": image,
        "engine": engine,
        "gpus": options["gpus"],
        "runtime": (options["runtime"] or None) if engine == "docker" else None,
        "network": options["network"] or None,
        "cdi": bool(options["docker_cdi"]) if engine == "docker" else False,
        "docker_bin": options["docker_bin"],
        "ctr_bin": options["ctr_bin"],
        "podman_bin": options["podman_bin"],
        "containerd_namespace": options["containerd_namespace"],
        "containerd_snapshotter": options["containerd_snapshotter"],
        "runtime_binary": options["containerd_runtime_binary"],
        "net_host": bool(options["containerd_net_host"]),
        "container_name": container_name,
        "timeout": options["run_timeout"],
        "expect": expect or None,
    }


def detail(options, engine, gpus_devices):
    """The engine-specific settings recorded in the verdict: how the GPUs were asked for."""
    if engine == "containerd":
        return {
            "namespace": options["containerd_namespace"],
            "snapshotter": options["containerd_snapshotter"] or None,
            "runtime_binary": options["containerd_runtime_binary"],
            "image": image_name(options, engine),
        }
    if engine == "podman" or options["docker_cdi"]:
        return {"device": ",".join(gpus_devices)}
    return {"gpus": options["gpus"]}


def cleanup_argvs(options, container_name):
    """A `ctr run --rm` stopped by the timeout leaves its task and container behind: remove both."""
    return [
        _ctr(options) + ["tasks", "delete", "--force", container_name],
        _ctr(options) + ["containers", "delete", container_name],
    ]


def stable_command(argv, container_name):
    """The command as the verdict file records it: without the run's unique container name, so a second run with the
    same result writes the same file."""
    if not argv or not container_name:
        return argv
    return [CONTAINER_PREFIX + "RUN" if item == container_name else item for item in argv]
