# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The gpu_verify verdict as a user reads it: in the verdict file, and in the message a failed host stops with.

The nvidia_smi results are what the real module returns: its main() runs over the corpus in tests/fixtures/nvidia_smi
(real outputs, exit codes from their meta.yml) with only the command replaced. The docker command results are
synthetic, shaped like ansible.builtin.command's registered results; their texts were printed by docker 20.10.24
on the test machine where noted, and the docker CLI log line is synthetic in the docker CLI's format.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.errors import HINTS
from ansible_collections.gpufleet.containers.plugins.module_utils.verification.verdict import (
    MISMATCH_HINT,
    ROLE_HINTS,
    UNKNOWN_HINT,
    build_verdict,
    docker_missing,
    find_blocker,
)
from ansible_collections.gpufleet.containers.plugins.modules import nvidia_smi

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "nvidia_smi")
IMAGE = "nvidia/cuda:12.9.1-base-ubuntu24.04"
TARBALL = "/var/tmp/cuda-12.9.1-base-ubuntu24.04.tar"
A100_X8 = {"model": "A100", "count": 8}
DEBIAN_12 = {"distribution": "Debian", "distribution_major_version": "12", "distribution_version": "12.8"}
SKIPPED = {"changed": False, "skip_reason": "Conditional result was False", "skipped": True}
# Captured from docker 20.10.24 on the test machine.
NO_SUCH_IMAGE = "Error response from daemon: no such image: %s: No such image: %s" % (IMAGE, IMAGE)
PULL_OFFLINE = (
    'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on '
    "10.255.255.53:53: no such host"
)
LOAD_MISSING = "open %s: no such file or directory" % TARBALL
# What the docker CLI prints when dockerd does not run.
DAEMON_DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
# Synthetic, in the docker CLI's log format.
CLI_LOG_LINE = 'time="2026-11-29T00:10:11Z" level=error msg="error waiting for container: context canceled"'


def command_result(rc, stdout="", stderr=""):
    return {
        "changed": False,
        "failed": False,
        "cmd": ["docker"],
        "rc": rc,
        "stdout": stdout,
        "stderr": stderr,
        "msg": "" if rc == 0 else "non-zero return code",
    }


# ansible-core 2.19's answer when the executable is absent (AnsibleModule.run_command); older ones name the file.
DOCKER_NOT_INSTALLED = dict(command_result(2), msg="Error executing command.")
DOCKER_NOT_INSTALLED_OLD_CORE = dict(command_result(2), msg="[Errno 2] No such file or directory: b'docker'")
DOCKER_OK = command_result(0, "20.10.24+dfsg1")


def fixture(name):
    with open(os.path.join(FIXTURES, name, "output.txt")) as handle:
        return handle.read()


@pytest.fixture
def run_nvidia_smi(monkeypatch, capsys):
    """-> run(rc, stdout, stderr, expect): the nvidia_smi module's result, as the role registers it."""

    def run(rc, stdout, stderr="", expect=None):
        monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda *args, **kwargs: (rc, stdout, stderr))
        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, **kwargs: "/usr/bin/" + name)
        args = dict(container_image=IMAGE, network="none", timeout=120, expect=expect, fail_on_mismatch=False)
        with patch_module_args(args), pytest.raises(SystemExit):
            nvidia_smi.main()
        return json.loads(capsys.readouterr().out)

    return run


def blocker(docker_version=None, **given):
    """find_blocker with Docker answering and the image on the host, unless the test gives otherwise."""
    docker_version = docker_version or DOCKER_OK
    results = dict(before=command_result(0, "amd64") if docker_version["rc"] == 0 else None, after=SKIPPED)
    results.update(load=SKIPPED, pull=SKIPPED)
    settings = dict(image=IMAGE, tarball="", pull_timeout=300, docker_bin="docker", host_arch="amd64", check_mode=False)
    for key, value in given.items():
        (results if key in results else settings)[key] = value
    return find_blocker(
        docker_version, results["before"], results["after"], results["load"], results["pull"], **settings
    )


def verdict(smi, found_blocker=None, expect=None, facts=None):
    return build_verdict(
        smi,
        found_blocker or blocker(),
        host="gpu-a1",
        expect=A100_X8 if expect is None else expect,
        image=IMAGE,
        architecture="amd64",
        docker_version="20.10.24+dfsg1",
        toolkit_version="1.17.8-1",
        facts=facts or DEBIAN_12,
    )


def failure_message(result):
    """The message gpu_verify's `Fail the host with its verdict` task stops a host with."""
    return "GPU verification failed: %s. Fix: %s" % (result["reason"].rstrip("."), result["hint"])


