# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole verification in one call: which commands run (in check mode only reading ones), and the verdict."""

import os

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.verification.run import parse_os_release, verify

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "nvidia_smi")
DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
UBUNTU_2404 = 'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n'
OPTIONS = {
    "host": "gpu-a100-01",
    "image": "nvidia/cuda:12.9.1-base-ubuntu24.04",
    "image_tarball": "",
    "pull_timeout": 300,
    "run_timeout": 120,
    "gpus": "all",
    "runtime": "",
    "network": "none",
    "docker_bin": "docker",
    "expect": {"model": "A100", "count": 8, "min_memory_mib": None, "min_driver_version": None,
               "min_cuda_version": None, "mig": None},
}  # fmt: skip


def fixture(name):
    with open(os.path.join(FIXTURES, name, "output.txt")) as handle:
        return handle.read()


class Host:
    """A host seen through commands: dpkg, docker, with the image present or not, and an engine or none."""

    def __init__(self, image_arch="amd64", image_present=True, docker=True, smi=None):
        self.image_arch, self.image_present, self.docker = image_arch, image_present, docker
        self.smi = smi if smi is not None else (0, fixture("sim_a100_80gb_x8_xml"), "")
        self.calls = []

    def get_bin_path(self, name):
        return None if name == "docker" and not self.docker else "/usr/bin/" + name

    def run(self, argv):
        self.calls.append([os.path.basename(argv[0])] + argv[1:])
        command = self.calls[-1]
        if command[0] == "dpkg":
            return 0, "amd64\n", ""
        if command[0] == "dpkg-query":
            return 0, "nvidia-container-toolkit\tii \t1.17.8-1\tamd64\n", ""
        if command[1:2] == ["version"]:
            return 0, "20.10.24+dfsg1\n", ""
        if command[1:3] == ["image", "inspect"]:
            return (0, self.image_arch + "\n", "") if self.image_present else (1, "", "Error: No such image")
        if command[1:2] == ["load"]:
            self.image_present = True
            return 0, "Loaded image: x\n", ""
        if "run" in command:
            return self.smi
        raise AssertionError("unexpected command %r" % command)

    def mutating(self):
        return [call for call in self.calls if "load" in call or "pull" in call or "run" in call]


def test_a_healthy_host_passes_and_nothing_is_added():
    host = Host()
    outcome = verify(host, OPTIONS, False, DEBIAN_12, "x86_64")
    verdict = outcome["verdict"]
    assert (outcome["changed"], outcome["actions"], outcome["unverified"]) == (False, [], False)
    assert verdict["verdict"] == "pass" and verdict["found"]["gpu_count"] == 8
    assert verdict["expected"] == {"model": "A100", "count": 8}
    assert (verdict["distribution"], verdict["architecture"]) == ("Debian 12", "amd64")
    assert (verdict["docker_version"], verdict["toolkit_version"]) == ("20.10.24+dfsg1", "1.17.8-1")
    assert host.calls[-1] == [
        "timeout", "--kill-after=5", "120",
        "/usr/bin/docker", "run", "--rm", "--gpus", "all", "--network", "none", "--", OPTIONS["image"],
        "nvidia-smi", "-q", "-x",
    ]  # fmt: skip


def test_an_absent_image_is_loaded_from_the_tarball_and_counts_as_the_change():
    host = Host(image_present=False)
    options = dict(OPTIONS, image_tarball="/var/tmp/cuda.tar")
    outcome = verify(host, options, False, DEBIAN_12, "x86_64")
    assert outcome["changed"] and outcome["actions"] == ["load %s from /var/tmp/cuda.tar" % OPTIONS["image"]]
    assert ["docker", "load", "--input", "/var/tmp/cuda.tar"] in host.calls
    assert outcome["verdict"]["verdict"] == "pass"


def test_check_mode_predicts_the_load_and_adds_nothing():
    host = Host(image_present=False)
    outcome = verify(host, dict(OPTIONS, image_tarball="/var/tmp/cuda.tar"), True, DEBIAN_12, "x86_64")
    assert outcome["changed"] and outcome["unverified"] and outcome["verdict"] is None
    assert outcome["actions"] == ["would load %s from /var/tmp/cuda.tar" % OPTIONS["image"]]
    assert host.mutating() == []


def test_check_mode_before_docker_is_installed_predicts_the_pull():
    host = Host(docker=False)
    outcome = verify(host, OPTIONS, True, DEBIAN_12, "x86_64")
    assert outcome["unverified"] and outcome["actions"] == ["would pull " + OPTIONS["image"]]
    assert "Docker is not installed on the host yet" in outcome["message"]


def test_a_real_run_without_docker_fails_as_docker_unavailable():
    outcome = verify(Host(docker=False), OPTIONS, False, DEBIAN_12, "x86_64")
    assert outcome["verdict"]["error_kind"] == "docker_unavailable"
    assert outcome["verdict"]["cause"] == "container_runtime"


def test_an_image_of_another_architecture_fails_without_running_it():
    host = Host(image_arch="arm64")
    verdict = verify(host, OPTIONS, False, UBUNTU_2404, "x86_64")["verdict"]
    assert verdict["error_kind"] == "image_arch_mismatch" and verdict["image_architecture"] == "arm64"
    assert verdict["distribution"] == "Ubuntu 24.04"
    assert host.mutating() == []


def test_nvidia_smi_failing_in_the_container_is_the_verdicts_reason():
    host = Host(smi=(125, "", 'could not select device driver "" with capabilities: [[gpu]]'))
    verdict = verify(host, OPTIONS, False, DEBIAN_12, "x86_64")["verdict"]
    assert (verdict["verdict"], verdict["error_kind"]) == ("fail", "no_gpu_runtime")
    assert "restart docker" in verdict["hint"]


@pytest.mark.parametrize(
    "text, expected",
    [
        (DEBIAN_12, ("Debian", "12", "12")),
        (UBUNTU_2404, ("Ubuntu", "24.04", "24")),
        ("", ("Unknown", "", "")),
    ],
)
def test_os_release_is_read_as_ansible_names_it(text, expected):
    facts = parse_os_release(text)
    assert (facts["distribution"], facts["distribution_version"], facts["distribution_major_version"]) == expected
