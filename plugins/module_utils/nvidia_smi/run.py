# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run nvidia-smi (on the host or in a container), parse it, classify failures, hold it against expectations.

Plain Python (no Ansible import): the nvidia_smi and gpu_verify modules both call it, through a runner object that
has get_bin_path(name) and run(argv) -> (rc, stdout, stderr); the tests give a stand-in. The container runs through
Docker (the nvidia_smi module's only engine: `--gpus`, or a CDI device), containerd (`ctr run` with NVIDIA's runtime
binary) or Podman (a CDI device); build_command writes each engine's command line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.errors import (
    classify,
    missing_executable,
    parse_failure,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.expectations import check, validate
from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.parse import (
    ParseError,
    empty_result,
    parse,
    validate_fields,
)

XML_QUERY = ["nvidia-smi", "-q", "-x"]
ENGINES = ("docker", "containerd", "podman")
# Options whose values land on the engine's command line, where a leading '-' would be read as another option.
DOCKER_VALUES = (
    "container_image", "gpus", "runtime", "network", "containerd_namespace", "containerd_snapshotter",
    "runtime_binary", "container_name",
)  # fmt: skip
CDI_KIND = "nvidia.com/gpu"
# The options run_and_judge reads, with the values that mean "not set".
DEFAULTS = {
    "output": None,
    "format": "auto",
    "fields": None,
    "container_image": None,
    "gpus": "all",
    "runtime": None,
    "network": None,
    "docker_bin": "docker",
    "nvidia_smi_bin": "nvidia-smi",
    # Which engine runs the container, and each one's settings (the gpu_verify module sets them).
    "engine": "docker",
    "cdi": False,
    "ctr_bin": "ctr",
    "containerd_namespace": "gpufleet",
    "containerd_snapshotter": "",
    "runtime_binary": "/usr/bin/nvidia-container-runtime",
    "container_name": None,
    "net_host": False,
    "podman_bin": "podman",
    "timeout": None,
    "expect": None,
}


class ModuleRunner:
    """The runner for a module: an AnsibleModule's commands as argument lists, in the C locale."""

    def __init__(self, module):
        self.module = module

    def get_bin_path(self, name):
        return self.module.get_bin_path(name)

    def run(self, argv):
        return self.module.run_command(argv, environ_update={"LC_ALL": "C", "LANG": "C"})


class DockerMissing(Exception):
    """The engine's CLI (docker, ctr, podman) to run the container with is not on this host."""


def invalid_option(params):
    """The message for the first option that cannot be used, or None; checked before anything runs."""
    if params["container_image"]:
        for name in DOCKER_VALUES:
            value = params[name]
            if value and value.startswith("-"):
                wanted = (
                    "an image reference such as nvidia/cuda:12.4.1-base-ubuntu22.04"
                    if name == "container_image"
                    else "the value alone"
                )
                return "%s %r starts with '-', which docker would read as an option; give %s" % (name, value, wanted)
    if params["container_image"]:
        if params["engine"] not in ENGINES:
            return "engine %r is none of %s" % (params["engine"], ", ".join(ENGINES))
        if params["engine"] != "docker" or params["cdi"]:
            try:
                gpu_selection(params["gpus"])
            except ValueError as error:
                return str(error)
        if params["engine"] == "containerd" and not params["container_name"]:
            return "containerd needs a container_name for `ctr run` (the gpu_verify module gives a unique one)"
    try:
        validate(params["expect"])
    except ValueError as error:
        return "Invalid expect: %s" % error
    try:
        validate_fields(params["fields"])
    except ValueError as error:
        return "Invalid option %s" % error
    return None


def gpu_selection(gpus):
    """`docker run --gpus` syntax (all, device=0,1 or 0,1, a UUID) -> the GPUs as a list, or ["all"].

    Engines without --gpus name GPUs one by one (CDI devices nvidia.com/gpu=0, NVIDIA_VISIBLE_DEVICES=0,1); a
    bare count (`--gpus 2`) has no such form, so it is refused.
    """
    text = ("%s" % gpus).strip().strip("\"'")
    if text.startswith("device="):
        text = text[len("device=") :]
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError("gpus is empty; give all, or the GPUs as device=0,1")
    if text.startswith("count=") or (len(names) == 1 and names[0].isdigit() and not gpus.startswith("device=")):
        raise ValueError(
            "gpus %r is a count, which only `docker run --gpus` understands; give all, or the GPUs as device=0,1" % gpus
        )
    return names


def cdi_devices(gpus):
    """The CDI device names for a `--gpus` value: nvidia.com/gpu=all, or one per GPU index or UUID."""
    return ["%s=%s" % (CDI_KIND, name) for name in gpu_selection(gpus)]


