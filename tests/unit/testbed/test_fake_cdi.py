# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fake `nvidia-ctk cdi generate` writes a CDI specification that real engines (Podman, Docker's features.cdi,
containerd's enable_cdi) can inject: the CDI schema's shape, NVIDIA's device names, and paths that exist."""

import json
import os
import re
import stat
import subprocess
import sys

import jsonschema
import pytest
import yaml

from .conftest import TESTBED, install_sim, select_profile

# The parts of the CDI specification's JSON schema (cncf-tags/container-device-interface, schema/schema.json,
# spec 0.5.0) that the engines check before injecting.
ABSOLUTE = {"type": "string", "pattern": "^/"}
CDI_SCHEMA = {
    "type": "object",
    "required": ["cdiVersion", "kind", "devices"],
    "additionalProperties": False,
    "properties": {
        "cdiVersion": {"type": "string", "pattern": r"^\d+\.\d+\.\d+$"},
        "kind": {"type": "string", "pattern": r"^[a-z0-9.-]+/[a-zA-Z0-9][a-zA-Z0-9_.-]*$"},
        "devices": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "containerEdits"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "pattern": r"^[a-zA-Z0-9][a-zA-Z0-9_.:-]*$"},
                    "containerEdits": {"$ref": "#/definitions/edits", "minProperties": 1},
                },
            },
        },
        "containerEdits": {"$ref": "#/definitions/edits"},
    },
    "definitions": {
        "edits": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "env": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*="}},
                "deviceNodes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["path"],
                        "properties": {"path": ABSOLUTE, "hostPath": ABSOLUTE},
                    },
                },
                "mounts": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["hostPath", "containerPath"],
                        "properties": {
                            "hostPath": ABSOLUTE,
                            "containerPath": ABSOLUTE,
                            "options": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                },
            },
        }
    },
}
LIB_DIR_IN_CONTAINER = "/usr/lib/%s-linux-gnu" % os.uname().machine


