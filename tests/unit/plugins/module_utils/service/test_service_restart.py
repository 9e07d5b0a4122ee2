# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When an engine is restarted, and what a failed restart restores and says, in Docker's words and containerd's."""

import os

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.containerd.restart import CONTAINERD
from ansible_collections.gpufleet.containers.plugins.module_utils.docker.restart import DOCKER
from ansible_collections.gpufleet.containers.plugins.module_utils.service.restart import (
    daemon_said,
    decide_restart,
    failure_message,
    journal_cursor,
    parse_plugins_ls,
    parse_systemctl_show,
    plugin_lines,
    plugins_not_ok,
    restart_with_rollback,
    server_version,
)

# `systemctl show docker.service -p ...` on a Debian 12 test host, dockerd started 1000 s after boot.
RUNNING = parse_systemctl_show(
    "LoadState=loaded\nActiveState=active\nNeedDaemonReload=no\n"
    "ExecMainStartTimestampMonotonic=1000000000\nActiveEnterTimestampMonotonic=1000512000\n"
)
# The clocks read together: boot was at wall time 1_700_000_000, so dockerd started at 1_700_001_000.
WALL_NOW, MONO_NOW = 1_700_002_000.0, 2000.0
STARTED_WALL = 1_700_001_000.0
# dockerd's journal after a refused setting (Docker 20.10, `proxies` unknown to it).
REFUSED_JOURNAL = (
    "Starting Docker Application Container Engine...\n"
    "unable to configure the Docker daemon with file /etc/docker/daemon.json: the following directives don't match "
    "any configuration option: http-proxy\n"
    "docker.service: Main process exited, code=exited, status=1/FAILURE\n"
    "docker.service: Failed with result 'exit-code'.\n"
    "Failed to start Docker Application Container Engine.\n"
)


def test_nothing_changed_since_the_start_needs_no_restart():
    decision = decide_restart(RUNNING, {"/etc/docker/daemon.json": STARTED_WALL - 60}, WALL_NOW, MONO_NOW)
    assert (decision.needed, decision.reasons) == (False, [])


def test_a_file_changed_after_the_start_needs_a_restart_and_says_which():
    watched = {"/etc/docker/daemon.json": STARTED_WALL - 60, "/usr/bin/nvidia-container-runtime-hook": STARTED_WALL + 1}
    decision = decide_restart(RUNNING, watched, WALL_NOW, MONO_NOW, daemon="dockerd")
    assert decision.needed
    assert decision.reasons == ["/usr/bin/nvidia-container-runtime-hook changed after dockerd started"]


def test_a_missing_watched_file_is_ignored():
    assert not decide_restart(RUNNING, {"/usr/bin/nvidia-container-runtime-hook": None}, WALL_NOW, MONO_NOW).needed


def test_unit_files_systemd_has_not_loaded_need_a_restart():
    properties = dict(RUNNING, NeedDaemonReload="yes")
    decision = decide_restart(properties, {}, WALL_NOW, MONO_NOW)
    assert decision.needed and "unit files changed" in decision.reasons[0]


def test_a_stopped_service_needs_a_start():
    properties = dict(RUNNING, ActiveState="failed", ExecMainStartTimestampMonotonic="0")
    decision = decide_restart(properties, {"/etc/docker/daemon.json": WALL_NOW}, WALL_NOW, MONO_NOW)
    assert decision.needed and decision.reasons == ["the service is failed"]


def test_the_start_time_falls_back_to_active_enter():
    properties = dict(RUNNING, ExecMainStartTimestampMonotonic="")
    # ActiveEnter is 0.512 s after the main start: a file changed in between was read by the daemon.
    decision = decide_restart(properties, {"/etc/docker/daemon.json": STARTED_WALL + 0.2}, WALL_NOW, MONO_NOW)
    assert not decision.needed


@pytest.mark.parametrize("assume_changed", [True, False])
def test_without_the_unit_only_the_callers_prediction_counts(assume_changed):
    decision = decide_restart(
        {"LoadState": "not-found"}, {"/etc/docker/daemon.json": WALL_NOW}, WALL_NOW, MONO_NOW, assume_changed
    )
    assert decision.needed is assume_changed
    assert decision.unit_loaded is False


def test_check_modes_predicted_change_counts_where_the_files_cannot_show_it():
    decision = decide_restart(
        RUNNING, {"/etc/docker/daemon.json": STARTED_WALL - 60}, WALL_NOW, MONO_NOW, True, daemon="dockerd"
    )
    assert decision.needed and decision.reasons == ["earlier tasks would change what dockerd reads at start"]


