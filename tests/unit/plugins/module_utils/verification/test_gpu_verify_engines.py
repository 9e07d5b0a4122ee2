# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verification through containerd and Podman (and Docker via CDI): the exact commands each engine runs, in order,
the image added only when absent, nothing added in check mode, failures named, and the host verdict per engine."""

import os

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.verification.run import verify

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures")
DEBIAN_12 = 'NAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
IMAGE = "nvidia/cuda:12.9.1-base-ubuntu24.04"
FULL = "docker.io/" + IMAGE
OPTIONS = {
    "host": "gpu-a100-01",
    "image": IMAGE,
    "image_tarball": "/var/tmp/cuda.tar",
    "pull_timeout": 300,
    "run_timeout": 120,
    "gpus": "all",
    "runtime": "",
    "network": "none",
    "docker_bin": "docker",
    "expect": {"model": "A100", "count": 8},
    "run_id": "abc123",
}
CTR_VERSION = "Client:\n  Version:  1.6.20~ds1\n  Revision: 1.6.20~ds1-1+deb12u3\n  Go version: go1.19.8\n\n" \
              "Server:\n  Version:  1.6.20~ds1\n  Revision: 1.6.20~ds1-1+deb12u3\n  UUID: 5a1e\n"  # fmt: skip
CTR_DOWN = 'ctr: failed to dial "/run/containerd/containerd.sock": context deadline exceeded'


def read(*path):
    with open(os.path.join(FIXTURES, *path)) as handle:
        return handle.read()


SMI = (0, read("nvidia_smi", "sim_a100_80gb_x8_xml", "output.txt"), "")


class Host:
    """A host seen through its commands: which engines answer, which images they hold, what nvidia-smi says."""

    def __init__(self, images=("docker", "containerd", "podman"), missing=(), smi=None, dump=None, plugins=None,
                 ctr_down=False, podman_name=FULL):  # fmt: skip
        self.images = set(images)
        self.missing = set(missing)
        self.smi = smi or {}
        self.dump = dump if dump is not None else (0, read("containerd_verify", "config_dump_nvidia_1.6.20.toml"), "")
        self.plugins = plugins or read("containerd_verify", "plugins_ls_cri_ok_derived.txt")
        self.ctr_down = ctr_down
        self.podman_name = podman_name
        self.calls = []

    def get_bin_path(self, name):
        return None if name in self.missing else "/usr/bin/" + name

    def run(self, argv):
        command = [os.path.basename(argv[0])] + argv[1:]
        if command[0] == "timeout":  # the program it runs is found on the PATH too
            command[3] = os.path.basename(command[3])
        self.calls.append(command)
        program, rest = command[0], command[1:]
        if program == "timeout":
            program, rest = os.path.basename(rest[2]), rest[3:]
        if program == "dpkg":
            return 0, "amd64\n", ""
        if program == "dpkg-query":
            return 0, "nvidia-container-toolkit\tii \t1.18.0-1\tamd64\n", ""
        if program == "containerd":
            return self.dump
        engine = {"ctr": "containerd"}.get(program, program)
        if rest[:1] == ["-n"]:
            rest = rest[2:]
        if rest[:1] == ["version"]:
            if engine == "containerd":
                client_only = CTR_VERSION.split("\n\n", maxsplit=1)[0]
                return (1, client_only, CTR_DOWN) if self.ctr_down else (0, CTR_VERSION, "")
            return 0, {"docker": "26.1.5+dfsg1\n", "podman": "4.3.1\n"}[engine], ""
        if rest[:2] == ["plugins", "ls"]:
            return 0, self.plugins, ""
        if rest[:3] == ["images", "ls", "-q"]:
            return 0, (FULL + "\n") if engine in self.images else "sha256:0ddba11\n", ""
        if rest[:2] == ["image", "inspect"]:
            known = engine in self.images and (engine != "podman" or rest[-1] == self.podman_name)
            return (0, "amd64\n", "") if known else (125, "", "Error: no such image")
        if rest[:1] in (["load"], ["pull"]) or rest[:2] in (["images", "import"], ["images", "pull"]):
            self.images.add(engine)
            return 0, "", ""
        if rest[:1] == ["run"]:
            answer = self.smi.get(engine, SMI)
            # A list: one answer per run, in order.
            return answer.pop(0) if isinstance(answer, list) else answer
        if rest[:2] in (["tasks", "delete"], ["containers", "delete"]):
            return 0, "", ""
        raise AssertionError("unexpected command %r" % command)

    def adding(self):
        return [call for call in self.calls if {"load", "pull", "import"} & set(call)]


def test_containerd_imports_only_when_absent_and_runs_nvidia_smi_through_nvidias_runtime():
    host = Host(images=())
    outcome = verify(host, dict(OPTIONS, engines=["containerd"], containerd_snapshotter="native"), False,
                     DEBIAN_12, "x86_64")  # fmt: skip
    ctr = ["ctr", "-n", "gpufleet"]
    assert host.calls[2:] == [
        ["ctr", "version"],
        ctr + ["images", "ls", "-q"],
        ctr + ["images", "import", "--platform", "linux/amd64", "--snapshotter", "native", "/var/tmp/cuda.tar"],
        ctr + ["images", "ls", "-q"],
        ["timeout", "--kill-after=5", "120"] + ctr + [
            "run", "--rm", "--snapshotter", "native", "--runc-binary", "/usr/bin/nvidia-container-runtime",
            "--env", "NVIDIA_VISIBLE_DEVICES=all", FULL, "gpufleet-verify-abc123", "nvidia-smi", "-q", "-x",
        ],
        ["containerd", "config", "dump"],
        ["ctr", "plugins", "ls"],
    ]  # fmt: skip
    assert outcome["changed"] and outcome["actions"] == ["load %s from /var/tmp/cuda.tar into containerd" % FULL]
    verdict = outcome["verdict"]
    assert verdict["verdict"] == "pass" and verdict["found"]["gpu_count"] == 8
    line = verdict["engines"]["containerd"]
    assert (line["verdict"], line["version"], line["gpu_count"]) == ("pass", "1.6.20~ds1", 8)
    assert line["detail"]["cri_runtimes"] == ["nvidia", "runc"] and line["detail"]["cri_plugin_status"] == "ok"
    # The run's unique name stays out of the verdict file, so a second run writes the same file.
    assert "gpufleet-verify-RUN" in line["command"] and "gpufleet-verify-abc123" not in line["command"]
    assert verdict["nvidia_smi"]["cmd"] == line["command"]
    assert verdict["docker_version"] is None


def test_a_present_image_is_not_added_again_and_pulls_go_through_the_timeout():
    host = Host()
    outcome = verify(host, dict(OPTIONS, engines=["containerd", "podman"]), False, DEBIAN_12, "x86_64")
    assert (outcome["changed"], outcome["actions"], host.adding()) == (False, [], [])
    absent = Host(images=())
    verify(absent, dict(OPTIONS, image_tarball="", engines=["containerd", "podman"]), False, DEBIAN_12, "x86_64")
    assert absent.adding() == [
        ["timeout", "--kill-after=10", "300", "ctr", "-n", "gpufleet", "images", "pull", "--platform", "linux/amd64",
         FULL],
        ["timeout", "--kill-after=10", "300", "podman", "pull", FULL],
    ]  # fmt: skip


def test_podman_asks_for_the_gpus_as_cdi_devices():
    host = Host(images=())
    outcome = verify(host, dict(OPTIONS, engines=["podman"]), False, DEBIAN_12, "x86_64")
    assert host.calls[2:] == [
        ["podman", "version", "--format", "{{.Client.Version}}"],
        ["podman", "image", "inspect", "--format", "{{.Architecture}}", FULL],
        ["podman", "image", "inspect", "--format", "{{.Architecture}}", IMAGE],
        ["podman", "load", "--input", "/var/tmp/cuda.tar"],
        ["podman", "image", "inspect", "--format", "{{.Architecture}}", FULL],
        ["timeout", "--kill-after=5", "120", "podman", "run", "--rm", "--device", "nvidia.com/gpu=all",
         "--network", "none", FULL, "nvidia-smi", "-q", "-x"],
    ]  # fmt: skip
    line = outcome["verdict"]["engines"]["podman"]
    assert (line["verdict"], line["version"], line["detail"]) == ("pass", "4.3.1", {"device": "nvidia.com/gpu=all"})


def test_podman_runs_the_image_under_the_name_it_found_it_by():
    # `podman load` named the tag localhost/..., which the user's short spelling finds and the docker.io name does not.
    host = Host(podman_name=IMAGE)
    outcome = verify(host, dict(OPTIONS, engines=["podman"]), False, DEBIAN_12, "x86_64")
    assert host.adding() == [] and host.calls[-1][-4:] == [IMAGE, "nvidia-smi", "-q", "-x"]
    assert outcome["verdict"]["verdict"] == "pass" and outcome["verdict"]["image"] == FULL


def test_docker_with_cdi_uses_devices_instead_of_gpus_and_names_them_one_by_one():
    host = Host()
    outcome = verify(host, dict(OPTIONS, docker_cdi=True, gpus="device=0,1"), False, DEBIAN_12, "x86_64")
    assert host.calls[-1][3:] == [
        "docker", "run", "--rm", "--device", "nvidia.com/gpu=0", "--device", "nvidia.com/gpu=1", "--network", "none",
        "--", IMAGE, "nvidia-smi", "-q", "-x",
    ]  # fmt: skip
    assert outcome["verdict"]["engines"]["docker"]["detail"] == {"device": "nvidia.com/gpu=0,nvidia.com/gpu=1"}
    assert outcome["verdict"]["docker_version"] == "26.1.5+dfsg1"


def test_a_gpu_count_is_refused_before_anything_runs_where_gpus_are_named_one_by_one():
    host = Host()
    with pytest.raises(ValueError, match="count"):
        verify(host, dict(OPTIONS, engines=["podman"], gpus="2"), False, DEBIAN_12, "x86_64")
    assert host.calls == []


def test_check_mode_adds_nothing_and_says_which_engines_it_could_not_verify():
    host = Host(images=("docker",), missing=("podman",))
    outcome = verify(host, dict(OPTIONS, engines=["docker", "containerd", "podman"]), True, DEBIAN_12, "x86_64")
    assert host.adding() == []
    # Read-only, so it runs where the engine and the image are there: Docker's nvidia-smi, nothing else.
    assert [call[3] for call in host.calls if "run" in call] == ["docker"]
    assert outcome["unverified"] and outcome["verdict"] is None and outcome["changed"]
    assert outcome["actions"] == [
        "would load %s from /var/tmp/cuda.tar into containerd" % FULL,
        "would load %s from /var/tmp/cuda.tar into podman" % FULL,
    ]
    assert "not in containerd's namespace gpufleet" not in outcome["message"]
    assert "Podman is not installed on the host yet" in outcome["message"]
    assert "%s is not on the host yet" % FULL in outcome["message"]


def test_check_mode_with_every_engine_ready_gives_the_same_verdict_as_a_real_run():
    options = dict(OPTIONS, engines=["docker", "containerd", "podman"])
    checked = verify(Host(), options, True, DEBIAN_12, "x86_64")
    real = verify(Host(), options, False, DEBIAN_12, "x86_64")
    assert checked == real and real["verdict"]["verdict"] == "pass" and not real["changed"]
    assert list(real["verdict"]["engines"]) == ["docker", "containerd", "podman"]
    assert real["verdict"]["reason"].endswith("; through docker, containerd, podman")


def test_one_failing_engine_fails_the_host_and_keeps_the_gpu_fields_of_the_first():
    host = Host(smi={"podman": (126, "", "Error: setting up CDI devices: unresolvable CDI devices nvidia.com/gpu=all")})
    verdict = verify(host, dict(OPTIONS, engines=["docker", "podman"]), False, DEBIAN_12, "x86_64")["verdict"]
    assert (verdict["verdict"], verdict["error_kind"], verdict["cause"]) == (
        "fail", "cdi_device_unresolved", "container_runtime"
    )  # fmt: skip
    assert verdict["reason"].startswith("podman: the container runtime is broken")
    assert "nvidia-ctk cdi generate" in verdict["hint"]
    assert verdict["found"]["gpu_count"] == 8 and verdict["nvidia_smi"]["cmd"][3] == "/usr/bin/docker"
    assert verdict["engines"]["docker"]["verdict"] == "pass"
    assert (verdict["engines"]["podman"]["verdict"], verdict["engines"]["podman"]["gpu_count"]) == ("fail", None)


@pytest.mark.parametrize(
    "engine, stderr, kind",
    [
        ("podman", "Error: crun: cannot stat `/usr/lib/libnvidia-egl-wayland.so.1.1.13`: No such file or directory: "
                   "OCI runtime attempted to invoke a command that was not found", "cdi_spec_stale"),
        ("containerd", 'ctr: failed to create shim task: OCI runtime create failed: unable to retrieve OCI runtime '
                       'error (open /run/containerd/io.containerd.runtime.v2.task/gpufleet/x/log.json: no such file '
                       'or directory): exec: "nvidia-container-runtime": executable file not found in $PATH: unknown',
         "runtime_binary_missing"),
        ("containerd", 'ctr: failed to create shim task: OCI runtime create failed: runc create failed: unable to '
                       'start container process: exec: "nvidia-smi": executable file not found in $PATH: unknown',
         "nvidia_smi_missing"),
    ],
)  # fmt: skip
def test_an_engines_failure_is_named_with_its_fix(engine, stderr, kind):
    host = Host(smi={engine: (1, "", stderr)})
    line = verify(host, dict(OPTIONS, engines=[engine]), False, DEBIAN_12, "x86_64")["verdict"]["engines"][engine]
    assert (line["verdict"], line["error_kind"]) == ("fail", kind) and line["hint"]


def test_a_stopped_containerd_is_its_own_failure_and_nothing_runs_in_it():
    host = Host(ctr_down=True)
    verdict = verify(host, dict(OPTIONS, engines=["containerd"]), False, DEBIAN_12, "x86_64")["verdict"]
    assert (verdict["error_kind"], verdict["cause"]) == ("containerd_unavailable", "container_runtime")
    assert "`ctr version` failed: ctr: failed to dial" in verdict["reason"]
    assert not any("run" in call for call in host.calls)
    assert "gpufleet.containers.containerd" in verdict["hint"]


@pytest.mark.parametrize(
    "dump, plugins, kind, words",
    [
        ("config_dump_default_1.6.20.toml", "plugins_ls_cri_ok_derived.txt", "cri_runtime_missing",
         "the CRI plugin's runtimes are runc, without nvidia"),
        ("config_dump_cri_disabled_1.6.20.toml", "plugins_ls_no_cri_1.6.20.txt", "cri_plugin_failed",
         "no CRI plugin (disabled_plugins: io.containerd.grpc.v1.cri)"),
        ("config_dump_nvidia_1.6.20.toml", "plugins_ls_cri_error_derived.txt", "cri_plugin_failed",
         "`ctr plugins ls` shows the CRI plugin as error"),
    ],
)  # fmt: skip
def test_a_cri_plugin_without_a_working_nvidia_runtime_fails_containerd_though_ctr_ran(dump, plugins, kind, words):
    host = Host(dump=(0, read("containerd_verify", dump), ""), plugins=read("containerd_verify", plugins))
    options = dict(OPTIONS, engines=["containerd"])
    verdict = verify(host, options, False, DEBIAN_12, "x86_64")["verdict"]
    assert (verdict["verdict"], verdict["error_kind"]) == ("fail", kind) and words in verdict["reason"]
    assert verdict["found"]["gpu_count"] == 8
    relaxed = verify(Host(dump=host.dump, plugins=host.plugins), dict(options, containerd_require_cri=False), False,
                     DEBIAN_12, "x86_64")["verdict"]  # fmt: skip
    assert relaxed["verdict"] == "pass"
    assert (
        relaxed["engines"]["containerd"]["detail"]["cri_runtimes"]
        == verdict["engines"]["containerd"]["detail"]["cri_runtimes"]
    )


def test_a_config_containerd_cannot_read_fails_with_containerds_words():
    words = "containerd: failed to load TOML: /etc/containerd/config.toml: (2, 2): unexpected token unclosed table key"
    host = Host(dump=(1, "", words + "\n"))
    verdict = verify(host, dict(OPTIONS, engines=["containerd"]), False, DEBIAN_12, "x86_64")["verdict"]
    assert verdict["error_kind"] == "containerd_config_invalid" and words in verdict["reason"]


def test_a_timed_out_ctr_run_has_its_task_and_container_removed():
    host = Host(smi={"containerd": (124, "", "")})
    verify(host, dict(OPTIONS, engines=["containerd"]), False, DEBIAN_12, "x86_64")
    ctr = ["ctr", "-n", "gpufleet"]
    assert ctr + ["tasks", "delete", "--force", "gpufleet-verify-abc123"] in host.calls
    assert host.calls.index(ctr + ["containers", "delete", "gpufleet-verify-abc123"]) > host.calls.index(
        ctr + ["tasks", "delete", "--force", "gpufleet-verify-abc123"]
    )


def test_a_run_whose_output_was_cut_short_is_run_once_more_and_says_so():
    cut = (0, SMI[1][: len(SMI[1]) // 2], "")
    host = Host(smi={"containerd": [cut, SMI]})
    outcome = verify(host, dict(OPTIONS, engines=["containerd"]), False, DEBIAN_12, "x86_64")
    runs = [call for call in host.calls if "run" in call]
    assert len(runs) == 2
    line = outcome["verdict"]["engines"]["containerd"]
    assert line["verdict"] == "pass" and line["gpu_count"] == 8
    assert "cut short" in line["detail"]["retried"]


def test_output_cut_short_twice_fails_the_engine_and_a_complete_answer_is_not_rerun():
    cut = (0, SMI[1][: len(SMI[1]) // 2], "")
    host = Host(smi={"podman": [cut, cut]})
    outcome = verify(host, dict(OPTIONS, engines=["podman"]), False, DEBIAN_12, "x86_64")
    line = outcome["verdict"]["engines"]["podman"]
    assert line["verdict"] == "fail" and line["error_kind"] == "parse_error"
    assert len([call for call in host.calls if "run" in call]) == 2
    whole = Host()
    verify(whole, dict(OPTIONS, engines=["podman"]), False, DEBIAN_12, "x86_64")
    assert len([call for call in whole.calls if "run" in call]) == 1