def test_eight_a100_pass_and_say_what_was_found(run_nvidia_smi):
    result = verdict(run_nvidia_smi(0, fixture("sim_a100_80gb_x8_xml"), expect=A100_X8))
    assert (result["verdict"], result["cause"], result["error_kind"], result["hint"]) == ("pass", None, None, None)
    assert result["reason"] == (
        '8 x NVIDIA A100-SXM4-80GB, driver 535.54.03, CUDA 12.2: as expected {"model": "A100", "count": 8}'
    )
    assert result["found"] == {
        "gpu_count": 8,
        "models": ["NVIDIA A100-SXM4-80GB"],
        "memory_total_mib": [81920],
        "driver_version": "535.54.03",
        "cuda_version": "12.2",
        "mig_devices": 0,
    }
    assert len(result["gpus"]) == 8 and result["image_architecture"] == "amd64"
    assert (result["architecture"], result["distribution"], result["stage"]) == ("amd64", "Debian 12", "verify")
    # A passing verdict keeps no output: its file stays the same however nvidia-smi's XML changes its clocks.
    assert result["nvidia_smi"]["rc"] == 0 and result["nvidia_smi"]["stdout_tail"] == []


def test_an_empty_expectation_says_only_the_answer_was_checked(run_nvidia_smi):
    result = verdict(run_nvidia_smi(0, fixture("sim_a100_80gb_x8_xml"), expect={}), expect={})
    assert result["verdict"] == "pass"
    assert result["reason"] == (
        "8 x NVIDIA A100-SXM4-80GB, driver 535.54.03, CUDA 12.2 "
        "(gpu_verify_expect is empty: only that nvidia-smi answers in a container was checked)"
    )


def test_wrong_model_fails_as_wrong_gpus_naming_both_models(run_nvidia_smi):
    expect = {"model": "H100", "count": 8}
    result = verdict(run_nvidia_smi(0, fixture("sim_a100_80gb_x8_xml"), expect=expect), expect=expect)
    assert (result["verdict"], result["cause"], result["error_kind"]) == ("fail", "gpus", None)
    assert result["reason"] == "the GPUs are wrong: expected model 'H100' on every GPU, found NVIDIA A100-SXM4-80GB x 8"
    assert result["hint"] == MISMATCH_HINT
    assert [item["field"] for item in result["mismatches"]] == ["model"]
    assert result["found"]["gpu_count"] == 8 and result["expected"] == expect
    assert failure_message(result).startswith("GPU verification failed: the GPUs are wrong: expected model 'H100'")


def test_every_mismatch_is_in_the_reason(run_nvidia_smi):
    expect = {"model": "A100", "count": 4, "min_memory_mib": 100000}
    result = verdict(run_nvidia_smi(0, fixture("sim_a100_80gb_x8_xml"), expect=expect), expect=expect)
    messages = [item["message"] for item in result["mismatches"]]
    assert len(messages) == 2 and result["reason"] == "the GPUs are wrong: " + "; ".join(messages)


@pytest.mark.parametrize(
    "case, rc, stream, kind, cause, reason",
    [
        ("err_no_devices", 6, "stdout", "no_devices", "gpus", "the GPUs are wrong (no_devices): No devices were found"),
        (
            "err_nvml_mismatch",
            18,
            "stdout",
            "nvml_mismatch",
            "driver",
            "this host has no working NVIDIA GPU driver (nvml_mismatch): "
            "Failed to initialize NVML: Driver/library version mismatch",
        ),
        (
            "err_docker_no_gpu_runtime",
            125,
            "stderr",
            "no_gpu_runtime",
            "container_runtime",
            # docker's sentence ends in a period; the reason does not, so the failure message reads as one sentence.
            "the container runtime is broken, not the driver (no_gpu_runtime): docker: Error response from daemon: "
            'could not select device driver "" with capabilities: [[gpu]]',
        ),
    ],
)
def test_known_failures_name_their_cause_and_the_modules_fix(run_nvidia_smi, case, rc, stream, kind, cause, reason):
    text = fixture(case)
    smi = run_nvidia_smi(rc, text if stream == "stdout" else "", text if stream == "stderr" else "", A100_X8)
    result = verdict(smi)
    assert (result["verdict"], result["error_kind"], result["cause"]) == ("fail", kind, cause)
    assert result["reason"] == reason
    assert result["hint"] == HINTS[kind]
    assert result["found"]["gpu_count"] == 0 and result["nvidia_smi"]["rc"] == rc
    tail = result["nvidia_smi"]["stdout_tail" if stream == "stdout" else "stderr_tail"]
    assert tail == text.splitlines()[-5:]
    assert "Fix: " + HINTS[kind] in failure_message(result) and ". ." not in failure_message(result)