def test_journal_cursor_and_what_dockerd_said():
    assert journal_cursor("-- cursor: s=abc;i=12\n") == "s=abc;i=12"
    assert journal_cursor("") == ""
    said = daemon_said(REFUSED_JOURNAL.splitlines(), DOCKER.error_line)
    # dockerd's own line; systemd's lines around it say only that it exited.
    assert said == REFUSED_JOURNAL.splitlines()[1]
    assert daemon_said(["a", "b"], DOCKER.error_line) == "a | b"
    assert "no lines" in daemon_said([], DOCKER.error_line)


def test_failure_messages_say_what_was_restored():
    said = "unable to configure the Docker daemon: x"
    assert failure_message(DOCKER, said, ["/etc/docker/daemon.json"], True) == (
        "Docker did not start with the new configuration. dockerd said: unable to configure the Docker daemon: x. "
        "daemon.json was restored to its content from before this play and Docker is running again with it. "
        "Fix the settings named above and run again."
    )
    assert "did not start with it either (Job failed)" in failure_message(
        DOCKER, said, ["/etc/docker/daemon.json"], False, "Job failed"
    )
    assert "nothing restored" in failure_message(DOCKER, said, None, False)


class FakeHost:
    """The host as the restart sees it: answers per command, records the order and the restore."""

    def __init__(self, restart_rcs, info_answers_after):
        self.restart_rcs = list(restart_rcs)
        self.info_answers_after = info_answers_after  # restarts done before `docker info` answers
        self.restarts = 0
        self.calls, self.restored, self.slept = [], [], 0

    def run(self, argv):
        self.calls.append(argv)
        if argv[:2] == ["systemctl", "restart"]:
            self.restarts += 1
            return (self.restart_rcs.pop(0), "", "Job for docker.service failed.\nSee journalctl.")
        if argv[0] == "docker":
            answers = self.info_answers_after is not None and self.restarts >= self.info_answers_after
            return (0, "20.10.24+dfsg1\n", "") if answers else (1, "", "Cannot connect to the Docker daemon")
        if argv[0] == "journalctl" and "--show-cursor" in argv:
            return (0, "-- cursor: s=1\n", "")
        if argv[0] == "journalctl":
            return (0, REFUSED_JOURNAL, "")
        return (0, "", "")

    def restore(self, previous):
        self.restored.append(previous)

    def sleep(self, seconds):
        self.slept += seconds


PREVIOUS = {
    "path": "/etc/docker/daemon.json",
    "exists": True,
    "content": "e30K",
    "mode": "0644",
    "owner": "root",
    "group": "root",
}


def test_a_good_restart_runs_exactly_these_commands():
    host = FakeHost([0], info_answers_after=1)
    outcome = restart_with_rollback(host, DOCKER, 60, [PREVIOUS])
    assert outcome["ok"] and outcome["server_version"] == "20.10.24+dfsg1"
    assert host.calls == [
        ["journalctl", "--unit=docker.service", "--lines=0", "--show-cursor", "--quiet"],
        ["systemctl", "daemon-reload"],
        ["systemctl", "restart", "docker.service"],
        ["docker", "info", "--format", "{{.ServerVersion}}"],
    ]
    assert host.restored == []


def test_a_refused_start_is_rolled_back_and_explained():
    # systemctl restart fails (dockerd exits), the rollback's start works.
    host = FakeHost([1, 0], info_answers_after=2)
    outcome = restart_with_rollback(host, DOCKER, 60, [PREVIOUS])
    assert not outcome["ok"] and outcome["rolled_back"]
    assert host.restored == [PREVIOUS]
    assert ["journalctl", "--unit=docker.service", "--no-pager", "--output=cat", "--after-cursor=s=1"] in host.calls
    assert host.calls[-3:] == [
        ["systemctl", "reset-failed", "docker.service"],
        ["systemctl", "restart", "docker.service"],
        ["docker", "info", "--format", "{{.ServerVersion}}"],
    ]
    assert "don't match any configuration option: http-proxy" in outcome["message"]
    assert "Docker is running again with it" in outcome["message"]


def test_a_daemon_that_never_answers_is_waited_for_then_rolled_back():
    host = FakeHost([0, 0], info_answers_after=None)
    outcome = restart_with_rollback(host, DOCKER, 6, [PREVIOUS])
    assert not outcome["ok"] and outcome["rolled_back"]
    # 6 s in steps of 2, after the restart and again after the rollback's start.
    assert host.slept == 12
    assert "did not start with it either (docker info did not answer)" in outcome["message"]


def test_a_rollback_start_that_fails_says_so():
    host = FakeHost([1, 1], info_answers_after=None)
    outcome = restart_with_rollback(host, DOCKER, 60, [PREVIOUS])
    assert "did not start with it either (Job for docker.service failed.)" in outcome["message"]


def test_without_a_previous_file_nothing_is_restored():
    host = FakeHost([1], info_answers_after=None)
    outcome = restart_with_rollback(host, DOCKER, 60, [])
    assert not outcome["rolled_back"] and host.restored == [] and outcome["restored"] == []
    assert "nothing restored" in outcome["message"]
    assert ["systemctl", "reset-failed", "docker.service"] not in host.calls


