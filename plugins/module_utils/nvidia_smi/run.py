# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run nvidia-smi (on the host or in a container), parse it, classify failures, hold it against expectations.

Plain Python (no Ansible import): the nvidia_smi and gpu_verify modules both call it, through a runner object that
has get_bin_path(name) and run(argv) -> (rc, stdout, stderr); the tests give a stand-in.
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
# Options whose values land on docker's command line, where a leading '-' would be read as another option.
DOCKER_VALUES = ("container_image", "gpus", "runtime", "network")
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
    """The docker CLI to run the container with is not on this host."""


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
    try:
        validate(params["expect"])
    except ValueError as error:
        return "Invalid expect: %s" % error
    try:
        validate_fields(params["fields"])
    except ValueError as error:
        return "Invalid option %s" % error
    return None


def build_command(params):
    """The argv to run: nvidia-smi -q -x in the container image, or on the host."""
    if params["container_image"]:
        argv = [params["docker_bin"], "run", "--rm", "--gpus", params["gpus"]]
        if params["runtime"]:
            argv += ["--runtime", params["runtime"]]
        if params["network"]:
            argv += ["--network", params["network"]]
        return argv + ["--", params["container_image"]] + XML_QUERY
    return [params["nvidia_smi_bin"]] + XML_QUERY[1:]


def run_nvidia_smi(runner, params, result):
    """Run the command; return its stdout, or None after recording the failure in result."""
    argv = build_command(params)
    executable = runner.get_bin_path(argv[0])
    if executable is None:
        if params["container_image"]:
            raise DockerMissing("%s not found on this host: install Docker first" % argv[0])
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
