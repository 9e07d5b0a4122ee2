# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""engine_restart as a task runs it: check mode restarts nothing, the rollback puts the files back byte for byte.

The Docker cases are docker_restart's (it redirects here, with Docker's defaults); containerd's follow."""

import base64
import os
import time

from ansible.module_utils import basic
from fake_commands import run_main

from ansible_collections.gpufleet.containers.plugins.modules import engine_restart


class Systemd:
    """systemctl, journalctl and docker as seen by the module; dockerd started `started_ago` seconds ago."""

    def __init__(self, started_ago, restart_rcs=(0,), loaded=True):
        self.started_ago = started_ago
        self.restart_rcs = list(restart_rcs)
        self.loaded = loaded
        self.running = loaded
        self.calls = []

    def install(self, monkeypatch):
        monkeypatch.setattr(basic.AnsibleModule, "run_command", self.run_command)

    def run_command(self, argv, **kwargs):
        self.calls.append(argv)
        if argv[:2] == ["systemctl", "show"]:
            if not self.loaded:
                return 0, "LoadState=not-found\nActiveState=inactive\nNeedDaemonReload=no\n", ""
            started = int((time.monotonic() - self.started_ago) * 1e6)
            return 0, "LoadState=loaded\nActiveState=active\nExecMainStartTimestampMonotonic=%d\n" % started, ""
        if argv[:2] == ["systemctl", "restart"]:
            self.running = self.restart_rcs.pop(0) == 0
            return (0 if self.running else 1), "", "Job for docker.service failed."
        if argv[0] == "docker":
            return (0, "20.10.24\n", "") if self.running else (1, "", "Cannot connect")
        if argv[0] == "ctr":
            return (0, "Server:\n  Version:  1.6.20~ds1\n", "") if self.running else (1, "", "ctr: failed to dial")
        if argv[0] == "journalctl" and "--show-cursor" in argv:
            return 0, "-- cursor: s=9\n", ""
        if argv[0] == "journalctl":
            return 0, 'level=fatal msg="unable to configure the Docker daemon: bad"\n', ""
        return 0, "", ""

    def mutating(self):
        return [call for call in self.calls if call[:2] != ["systemctl", "show"]]


def write(path, text):
    with open(path, "w") as handle:
        handle.write(text)


def test_check_mode_predicts_a_restart_for_a_file_changed_since_the_start_and_runs_nothing(
    tmp_path, monkeypatch, capsys
):
    daemon_json = str(tmp_path / "daemon.json")
    write(daemon_json, "{}")
    systemd = Systemd(started_ago=3600)
    systemd.install(monkeypatch)
    result = run_main(engine_restart, {"watch": [daemon_json], "_ansible_check_mode": True}, capsys)
    assert result["changed"] and result["restarted"]
    assert result["reasons"] == ["%s changed after dockerd started" % daemon_json]
    assert systemd.mutating() == []


def test_a_file_older_than_the_daemon_needs_nothing(tmp_path, monkeypatch, capsys):
    daemon_json = str(tmp_path / "daemon.json")
    write(daemon_json, "{}")
    os.utime(daemon_json, (time.time() - 7200, time.time() - 7200))
    # ctime cannot be set back; a daemon started after it (in the future of the file's creation) is current.
    systemd = Systemd(started_ago=-5)
    systemd.install(monkeypatch)
    result = run_main(engine_restart, {"watch": [daemon_json]}, capsys)
    assert (result["changed"], result["reasons"], systemd.mutating()) == (False, [], [])


def test_a_refused_start_restores_the_previous_file_and_fails_with_dockerds_words(tmp_path, monkeypatch, capsys):
    daemon_json = str(tmp_path / "daemon.json")
    previous_bytes = b'{\n  "log-driver": "local"\n}\n'
    write(daemon_json, '{"proxies": {}}')
    systemd = Systemd(started_ago=3600, restart_rcs=(1, 0))
    systemd.install(monkeypatch)
    previous = {"exists": True, "content": base64.b64encode(previous_bytes).decode(), "mode": "0640"}
    result = run_main(
        engine_restart, {"watch": [daemon_json], "config_path": daemon_json, "previous": previous}, capsys
    )
    assert result["failed"] and result["rolled_back"]
    assert result["error_kind"] == "docker_restart_failed"
    assert "unable to configure the Docker daemon: bad" in result["msg"]
    assert "restored to its content from before this play and Docker is running again" in result["msg"]
    with open(daemon_json, "rb") as handle:
        assert handle.read() == previous_bytes
    assert oct(os.stat(daemon_json).st_mode & 0o777) == "0o640"
    assert sorted(os.listdir(str(tmp_path))) == ["daemon.json"]