def generate(env, *flags):
    return subprocess.run(
        [sys.executable, os.path.join(TESTBED, "fake_toolkit", "nvidia-ctk"), "cdi", "generate"] + list(flags),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def spec_of(env, tmp_path, name="nvidia.yaml", *flags):
    output = tmp_path / name
    result = generate(env, "--output=%s" % output, *flags)
    assert result.returncode == 0, result.stderr
    text = output.read_text()
    return text, (json.loads(text) if name.endswith(".json") else yaml.safe_load(text))


def host_paths(spec):
    """Every path on the host the spec needs: mount sources and device nodes."""
    edits = [spec.get("containerEdits", {})] + [device["containerEdits"] for device in spec["devices"]]
    paths = [mount["hostPath"] for edit in edits for mount in edit.get("mounts", [])]
    paths += [node.get("hostPath", node["path"]) for edit in edits for node in edit.get("deviceNodes", [])]
    return paths


@pytest.fixture
def driver_root(tmp_path, sim_env):
    """A scratch host with its own simulated driver, so tests may change the driver without touching others."""
    root = str(tmp_path / "host")
    install_sim("a100-80gb-x8", root)
    env = dict(
        sim_env,
        GPUFLEET_SIM_DATA=os.path.join(root, "usr", "share", "gpufleet-sim"),
        GPUFLEET_SIM_PROFILE_FILE=os.path.join(root, "etc", "gpufleet-sim", "profile"),
        GPUFLEET_SIM_NVIDIA_SMI=os.path.join(root, "usr", "bin", "nvidia-smi"),
        GPUFLEET_SIM_DEV_DIR=os.path.join(root, "dev"),
        GPUFLEET_SIM_LIB_DIR=os.path.join(root, "usr", "lib", "%s-linux-gnu" % os.uname().machine),
    )
    return root, env


def test_spec_has_the_cdi_schemas_shape(sim_env, tmp_path):
    text, spec = spec_of(sim_env, tmp_path)
    jsonschema.validate(spec, CDI_SCHEMA)
    assert text.startswith("---\ncdiVersion: 0.5.0\ncontainerEdits:\n")
    assert spec["kind"] == "nvidia.com/gpu" and spec["cdiVersion"] == "0.5.0"


def test_devices_are_named_by_index_uuid_and_all(sim_env, tmp_path):
    spec = spec_of(sim_env, tmp_path)[1]
    names = [device["name"] for device in spec["devices"]]
    indexes = [str(index) for index in range(8)]
    uuids = ["GPU-5e7a0000-a180-4000-8000-00000000000%d" % index for index in range(8)]
    assert names == [name for pair in zip(indexes, uuids) for name in pair] + ["all"]
    by_name = {device["name"]: device["containerEdits"]["deviceNodes"] for device in spec["devices"]}
    assert [node["path"] for node in by_name["3"]] == ["/dev/nvidia3"]
    assert by_name["3"] == by_name[uuids[3]]
    assert [node["path"] for node in by_name["all"]] == ["/dev/nvidia%d" % index for index in range(8)]


def test_index_names_stay_strings_in_yaml(sim_env, tmp_path):
    text, spec = spec_of(sim_env, tmp_path)
    assert '  name: "0"\n' in text
    assert all(isinstance(device["name"], str) for device in spec["devices"])


def test_every_host_path_exists_and_device_nodes_are_nvidia_char_devices(sim_env, tmp_path):
    spec = spec_of(sim_env, tmp_path)[1]
    paths = host_paths(spec)
    assert paths and [path for path in paths if not os.path.exists(path)] == []
    nodes = {os.path.basename(path): os.stat(path) for path in paths if os.path.dirname(path).endswith("/dev")}
    assert all(stat.S_ISCHR(node.st_mode) for node in nodes.values())
    assert {name: (os.major(node.st_rdev), os.minor(node.st_rdev)) for name, node in nodes.items()} == dict(
        [("nvidia%d" % index, (195, index)) for index in range(8)]
        + [("nvidiactl", (195, 255)), ("nvidia-uvm", (510, 0)), ("nvidia-uvm-tools", (510, 1))]
    )


def test_driver_files_are_mounted_read_only_at_the_drivers_paths(sim_env, tmp_path):
    spec = spec_of(sim_env, tmp_path)[1]
    edits = spec["containerEdits"]
    assert edits["env"] == ["NVIDIA_VISIBLE_DEVICES=void"]
    targets = {mount["containerPath"]: mount for mount in edits["mounts"]}
    assert sorted(targets) == sorted(
        [
            "/usr/bin/nvidia-smi",
            LIB_DIR_IN_CONTAINER + "/libnvidia-ml.so.535.54.03",
            "/usr/share/gpufleet-sim",
            "/etc/gpufleet-sim",
        ]
    )
    assert all(mount["options"] == ["ro", "nosuid", "nodev", "bind"] for mount in targets.values())
    assert targets["/usr/bin/nvidia-smi"]["hostPath"] == sim_env["GPUFLEET_SIM_NVIDIA_SMI"]
    assert [node["path"] for node in edits["deviceNodes"]] == [
        "/dev/nvidia-uvm",
        "/dev/nvidia-uvm-tools",
        "/dev/nvidiactl",
    ]


def test_json_format_by_flag_or_extension_holds_the_same_spec(sim_env, tmp_path):
    from_yaml = spec_of(sim_env, tmp_path)[1]
    by_extension = spec_of(sim_env, tmp_path, "nvidia.json")[1]
    text, by_flag = spec_of(sim_env, tmp_path, "spec.json", "--format=json")
    assert from_yaml == by_extension == by_flag


def test_stdout_without_output_and_unknown_format_refused(sim_env, tmp_path):
    result = generate(sim_env, "--format=json")
    assert result.returncode == 0 and json.loads(result.stdout)["kind"] == "nvidia.com/gpu"
    refused = generate(sim_env, "--format=toml", "--output=%s" % (tmp_path / "x"))
    assert refused.returncode == 1 and "invalid output format" in refused.stderr
    assert not (tmp_path / "x").exists()


def test_a_driver_change_makes_the_old_spec_name_missing_files(driver_root, tmp_path):
    root, env = driver_root
    old = spec_of(env, tmp_path, "old.yaml")[1]
    install_sim("h100", root)  # another driver (560.35.05) and one GPU, as after a driver upgrade
    missing = [path for path in host_paths(old) if not os.path.exists(path)]
    assert any(re.search(r"libnvidia-ml\.so\.535\.54\.03$", path) for path in missing)
    new = spec_of(env, tmp_path, "new.yaml")[1]
    assert [path for path in host_paths(new) if not os.path.exists(path)] == []
    assert [device["name"] for device in new["devices"]] == ["0", "GPU-5e7a0000-4100-4000-8000-000000000000", "all"]
    assert any(path.endswith("libnvidia-ml.so.560.35.05") for path in host_paths(new))


def test_a_profile_switch_without_its_driver_files_fails_naming_the_fix(driver_root, tmp_path):
    env = driver_root[1]
    select_profile(env, "h100")  # profile file rewritten only: the installed driver files are a100's
    result = generate(env, "--output=%s" % (tmp_path / "x.yaml"))
    assert result.returncode == 1
    assert "libnvidia-ml.so.560.35.05" in result.stderr and "install.sh" in result.stderr
    assert not (tmp_path / "x.yaml").exists()


def test_error_profiles_get_no_driver_files_and_no_spec(driver_root, tmp_path):
    root, env = driver_root
    install_sim("driver-unreachable", root)
    assert [name for name in os.listdir(os.path.join(root, "dev")) if name.startswith("nvidia")] == []
    result = generate(env, "--output=%s" % (tmp_path / "x.yaml"))
    assert result.returncode == 1 and "failed to initialize NVML" in result.stderr


def test_remove_takes_the_driver_files_away(driver_root):
    root = driver_root[0]
    subprocess.run(
        ["sh", os.path.join(TESTBED, "gpu_sim", "install.sh"), "--remove", root], check=True, stdout=subprocess.PIPE
    )
    lib_dir = os.path.join(root, "usr", "lib", "%s-linux-gnu" % os.uname().machine)
    assert os.listdir(lib_dir) == [] and not os.path.exists(os.path.join(root, "usr", "bin", "nvidia-smi"))
    assert [name for name in os.listdir(os.path.join(root, "dev")) if name.startswith("nvidia")] == []