# containerd 1.6.20 (Debian 12) started by hand on a config.toml with `max_concurrent_downloads = "three"` under the
# CRI plugin: its whole output up to the exit, as journalctl --output=cat shows it for containerd.service.
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "containerd", "fixtures")
with open(os.path.join(FIXTURES, "journal_refused_start_1.6.20.txt")) as _handle:
    CONTAINERD_REFUSED_JOURNAL = _handle.read()
# `ctr version` against a running containerd 1.6.20.
CTR_VERSION = (
    "Client:\n  Version:  1.6.20~ds1\n  Revision: 1.6.20~ds1-1+deb12u3\n  Go version: go1.19.8\n\n"
    "Server:\n  Version:  1.6.20~ds1\n  Revision: 1.6.20~ds1-1+deb12u3\n  UUID: 5b7a\n"
)


def test_containerds_own_error_line_is_picked_from_its_journal():
    said = daemon_said(CONTAINERD_REFUSED_JOURNAL.splitlines(), CONTAINERD.error_line)
    # Not the level=warning "failed to load plugin ... devmapper" line it logs on every start.
    assert said == "containerd: (7, 3): Can't convert three(string) to int"


def test_the_server_version_is_read_from_ctr_version_and_dockers_first_line():
    assert server_version(CTR_VERSION) == "1.6.20~ds1"
    assert server_version("20.10.24+dfsg1\n") == "20.10.24+dfsg1"


def test_containerds_reasons_name_containerd():
    decision = decide_restart(
        RUNNING, {"/etc/containerd/conf.d/99-nvidia.toml": STARTED_WALL + 5}, WALL_NOW, MONO_NOW, daemon="containerd"
    )
    assert decision.reasons == ["/etc/containerd/conf.d/99-nvidia.toml changed after containerd started"]


class FakeContainerdHost(FakeHost):
    def run(self, argv):
        if argv[0] == "ctr":
            self.calls.append(argv)
            answers = self.info_answers_after is not None and self.restarts >= self.info_answers_after
            return (0, CTR_VERSION, "") if answers else (1, "", "ctr: failed to dial")
        if argv[0] == "journalctl" and "--show-cursor" not in argv:
            self.calls.append(argv)
            return (0, CONTAINERD_REFUSED_JOURNAL, "")
        return FakeHost.run(self, argv)


def test_a_refused_containerd_start_restores_both_files_and_says_so():
    config = {"path": "/etc/containerd/config.toml", "exists": True, "content": "dmVyc2lvbiA9IDIK"}
    dropin = {"path": "/etc/containerd/conf.d/99-nvidia.toml", "exists": False}
    host = FakeContainerdHost([1, 0], info_answers_after=2)
    outcome = restart_with_rollback(host, CONTAINERD, 60, [config, dropin])
    assert host.restored == [config, dropin]
    assert outcome["restored"] == ["/etc/containerd/config.toml", "/etc/containerd/conf.d/99-nvidia.toml"]
    assert outcome["message"] == (
        "containerd did not start with the new configuration. containerd said: "
        "containerd: (7, 3): Can't convert three(string) to int. "
        "config.toml and 99-nvidia.toml were restored to their content from before this play and containerd is "
        "running again with them. Fix the settings named above and run again."
    )
    assert host.calls[-3:] == [
        ["systemctl", "reset-failed", "containerd.service"],
        ["systemctl", "restart", "containerd.service"],
        ["ctr", "version"],
    ]


def test_a_containerd_that_never_answers_says_which_command_did_not():
    host = FakeContainerdHost([0, 0], info_answers_after=None)
    dropin = {"path": "/etc/containerd/conf.d/99-nvidia.toml", "exists": False}
    outcome = restart_with_rollback(host, CONTAINERD, 2, [dropin])
    assert (
        "did not start with it either (ctr version did not answer): see journalctl -u containerd.service"
        in (outcome["message"])
    )


# `ctr --address <sock> plugins ls` against a containerd 1.6.20 started by hand (own root, state and socket), with a
# valid configuration and with `stream_idle_timeout = "bogus"` under the CRI plugin, which `containerd config dump`
# accepts; its log (as journalctl --output=cat shows containerd.service's) from the latter start.
def _fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


PLUGINS_OK = _fixture("ctr_plugins_ls_cri_ok_1.6.20.txt")
PLUGINS_CRI_ERROR = _fixture("ctr_plugins_ls_cri_error_1.6.20.txt")
CRI_FAILED_JOURNAL = _fixture("journal_cri_failed_1.6.20.txt")
CRI = ["io.containerd.grpc.v1.cri"]
CRI_SAID = (
    'level=warning msg="failed to load plugin io.containerd.grpc.v1.cri" error="invalid plugin config: invalid '
    'stream idle timeout: time: invalid duration \\"bogus\\""'
)


