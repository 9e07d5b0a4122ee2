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


def leftovers_beside(path):
    """Files in the folder other than daemon.json itself: temporary files a failed run left behind."""
    return sorted(name for name in os.listdir(str(path.parent)) if name != path.name)


@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "real"])
@pytest.mark.parametrize("number", [float("inf"), float("nan")], ids=["inf", "nan"])
def test_yaml_inf_or_nan_is_refused_in_check_mode_too(run_module, daemon_json, check_mode, number):
    path = daemon_json(USER_FILE)
    result = run_module({"path": str(path), "settings": {"max-download-attempts": number}}, check_mode=check_mode)
    assert result["failed"] is True
    assert "settings.max-download-attempts" in result["msg"] and "not a finite number" in result["msg"]
    assert path.read_text() == USER_FILE
    assert leftovers_beside(path) == []


def test_lone_surrogate_escape_in_the_file_survives_a_rewrite(run_module, daemon_json):
    path = daemon_json('{"labels": ["a=\\ud800"]}\n')
    predicted = run_module({"path": str(path), "settings": {"debug": True}}, check_mode=True)
    real = run_module({"path": str(path), "settings": {"debug": True}})
    assert predicted["changed"] is real["changed"] is True
    assert '"a=\\ud800"' in path.read_text()
    assert json.loads(path.read_text()) == {"labels": ["a=\ud800"], "debug": True}
    assert leftovers_beside(path) == []


@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "real"])
def test_lone_surrogate_in_settings_is_refused_in_both_modes(run_module, daemon_json, check_mode):
    path = daemon_json(USER_FILE)
    result = run_module({"path": str(path), "settings": {"labels": ["a=\ud800"]}}, check_mode=check_mode)
    assert result["failed"] is True
    assert "settings.labels[0]" in result["msg"] and "U+D800" in result["msg"]
    assert path.read_text() == USER_FILE
    assert leftovers_beside(path) == []


def test_deeply_nested_file_fails_cleanly_and_stays_untouched(run_module, daemon_json):
    original = '{"a": ' + "[" * 50000 + "]" * 50000 + "}\n"
    path = daemon_json(original)
    result = run_module({"path": str(path), "settings": NVIDIA})
    assert result["failed"] is True
    assert "nested more than 100 levels" in result["msg"] and "line 1 column 106" in result["msg"]
    assert path.read_text() == original


def test_a_symlinked_file_is_written_through_and_the_link_kept(run_module, tmp_path):
    # As config management leaves it: /etc/docker/daemon.json -> a file kept elsewhere.
    target = tmp_path / "managed" / "daemon.json"
    target.parent.mkdir()
    target.write_text(USER_FILE)
    os.chmod(str(target), 0o640)
    link = tmp_path / "etc-docker" / "daemon.json"
    link.parent.mkdir()
    link.symlink_to(target)
    result = run_module({"path": str(link), "settings": NVIDIA, "backup": True})
    assert result["changed"] is True
    assert os.path.islink(str(link)) and os.readlink(str(link)) == str(target)
    assert json.loads(target.read_text()) == dict(json.loads(USER_FILE), **NVIDIA)
    assert stat.S_IMODE(os.stat(str(target)).st_mode) == 0o640
    assert read_bytes(result["backup_file"]).decode() == USER_FILE
    assert leftovers_beside(link) == []
    assert run_module({"path": str(link), "settings": NVIDIA})["changed"] is False


def test_a_dangling_symlink_whose_folder_is_missing_is_refused(run_module, tmp_path):
    link = tmp_path / "daemon.json"
    link.symlink_to(tmp_path / "gone" / "daemon.json")
    result = run_module({"path": str(link), "settings": NVIDIA})
    assert result["failed"] is True
    assert "symbolic link" in result["msg"] and str(tmp_path / "gone") in result["msg"]
    assert os.path.islink(str(link))