def build_command(params):
    """The argv to run: nvidia-smi -q -x in the container image through params["engine"], or on the host."""
    image = params["container_image"]
    if not image:
        return [params["nvidia_smi_bin"]] + XML_QUERY[1:]
    engine = params["engine"]
    if engine == "containerd":
        argv = [params["ctr_bin"], "-n", params["containerd_namespace"], "run", "--rm"]
        if params["containerd_snapshotter"]:
            argv += ["--snapshotter", params["containerd_snapshotter"]]
        # NVIDIA's runtime in legacy mode injects the GPUs that NVIDIA_VISIBLE_DEVICES names, as it does for the
        # CRI's `nvidia` runtime, whose BinaryName is this same binary.
        argv += ["--runc-binary", params["runtime_binary"]]
        argv += ["--env", "NVIDIA_VISIBLE_DEVICES=" + ",".join(gpu_selection(params["gpus"]))]
        if params["net_host"]:
            argv.append("--net-host")
        return argv + [image, params["container_name"]] + XML_QUERY
    if engine == "podman":
        argv = [params["podman_bin"], "run", "--rm"]
        for device in cdi_devices(params["gpus"]):
            argv += ["--device", device]
        if params["network"]:
            argv += ["--network", params["network"]]
        return argv + [image] + XML_QUERY
    argv = [params["docker_bin"], "run", "--rm"]
    if params["cdi"]:
        for device in cdi_devices(params["gpus"]):
            argv += ["--device", device]
    else:
        argv += ["--gpus", params["gpus"]]
    if params["runtime"]:
        argv += ["--runtime", params["runtime"]]
    if params["network"]:
        argv += ["--network", params["network"]]
    return argv + ["--", image] + XML_QUERY


def run_nvidia_smi(runner, params, result):
    """Run the command; return its stdout, or None after recording the failure in result."""
    argv = build_command(params)
    executable = runner.get_bin_path(argv[0])
    if executable is None:
        if params["container_image"]:
            raise DockerMissing("%s not found on this host: install %s first" % (argv[0], params["engine"]))
        result.update(missing_executable(argv[0]))
        return None
    argv[0] = executable
    if params["timeout"]:
        timeout_bin = runner.get_bin_path("timeout") or "timeout"
        argv = [timeout_bin, "--kill-after=5", str(params["timeout"])] + argv
    rc, stdout, stderr = runner.run(argv)
    result.update(cmd=argv, rc=rc, stdout=stdout, stderr=stderr)
    if rc == 0:
        return stdout
    # Failed: its output may be anything, so the error patterns are searched before any parsing.
    known = classify(stdout, stderr)
    if known:
        result.update(known)
    elif params["timeout"] and rc in (124, 137):
        result["message"] = "%s did not finish within %d seconds" % (argv[3], params["timeout"])
    else:
        result["message"] = "%s exited with %d" % (" ".join(argv), rc)
    return None


def parse_into(result, text, params, stderr=None):
    """Parse text; only when it holds no nvidia-smi output is it searched for a known failure.

    Healthy output can quote an error message (a process path, a GPU name that anyone may set), so it is never
    classified.
    """
    try:
        result.update(parse(text, params["format"] if params["output"] is not None else "xml", params["fields"]))
    except ParseError as error:
        result.update(classify(text, stderr) or parse_failure(error))


def run_and_judge(runner, params):
    """The nvidia_smi module's whole answer, without failing: ok, GPUs, mismatches, error_kind, hint and msg.

    params: the options in DEFAULTS (missing ones take those values). Raises DockerMissing, and ValueError for an
    option that cannot be used (checked before anything runs).
    """
    params = dict(DEFAULTS, **params)
    refused = invalid_option(params)
    if refused:
        raise ValueError(refused)
    result = dict(empty_result(None), ok=False, mismatches=[], error_kind=None, hint=None, message=None)
    text = params["output"] if params["output"] is not None else run_nvidia_smi(runner, params, result)
    if text is not None:
        parse_into(result, text, params, result.get("stderr"))
    if result["error_kind"] is None and result["source_format"] is not None:
        result["mismatches"] = check(result, params["expect"])
        result["ok"] = not result["mismatches"]
    message = result.pop("message")
    if result["error_kind"]:
        message = "nvidia-smi gave no GPUs (%s): %s. Fix: %s" % (result["error_kind"], message, result["hint"])
    elif result["mismatches"]:
        message = "GPUs differ from what was expected: " + "; ".join(item["message"] for item in result["mismatches"])
    result["msg"] = None if result["ok"] else message
    return result
