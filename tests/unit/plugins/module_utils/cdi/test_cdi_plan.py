# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every decision about a host's NVIDIA CDI spec, over real-shaped specs (see fixtures/README.md)."""

import os
import re

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.cdi import spec as cdi_spec
from ansible_collections.gpufleet.containers.plugins.module_utils.cdi.plan import (
    DYNAMIC_SPEC,
    LEGACY_HOOKS,
    REFRESH_PATH_UNIT,
    REFRESH_SERVICE,
    CdiPlanError,
    legacy_hooks_to_remove,
    parse_cdi_list,
    parse_gpu_query,
    plan_dynamic_spec,
    plan_static_spec,
    refresh_unit_actions,
    shadowed_static_specs,
    spec_format_problem,
    use_refresh_units,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.cdi.spec import load_spec, spec_facts

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
UUID = "GPU-520e01f2-cf30-6396-abef-e8e9a5233b0e"
CURRENT_GPUS = [("0", UUID)]


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


SPEC_575 = fixture("nvidia-ctk-1.17.8-driver-575.64.03.yaml")
SPEC_535 = fixture("nvidia-ctk-1.13-driver-535.104.05.yaml")
# The host's files: everything the 575 spec names is there.
HOST_575 = set(spec_facts(load_spec(SPEC_575))["host_paths"])


@pytest.fixture(autouse=True, params=["pyyaml", "without-pyyaml"])
def yaml_reader(request, monkeypatch):
    """Every decision twice: with PyYAML, and as on a target host without it (the subset reader)."""
    if request.param == "without-pyyaml":
        monkeypatch.setattr(cdi_spec, "_yaml", None)
    return request.param


def exists_on(files):
    return lambda path: path in files


def test_parse_gpu_query_reads_driver_and_devices():
    stdout = "575.64.03, 0, %s\n575.64.03, 1, GPU-7a1c0000-0000-0000-0000-000000000001\n" % UUID
    assert parse_gpu_query(stdout) == (
        "575.64.03",
        [("0", UUID), ("1", "GPU-7a1c0000-0000-0000-0000-000000000001")],
    )


def test_parse_gpu_query_without_gpus():
    assert parse_gpu_query("No devices were found\n") == (None, [])


def test_parse_cdi_list_keeps_device_names_only():
    # nvidia-ctk 1.17 logs to stderr, but logrus text on stdout must not count either.
    stdout = (
        'time="2026-01-01T00:00:00Z" level=info msg="Found 3 CDI devices"\n'
        "nvidia.com/gpu=0\nnvidia.com/gpu=%s\nnvidia.com/gpu=all\n" % UUID
    )
    assert parse_cdi_list(stdout) == ["nvidia.com/gpu=0", "nvidia.com/gpu=%s" % UUID, "nvidia.com/gpu=all"]


def test_missing_spec_is_generated():
    plan = plan_static_spec(None, SPEC_575, "575.64.03", CURRENT_GPUS, exists_on(HOST_575))
    assert plan["action"] == "generate"
    assert plan["reason"].startswith("missing")


def test_spec_equal_to_a_fresh_one_is_kept():
    plan = plan_static_spec(SPEC_575, SPEC_575, "575.64.03", CURRENT_GPUS, exists_on(HOST_575))
    assert (plan["action"], plan["warnings"]) == ("keep", [])


def test_spec_in_the_other_format_but_same_content_is_kept():
    json_spec = fixture("nvidia-ctk-1.17.8-driver-575.64.03.json")
    assert plan_static_spec(json_spec, SPEC_575, "575.64.03", CURRENT_GPUS, exists_on(HOST_575))["action"] == "keep"


def test_spec_for_an_older_driver_is_regenerated_with_both_versions_named():
    host = HOST_575 - {"/usr/bin/nvidia-ctk"}
    plan = plan_static_spec(SPEC_535, SPEC_575, "575.64.03", CURRENT_GPUS, exists_on(host))
    assert plan["action"] == "regenerate"
    assert plan["reason"].startswith("stale: made for driver 535.104.05, the driver is 575.64.03")
    # Its libraries went with the old driver, and the 1.13 hook binary with the old toolkit.
    assert "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.535.104.05" in plan["reason"]
    assert "/usr/bin/nvidia-ctk" in plan["reason"]


def test_spec_naming_files_that_are_gone_is_regenerated():
    fresh = SPEC_575.replace(
        "  - containerPath: /usr/bin/nvidia-cuda-mps-control\n"
        "    hostPath: /usr/bin/nvidia-cuda-mps-control\n"
        "    options:\n    - ro\n    - nosuid\n    - nodev\n    - bind\n",
        "",
    )
    assert fresh != SPEC_575
    host = HOST_575 - {"/usr/bin/nvidia-cuda-mps-control"}
    plan = plan_static_spec(SPEC_575, fresh, "575.64.03", CURRENT_GPUS, exists_on(host))
    assert plan["action"] == "regenerate"
    assert plan["reason"] == "stale: names host files that no longer exist: /usr/bin/nvidia-cuda-mps-control"


def test_spec_naming_a_gpu_that_is_gone_is_regenerated():
    other = "GPU-00000000-1111-2222-3333-444444444444"
    fresh = SPEC_575.replace(UUID, other)
    plan = plan_static_spec(SPEC_575, fresh, "575.64.03", [("0", other)], exists_on(HOST_575))
    assert plan["action"] == "regenerate"
    assert "names devices that are not there now: %s" % UUID in plan["reason"]
    assert "lacks GPUs that are there now: %s" % other in plan["reason"]


def test_spec_lacking_a_gpu_added_since_is_regenerated():
    second = "GPU-00000000-1111-2222-3333-444444444444"
    plan = plan_static_spec(
        SPEC_575, SPEC_575.replace("=false", "=true"), "575.64.03", CURRENT_GPUS + [("1", second)], exists_on(HOST_575)
    )
    assert plan["reason"] == "stale: lacks GPUs that are there now: %s" % second


def test_spec_that_differs_for_no_known_reason_says_how_it_differs():
    fresh = SPEC_575.replace("NVIDIA_CTK_DEBUG=false", "NVIDIA_CTK_DEBUG=true")
    plan = plan_static_spec(SPEC_575, fresh, "575.64.03", CURRENT_GPUS, exists_on(HOST_575))
    assert plan["action"] == "regenerate"
    assert plan["reason"] == (
        "stale: differs from what nvidia-ctk cdi generate makes now (hooks, environment or options differ)"
    )


def test_spec_that_differs_in_devices_names_them():
    fresh = re.sub(r"(?m)^ *- path: /dev/dri/renderD128\n", "", SPEC_575)
    host = HOST_575 | {"/dev/nvidia0"}
    plan = plan_static_spec(SPEC_575, fresh, "575.64.03", CURRENT_GPUS, exists_on(host))
    assert "host files dropped: /dev/dri/renderD128" in plan["reason"]


def test_unreadable_spec_is_regenerated_with_the_parse_error():
    plan = plan_static_spec("cdiVersion: [0.5.0\n", SPEC_575, "575.64.03", CURRENT_GPUS, exists_on(HOST_575))
    assert plan["action"] == "regenerate"
    assert plan["reason"].startswith("unreadable: ")


def test_spec_that_nvidia_ctk_would_write_the_same_is_kept_with_a_warning_about_missing_files():
    # In the testbed (and on a broken driver install) nvidia-ctk itself names device nodes that are not there:
    # a rewrite would change nothing, so the spec stays and the user hears why the engine may fail.
    host = HOST_575 - {"/dev/nvidia0"}
    plan = plan_static_spec(SPEC_575, SPEC_575, "575.64.03", CURRENT_GPUS, exists_on(host))
    assert plan["action"] == "keep"
    assert plan["warnings"] and "/dev/nvidia0" in plan["warnings"][0]


def test_without_nvidia_smi_the_driver_and_device_checks_are_skipped():
    plan = plan_static_spec(
        SPEC_535,
        SPEC_575,
        None,
        [],
        exists_on(
            HOST_575
            | {
                "/usr/bin/nvidia-ctk",
                "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.535.104.05",
                "/usr/lib/x86_64-linux-gnu/libcuda.so.535.104.05",
            }
        ),
    )
    assert plan["action"] == "regenerate"
    assert "driver" not in plan["reason"] and "devices" not in plan["reason"]


def test_dynamic_spec_missing_needs_the_service():
    plan = plan_dynamic_spec(None, "575.64.03", CURRENT_GPUS, exists_on(HOST_575))
    assert plan["action"] == "refresh" and DYNAMIC_SPEC in plan["reason"]


def test_dynamic_spec_current_is_kept():
    assert plan_dynamic_spec(SPEC_575, "575.64.03", CURRENT_GPUS, exists_on(HOST_575))["action"] == "keep"


def test_dynamic_spec_after_a_driver_upgrade_needs_the_service():
    plan = plan_dynamic_spec(SPEC_575, "580.65.06", CURRENT_GPUS, exists_on(HOST_575))
    assert plan["action"] == "refresh"
    assert plan["reason"] == "stale: made for driver 575.64.03, the driver is 580.65.06"


@pytest.mark.parametrize(
    "choice, shipped, expected",
    [
        ("auto", [REFRESH_PATH_UNIT, REFRESH_SERVICE], True),
        ("auto", [REFRESH_SERVICE], False),
        ("auto", [], False),
        ("false", [REFRESH_PATH_UNIT, REFRESH_SERVICE], False),
        ("true", [REFRESH_PATH_UNIT, REFRESH_SERVICE], True),
    ],
)
def test_use_refresh_units(choice, shipped, expected):
    assert use_refresh_units(choice, shipped) is expected


def test_refresh_units_asked_for_on_an_older_toolkit_fail_with_the_fix():
    with pytest.raises(CdiPlanError, match="1.18 and later"):
        use_refresh_units("true", [])


def test_refresh_unit_actions():
    keep = {"action": "keep"}
    refresh = {"action": "refresh"}
    assert refresh_unit_actions(True, True, keep) == []
    assert refresh_unit_actions(False, False, keep) == [["enable", "--now", REFRESH_PATH_UNIT]]
    assert refresh_unit_actions(True, False, refresh) == [
        ["enable", "--now", REFRESH_PATH_UNIT],
        ["start", REFRESH_SERVICE],
    ]


def test_hand_written_static_spec_of_the_same_kind_is_shadowed():
    specs = {
        "/etc/cdi/nvidia.yaml": SPEC_535,
        "/etc/cdi/other.yaml": SPEC_575.replace("nvidia.com/gpu", "x.com/y"),
        "/etc/cdi/broken.yaml": "{",
    }
    assert shadowed_static_specs(specs, "nvidia.com/gpu") == ["/etc/cdi/nvidia.yaml"]


def test_legacy_hook_goes_only_when_cdi_is_used_and_removal_asked():
    found = [LEGACY_HOOKS[0]]
    assert legacy_hooks_to_remove(found, True, True) == found
    assert legacy_hooks_to_remove(found, False, True) == []
    assert legacy_hooks_to_remove(found, True, False) == []
    assert legacy_hooks_to_remove([], True, True) == []


@pytest.mark.parametrize(
    "path, spec_format, fine",
    [
        ("/etc/cdi/nvidia.yaml", "yaml", True),
        ("/etc/cdi/nvidia.yml", "yaml", True),
        ("/etc/cdi/nvidia.json", "json", True),
        ("/etc/cdi/nvidia.json", "yaml", False),
        ("/etc/cdi/nvidia", "yaml", False),
    ],
)
def test_spec_format_must_match_the_extension(path, spec_format, fine):
    assert (spec_format_problem(path, spec_format) is None) is fine
