# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.gpufleet.containers.plugins.modules import docker_daemon_config

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "daemon_json")
NVIDIA = {"runtimes": {"nvidia": {"path": "nvidia-container-runtime", "args": []}}}
SYSTEMCTL = "/usr/bin/systemctl"
DOCKERD = "/usr/sbin/dockerd"
SHOW_EXEC_START = [SYSTEMCTL, "show", "-p", "ExecStart", "--value", "docker.service"]


def read_bytes(path):
    with open(path, "rb") as handle:
        return handle.read()


DEBIAN_EXEC_START = read_bytes(os.path.join(FIXTURES, "systemctl-show-execstart-debian12-docker.io.txt")).decode()
DOCKERD_20 = "Docker version 20.10.24+dfsg1, build 5d6db84\n"  # real, Debian 12
DOCKERD_27 = "Docker version 27.5.1, build 4c9b3b0\n"  # synthetic, same format


class Host:
    """The commands a module run may make, answered from a table; every call is recorded."""

    def __init__(self, answers, binaries=(SYSTEMCTL, DOCKERD)):
        self.answers = answers
        self.binaries = {os.path.basename(path): path for path in binaries}
        self.calls = []

    def run_command(self, module, cmd, **kwargs):
        self.calls.append(list(cmd))
        for prefix, answer in self.answers:
            if list(cmd[: len(prefix)]) == prefix:
                return answer
        raise AssertionError("unexpected command %r" % (cmd,))


@pytest.fixture
def run_module(monkeypatch, capsys, tmp_path):
    def run(args, host=None, check_mode=False, diff=False):
        host = host or Host(
            [(SHOW_EXEC_START, (0, DEBIAN_EXEC_START, "")), ([DOCKERD, "--version"], (0, DOCKERD_20, ""))]
        )

        def run_command(module, cmd, **kwargs):
            return host.run_command(module, cmd, **kwargs)

        # Recorded here: whether ansible-core puts warnings into the module's JSON depends on what else this
        # process imported (with the controller's ansible.errors loaded, 2.19 routes them elsewhere).
        warnings = []
        original_warn = AnsibleModule.warn

        def warn(module, warning, *args, **kwargs):
            warnings.append(warning)
            return original_warn(module, warning, *args, **kwargs)

        monkeypatch.setattr(AnsibleModule, "run_command", run_command)
        monkeypatch.setattr(AnsibleModule, "get_bin_path", lambda self, name, *a, **kw: host.binaries.get(name))
        monkeypatch.setattr(AnsibleModule, "warn", warn)
        module_args = dict(args, _ansible_remote_tmp=str(tmp_path / "remote_tmp"), _ansible_keep_remote_files=False)
        module_args["_ansible_check_mode"] = check_mode
        module_args["_ansible_diff"] = diff
        with patch_module_args(module_args), pytest.raises(SystemExit) as exited:
            docker_daemon_config.main()
        result = json.loads(capsys.readouterr().out)
        result["_exit_code"] = exited.value.code
        result["_calls"] = host.calls
        result["_warnings"] = warnings
        return result

    return run


@pytest.fixture
def daemon_json(tmp_path):
    def write(content, mode=0o600):
        path = tmp_path / "etc" / "docker" / "daemon.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        os.chmod(str(path), mode)
        return path

    return write


USER_FILE = '{\n  "log-driver": "json-file",\n  "log-opts": {"max-size": "50m", "max-file": "5"}\n}\n'


def test_merge_keeps_user_keys_mode_and_reports_before_after(run_module, daemon_json):
    path = daemon_json(USER_FILE, mode=0o600)
    result = run_module({"path": str(path), "settings": NVIDIA})
    assert result["changed"] is True
    on_disk = json.loads(path.read_text())
    assert on_disk == dict(json.loads(USER_FILE), **NVIDIA)
    assert result["before"] == json.loads(USER_FILE)
    assert result["after"] == on_disk
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert result["validation"] == "skipped: dockerd 20.10.24+dfsg1 has no --validate"
    assert result["dockerd_flags"][:3] == ["/usr/sbin/dockerd", "-H", "fd://"]
    assert "$DOCKER_OPTS" in json.dumps(result["_warnings"])


def test_second_run_is_unchanged_and_does_not_touch_the_file(run_module, daemon_json):
    path = daemon_json(USER_FILE)
    run_module({"path": str(path), "settings": NVIDIA})
    inode, mtime = os.stat(str(path)).st_ino, os.stat(str(path)).st_mtime_ns
    result = run_module({"path": str(path), "settings": NVIDIA})
    assert result["changed"] is False
    assert (os.stat(str(path)).st_ino, os.stat(str(path)).st_mtime_ns) == (inode, mtime)
    assert [DOCKERD, "--version"] not in result["_calls"]


def test_check_mode_writes_nothing_and_predicts_the_real_run(run_module, daemon_json):
    path = daemon_json(USER_FILE)
    predicted = run_module({"path": str(path), "settings": NVIDIA}, check_mode=True, diff=True)
    assert path.read_text() == USER_FILE
    real = run_module({"path": str(path), "settings": NVIDIA}, diff=True)
    for key in ("changed", "before", "after", "diff"):
        assert predicted[key] == real[key]
    assert real["diff"]["before"] == USER_FILE
    assert real["diff"]["after"] == path.read_text()