def test_a_file_that_did_not_exist_before_is_removed_on_rollback(tmp_path, monkeypatch, capsys):
    daemon_json = str(tmp_path / "daemon.json")
    write(daemon_json, '{"proxies": {}}')
    Systemd(started_ago=3600, restart_rcs=(1, 0)).install(monkeypatch)
    result = run_main(
        engine_restart, {"watch": [daemon_json], "config_path": daemon_json, "previous": {"exists": False}}, capsys
    )
    assert result["failed"] and result["rolled_back"]
    assert not os.path.exists(daemon_json)


def test_check_mode_before_docker_exists_follows_the_callers_prediction(tmp_path, monkeypatch, capsys):
    systemd = Systemd(started_ago=0, loaded=False)
    systemd.install(monkeypatch)
    args = {"watch": [str(tmp_path / "none")], "_ansible_check_mode": True, "assume_changed": True}
    assert run_main(engine_restart, args, capsys)["changed"] is True
    args["assume_changed"] = False
    assert run_main(engine_restart, args, capsys)["changed"] is False
    assert systemd.mutating() == []


def test_a_unit_name_that_is_an_option_is_refused(monkeypatch, capsys):
    systemd = Systemd(started_ago=0)
    systemd.install(monkeypatch)
    result = run_main(engine_restart, {"service": "--now"}, capsys)
    assert result["failed"] and "starts with '-'" in result["msg"]
    assert systemd.calls == []


def test_a_predicted_change_counts_only_in_check_mode(tmp_path, monkeypatch, capsys):
    systemd = Systemd(started_ago=-5)
    systemd.install(monkeypatch)
    args = {"watch": [str(tmp_path / "none")], "assume_changed": True}
    assert run_main(engine_restart, dict(args, _ansible_check_mode=True), capsys)["changed"] is True
    assert run_main(engine_restart, args, capsys)["changed"] is False
    assert systemd.mutating() == []


def test_containerd_rollback_restores_the_config_and_removes_a_new_dropin(tmp_path, monkeypatch, capsys):
    config = tmp_path / "config.toml"
    dropin = tmp_path / "conf.d" / "99-nvidia.toml"
    dropin.parent.mkdir()
    config.write_text('version = 2\nimports = ["%s/*.toml"]\n' % dropin.parent)
    dropin.write_text("version = 2\n")
    previous_config = b"version = 2\n# the user's comment\n"
    systemd = Systemd(started_ago=3600, restart_rcs=(1, 0))
    systemd.install(monkeypatch)
    restore = [
        {"path": str(config), "exists": True, "content": base64.b64encode(previous_config).decode(), "mode": "0644"},
        {"path": str(dropin), "exists": False},
    ]
    args = {"engine": "containerd", "watch": [str(config), str(dropin)], "restore": restore}
    result = run_main(engine_restart, args, capsys)
    assert result["failed"] and result["rolled_back"]
    assert result["error_kind"] == "containerd_restart_failed"
    assert result["restored"] == [str(config), str(dropin)]
    assert "containerd is running again with them" in result["msg"]
    assert config.read_bytes() == previous_config
    assert not dropin.exists()
    assert ["systemctl", "restart", "containerd.service"] in systemd.calls
    assert ["ctr", "version"] in systemd.calls


def test_containerd_comes_back_with_its_server_version(tmp_path, monkeypatch, capsys):
    config = tmp_path / "config.toml"
    config.write_text("version = 2\n")
    Systemd(started_ago=3600).install(monkeypatch)
    result = run_main(engine_restart, {"engine": "containerd", "watch": [str(config)]}, capsys)
    assert result["changed"] and result["server_version"] == "1.6.20~ds1"
    assert result["reasons"] == ["%s changed after containerd started" % config]


def test_a_file_to_restore_without_content_is_refused_before_anything_runs(monkeypatch, capsys):
    systemd = Systemd(started_ago=0)
    systemd.install(monkeypatch)
    result = run_main(engine_restart, {"restore": [{"path": "/etc/x", "exists": True}]}, capsys)
    assert result["failed"] and "content" in result["msg"]
    assert systemd.calls == []