def test_the_docker_clis_timestamped_line_is_left_out_of_the_verdict(run_nvidia_smi):
    text = fixture("err_docker_no_gpu_runtime")
    first = verdict(run_nvidia_smi(125, "", text + CLI_LOG_LINE, A100_X8))
    second = verdict(run_nvidia_smi(125, "", text + CLI_LOG_LINE.replace("00:10:11", "07:42:03"), A100_X8))
    assert first["nvidia_smi"]["stderr_tail"] == text.splitlines()
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_an_unrecognised_failure_points_at_the_commands_output(run_nvidia_smi):
    stdout = "\n".join("line %d" % number for number in range(1, 8))
    result = verdict(run_nvidia_smi(1, stdout, "something odd\n" + CLI_LOG_LINE, A100_X8))
    assert (result["verdict"], result["cause"], result["error_kind"]) == ("fail", "unknown", None)
    assert result["reason"].startswith("the verification failed for a reason it does not recognise: ")
    assert "exited with 1" in result["reason"]
    assert result["hint"] == UNKNOWN_HINT
    assert result["nvidia_smi"]["stdout_tail"] == ["line 3", "line 4", "line 5", "line 6", "line 7"]
    assert result["nvidia_smi"]["stderr_tail"] == ["something odd"]


def test_docker_not_answering_is_a_container_runtime_failure():
    found = blocker(command_result(1, "", DAEMON_DOWN), before=None, after=None, load=None, pull=None)
    assert found == {
        "error_kind": "docker_unavailable",
        "message": "`docker version` failed: " + DAEMON_DOWN,
        "unverified": False,
        "image_architecture": None,
    }
    result = verdict(SKIPPED, found)
    assert (result["verdict"], result["cause"]) == ("fail", "container_runtime")
    assert result["reason"] == (
        "the container runtime is broken, not the driver (docker_unavailable): `docker version` failed: "
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
    )
    assert result["hint"] == ROLE_HINTS["docker_unavailable"]
    assert result["nvidia_smi"] == {"cmd": None, "rc": None, "stdout_tail": [], "stderr_tail": []}
    assert result["found"]["gpu_count"] is None and result["gpus"] == []


def test_a_failing_docker_cli_is_unavailable_even_in_check_mode():
    found = blocker(command_result(1, "", DAEMON_DOWN), before=None, check_mode=True)
    assert found["error_kind"] == "docker_unavailable" and not found["unverified"]


@pytest.mark.parametrize("docker_version", [DOCKER_NOT_INSTALLED, DOCKER_NOT_INSTALLED_OLD_CORE])
def test_docker_not_installed_yet_is_a_prediction_in_check_mode(docker_version):
    assert docker_missing(docker_version)
    pulled = blocker(docker_version, before=None, check_mode=True)
    loaded = blocker(docker_version, before=None, check_mode=True, tarball=TARBALL)
    assert (pulled["unverified"], pulled["error_kind"]) == (True, None)
    assert pulled["message"] == (
        "Check mode: Docker is not installed on the host yet; a real run installs it first, then pulls %s and runs "
        "nvidia-smi in it. No verdict is written for this host." % IMAGE
    )
    assert "then loads %s from %s and runs" % (IMAGE, TARBALL) in loaded["message"]


def test_docker_not_installed_fails_a_real_run():
    found = blocker(DOCKER_NOT_INSTALLED, before=None)
    assert found["error_kind"] == "docker_unavailable"
    assert found["message"] == "`docker version` failed: Error executing command."
    assert not docker_missing(command_result(1, "", DAEMON_DOWN)) and not docker_missing(DOCKER_OK)


def test_a_missing_image_is_a_prediction_in_check_mode():
    found = blocker(before=command_result(1, "", NO_SUCH_IMAGE), check_mode=True, tarball=TARBALL)
    assert (found["unverified"], found["error_kind"]) == (True, None)
    assert found["message"] == (
        "Check mode: %s is not on the host yet; a real run first loads it from %s, then runs nvidia-smi in it. "
        "No verdict is written for this host." % (IMAGE, TARBALL)
    )


def test_an_image_that_does_not_load_is_unavailable_with_dockers_reason():
    absent = command_result(1, "", NO_SUCH_IMAGE)
    found = blocker(before=absent, after=absent, load=command_result(1, "", LOAD_MISSING), tarball=TARBALL)
    assert found["error_kind"] == "image_unavailable"
    assert found["message"] == "image %s is not on the host and could not be loaded: %s" % (IMAGE, LOAD_MISSING)
    result = verdict(SKIPPED, found)
    assert (result["cause"], result["hint"]) == ("image", ROLE_HINTS["image_unavailable"])
    assert result["reason"] == "the verification image cannot run on this host (image_unavailable): " + found["message"]


def test_a_tarball_without_the_tag_says_so():
    absent = command_result(1, "", NO_SUCH_IMAGE)
    found = blocker(before=absent, after=absent, load=command_result(0, "Loaded image: other/cuda:1"), tarball=TARBALL)
    assert found["message"].endswith("could not be loaded: the tarball %s does not hold that tag" % TARBALL)


