# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The testbed's fake nvidia-ctk and simulated GPU, through the cdi decisions end to end, in a temporary root.

The simulated driver (gpu_sim/install.sh PROFILE ROOT) and the fake's spec are what the test hosts get; here they
live under tmp_path, found through the simulator's GPUFLEET_SIM_* variables. A driver change (another profile)
must make the spec stale with both versions named, and a spec generated again must be kept.
"""

import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.cdi.plan import (
    parse_gpu_query,
    plan_static_spec,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.cdi.spec import load_spec, spec_facts

TESTBED = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "testbed"))
FAKE_CTK = os.path.join(TESTBED, "fake_toolkit", "nvidia-ctk")
INSTALL_SIM = os.path.join(TESTBED, "gpu_sim", "install.sh")

pytestmark = pytest.mark.skipif(not shutil.which("sh") or not shutil.which("awk"), reason="the simulator needs sh")


class SimulatedHost:
    def __init__(self, root):
        self.root = str(root)
        self.lib_dir = os.path.join(self.root, "usr", "lib", "%s-linux-gnu" % os.uname().machine)
        self.env = dict(
            os.environ,
            LC_ALL="C",
            GPUFLEET_SIM_NVIDIA_SMI=os.path.join(self.root, "usr", "bin", "nvidia-smi"),
            GPUFLEET_SIM_DATA=os.path.join(self.root, "usr", "share", "gpufleet-sim"),
            GPUFLEET_SIM_PROFILE_FILE=os.path.join(self.root, "etc", "gpufleet-sim", "profile"),
            GPUFLEET_SIM_DEV_DIR=os.path.join(self.root, "dev"),
            GPUFLEET_SIM_LIB_DIR=self.lib_dir,
        )

    def install(self, profile):
        subprocess.run(["sh", INSTALL_SIM, profile, self.root], check=True, env=self.env, stdout=subprocess.PIPE)
        # Where mknod is refused (an unprivileged run), plain files stand in for the nodes: the fake checks only
        # that they exist.
        driver, gpus = self.query()
        os.makedirs(self.env["GPUFLEET_SIM_DEV_DIR"], exist_ok=True)
        for name in ["nvidia%s" % gpu[0] for gpu in gpus] + ["nvidiactl"]:
            node = os.path.join(self.env["GPUFLEET_SIM_DEV_DIR"], name)
            if not os.path.exists(node):
                open(node, "w").close()
        return driver, gpus

    def query(self):
        result = subprocess.run(
            [self.env["GPUFLEET_SIM_NVIDIA_SMI"], "--query-gpu=driver_version,index,uuid", "--format=csv,noheader"],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return parse_gpu_query(result.stdout)

    def generate(self, output):
        result = subprocess.run(
            [sys.executable, FAKE_CTK, "cdi", "generate", "--format=yaml", "--output=%s" % output],
            env=self.env,
            capture_output=True,
            text=True,
            # A failing generate is an answer the tests look at (the no-driver case), not an error.
            check=False,
        )
        return result


def read(path):
    with open(path) as handle:
        return handle.read()


def test_fake_spec_goes_stale_with_a_driver_change_and_is_kept_once_regenerated(tmp_path):
    host = SimulatedHost(tmp_path / "root")
    driver, gpus = host.install("h100")
    assert driver and gpus
    spec_path = str(tmp_path / "etc-cdi" / "nvidia.yaml")
    fresh_path = str(tmp_path / "fresh" / "nvidia.yaml")

    assert host.generate(fresh_path).returncode == 0
    first = plan_static_spec(None, read(fresh_path), driver, gpus, os.path.exists)
    assert first["action"] == "generate"
    os.makedirs(os.path.dirname(spec_path))
    shutil.copy(fresh_path, spec_path)

    # The fake's spec is read like a real one: the simulated driver's versioned library and the GPU's UUID.
    facts = spec_facts(load_spec(read(spec_path)))
    assert facts["driver_versions"] == [driver]
    assert gpus[0][1] in facts["device_names"]

    assert host.generate(fresh_path).returncode == 0
    again = plan_static_spec(read(spec_path), read(fresh_path), driver, gpus, os.path.exists)
    assert (again["action"], again["warnings"]) == ("keep", [])

    new_driver, new_gpus = host.install("a100-80gb-x8")
    assert new_driver != driver
    assert host.generate(fresh_path).returncode == 0
    upgraded = plan_static_spec(read(spec_path), read(fresh_path), new_driver, new_gpus, os.path.exists)
    assert upgraded["action"] == "regenerate"
    assert upgraded["reasons"][0] == "made for driver %s, the driver is %s" % (driver, new_driver)
    assert "libnvidia-ml.so.%s" % driver in upgraded["reason"]
    assert "names devices that are not there now: %s" % gpus[0][1] in upgraded["reason"]


def test_fake_toolkit_without_driver_fails_with_nvml_words(tmp_path):
    host = SimulatedHost(tmp_path / "root")
    result = host.generate(str(tmp_path / "nvidia.yaml"))
    assert result.returncode != 0
    assert "NVML" in result.stderr
