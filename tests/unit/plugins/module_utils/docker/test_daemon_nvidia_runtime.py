# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The toolkit's part of daemon.json, folded into the user's settings so the file is written once and never flips."""

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.docker.daemon_checks import config_problems
from ansible_collections.gpufleet.containers.plugins.module_utils.docker.daemon_json import (
    DaemonJsonInputError,
    plan_update,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.docker.nvidia_runtime import (
    ContributionConflict,
    with_nvidia_runtime,
)

RUNTIME = {"nvidia": {"path": "nvidia-container-runtime", "args": []}}
TESTBED = {"bridge": "none", "iptables": False}


def run_twice(text, settings, nvidia):
    """Two runs in a row, as the role makes them: the second must find nothing to change."""
    first = plan_update(text, settings, [], True, nvidia)
    second = plan_update(first["new_text"] or text, settings, [], True, nvidia)
    return first, second


def test_the_reported_flip_a_users_default_runtime_nvidia_with_the_toolkit_stays_and_settles():
    # The issue: docker_daemon_options {default-runtime: nvidia} plus the toolkit (its default_runtime false)
    # changed daemon.json on every run.
    settings = dict(TESTBED, **{"default-runtime": "nvidia"})
    first, second = run_twice("{}", settings, {"default": False, "cdi": False})
    assert first["after"] == dict(settings, runtimes=RUNTIME)
    assert config_problems(first["after"]) == []
    assert second["changed"] is False


def test_the_toolkit_takes_out_what_it_set_when_its_variables_turn_off():
    on = plan_update("{}", TESTBED, [], True, {"default": True, "cdi": True})
    assert on["after"]["default-runtime"] == "nvidia" and on["after"]["features"] == {"cdi": True}
    off, again = run_twice(on["new_text"], TESTBED, {"default": False, "cdi": False})
    assert "default-runtime" not in off["after"]
    assert off["after"]["features"] == {}
    assert off["after"]["runtimes"] == RUNTIME
    assert again["changed"] is False


def test_another_default_runtime_in_the_file_is_not_the_toolkits_to_remove():
    text = '{"default-runtime": "crun", "runtimes": {"crun": {"path": "/usr/bin/crun"}}}'
    plan = plan_update(text, {}, [], True, {"default": False, "cdi": False})
    assert plan["after"]["default-runtime"] == "crun"
    assert set(plan["after"]["runtimes"]) == {"crun", "nvidia"}


def test_users_keys_and_own_runtime_options_are_kept():
    text = '{"log-driver": "local", "runtimes": {"nvidia": {"path": "/opt/nvidia/runtime", "args": ["--debug"]}}}'
    plan = plan_update(text, {"runtimes": {"nvidia": {"path": "/opt/nvidia/runtime"}}}, [], True, {"default": True})
    assert plan["after"]["log-driver"] == "local"
    assert plan["after"]["runtimes"]["nvidia"] == {"path": "/opt/nvidia/runtime", "args": []}
    assert plan["after"]["default-runtime"] == "nvidia"


@pytest.mark.parametrize(
    "settings, nvidia, words",
    [
        ({"default-runtime": "runc"}, {"default": True}, "default-runtime is 'runc' in the daemon settings"),
        ({"features": {"cdi": False}}, {"cdi": True}, "features.cdi is False in the daemon settings"),
    ],
)
def test_a_conflict_between_the_users_settings_and_the_toolkits_variables_names_both(settings, nvidia, words):
    with pytest.raises(ContributionConflict, match=words):
        with_nvidia_runtime(settings, [], nvidia, {})
    with pytest.raises(DaemonJsonInputError, match="nvidia_container_toolkit_"):
        plan_update("{}", settings, [], True, nvidia)


def test_without_the_toolkit_nothing_is_added_and_the_missing_runtime_names_the_toolkit_variable():
    plan = plan_update("{}", {"default-runtime": "nvidia"}, [], True, None)
    assert "runtimes" not in plan["after"]
    problems = config_problems(plan["after"])
    assert len(problems) == 1
    assert "default-runtime 'nvidia' is not defined under runtimes" in problems[0]
    assert "nvidia_container_toolkit_default_runtime: true" in problems[0]
    assert "gpufleet.containers.nvidia_container_toolkit" in problems[0]


def test_a_missing_runtime_of_another_name_gets_the_plain_fix():
    problems = config_problems({"default-runtime": "kata"})
    assert problems[0].endswith("define it under runtimes, or remove default-runtime")


def test_deep_user_values_are_not_walked_by_the_fold():
    deep = {}
    node = deep
    for _level in range(5000):
        node["x"] = {}
        node = node["x"]
    settings, remove = with_nvidia_runtime({"deep": deep}, [], {"default": False}, {})
    assert settings["deep"] is deep and remove == []
    with pytest.raises(DaemonJsonInputError, match="deep"):
        plan_update("{}", {"deep": deep}, [], True, {"default": False})
