# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared helpers for the tests of the testbed's NVIDIA side (fake toolkit, simulated GPU, repo, image)."""

import importlib.machinery
import importlib.util
import os
import subprocess

import pytest

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
TESTBED = os.path.join(REPO_ROOT, "tests", "testbed")
FIXTURES = os.path.join(REPO_ROOT, "tests", "fixtures", "nvidia_smi")


def load_program(relative_path):
    """Import a testbed program that has no .py suffix (the fake toolkit's executables) as a module."""
    path = os.path.join(TESTBED, relative_path)
    name = "testbed_" + os.path.basename(path).replace("-", "_").replace(".py", "")
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def sim_root(tmp_path_factory):
    """The simulated GPU installed by its own installer into a scratch root, from the real fixtures corpus."""
    root = str(tmp_path_factory.mktemp("simroot"))
    subprocess.run(
        ["sh", os.path.join(TESTBED, "gpu_sim", "install.sh"), "a100-80gb-x8", root],
        check=True,
        stdout=subprocess.PIPE,
    )
    return root


def install_sim(profile, root):
    """Run the simulated GPU's installer for PROFILE into ROOT (again: a driver change); returns its stdout."""
    return subprocess.run(
        ["sh", os.path.join(TESTBED, "gpu_sim", "install.sh"), profile, root],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout


@pytest.fixture
def sim_env(sim_root):
    """Environment that points the simulator and the fakes at sim_root; select a profile with env['profile'](name)."""
    profile_file = os.path.join(sim_root, "etc", "gpufleet-sim", "profile")
    env = dict(
        os.environ,
        GPUFLEET_SIM_DATA=os.path.join(sim_root, "usr", "share", "gpufleet-sim"),
        GPUFLEET_SIM_PROFILE_FILE=profile_file,
        GPUFLEET_SIM_NVIDIA_SMI=os.path.join(sim_root, "usr", "bin", "nvidia-smi"),
        GPUFLEET_SIM_DEV_DIR=os.path.join(sim_root, "dev"),
        GPUFLEET_SIM_LIB_DIR=os.path.join(sim_root, "usr", "lib", "%s-linux-gnu" % os.uname().machine),
        LC_ALL="C",
    )
    yield env
    with open(profile_file, "w") as handle:
        handle.write("a100-80gb-x8\n")


def select_profile(env, profile):
    with open(env["GPUFLEET_SIM_PROFILE_FILE"], "w") as handle:
        handle.write(profile + "\n")


def nvidia_smi(env, *args):
    """Run the simulated nvidia-smi with POSIX sh, as a busybox image would."""
    return subprocess.run(
        ["sh", env["GPUFLEET_SIM_NVIDIA_SMI"]] + list(args), env=env, capture_output=True, text=True, check=False
    )
