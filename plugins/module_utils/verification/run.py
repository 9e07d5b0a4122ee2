# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's GPU verification from start to verdict, in one call: what the gpu_verify module does.

Plain Python (no Ansible import), driven through a runner (get_bin_path, run) that the module gives and the tests
replace. The steps: read the host (dpkg architecture, the toolkit's version, the distribution, the Docker daemon's
version); make the verification image present (loaded from a tarball or pulled, only when absent); check its
architecture; run nvidia-smi in it; parse it and hold it against the expectations; give the verdict
(_gpu_verdict.build_verdict, the one schema every verdict file has). Check mode runs the read-only steps, and says
what it would add instead of adding it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.containers.plugins.module_utils.host.architecture import (
    UnsupportedArchitecture,
    dpkg_arch,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.host.probe import dpkg_query_argv, parse_dpkg_query
from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.run import run_and_judge
from ansible_collections.gpufleet.containers.plugins.module_utils.verification.verdict import (
    build_verdict,
    find_blocker,
)

TOOLKIT_PACKAGE = "nvidia-container-toolkit"
SKIPPED = {"skipped": True}
# ansible-core's wording when an executable is missing, which _gpu_verdict.docker_missing recognises.
NOT_FOUND = "Error executing command: %s not found"


def _command(runner, argv):
    """A registered-result-shaped dict for argv: rc, stdout, stderr, and msg when the program is missing."""
    executable = runner.get_bin_path(argv[0])
    if executable is None:
        return {"rc": 127, "stdout": "", "stderr": "", "msg": NOT_FOUND % argv[0]}
    rc, stdout, stderr = runner.run([executable] + list(argv[1:]))
    return {"rc": rc, "stdout": stdout, "stderr": stderr, "msg": ""}


def parse_os_release(text):
    """/etc/os-release as Ansible's facts name it: distribution, distribution_version, distribution_major_version."""
    values = {}
    for line in (text or "").splitlines():
        key, separator, value = line.partition("=")
        if separator:
            values[key.strip()] = value.strip().strip("\"'")
    version = values.get("VERSION_ID", "")
    return {
        # Ansible's names: Debian, Ubuntu (NAME would say "Debian GNU/Linux").
        "distribution": values.get("ID", "unknown").capitalize() if values.get("ID") != "ubuntu" else "Ubuntu",
        "distribution_version": version,
        "distribution_major_version": version.split(".")[0],
    }


def host_architecture(runner, machine):
    """dpkg's architecture, or the kernel's machine name mapped to it where dpkg does not answer."""
    probe = _command(runner, ["dpkg", "--print-architecture"])
    if probe["rc"] == 0 and probe["stdout"].strip():
        return probe["stdout"].strip()
    try:
        return dpkg_arch(machine)
    except UnsupportedArchitecture:
        return machine


def toolkit_version(runner):
    probe = _command(runner, dpkg_query_argv([TOOLKIT_PACKAGE]))
    state = parse_dpkg_query(probe["stdout"], [TOOLKIT_PACKAGE])[TOOLKIT_PACKAGE]
    return state["version"] if state["installed"] else None


def add_image(runner, options):
    """Load or pull the image; returns (load, pull), each a result or SKIPPED."""
    docker = options["docker_bin"]
    if options["image_tarball"]:
        return _command(runner, [docker, "load", "--input", options["image_tarball"]]), SKIPPED
    pull = [docker, "pull", "--", options["image"]]
    timeout = ["timeout", "--kill-after=10", str(options["pull_timeout"])]
    return SKIPPED, _command(runner, timeout + pull)


def verify(runner, options, check_mode, os_release_text, machine):
    """Everything the gpu_verify module returns.

    options: host, image, image_tarball, pull_timeout, run_timeout, gpus, runtime, network, docker_bin, expect.
    Returns a dict: changed (the image was, or in check mode would be, added), actions (what was or would be done),
    unverified (check mode cannot verify before Docker or the image is there) with message, and verdict (None when
    unverified).
    """
    docker = options["docker_bin"]
    image = options["image"]
    # As the inventory states it: the keys a user set, not the ones an argument spec filled with nulls.
    expect = {key: value for key, value in (options["expect"] or {}).items() if value is not None}
    facts = parse_os_release(os_release_text)
    architecture = host_architecture(runner, machine)
    toolkit = toolkit_version(runner)
    docker_version = _command(runner, [docker, "version", "--format", "{{.Server.Version}}"])
    image_before = image_after = load = pull = None
    actions = []
    if docker_version["rc"] == 0:
        inspect = [docker, "image", "inspect", "--format", "{{.Architecture}}", "--", image]
        image_before = _command(runner, inspect)
        image_after, load, pull = SKIPPED, SKIPPED, SKIPPED
        if image_before["rc"] != 0 and not check_mode:
            load, pull = add_image(runner, options)
            image_after = _command(runner, inspect)
    blocker = find_blocker(
        docker_version,
        image_before,
        image_after,
        load,
        pull,
        image=image,
        tarball=options["image_tarball"],
        pull_timeout=options["pull_timeout"],
        docker_bin=docker,
        host_arch=architecture,
        check_mode=check_mode,
    )
    added = [attempt for attempt in (load, pull) if attempt not in (None, SKIPPED) and attempt["rc"] == 0]
    changed = bool(added) or blocker["unverified"]
    if changed:
        how = ("load %s from %s" % (image, options["image_tarball"])) if options["image_tarball"] else ("pull " + image)
        actions.append(("would " if check_mode else "") + how)
    if blocker["unverified"]:
        return {
            "changed": changed,
            "actions": actions,
            "unverified": True,
            "message": blocker["message"],
            "verdict": None,
        }
    smi = SKIPPED
    if blocker["error_kind"] is None:
        smi = run_and_judge(
            runner,
            {
                "container_image": image,
                "gpus": options["gpus"],
                "runtime": options["runtime"] or None,
                "network": options["network"] or None,
                "docker_bin": docker,
                "timeout": options["run_timeout"],
                "expect": expect or None,
            },
        )
    verdict = build_verdict(
        smi,
        blocker,
        host=options["host"],
        expect=expect,
        image=image,
        architecture=architecture,
        docker_version=docker_version["stdout"].strip() if docker_version["rc"] == 0 else None,
        toolkit_version=toolkit,
        facts=facts,
    )
    return {"changed": changed, "actions": actions, "unverified": False, "message": None, "verdict": verdict}
