# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.docker.daemon_checks import (
    config_problems,
    flag_conflicts,
    flags_in_command,
    has_validate_flag,
    parse_dockerd_version,
    parse_exec_start,
    runtime_names_from_flags,
    runtime_problems,
    value_problems,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "daemon_json")


def fixture_text(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


REFUSALS = json.loads(fixture_text("dockerd-20.10-refusals.json"))["cases"]


@pytest.mark.parametrize(
    "case",
    [case for case in REFUSALS if "dockerd" in case and not case.get("not_checked_in_advance")],
    ids=lambda case: case["name"],
)
def test_every_refusal_dockerd_showed_is_caught_in_advance(case):
    assert config_problems(case["config"], ["/usr/sbin/dockerd"] + case["flags"]) != []


@pytest.mark.parametrize("case", [case for case in REFUSALS if case.get("accepted")], ids=lambda case: case["name"])
def test_what_dockerd_accepted_is_not_refused(case):
    assert config_problems(case["config"], ["/usr/sbin/dockerd"] + case["flags"]) == []


@pytest.mark.parametrize(
    "case", [case for case in REFUSALS if case.get("not_checked_in_advance")], ids=lambda case: case["name"]
)
def test_unknown_keys_are_left_to_dockerd(case):
    # Documented limit: which keys exist depends on the Docker release; --validate or the restart finds them.
    assert config_problems(case["config"], []) == []


class TestExecStart:
    def test_debian_docker_io_unit(self):
        argv = parse_exec_start(fixture_text("systemctl-show-execstart-debian12-docker.io.txt"))
        assert argv == [
            "/usr/sbin/dockerd",
            "-H",
            "fd://",
            "--containerd=/run/containerd/containerd.sock",
            "$DOCKER_OPTS",
        ]
        names, unexpanded = flags_in_command(argv)
        assert names == ["host", "containerd"]
        assert unexpanded == ["$DOCKER_OPTS"]

    def test_override_with_a_second_host(self):
        argv = parse_exec_start(fixture_text("systemctl-show-execstart-override-tcp.txt"))
        assert flags_in_command(argv)[0] == ["host", "host", "containerd"]

    def test_unit_that_does_not_exist_gives_no_flags(self):
        # Real: systemctl show prints an empty line and exits 0 for an unknown unit.
        assert parse_exec_start("\n") == []

    def test_last_exec_start_wins(self):
        output = (
            "{ path=/usr/bin/true ; argv[]=/usr/bin/true ; ignore_errors=no ; start_time=[n/a] }\n"
            "{ path=/usr/bin/dockerd ; argv[]=/usr/bin/dockerd -D ; ignore_errors=no ; start_time=[n/a] }"
        )
        assert parse_exec_start(output) == ["/usr/bin/dockerd", "-D"]


class TestFlags:
    @pytest.mark.parametrize(
        "argv, names",
        [
            (["-H", "fd://"], ["host"]),
            (["-Hfd://"], ["host"]),
            (["--host=tcp://0.0.0.0:2375"], ["host"]),
            (["-D", "--log-level", "warn"], ["debug", "log-level"]),
            (["dockerd", "--label", "a=b", "--data-root=/srv/docker"], ["label", "data-root"]),
        ],
    )
    def test_flag_names(self, argv, names):
        assert flags_in_command(argv)[0] == names

    def test_named_options_map_to_their_file_keys(self):
        config = {"labels": ["a=b"], "insecure-registries": ["r:5000"], "log-driver": "local"}
        assert flag_conflicts(config, ["label", "insecure-registry", "log-driver"]) == [
            "labels",
            "insecure-registries",
            "log-driver",
        ]

    def test_runtimes_from_flag_and_file_merge_instead_of_conflicting(self):
        assert flag_conflicts({"runtimes": {"nvidia": {"path": "x"}}}, ["add-runtime"]) == []

    def test_runtime_names_from_add_runtime(self):
        argv = [
            "dockerd",
            "--add-runtime",
            "nvidia=/usr/bin/nvidia-container-runtime",
            "--add-runtime=crun=/usr/bin/crun",
        ]
        assert runtime_names_from_flags(argv) == ["nvidia", "crun"]


class TestValues:
    def test_yaml_number_in_log_opts_gets_a_quoting_hint(self):
        assert value_problems({"log-opts": {"max-size": "10m", "max-file": 3}}) == [
            'log-opts.max-file must be a string, not 3 (quote it, e.g. "3")'
        ]

    def test_correct_types_pass(self):
        config = {
            "debug": False,
            "live-restore": True,
            "data-root": "/srv/docker",
            "dns": ["10.0.0.53"],
            "log-opts": {"max-file": "3"},
            "runtimes": {},
            "log-level": "WARN",
        }
        assert value_problems(config) == []

    def test_bool_as_number_is_refused(self):
        assert value_problems({"live-restore": 1}) == ["live-restore must be true or false, not 1"]

    def test_default_runtime_defined_in_file_or_flags(self):
        assert runtime_problems({"default-runtime": "nvidia", "runtimes": {"nvidia": {"path": "x"}}}) == []
        assert runtime_problems({"default-runtime": "nvidia"}, ["nvidia"]) == []
        assert runtime_problems({"default-runtime": "runc"}) == []
        assert runtime_problems({"default-runtime": "io.containerd.runsc.v1"}) == []


class TestVersion:
    def test_debian_12_dockerd_has_no_validate(self):
        # Real output of `dockerd --version` on Debian 12 (docker.io 20.10.24+dfsg1-1+deb12u1+b6).
        version = parse_dockerd_version("Docker version 20.10.24+dfsg1, build 5d6db84\n")
        assert version == (20, 10, "20.10.24+dfsg1")
        assert has_validate_flag(version) is False

    def test_23_and_later_have_validate(self):
        # Synthetic, in the same format.
        assert has_validate_flag(parse_dockerd_version("Docker version 23.0.0, build e92dd87")) is True
        assert has_validate_flag(parse_dockerd_version("Docker version 27.5.1, build 4c9b3b0")) is True

    def test_unreadable_version(self):
        assert parse_dockerd_version("dockerd: command not found") is None
        assert has_validate_flag(None) is False
