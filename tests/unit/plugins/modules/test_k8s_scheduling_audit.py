# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The k8s_scheduling_audit module over the fixture cluster: options in, result out, fail_on, check mode."""

import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.gpufleet.containers.plugins.modules import k8s_scheduling_audit

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "kubernetes")


def run(capsys, tmp_path, check_mode=False, **args):
    with open(os.path.join(FIXTURES, "image-platforms.json")) as handle:
        args.setdefault("image_platforms", json.load(handle))
    module_args = dict(args, _ansible_remote_tmp=str(tmp_path), _ansible_keep_remote_files=False)
    module_args["_ansible_check_mode"] = check_mode
    with patch_module_args(module_args), pytest.raises(SystemExit) as exited:
        k8s_scheduling_audit.main()
    result = json.loads(capsys.readouterr().out)
    result["_exit_code"] = exited.value.code
    return result


NODES = os.path.join(FIXTURES, "nodes.json")


@pytest.mark.parametrize("check_mode", [False, True])
def test_problems_fail_the_module_after_reporting_them(capsys, tmp_path, check_mode):
    result = run(capsys, tmp_path, check_mode, manifests=[os.path.join(FIXTURES, "problems")], nodes_json=NODES)
    assert result["_exit_code"] == 1 and result["failed"] and not result["changed"]
    assert result["msg"].startswith("6 scheduling finding(s): Deployment/default/edge-agent: can land on amd64")
    assert len(result["findings"]) == 7 and result["summary"]["verdict"] == "fail"


@pytest.mark.parametrize("fail_on, code", [("never", 0), ("error", 0), ("warning", 1)])
def test_fail_on(capsys, tmp_path, fail_on, code):
    images = {"registry.example.com/shop/web:3.1": "unreachable: no route"}  # one unknown image: a warning only
    result = run(
        capsys,
        tmp_path,
        manifests=[os.path.join(FIXTURES, "clean", "apps.yml")],
        nodes=[
            {
                "name": "x86",
                "architecture": "x86_64",
                "labels": {"nvidia.com/gpu.present": "true", "nvidia.com/gpu.count": "8"},
            },
            {"name": "arm", "architecture": "aarch64", "taints": ["arm=true:NoSchedule"]},
        ],
        image_platforms=dict(
            images,
            **{
                "nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04": ["linux/amd64", "linux/arm64"],
                "registry.example.com/shop/web-arm:3.1": ["linux/arm64"],
            },
        ),
        fail_on=fail_on,
    )
    assert result["_exit_code"] == code, result.get("msg")
    assert result["summary"]["errors"] == 0 and result["summary"]["warnings"] == 4  # web:3.1 is in four workloads


def test_bad_nodes_name_the_fix(capsys, tmp_path):
    result = run(capsys, tmp_path, manifests=[FIXTURES], nodes=[{"name": "x", "taints": ["arm=true"]}])
    assert result["failed"] and "has no architecture" in result["msg"] and "k8s_node_architecture" in result["msg"]
