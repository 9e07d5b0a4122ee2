# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fake toolkit behaves like NVIDIA's at the interfaces the collection and dockerd use."""

import json
import os
import subprocess
import sys

import pytest

from .conftest import FIXTURES, TESTBED, load_program, select_profile

runtime = load_program("fake_toolkit/nvidia-container-runtime")
hook = load_program("fake_toolkit/nvidia-container-runtime-hook")
cli = load_program("fake_toolkit/nvidia-container-cli")

# The argv dockerd 20.10's containerd shim gives the runtime for `create` (shape taken from runc's CLI).
DOCKER_CREATE_ARGV = [
    "--root",
    "/var/run/docker/runtime-runc/moby",
    "--log",
    "/run/containerd/x/log.json",
    "--log-format",
    "json",
    "create",
    "--bundle",
    "/run/containerd/io.containerd.runtime.v2.task/moby/abc",
    "--pid-file",
    "/run/containerd/x/init.pid",
    "abc",
]


def spec_with_env(*env, hooks=None):
    spec = {"root": {"path": "rootfs"}, "process": {"env": ["PATH=/usr/bin"] + list(env)}}
    if hooks is not None:
        spec["hooks"] = hooks
    return spec


def run_ctk(*args, env=None):
    return subprocess.run(
        [sys.executable, os.path.join(TESTBED, "fake_toolkit", "nvidia-ctk")] + list(args),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


class TestRuntime:
    def test_finds_create_and_bundle_behind_global_options(self):
        assert runtime.subcommand_and_bundle(DOCKER_CREATE_ARGV) == (
            "create",
            "/run/containerd/io.containerd.runtime.v2.task/moby/abc",
        )

    def test_bundle_defaults_to_cwd_and_other_subcommands_pass(self):
        assert runtime.subcommand_and_bundle(["create", "id"]) == ("create", ".")
        assert runtime.subcommand_and_bundle(["--root", "/r", "delete", "--force", "id"])[0] == "delete"
        assert runtime.subcommand_and_bundle(["--bundle=/b", "create"]) == ("create", ".")
        assert runtime.subcommand_and_bundle(["create", "--bundle=/b", "id"]) == ("create", "/b")

    def test_adds_the_prestart_hook_when_gpus_are_asked_for(self):
        spec = spec_with_env("NVIDIA_VISIBLE_DEVICES=all")
        assert runtime.add_nvidia_hook(spec) is True
        assert spec["hooks"]["prestart"] == [
            {"path": "/usr/bin/nvidia-container-runtime-hook", "args": ["nvidia-container-runtime-hook", "prestart"]}
        ]

    @pytest.mark.parametrize(
        "env", [(), ("NVIDIA_VISIBLE_DEVICES=void",), ("NVIDIA_VISIBLE_DEVICES=none",), ("NVIDIA_VISIBLE_DEVICES=",)]
    )
    def test_leaves_containers_without_gpus_alone(self, env):
        spec = spec_with_env(*env)
        assert runtime.add_nvidia_hook(spec) is False
        assert "hooks" not in spec

    def test_does_not_add_a_second_hook_after_dockers_gpus_flag(self):
        dockers_hook = {"path": "/usr/bin/nvidia-container-runtime-hook", "args": ["x", "prestart"], "env": ["A=1"]}
        spec = spec_with_env("NVIDIA_VISIBLE_DEVICES=all", hooks={"prestart": [dockers_hook]})
        assert runtime.add_nvidia_hook(spec) is False
        assert spec["hooks"]["prestart"] == [dockers_hook]

    def test_modify_bundle_rewrites_config_json_in_place(self, tmp_path):
        (tmp_path / "config.json").write_text(json.dumps(spec_with_env("NVIDIA_VISIBLE_DEVICES=0,1")))
        runtime.modify_bundle(str(tmp_path))
        hooks = json.loads((tmp_path / "config.json").read_text())["hooks"]["prestart"]
        assert [h["path"] for h in hooks] == ["/usr/bin/nvidia-container-runtime-hook"]
        assert sorted(os.listdir(str(tmp_path))) == ["config.json"]

    def test_finds_runc_in_sbin_even_with_a_short_path(self, tmp_path):
        sbin = tmp_path / "sbin"
        sbin.mkdir()
        (sbin / "runc").write_text("#!/bin/sh\n")
        (sbin / "runc").chmod(0o755)
        assert runtime.find_low_level_runtime(str(sbin)) == str(sbin / "runc")


class TestHook:
    def test_utilities_only_for_gpu_containers_with_the_utility_capability(self):
        assert hook.wants_utilities(spec_with_env("NVIDIA_VISIBLE_DEVICES=all"))
        assert hook.wants_utilities(spec_with_env("NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=all"))
        assert hook.wants_utilities(
            spec_with_env("NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=compute,utility")
        )
        assert not hook.wants_utilities(
            spec_with_env("NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=compute")
        )
        assert not hook.wants_utilities(spec_with_env("NVIDIA_VISIBLE_DEVICES=void"))
        assert not hook.wants_utilities(spec_with_env())

    def test_rootfs_relative_to_bundle_or_absolute(self):
        assert hook.container_rootfs({"root": {"path": "rootfs"}}, "/b") == "/b/rootfs"
        assert (
            hook.container_rootfs({"root": {"path": "/var/lib/docker/vfs/dir/x"}}, "/b") == "/var/lib/docker/vfs/dir/x"
        )

    def test_mount_script_binds_read_only_and_creates_targets(self):
        script = hook.mount_script(
            [
                ("/usr/bin/nvidia-smi", "/r/usr/bin/nvidia-smi", False),
                ("/usr/share/gpufleet-sim", "/r/usr/share/gpufleet-sim", True),
            ]
        )
        assert script.splitlines() == [
            "set -e",
            "mkdir -p '/r/usr/bin'",
            "[ -e '/r/usr/bin/nvidia-smi' ] || : > '/r/usr/bin/nvidia-smi'",
            "mount --bind '/usr/bin/nvidia-smi' '/r/usr/bin/nvidia-smi'",
            "mount -o remount,bind,ro '/r/usr/bin/nvidia-smi'",
            "mkdir -p '/r/usr/share/gpufleet-sim'",
            "mount --bind '/usr/share/gpufleet-sim' '/r/usr/share/gpufleet-sim'",
            "mount -o remount,bind,ro '/r/usr/share/gpufleet-sim'",
        ]

    def test_shell_quote_survives_quotes(self):
        quoted = hook.shell_quote("/a b/it's")
        assert (
            subprocess.run(["sh", "-c", "printf %s " + quoted], stdout=subprocess.PIPE, text=True, check=False).stdout
            == "/a b/it's"
        )

    def test_error_profiles_name_libnvidia_containers_error(self, sim_env):
        data, profile_file = sim_env["GPUFLEET_SIM_DATA"], sim_env["GPUFLEET_SIM_PROFILE_FILE"]
        select_profile(sim_env, "nvml-mismatch")
        assert hook.profile_cli_error(data, profile_file) == (
            "nvidia-container-cli: initialization error: nvml error: driver/library version mismatch"
        )
        select_profile(sim_env, "nvml-unknown")
        assert hook.profile_cli_error(data, profile_file) is None

    def test_without_host_nvidia_smi_fails_like_a_host_without_driver(self, tmp_path):
        (tmp_path / "config.json").write_text(json.dumps(spec_with_env("NVIDIA_VISIBLE_DEVICES=all")))
        env = dict(os.environ, GPUFLEET_SIM_NVIDIA_SMI=str(tmp_path / "absent"))
        result = subprocess.run(
            [sys.executable, os.path.join(TESTBED, "fake_toolkit", "nvidia-container-runtime-hook"), "prestart"],
            input=json.dumps({"pid": 1, "bundle": str(tmp_path)}),
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 1
        assert result.stderr.splitlines() == ["Auto-detected mode as 'legacy'", hook.NO_DRIVER_ERROR]
        assert hook.NO_DRIVER_ERROR.endswith(
            "libnvidia-ml.so.1: cannot open shared object file: no such file or directory"
        )


class TestNvidiaCtk:
    def test_merges_runtime_and_keeps_user_settings(self, tmp_path):
        daemon = tmp_path / "daemon.json"
        daemon.write_text('{"log-driver": "journald", "runtimes": {"crun": {"path": "/usr/bin/crun"}}}\n')
        result = run_ctk("runtime", "configure", "--runtime=docker", "--config=%s" % daemon)
        assert result.returncode == 0, result.stderr
        assert json.loads(daemon.read_text()) == {
            "log-driver": "journald",
            "runtimes": {"crun": {"path": "/usr/bin/crun"}, "nvidia": {"path": "nvidia-container-runtime", "args": []}},
        }
        # Go's json.MarshalIndent: four spaces, sorted keys, no final newline.
        assert daemon.read_text().startswith('{\n    "log-driver": "journald",\n    "runtimes": {')
        assert not daemon.read_text().endswith("\n")
        assert "Wrote updated config to %s" % daemon in result.stderr

    def test_set_as_default_and_cdi(self, tmp_path):
        daemon = tmp_path / "docker" / "daemon.json"
        result = run_ctk(
            "runtime", "configure", "--runtime", "docker", "--config", str(daemon), "--set-as-default", "--cdi.enabled"
        )
        assert result.returncode == 0, result.stderr
        config = json.loads(daemon.read_text())
        assert config["default-runtime"] == "nvidia"
        assert config["features"] == {"cdi": True}

    def test_rewrites_the_file_even_when_nothing_changes(self, tmp_path):
        daemon = tmp_path / "daemon.json"
        daemon.write_text('{"runtimes": {"nvidia": {"path": "nvidia-container-runtime", "args": []}}}')
        before = daemon.stat().st_mtime_ns
        os.utime(str(daemon), ns=(before - 10**9, before - 10**9))
        assert run_ctk("runtime", "configure", "--config=%s" % daemon).returncode == 0
        assert daemon.stat().st_mtime_ns > before - 10**9

    def test_empty_daemon_json_fails_with_eof(self, tmp_path):
        daemon = tmp_path / "daemon.json"
        daemon.write_text("")
        result = run_ctk("runtime", "configure", "--runtime=docker", "--config=%s" % daemon)
        assert result.returncode == 1
        assert "unable to load config for runtime docker: EOF" in result.stderr
        assert daemon.read_text() == ""

    def test_dry_run_prints_and_writes_nothing(self, tmp_path):
        daemon = tmp_path / "daemon.json"
        result = run_ctk("runtime", "configure", "--config=%s" % daemon, "--dry-run")
        assert json.loads(result.stdout)["runtimes"]["nvidia"]["path"] == "nvidia-container-runtime"
        assert not daemon.exists()

    @pytest.mark.parametrize("args", [["system", "create-device-nodes"], ["runtime"], []])
    def test_unknown_subcommands_exit_1_and_say_so(self, args):
        result = run_ctk(*args)
        assert result.returncode == 1
        assert "gpufleet testbed fake nvidia-ctk" in result.stderr and "not simulated" in result.stderr

    def test_version_says_it_is_the_fake(self):
        result = run_ctk("--version")
        assert result.returncode == 0
        assert result.stdout.startswith("NVIDIA Container Toolkit CLI version ")
        assert "gpufleet testbed fake" in result.stdout

    def test_runtime_configure_for_containerd_says_it_is_not_simulated_and_why(self, tmp_path):
        result = run_ctk("runtime", "configure", "--runtime=containerd", "--config=%s" % (tmp_path / "c.toml"))
        assert result.returncode == 1
        assert "not simulated" in result.stderr and "containerd_config" in result.stderr
        assert not (tmp_path / "c.toml").exists()

    def test_cdi_generate_without_driver_fails(self, sim_env, tmp_path):
        env = dict(sim_env, GPUFLEET_SIM_NVIDIA_SMI=str(tmp_path / "absent"))
        result = run_ctk("cdi", "generate", "--output=%s" % (tmp_path / "x.yaml"), env=env)
        assert result.returncode == 1 and "ERROR_LIBRARY_NOT_FOUND" in result.stderr
        assert not (tmp_path / "x.yaml").exists()


class TestNvidiaContainerCli:
    def test_info_facts_come_from_the_xml_capture(self):
        with open(os.path.join(FIXTURES, "sim_a100_40gb_mig_xml", "output.txt")) as handle:
            facts = cli.parse_query_xml(handle.read())
        assert facts["driver"] == "535.161.08" and facts["cuda"] == "12.2"
        assert [(g["model"], g["bus"], g["minor"]) for g in facts["gpus"]] == [
            ("NVIDIA A100-SXM4-40GB", "00000000:07:00.0", "0")
        ]

    def test_info_fails_like_libnvidia_container_per_profile(self, sim_env):
        program = os.path.join(TESTBED, "fake_toolkit", "nvidia-container-cli")
        select_profile(sim_env, "driver-unreachable")
        result = subprocess.run(
            [sys.executable, program, "info"], env=sim_env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 1
        assert result.stderr.strip() == "nvidia-container-cli: initialization error: nvml error: driver not loaded"
        select_profile(sim_env, "a100-80gb-x8")
        result = subprocess.run(
            [sys.executable, program, "-k", "-d", "/dev/null", "info"],
            env=sim_env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0
        assert result.stdout.count("Model:          NVIDIA A100-SXM4-80GB") == 8