def test_the_docker_restart_name_redirects_here():
    import yaml

    with open(os.path.join(os.path.dirname(engine_restart.__file__), "..", "..", "meta", "runtime.yml")) as handle:
        routing = yaml.safe_load(handle)["plugin_routing"]["modules"]
    assert routing["docker_restart"] == {"redirect": "gpufleet.containers.engine_restart"}


# --- containerd's CRI plugin must load (expect_plugins) ---------------------------------------------------------------

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "module_utils", "containerd", "fixtures")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


class ContainerdWithPlugins(Systemd):
    """containerd that runs after every restart; `ctr plugins ls` answers from `lists` in turn (real 1.6.20 output)."""

    def __init__(self, started_ago, lists):
        Systemd.__init__(self, started_ago, restart_rcs=(0, 0))
        self.lists = list(lists)

    def run_command(self, argv, **kwargs):
        if argv[-2:] == ["plugins", "ls"]:
            self.calls.append(argv)
            return 0, self.lists.pop(0), ""
        if argv[0] == "journalctl" and "--show-cursor" not in argv:
            self.calls.append(argv)
            return 0, fixture("journal_cri_failed_1.6.20.txt"), ""
        return Systemd.run_command(self, argv, **kwargs)


def test_containerd_back_without_cri_is_rolled_back_with_the_plugins_warning(tmp_path, monkeypatch, capsys):
    dropin = tmp_path / "99-nvidia.toml"
    dropin.write_text('version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  stream_idle_timeout = "bogus"\n')
    systemd = ContainerdWithPlugins(
        3600, [fixture("ctr_plugins_ls_cri_error_1.6.20.txt"), fixture("ctr_plugins_ls_cri_ok_1.6.20.txt")]
    )
    systemd.install(monkeypatch)
    args = {
        "engine": "containerd",
        "watch": [str(dropin)],
        "restore": [{"path": str(dropin), "exists": False}],
        "expect_plugins": ["io.containerd.grpc.v1.cri"],
    }
    result = run_main(engine_restart, args, capsys)
    assert result["failed"] and result["rolled_back"] and not dropin.exists()
    assert result["missing_plugins"] == ["io.containerd.grpc.v1.cri (error)"]
    assert result["error_kind"] == "containerd_restart_failed"
    assert (
        'failed to load plugin io.containerd.grpc.v1.cri" error="invalid plugin config: invalid stream'
        in (result["msg"])
    )
    assert "containerd is running again with it" in result["msg"]
    assert systemd.calls.count(["ctr", "plugins", "ls"]) == 2


def test_check_mode_and_no_restart_never_list_plugins(tmp_path, monkeypatch, capsys):
    config = tmp_path / "config.toml"
    config.write_text("version = 2\n")
    args = {"engine": "containerd", "watch": [str(config)], "expect_plugins": ["io.containerd.grpc.v1.cri"]}
    systemd = ContainerdWithPlugins(3600, [])
    systemd.install(monkeypatch)
    assert run_main(engine_restart, dict(args, _ansible_check_mode=True), capsys)["restarted"]
    systemd = ContainerdWithPlugins(0, [])  # started just now: nothing changed since
    systemd.install(monkeypatch)
    assert run_main(engine_restart, args, capsys)["restarted"] is False
    assert systemd.mutating() == []


def test_the_plugin_list_asks_the_same_socket_as_the_ready_command(tmp_path, monkeypatch, capsys):
    config = tmp_path / "config.toml"
    config.write_text("version = 2\n")
    systemd = ContainerdWithPlugins(3600, [fixture("ctr_plugins_ls_cri_ok_1.6.20.txt")])
    systemd.install(monkeypatch)
    args = {
        "engine": "containerd",
        "watch": [str(config)],
        "expect_plugins": ["io.containerd.grpc.v1.cri"],
        "ready_command": ["ctr", "--address", "/run/k8s/containerd.sock", "version"],
    }
    assert run_main(engine_restart, args, capsys)["server_version"] == "1.6.20~ds1"
    assert systemd.calls[-1] == ["ctr", "--address", "/run/k8s/containerd.sock", "plugins", "ls"]


def test_expect_plugins_for_docker_is_refused_before_anything_runs(monkeypatch, capsys):
    systemd = Systemd(started_ago=0)
    systemd.install(monkeypatch)
    result = run_main(engine_restart, {"expect_plugins": ["io.containerd.grpc.v1.cri"]}, capsys)
    assert result["failed"] and "expect_plugins is for containerd" in result["msg"]
    assert systemd.calls == []
