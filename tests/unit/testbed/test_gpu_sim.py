# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulated GPU replays the fixtures corpus: what each profile answers, byte for byte, with the real exit codes."""

import os
import subprocess
from xml.etree import ElementTree

import pytest
import yaml

from .conftest import FIXTURES, TESTBED, nvidia_smi, select_profile

PROFILES_DIR = os.path.join(TESTBED, "gpu_sim", "profiles")
COMMAND_ARGS = {"table": [], "list": ["-L"], "query_xml": ["-q", "-x"]}


def manifest(profile):
    entries = {}
    with open(os.path.join(PROFILES_DIR, profile)) as handle:
        for line in handle:
            if line.strip() and not line.startswith("#"):
                key, _sep, value = line.strip().partition(" ")
                entries[key] = value.strip()
    return entries


def capture(case):
    with open(os.path.join(FIXTURES, case, "output.txt")) as handle:
        text = handle.read()
    with open(os.path.join(FIXTURES, case, "meta.yml")) as handle:
        meta = yaml.safe_load(handle)
    return text, meta


def test_required_profiles_exist():
    required = {
        "a100-80gb-x8",
        "a100-40gb-mig",
        "h100",
        "no-devices",
        "driver-unreachable",
        "nvml-mismatch",
        "nvml-unknown",
    }
    assert required <= set(os.listdir(PROFILES_DIR))


@pytest.mark.parametrize("profile", sorted(os.listdir(PROFILES_DIR)))
def test_every_command_replays_its_capture_exactly(sim_env, profile):
    select_profile(sim_env, profile)
    entries = manifest(profile)
    if "error" in entries:
        text, meta = capture(entries["error"])
        for args in ([], ["-L"], ["-q", "-x"], ["--query-gpu=name", "--format=csv"]):
            result = nvidia_smi(sim_env, *args)
            assert (result.stdout, result.returncode) == (text, meta["exit_code"])
        return
    for key, args in COMMAND_ARGS.items():
        text, meta = capture(entries[key])
        result = nvidia_smi(sim_env, *args)
        assert result.returncode == meta["exit_code"] == 0
        assert result.stdout == text
        assert result.stderr.count("SIMULATED GPU") == 1
        assert (
            "profile %s, replaying tests/fixtures/nvidia_smi/%s/output.txt" % (profile, entries[key]) in result.stderr
        )


def test_csv_projection_from_the_real_capture(sim_env):
    text = capture("a100_80gb_x8_csv_570")[0]
    rows = [line.split(", ") for line in text.splitlines()]
    result = nvidia_smi(sim_env, "--query-gpu=driver_version,memory.total", "--format=csv")
    assert result.returncode == 0
    assert result.stdout.splitlines() == [", ".join((row[2], row[1])) for row in rows]
    assert "a100_80gb_x8_csv_570" in result.stderr


def test_csv_noheader_nounits_strips_units_only_where_the_header_has_one(sim_env):
    result = nvidia_smi(sim_env, "--query-gpu=gpu_name,memory.total", "--format=csv,noheader,nounits")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 8
    assert set(lines) == {"NVIDIA A100-SXM4-80GB, 81920"}


def test_csv_columns_missing_from_the_csv_capture_come_from_the_xml_capture(sim_env):
    text = capture("sim_a100_80gb_x8_xml")[0]
    root = ElementTree.fromstring(text)
    expected = [
        "%d, %s, %s, %s, %s"
        % (
            index,
            gpu.findtext("uuid"),
            gpu.findtext("pci/pci_bus_id"),
            gpu.findtext("fb_memory_usage/total").split()[0],
            root.findtext("driver_version"),
        )
        for index, gpu in enumerate(root.findall("gpu"))
    ]
    result = nvidia_smi(
        sim_env, "--query-gpu=index,uuid,pci.bus_id,memory.total,driver_version", "--format=csv,noheader,nounits"
    )
    assert result.returncode == 0
    assert result.stdout.splitlines() == expected
    assert "sim_a100_80gb_x8_xml" in result.stderr and "derived" in result.stderr


def test_csv_header_keeps_units_with_nounits(sim_env):
    result = nvidia_smi(sim_env, "--query-gpu=index,memory.total,mig.mode.current", "--format=csv,nounits")
    assert result.stdout.splitlines()[0] == "index, memory.total [MiB], mig.mode.current"
    assert result.stdout.splitlines()[1] == "0, 81920, Disabled"


@pytest.mark.parametrize("profile,expected", [("a100-40gb-mig", "1, Enabled"), ("h100", "1, Disabled")])
def test_count_and_mig_mode_per_profile(sim_env, profile, expected):
    select_profile(sim_env, profile)
    result = nvidia_smi(sim_env, "--query-gpu=count,mig.mode.current", "--format=csv,noheader")
    assert (result.stdout.strip(), result.returncode) == (expected, 0)


def test_unknown_field_gives_the_real_error(sim_env):
    result = nvidia_smi(sim_env, "--query-gpu=name,cuda_version", "--format=csv")
    assert result.returncode == 2
    assert result.stdout == 'Field "cuda_version" is not a valid field to query.\n\n'


def test_valid_field_without_capture_is_a_testbed_gap_not_an_invented_value(sim_env):
    result = nvidia_smi(sim_env, "--query-gpu=power.draw", "--format=csv")
    assert result.returncode == 97
    assert result.stdout == ""
    assert 'SIMULATED GPU: the capture has no column "power.draw"' in result.stderr


def test_command_without_capture_fails_plainly(sim_env):
    result = nvidia_smi(sim_env, "-q")
    assert result.returncode == 97
    assert "has no capture for 'nvidia-smi -q'" in result.stderr


def test_missing_profile_file_says_so(sim_env, tmp_path):
    env = dict(sim_env, GPUFLEET_SIM_PROFILE_FILE=str(tmp_path / "absent"))
    result = nvidia_smi(env, "-L")
    assert result.returncode == 97
    assert "no profile selected" in result.stderr


def test_install_remove_leaves_a_host_without_driver(tmp_path):
    root = str(tmp_path)
    install = os.path.join(TESTBED, "gpu_sim", "install.sh")
    subprocess.run(["sh", install, "h100", root], check=True, stdout=subprocess.PIPE)
    with open(os.path.join(root, "etc", "gpufleet-sim", "profile")) as handle:
        assert handle.read() == "h100\n"
    assert os.access(os.path.join(root, "usr", "bin", "nvidia-smi"), os.X_OK)
    subprocess.run(["sh", install, "--remove", root], check=True, stdout=subprocess.PIPE)
    assert not os.path.exists(os.path.join(root, "usr", "bin", "nvidia-smi"))
    assert not os.path.exists(os.path.join(root, "usr", "share", "gpufleet-sim"))


def test_install_rejects_unknown_profile(tmp_path):
    result = subprocess.run(
        ["sh", os.path.join(TESTBED, "gpu_sim", "install.sh"), "rtx-9999", str(tmp_path)],
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "unknown profile 'rtx-9999'" in result.stderr


def test_simulator_is_posix_sh_and_awk_only():
    with open(os.path.join(TESTBED, "gpu_sim", "nvidia-smi")) as handle:
        text = handle.read()
    assert text.startswith("#!/bin/sh\n")
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    for bashism in ("local ", "$'", "<<<", "python", "bash", "declare "):
        assert bashism not in code
    if subprocess.run(["sh", "-c", "command -v checkbashisms"], stdout=subprocess.PIPE, check=False).returncode == 0:
        assert (
            subprocess.run(["checkbashisms", os.path.join(TESTBED, "gpu_sim", "nvidia-smi")], check=False).returncode
            == 0
        )