def test_an_unreadable_file_fails_with_the_fix(run_module, daemon_json, monkeypatch):
    # The tests run as root, who reads anything: the refusal a non-root user meets is simulated at open().
    path = daemon_json(USER_FILE)
    real_open = open

    def refusing_open(name, *args, **kwargs):
        if str(name) == str(path):
            raise PermissionError(13, "Permission denied", str(name))
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr(docker_daemon_config, "open", refusing_open, raising=False)
    result = run_module({"path": str(path), "settings": NVIDIA}, check_mode=True)
    assert result["failed"] is True
    assert "cannot read %s: Permission denied" % path in result["msg"]
    assert "become" in result["msg"]


def deny_writing_to(monkeypatch, folder):
    """What a non-root user meets in /etc/docker (0755 root), simulated for root, who may write anywhere."""
    real_access = os.access

    def access(path, mode, *args, **kwargs):
        if str(path) == str(folder) and mode & os.W_OK:
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(docker_daemon_config.os, "access", access)


@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "real"])
def test_an_unwritable_folder_fails_with_the_fix_in_both_modes(run_module, daemon_json, monkeypatch, check_mode):
    path = daemon_json(USER_FILE)
    deny_writing_to(monkeypatch, path.parent)
    result = run_module({"path": str(path), "settings": NVIDIA}, check_mode=check_mode)
    assert result["failed"] is True
    assert "cannot write %s" % path in result["msg"] and "become" in result["msg"]
    assert path.read_text() == USER_FILE
    assert leftovers_beside(path) == []


def test_a_folder_that_refuses_the_temporary_file_fails_with_the_fix(run_module, daemon_json, monkeypatch):
    # access() can say yes where creating a file still fails (an immutable folder, a read-only bind mount, SELinux).
    path = daemon_json(USER_FILE)
    real_mkstemp = docker_daemon_config.tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        if str(kwargs.get("dir")) == str(path.parent):
            raise PermissionError(13, "Permission denied", str(path.parent))
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(docker_daemon_config.tempfile, "mkstemp", mkstemp)
    result = run_module({"path": str(path), "settings": NVIDIA})
    assert result["failed"] is True
    assert result["msg"] == "cannot write %s: Permission denied; run the task as root (become: true)" % path
    assert path.read_text() == USER_FILE


def test_a_failed_rename_leaves_no_temporary_file(run_module, daemon_json, monkeypatch):
    path = daemon_json(USER_FILE)

    def refusing_rename(module, src, dest, *args, **kwargs):
        module.fail_json(msg="Could not replace file: %s to %s: [Errno 13] Permission denied" % (src, dest))

    monkeypatch.setattr(AnsibleModule, "atomic_move", refusing_rename)
    result = run_module({"path": str(path), "settings": NVIDIA})
    assert result["failed"] is True
    assert path.read_text() == USER_FILE
    assert leftovers_beside(path) == []


def test_the_new_content_is_synced_before_the_rename(run_module, daemon_json, monkeypatch):
    path = daemon_json(USER_FILE)
    events = []
    real_fsync, real_atomic_move = os.fsync, AnsibleModule.atomic_move

    def fsync(fd):
        events.append(("fsync", stat.S_ISDIR(os.fstat(fd).st_mode)))
        return real_fsync(fd)

    def atomic_move(module, src, dest, *args, **kwargs):
        with open(src) as staged:
            events.append(("rename", json.loads(staged.read()) == dict(json.loads(USER_FILE), **NVIDIA)))
        return real_atomic_move(module, src, dest, *args, **kwargs)

    monkeypatch.setattr(docker_daemon_config.os, "fsync", fsync)
    monkeypatch.setattr(AnsibleModule, "atomic_move", atomic_move)
    run_module({"path": str(path), "settings": NVIDIA})
    # The file's data reaches the disk before it takes daemon.json's name; then the folder's entry does.
    assert events == [("fsync", False), ("rename", True), ("fsync", True)]


def test_a_path_through_a_file_fails_without_a_misleading_hint(run_module, tmp_path):
    not_a_folder = tmp_path / "docker"
    not_a_folder.write_text("")
    result = run_module({"path": str(not_a_folder / "daemon.json"), "settings": NVIDIA}, check_mode=True)
    assert result["failed"] is True
    assert result["msg"] == "cannot look at %s: Not a directory" % (not_a_folder / "daemon.json")