def test_ctrs_plugin_list_is_read_and_the_cri_plugins_status_named():
    rows = parse_plugins_ls(PLUGINS_CRI_ERROR)
    assert len(rows) == 38
    assert {"type": "io.containerd.grpc.v1", "id": "cri", "platforms": "linux/amd64", "status": "error"} in rows
    assert plugins_not_ok(rows, CRI) == ["io.containerd.grpc.v1.cri (error)"]
    assert plugins_not_ok(parse_plugins_ls(PLUGINS_OK), CRI) == []
    # A type names all its plugins (containerd 2.x splits CRI into io.containerd.cri.v1 images and runtime).
    assert plugins_not_ok(rows, ["io.containerd.snapshotter.v1"]) == [
        "io.containerd.snapshotter.v1.aufs (skip)",
        "io.containerd.snapshotter.v1.btrfs (skip)",
        "io.containerd.snapshotter.v1.devmapper (error)",
        "io.containerd.snapshotter.v1.zfs (skip)",
    ]
    assert plugins_not_ok(rows, ["io.containerd.cri.v1"]) == ["io.containerd.cri.v1 (not listed)"]


def test_the_cri_plugins_warning_is_picked_not_devmappers():
    said = plugin_lines(CRI_FAILED_JOURNAL.splitlines(), CRI)
    assert said.endswith(CRI_SAID) and "devmapper" not in said


class FakeContainerdWithPlugins(FakeContainerdHost):
    """containerd that answers `ctr version` every time and lists its plugins from `lists` in turn."""

    def __init__(self, lists):
        FakeContainerdHost.__init__(self, [0, 0], info_answers_after=0)
        self.lists = list(lists)

    def run(self, argv):
        if argv[:3] == ["ctr", "plugins", "ls"]:
            self.calls.append(argv)
            return (0, self.lists.pop(0), "")
        if argv[0] == "journalctl" and "--show-cursor" not in argv:
            self.calls.append(argv)
            return (0, CRI_FAILED_JOURNAL, "")
        return FakeContainerdHost.run(self, argv)


def test_a_containerd_back_without_its_cri_plugin_is_rolled_back_with_the_plugins_words():
    config = {"path": "/etc/containerd/config.toml", "exists": True, "content": "dmVyc2lvbiA9IDIK"}
    dropin = {"path": "/etc/containerd/conf.d/99-nvidia.toml", "exists": False}
    host = FakeContainerdWithPlugins([PLUGINS_CRI_ERROR, PLUGINS_OK])
    outcome = restart_with_rollback(host, CONTAINERD, 60, [config, dropin], expect_plugins=CRI)
    assert not outcome["ok"] and outcome["rolled_back"] and host.restored == [config, dropin]
    assert outcome["missing_plugins"] == ["io.containerd.grpc.v1.cri (error)"]
    assert outcome["message"].startswith(
        "containerd started with the new configuration but without io.containerd.grpc.v1.cri (error). containerd "
        "said: time="
    )
    assert CRI_SAID in outcome["message"]
    assert "containerd is running again with them" in outcome["message"]
    assert host.calls[-4:] == [
        ["systemctl", "reset-failed", "containerd.service"],
        ["systemctl", "restart", "containerd.service"],
        ["ctr", "version"],
        ["ctr", "plugins", "ls"],
    ]


def test_a_rollback_that_also_lacks_the_plugin_says_so():
    dropin = {"path": "/etc/containerd/conf.d/99-nvidia.toml", "exists": False}
    host = FakeContainerdWithPlugins([PLUGINS_CRI_ERROR, PLUGINS_CRI_ERROR])
    outcome = restart_with_rollback(host, CONTAINERD, 60, [dropin], expect_plugins=CRI)
    assert (
        "did not start with it either (it came back without io.containerd.grpc.v1.cri (error))" in (outcome["message"])
    )


def test_a_containerd_with_its_plugins_is_a_good_restart_and_docker_never_lists_plugins():
    host = FakeContainerdWithPlugins([PLUGINS_OK])
    outcome = restart_with_rollback(host, CONTAINERD, 60, [], expect_plugins=CRI)
    assert outcome["ok"] and host.calls[-2:] == [["ctr", "version"], ["ctr", "plugins", "ls"]]
    # Without expect_plugins containerd's restart reads no plugin list, as before.
    host = FakeContainerdWithPlugins([])
    assert restart_with_rollback(host, CONTAINERD, 60, [])["ok"]
    assert ["ctr", "plugins", "ls"] not in host.calls
    with pytest.raises(ValueError):
        restart_with_rollback(FakeHost([0], info_answers_after=1), DOCKER, 60, [], expect_plugins=CRI)