def test_a_failed_pull_gives_the_last_line_docker_printed():
    absent = command_result(1, "", NO_SUCH_IMAGE)
    found = blocker(before=absent, after=absent, pull=command_result(1, "Using default tag: latest", PULL_OFFLINE))
    assert found["message"] == "image %s is not on the host and could not be pulled: %s" % (IMAGE, PULL_OFFLINE)


def test_a_pull_that_said_nothing_gives_the_inspect_error():
    absent = command_result(1, "", NO_SUCH_IMAGE)
    found = blocker(before=absent, after=absent, pull=command_result(0, "Status: Image is up to date"))
    assert found["message"].endswith("could not be pulled: " + NO_SUCH_IMAGE)


@pytest.mark.parametrize("rc", [124, 137])
def test_a_pull_past_its_timeout_says_how_long_it_was_given(rc):
    absent = command_result(1, "", NO_SUCH_IMAGE)
    found = blocker(before=absent, after=absent, pull=command_result(rc), pull_timeout=45)
    assert found["error_kind"] == "image_unavailable"
    assert found["message"] == (
        "image %s is not on the host and could not be pulled: docker pull did not finish within 45 seconds" % IMAGE
    )


def test_only_a_pull_can_time_out():
    absent = command_result(1, "", NO_SUCH_IMAGE)
    found = blocker(before=absent, after=absent, load=command_result(124, "", "killed"), tarball=TARBALL)
    assert found["message"].endswith("could not be loaded: killed")


def test_an_image_for_another_architecture_is_refused_before_it_runs():
    found = blocker(before=command_result(0, "arm64"))
    assert found == {
        "error_kind": "image_arch_mismatch",
        "message": 'image %s on the host is linux/arm64, this host is amd64: its programs would fail with "exec '
        'format error"' % IMAGE,
        "unverified": False,
        "image_architecture": "arm64",
    }
    result = verdict(SKIPPED, found)
    assert (result["cause"], result["image_architecture"]) == ("image", "arm64")
    assert result["hint"] == ROLE_HINTS["image_arch_mismatch"]


def test_any_spelling_of_the_hosts_architecture_matches():
    assert blocker(before=command_result(0, "aarch64\n"), host_arch="arm64")["error_kind"] is None
    # An architecture the collection does not know is reported as docker spelled it.
    assert blocker(before=command_result(0, "ppc64le"))["image_architecture"] == "ppc64le"


def test_an_image_added_by_this_run_is_inspected_again():
    absent = command_result(1, "", NO_SUCH_IMAGE)
    found = blocker(before=absent, after=command_result(0, "amd64"), load=command_result(0), tarball=TARBALL)
    assert found == {"error_kind": None, "message": None, "unverified": False, "image_architecture": "amd64"}


def test_ubuntu_keeps_its_point_release_and_debian_does_not(run_nvidia_smi):
    smi = run_nvidia_smi(0, fixture("sim_a100_80gb_x8_xml"), expect=A100_X8)
    ubuntu = {"distribution": "Ubuntu", "distribution_major_version": "24", "distribution_version": "24.04"}
    assert verdict(smi, facts=ubuntu)["distribution"] == "Ubuntu 24.04"
    assert verdict(smi, facts=dict(DEBIAN_12, distribution_version="12.9"))["distribution"] == "Debian 12"


def test_mig_devices_are_counted(run_nvidia_smi):
    result = verdict(run_nvidia_smi(0, fixture("a100_80gb_mig_xml_535"), expect={"mig": "enabled"}), expect={})
    assert result["verdict"] == "pass" and result["found"]["mig_devices"] == 4


def test_models_and_sizes_are_listed_once_each_in_the_order_found(run_nvidia_smi):
    smi = run_nvidia_smi(0, fixture("sim_a100_80gb_x8_xml"), expect={})
    # Compared without case, as the role's Jinja template did with Ansible's `unique`: existing files stay the same.
    smi["gpus"][3] = dict(smi["gpus"][3], name=smi["gpus"][3]["name"].lower(), memory_total_mib=40960)
    found = verdict(smi, expect={})["found"]
    assert (found["models"], found["memory_total_mib"]) == (["NVIDIA A100-SXM4-80GB"], [81920, 40960])


def test_every_kind_the_nvidia_smi_module_names_has_a_cause():
    """A kind without a cause would head its host's verdict with "the verification failed" and group it nowhere."""
    from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_smi.errors import ERROR_KINDS
    from ansible_collections.gpufleet.containers.plugins.module_utils.verification.verdict import CAUSE_OF_KIND

    assert set(ERROR_KINDS) - set(CAUSE_OF_KIND) == set()
