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

from ansible_collections.gpufleet.containers.plugins.modules import kubelet_extra_args

USERS_FILE = '# ops team\nHTTP_PROXY=http://proxy:3128\nKUBELET_EXTRA_ARGS="--max-pods=110 --node-labels=team=ml"\n'
WANTED = {"taints": ["arm=true:NoSchedule"], "labels": {"zone": "a"}, "gpu_product": "NVIDIA A100-SXM4-80GB"}


@pytest.fixture
def run_module(monkeypatch, capsys, tmp_path):
    def run(args, check_mode=False, diff=False):
        # The module must run no command at all: it works on the file alone.
        def no_command(module, cmd, **kwargs):
            raise AssertionError("unexpected command %r" % (cmd,))

        monkeypatch.setattr(AnsibleModule, "run_command", no_command)
        module_args = dict(args, _ansible_remote_tmp=str(tmp_path / "remote_tmp"), _ansible_keep_remote_files=False)
        module_args.update(_ansible_check_mode=check_mode, _ansible_diff=diff)
        with patch_module_args(module_args), pytest.raises(SystemExit) as exited:
            kubelet_extra_args.main()
        result = json.loads(capsys.readouterr().out)
        result["_exit_code"] = exited.value.code
        return result

    return run


@pytest.fixture
def kubelet_default(tmp_path):
    path = tmp_path / "etc" / "default" / "kubelet"
    path.parent.mkdir(parents=True)
    path.write_text(USERS_FILE)
    os.chmod(str(path), 0o600)
    return path


def test_merge_keeps_the_users_file_and_mode(run_module, kubelet_default):
    result = run_module(dict(WANTED, path=str(kubelet_default)))
    assert result["changed"] is True
    assert result["args_before"] == ["--max-pods=110", "--node-labels=team=ml"]
    assert result["args"] == [
        "--max-pods=110",
        "--node-labels=team=ml,nvidia.com/gpu.present=true,nvidia.com/gpu.product=NVIDIA-A100-SXM4-80GB,zone=a",
        "--register-with-taints=arm=true:NoSchedule",
    ]
    assert kubelet_default.read_text() == USERS_FILE.replace(
        "team=ml", "team=ml,nvidia.com/gpu.present=true,nvidia.com/gpu.product=NVIDIA-A100-SXM4-80GB,zone=a"
    ).replace('"\n', ' --register-with-taints=arm=true:NoSchedule"\n')
    assert stat.S_IMODE(os.stat(str(kubelet_default)).st_mode) == 0o600


def test_second_run_leaves_the_file_alone(run_module, kubelet_default):
    run_module(dict(WANTED, path=str(kubelet_default)))
    before = os.stat(str(kubelet_default))
    result = run_module(dict(WANTED, path=str(kubelet_default)))
    after = os.stat(str(kubelet_default))
    assert result["changed"] is False and result["actions"] == []
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_check_mode_predicts_the_real_run_and_writes_nothing(run_module, kubelet_default):
    predicted = run_module(dict(WANTED, path=str(kubelet_default)), check_mode=True, diff=True)
    assert kubelet_default.read_text() == USERS_FILE
    real = run_module(dict(WANTED, path=str(kubelet_default)), diff=True)
    for key in ("changed", "args", "args_before", "actions", "diff"):
        assert predicted[key] == real[key]
    assert real["diff"]["before"] == USERS_FILE
    assert real["diff"]["after"] == kubelet_default.read_text()


def test_missing_file_is_created_0644(run_module, tmp_path):
    path = tmp_path / "new" / "kubelet"
    result = run_module({"path": str(path), "labels": {"zone": "a"}})
    assert result["changed"] is True
    assert path.read_text() == "KUBELET_EXTRA_ARGS=--node-labels=zone=a\n"
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o644


def test_absent_takes_out_only_ours(run_module, kubelet_default):
    run_module(dict(WANTED, path=str(kubelet_default)))
    result = run_module(dict(WANTED, path=str(kubelet_default), state="absent"))
    assert result["changed"] is True
    assert kubelet_default.read_text() == USERS_FILE


def test_file_the_kubelet_could_not_use_is_left_untouched(run_module, kubelet_default):
    broken = USERS_FILE.replace('team=ml"', "team=ml")
    kubelet_default.write_text(broken)
    result = run_module(dict(WANTED, path=str(kubelet_default)))
    assert result["failed"] is True and result["line"] == 3
    assert "never closed" in result["msg"] and "Fix: close the quote" in result["msg"]
    assert kubelet_default.read_text() == broken
    assert os.listdir(str(kubelet_default.parent)) == ["kubelet"]


def test_symbolic_link_is_written_through(run_module, kubelet_default, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(kubelet_default)
    run_module({"path": str(link), "labels": {"zone": "a"}})
    assert link.is_symlink()
    assert "zone=a" in kubelet_default.read_text()