def test_missing_file_is_created_0644_with_its_directory(run_module, tmp_path):
    path = tmp_path / "fresh" / "docker" / "daemon.json"
    host = Host([(SHOW_EXEC_START, (0, "\n", ""))], binaries=(SYSTEMCTL,))
    result = run_module({"path": str(path), "settings": {"bridge": "none", "iptables": False}}, host=host)
    assert result["changed"] is True
    assert result["before"] == {}
    assert json.loads(path.read_text()) == {"bridge": "none", "iptables": False}
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o644
    assert result["validation"] == "skipped: dockerd not found"


def test_missing_file_with_nothing_to_set_stays_missing(run_module, tmp_path):
    path = tmp_path / "daemon.json"
    result = run_module({"path": str(path)})
    assert result["changed"] is False
    assert not path.exists()


def test_empty_file_is_rewritten_because_dockerd_20_refuses_it(run_module, daemon_json):
    path = daemon_json("")
    assert run_module({"path": str(path)})["changed"] is True
    assert path.read_text() == "{}\n"
    assert run_module({"path": str(path)})["changed"] is False


@pytest.mark.parametrize("name, where", [("junk-trailing-comma.json", (4, 1)), ("array.json", (1, 1))])
def test_broken_file_fails_with_position_and_stays_byte_identical(run_module, daemon_json, name, where):
    original = read_bytes(os.path.join(FIXTURES, name))
    path = daemon_json(original)
    result = run_module({"path": str(path), "settings": NVIDIA})
    assert result["failed"] is True
    assert (result["line"], result["column"]) == where
    assert "line %d column %d" % where in result["msg"]
    assert path.read_bytes() == original


def test_hosts_refused_while_systemd_passes_H(run_module, daemon_json):
    path = daemon_json(USER_FILE)
    result = run_module({"path": str(path), "settings": {"hosts": ["tcp://127.0.0.1:2375"]}})
    assert result["failed"] is True
    assert "hosts is set in the file and also as a dockerd flag" in result["msg"]
    assert path.read_text() == USER_FILE


def test_given_flags_replace_the_unit(run_module, daemon_json):
    path = daemon_json(USER_FILE)
    host = Host([([DOCKERD, "--version"], (0, DOCKERD_20, ""))])
    result = run_module(
        {"path": str(path), "settings": {"hosts": ["unix:///run/docker.sock"]}, "dockerd_flags": []}, host
    )
    assert result["changed"] is True
    assert SHOW_EXEC_START not in result["_calls"]


def test_yaml_number_in_log_opts_is_refused_with_a_hint(run_module, daemon_json):
    path = daemon_json(USER_FILE)
    result = run_module({"path": str(path), "settings": {"log-opts": {"max-file": 3}}})
    assert result["failed"] is True
    assert 'quote it, e.g. "3"' in result["msg"]
    assert path.read_text() == USER_FILE


def test_new_dockerd_validates_the_candidate_before_writing(run_module, daemon_json):
    path = daemon_json(USER_FILE)
    validate = [DOCKERD, "--validate", "--config-file"]
    host = Host(
        [
            (SHOW_EXEC_START, (0, DEBIAN_EXEC_START, "")),
            ([DOCKERD, "--version"], (0, DOCKERD_27, "")),
            (validate, (0, "configuration OK\n", "")),
        ]
    )
    result = run_module({"path": str(path), "settings": NVIDIA}, host=host)
    assert result["validation"] == "passed: dockerd 27.5.1 --validate (configuration OK)"
    validated = [call for call in result["_calls"] if call[:3] == validate][0]
    assert validated[3] != str(path)


def test_validation_failure_leaves_the_file_alone(run_module, daemon_json):
    path = daemon_json(USER_FILE)
    refusal = "unable to configure the Docker daemon with file F: the following directives don't match: nope\n"
    host = Host(
        [
            (SHOW_EXEC_START, (0, DEBIAN_EXEC_START, "")),
            ([DOCKERD, "--version"], (0, DOCKERD_27, "")),
            ([DOCKERD, "--validate"], (1, "", refusal)),
        ]
    )
    result = run_module({"path": str(path), "settings": {"nope": True}}, host=host)
    assert result["failed"] is True
    assert result["rc"] == 1 and result["stderr"] == refusal
    assert path.read_text() == USER_FILE


def test_check_mode_runs_only_read_only_commands(run_module, daemon_json):
    path = daemon_json(USER_FILE)
    host = Host(
        [
            (SHOW_EXEC_START, (0, DEBIAN_EXEC_START, "")),
            ([DOCKERD, "--version"], (0, DOCKERD_27, "")),
            ([DOCKERD, "--validate", "--config-file"], (0, "configuration OK\n", "")),
        ]
    )
    result = run_module({"path": str(path), "settings": NVIDIA}, host=host, check_mode=True)
    assert [call[:3] for call in result["_calls"]] == [
        SHOW_EXEC_START[:3],
        [DOCKERD, "--version"],
        [DOCKERD, "--validate", "--config-file"],
    ]
    assert path.read_text() == USER_FILE


def test_backup_keeps_the_previous_bytes(run_module, daemon_json):
    path = daemon_json(USER_FILE)
    result = run_module({"path": str(path), "settings": NVIDIA, "backup": True})
    assert read_bytes(result["backup_file"]).decode() == USER_FILE


def test_remove_and_validate_off(run_module, daemon_json):
    path = daemon_json(read_bytes(os.path.join(FIXTURES, "nvidia-ctk-default-cdi.json")))
    result = run_module({"path": str(path), "remove": ["default-runtime", ["features", "cdi"]], "validate": False})
    assert result["validation"] == "skipped: validate=false"
    assert json.loads(path.read_text()) == {
        "features": {},
        "log-driver": "journald",
        "runtimes": {"nvidia": {"args": [], "path": "nvidia-container-runtime"}},
    }
