# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's verdict: what keeps nvidia-smi from running on a host, and what its answer means.

Plain Python (no Ansible import) so it is unit-tested directly. verification/run.py (the gpu_verify module) calls
find_blocker and build_verdict with command results shaped like Ansible's registered results (a step that did not
run is a dict with `skipped: true`); site.yml's rescue calls failure_verdict through the filter in
plugins/filter/gpu_verify.py. Every string below ends up in the verdict file a host gets on the
controller, which carries no timestamp so that a second run changes nothing: rewording one rewrites every
verdict file of the fleet on the next run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.gpufleet.containers.plugins.module_utils.host.architecture import (
    UnsupportedArchitecture,
    dpkg_arch,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.host.platforms import release_name
from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.errors import HINTS as NVIDIA_SMI_HINTS

# Which of the three things a fleet operator acts on each error_kind points at. The nvidia_smi module names the exact
# failure and its fix (hint); the cause groups hosts in the report and heads the verdict message.
CAUSE_OF_KIND = {
    "nvidia_smi_missing": "driver",
    "driver_unreachable": "driver",
    "nvml_mismatch": "driver",
    "nvml_library_missing": "driver",
    "no_devices": "gpus",
    # A GPU that fell off the bus (Xid 79): hardware, not software.
    "gpu_lost": "gpus",
    # The host (WSL, a policy) keeps the driver from the GPUs.
    "gpu_access_blocked": "driver",
    "no_gpu_runtime": "container_runtime",
    "unknown_runtime": "container_runtime",
    "nvml_unknown": "container_runtime",
    "docker_restart_failed": "container_runtime",
    "docker_unavailable": "container_runtime",
    "containerd_unavailable": "container_runtime",
    "podman_unavailable": "container_runtime",
    "runtime_binary_missing": "container_runtime",
    "cdi_device_unresolved": "container_runtime",
    "cdi_spec_stale": "container_runtime",
    "device_cgroup_denied": "container_runtime",
    "snapshotter_failed": "container_runtime",
    "cri_runtime_missing": "container_runtime",
    "cri_plugin_failed": "container_runtime",
    "containerd_config_invalid": "container_runtime",
    "cuda_requirement": "image",
    "image_unavailable": "image",
    "image_arch_mismatch": "image",
    "parse_error": "verification",
}
CAUSE_HEADLINE = {
    "driver": "this host has no working NVIDIA GPU driver",
    "container_runtime": "the container runtime is broken, not the driver",
    "gpus": "the GPUs are wrong",
    "image": "the verification image cannot run on this host",
    "verification": "nvidia-smi answered with output the verification could not read",
}
# Failures found before nvidia-smi runs; the nvidia-smi errors' own hints cover the rest.
ROLE_HINTS = {
    "docker_unavailable": (
        "Docker does not answer on this host: install it and start dockerd (role gpufleet.containers.docker), "
        "then run the verification again."
    ),
    "podman_unavailable": (
        "Podman does not run on this host: install it (role gpufleet.containers.podman), then run the verification "
        "again."
    ),
    "cri_runtime_missing": (
        "containerd's CRI plugin has no `nvidia` runtime, so Kubernetes pods cannot ask for it: register it (role "
        "gpufleet.containers.containerd) and restart containerd; `containerd config dump` shows what containerd reads."
    ),
    "cri_plugin_failed": (
        "containerd runs but its CRI plugin did not load (`ctr plugins ls` shows it as error, or not at all): read "
        "`journalctl -u containerd` for `failed to load plugin io.containerd.grpc.v1.cri`. A drop-in that defines only "
        "runtimes.nvidia replaces the runtimes map and loses runc; let the role gpufleet.containers.containerd write "
        "the runtimes, and enable the plugin where disabled_plugins lists it."
    ),
    "containerd_config_invalid": (
        "containerd cannot read its own configuration (`containerd config dump` fails): fix the file it names (role "
        "gpufleet.containers.containerd restores a working one), then restart containerd."
    ),
    "image_unavailable": (
        "The image is neither on the host nor loadable: set gpu_verify_image to a full, existing nvidia/cuda tag "
        "(short tags and 'latest' are gone), let the host reach the registry (proxy), or point "
        "gpu_verify_image_tarball at a `docker save` tarball of that exact tag on the host."
    ),
    "image_arch_mismatch": (
        "The image on the host was built for another architecture: load the variant for this host's architecture "
        "(docker save of a multi-arch nvidia/cuda tag pulled with --platform), or remove it so the multi-arch tag "
        "is pulled again."
    ),
}
MISMATCH_HINT = (
    "The host answered but its GPUs differ from gpu_verify_expect: check the hardware (a missing or failed GPU, a "
    "different model) and that the host sits in the inventory group whose expectations match it."
)
UNKNOWN_HINT = "Read rc, stdout and stderr of the nvidia_smi step in gpu_verify_result.nvidia_smi."

# timeout(1) exits 124 when it stopped the pull, 137 when the pull ignored that and had to be killed.
PULL_TIMED_OUT = (124, 137)
# ansible-core 2.19 says "Error executing command." when the executable is absent; older ones name the missing file.
NOT_EXECUTABLE = re.compile(r"Error executing command|No such file or directory")
# The docker CLI sometimes adds a timestamped log line after a failed run (`time="..." level=error
# msg="error waiting for container: context canceled"`): kept, it would change the verdict file on every run.
DOCKER_CLI_LOG_LINE = re.compile(r'^time="[^"]*" level=')
# The module's msg repeats the kind and the hint around the line that gave the failure away: the verdict keeps the line.
MODULE_MSG_PREFIX = re.compile(r"^nvidia-smi gave no GPUs \(\w+\): ")
MODULE_MSG_FIX = re.compile(r"\. Fix: .*$")
TRAILING_DOTS = re.compile(r"\.+$")
TAIL_LINES = 5
# Each engine's name in messages, its CLI's version command, its unavailable kind and the command that pulls.
ENGINE_WORDS = {
    "docker": {"name": "Docker", "unavailable": "docker_unavailable", "pull": "docker pull"},
    "containerd": {"name": "containerd", "unavailable": "containerd_unavailable", "pull": "ctr images pull"},
    "podman": {"name": "Podman", "unavailable": "podman_unavailable", "pull": "podman pull"},
}


def skipped(result):
    """A task that did not run: registered with `skipped: true`, or never reached (None)."""
    return result is None or bool(result.get("skipped", False))


def _last_line(text, default):
    lines = text.splitlines()
    return lines[-1] if lines else default


def _unique(values):
    """First of each value, strings compared without case (as Ansible's `unique` filter does)."""
    seen, kept = set(), []
    for value in values:
        key = value.lower() if isinstance(value, str) else value
        if key not in seen:
            seen.add(key)
            kept.append(value)
    return kept


def docker_missing(docker_version):
    """The docker command could not be executed at all: nothing on stdout or stderr, and the reason in msg.

    In check mode on a fresh host the docker role would install Docker first, so that is a prediction, not a
    finding. A docker CLI that runs and fails always says why on stderr.
    """
    output = "%s%s" % (docker_version.get("stdout", ""), docker_version.get("stderr", ""))
    return (
        docker_version.get("rc") != 0
        and output == ""
        and NOT_EXECUTABLE.search("%s" % docker_version.get("msg", "")) is not None
    )


def _image_arch(inspect_stdout):
    name = inspect_stdout.strip()
    try:
        return dpkg_arch(name)
    except UnsupportedArchitecture:
        return name


def _image_unavailable(image, tarball, pull_timeout, inspect, load, pull, engine="docker"):
    attempt = load if not skipped(load) else pull
    rc = attempt.get("rc", 0)
    if rc in PULL_TIMED_OUT and not skipped(attempt) and not skipped(pull):
        why = "%s did not finish within %s seconds" % (ENGINE_WORDS[engine]["pull"], pull_timeout)
    elif rc != 0:
        output = attempt.get("stderr") or attempt.get("stdout") or attempt.get("msg", "")
        why = _last_line(("%s" % output).strip(), "")
    elif not skipped(load):
        why = "the tarball %s does not hold that tag" % tarball
    else:
        why = inspect["stderr"].strip()
    return "image %s is not on the host and could not be %s: %s" % (
        image,
        "loaded" if not skipped(load) else "pulled",
        why,
    )


def find_blocker(
    docker_version,
    image_before,
    image_after,
    load,
    pull,
    image,
    tarball,
    pull_timeout,
    docker_bin,
    host_arch,
    check_mode,
    engine="docker",
):
    """What keeps nvidia-smi from running, found before the module runs.

    docker_version, image_before, image_after, load, pull: the results of `docker version`, `docker image inspect`
    (before and after adding the image), `docker load` and `docker pull`; the image ones are read only when Docker
    answered, and may be None otherwise (never reached).
    image, tarball, pull_timeout, docker_bin: the gpu_verify module's options. host_arch: the host's dpkg
    architecture. check_mode: Ansible's. engine: docker, containerd or podman, whose CLI docker_bin then is (ctr,
    podman) and whose image probe gave image_before and image_after; an empty architecture there (containerd's
    `images ls -q` names no architecture) is not checked.

    Returns error_kind (None: nothing keeps nvidia-smi from running), message, unverified (check mode cannot verify
    before Docker or the image is added) and image_architecture (the image's, as a dpkg name, once read).
    """
    words = ENGINE_WORDS[engine]
    found = {"error_kind": None, "message": None, "unverified": False, "image_architecture": None}
    if check_mode and docker_missing(docker_version):
        found.update(
            unverified=True,
            message="Check mode: %s is not installed on the host yet; a real run installs it first, then %s and "
            "runs nvidia-smi in it. No verdict is written for this host."
            % (words["name"], ("loads %s from %s" % (image, tarball)) if tarball else ("pulls %s" % image)),
        )
    elif docker_version["rc"] != 0:
        why = ("%s" % (docker_version.get("stderr") or docker_version.get("msg", ""))).strip()
        found.update(
            error_kind=words["unavailable"],
            message="`%s version` failed: %s" % (docker_bin, _last_line(why, "no output")),
        )
    else:
        inspect = image_before if image_before["rc"] == 0 or skipped(image_after) else image_after
        if image_before["rc"] != 0 and check_mode:
            found.update(
                unverified=True,
                message="Check mode: %s is not on the host yet; a real run first %s, then runs nvidia-smi in it. "
                "No verdict is written for this host."
                % (image, ("loads it from %s" % tarball) if tarball else "pulls it"),
            )
        elif inspect["rc"] != 0:
            found.update(
                error_kind="image_unavailable",
                message=_image_unavailable(image, tarball, pull_timeout, inspect, load, pull, engine),
            )
        elif inspect["stdout"].strip():
            image_arch = _image_arch(inspect["stdout"])
            found.update(image_architecture=image_arch)
            if image_arch != host_arch:
                found.update(
                    error_kind="image_arch_mismatch",
                    message='image %s on the host is linux/%s, this host is %s: its programs would fail with "exec '
                    'format error"' % (image, image_arch, host_arch),
                )
    return found


def _judge(smi, blocker, kind, passed, expect):
    """-> (cause, hint, reason) of the verdict."""
    gpus = smi.get("gpus", [])
    mismatches = smi.get("mismatches", [])
    if passed:
        reason = "%d x %s, driver %s, CUDA %s" % (
            smi["gpu_count"],
            " + ".join("%s" % name for name in _unique(gpu["name"] for gpu in gpus)),
            smi["driver_version"],
            smi["cuda_version"],
        )
        if expect:
            reason += ": as expected " + json.dumps(expect)
        else:
            reason += " (gpu_verify_expect is empty: only that nvidia-smi answers in a container was checked)"
        return None, None, reason
    if kind:
        cause = CAUSE_OF_KIND.get(kind, "unknown")
        hint = smi.get("hint") or ROLE_HINTS.get(kind) or NVIDIA_SMI_HINTS.get(kind)
        detail = blocker["message"] or MODULE_MSG_FIX.sub("", MODULE_MSG_PREFIX.sub("", "%s" % smi.get("msg", "")))
        detail = TRAILING_DOTS.sub("", ("%s" % detail).strip())
        return cause, hint, "%s (%s): %s" % (CAUSE_HEADLINE.get(cause, "the verification failed"), kind, detail)
    if mismatches:
        reason = CAUSE_HEADLINE["gpus"] + ": " + "; ".join("%s" % item["message"] for item in mismatches)
        return "gpus", MISMATCH_HINT, reason
    reason = "the verification failed for a reason it does not recognise: %s" % smi.get("msg", "no result")
    return "unknown", UNKNOWN_HINT, reason


def build_verdict(smi, blocker, host, expect, image, architecture, docker_version, toolkit_version, facts):
    """The host's verdict: what was expected, what was found, and when it fails, the cause, the reason and the fix.

    smi: the registered result of the nvidia_smi task (skipped when the blocker kept it from running). blocker:
    find_blocker's answer. host: inventory_hostname. expect: gpu_verify_expect. image: gpu_verify_image.
    architecture: the host's dpkg architecture. docker_version: the daemon's version, or None. toolkit_version: the
    installed nvidia-container-toolkit's, or None. facts: Ansible's facts with distribution,
    distribution_major_version and distribution_version.
    """
    if skipped(smi):
        smi = {}
    gpus = smi.get("gpus", [])
    kind = blocker["error_kind"] or smi.get("error_kind")
    passed = kind is None and smi.get("ok", False)
    cause, hint, reason = _judge(smi, blocker, kind, passed, expect)
    stderr_lines = [line for line in smi.get("stderr", "").splitlines() if not DOCKER_CLI_LOG_LINE.match(line)]
    return {
        "host": host,
        "stage": "verify",
        "verdict": "pass" if passed else "fail",
        "cause": cause,
        "reason": reason,
        "error_kind": kind,
        "hint": hint,
        "mismatches": smi.get("mismatches", []),
        "expected": expect,
        "found": _found(smi),
        "gpus": gpus,
        "image": image,
        "image_architecture": blocker["image_architecture"],
        "architecture": architecture,
        "distribution": release_name(facts),
        "docker_version": docker_version,
        "toolkit_version": toolkit_version,
        "nvidia_smi": {
            "cmd": smi.get("cmd"),
            "rc": smi.get("rc"),
            "stdout_tail": smi.get("stdout", "").splitlines()[-TAIL_LINES:] if not passed else [],
            "stderr_tail": stderr_lines[-TAIL_LINES:],
        },
    }


def _found(smi):
    gpus = smi.get("gpus", [])
    return {
        "gpu_count": smi.get("gpu_count"),
        "models": _unique(gpu["name"] for gpu in gpus),
        "memory_total_mib": _unique(gpu["memory_total_mib"] for gpu in gpus),
        "driver_version": smi.get("driver_version"),
        "cuda_version": smi.get("cuda_version"),
        "mig_devices": len(smi.get("mig_devices", [])),
    }


def fail_engine(verdict, kind, message):
    """Fail a verdict whose nvidia-smi passed for what the engine lacks besides (containerd's CRI runtime).

    A verdict that already fails keeps its cause: the first thing to fix comes first.
    """
    if verdict["verdict"] == "pass":
        cause = CAUSE_OF_KIND[kind]
        verdict.update(
            verdict="fail",
            cause=cause,
            error_kind=kind,
            hint=ROLE_HINTS.get(kind) or NVIDIA_SMI_HINTS.get(kind),
            reason="%s (%s): %s" % (CAUSE_HEADLINE[cause], kind, TRAILING_DOTS.sub("", message.strip())),
        )
    return verdict


def engine_entry(verdict, version, detail):
    """One engine's line in the host verdict's `engines` map (the schema fleet_report reads)."""
    return {
        "verdict": verdict["verdict"],
        "cause": verdict["cause"],
        "reason": verdict["reason"],
        "hint": verdict["hint"],
        "error_kind": verdict["error_kind"],
        "version": version,
        # None where nvidia-smi gave no answer, rather than a count of 0 GPUs it never reported.
        "gpu_count": verdict["found"]["gpu_count"] if verdict["gpus"] or not verdict["error_kind"] else None,
        "command": verdict["nvidia_smi"]["cmd"],
        "detail": detail,
    }


def combine_engines(engines):
    """The host's verdict from each engine's: engines is a list of (name, verdict, version, detail), in order.

    The host fails when any engine fails, with the first failing engine's cause, reason (named after the engine when
    there are several) and fix; the GPU fields (found, gpus, mismatches, nvidia_smi) are those of the first engine
    that ran nvidia-smi. docker_version stays Docker's. `engines` keeps every engine's own verdict.
    """
    ran = [item for item in engines if item[1]["nvidia_smi"]["cmd"] is not None]
    verdict = dict((ran or engines)[0][1])
    names = [name for name, _verdict, _version, _detail in engines]
    failing = next((item for item in engines if item[1]["verdict"] == "fail"), None)
    if failing is not None:
        name, failed = failing[0], failing[1]
        verdict.update(
            verdict="fail",
            cause=failed["cause"],
            error_kind=failed["error_kind"],
            hint=failed["hint"],
            reason=failed["reason"] if len(engines) == 1 else "%s: %s" % (name, failed["reason"]),
        )
    elif len(engines) > 1:
        verdict["reason"] = "%s; through %s" % (verdict["reason"], ", ".join(names))
    verdict["docker_version"] = next((version for name, _v, version, _d in engines if name == "docker"), None)
    verdict["engines"] = {name: engine_entry(item, version, detail) for name, item, version, detail in engines}
    return verdict


def failure_verdict(host, stage, failed_result, expect, image, architecture, facts, engines=None):
    """The verdict of a host that failed before verification (preflight, a package, a Docker restart).

    Same schema as build_verdict, so a fleet's verdict files read alike. failed_result: Ansible's
    ansible_failed_result (msg, and error_kind and hint where the failing module gave them). architecture: the
    host's dpkg architecture, or None when it was never read. engines: the engines the host was meant to have
    (gpu_verify_engines); when given, each gets a failed line in `engines` that names the stage, so the fleet
    report's engine columns show why nothing was verified without repeating the whole reason.
    """
    failed_result = failed_result or {}
    kind = failed_result.get("error_kind")
    verdict = {
        "host": host,
        "stage": stage,
        "verdict": "fail",
        "cause": CAUSE_OF_KIND.get(kind, "setup") if kind else "setup",
        "reason": ("%s" % failed_result.get("msg", "failed")).strip(),
        "error_kind": kind,
        "hint": failed_result.get("hint"),
        "mismatches": [],
        "expected": expect or {},
        "found": _found({}),
        "gpus": [],
        "image": image,
        "image_architecture": None,
        "architecture": architecture or "unknown",
        "distribution": release_name(facts),
        "docker_version": None,
        "toolkit_version": None,
        "nvidia_smi": {"cmd": None, "rc": None, "stdout_tail": [], "stderr_tail": []},
    }
    if engines:
        verdict["engines"] = {
            name: {
                "verdict": "fail",
                "cause": verdict["cause"],
                "reason": "not verified: the host stopped at %s" % stage,
                "hint": verdict["hint"],
                "error_kind": kind,
                "version": None,
                "gpu_count": None,
                "command": None,
                "detail": {},
            }
            for name in engines
        }
    return verdict
