# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduling audit over the fixture cluster (tests/fixtures/kubernetes): every planted problem found, no other;
the clean set passes. tests/fixtures/kubernetes/README.md says what each object plants."""

import json
import os

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.kubernetes.nodes import read_kubectl_nodes
from ansible_collections.gpufleet.containers.plugins.module_utils.kubernetes.scheduling import audit, image_index
from ansible_collections.gpufleet.containers.plugins.module_utils.kubernetes.workloads import read_workloads

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "kubernetes")

# (workload, container, kind): what tests/fixtures/kubernetes/problems plants, one per rule
PLANTED = {
    ("Deployment/default/edge-agent", "agent", "lands_where_image_lacks_architecture"),
    ("DaemonSet/logging/log-shipper", "shipper", "tolerates_taint_image_lacks_architecture"),
    ("Deployment/ml/inference-arm", "fetch-weights", "selects_architecture_image_lacks"),
    ("Job/batch/power-bench", None, "selects_missing_architecture"),
    ("CronJob/ml/nightly-train-arm", None, "no_gpu_node_of_architecture"),
    ("StatefulSet/db/nvme-cache", None, "unschedulable"),
    ("Pod/tools/debug-shell", "shell", "platforms_unknown"),
}


def run(folder):
    nodes = read_kubectl_nodes(os.path.join(FIXTURES, "nodes.json"))
    with open(os.path.join(FIXTURES, "image-platforms.json")) as handle:
        images = image_index(json.load(handle))
    workloads, errors = read_workloads([os.path.join(FIXTURES, folder)])
    assert errors == []
    return audit(workloads, nodes, images)


def cells(result):
    return {"%s/%s" % (row["kind"], row["name"]): row["architectures"] for row in result["workloads"]}


def test_every_planted_problem_and_nothing_else():
    result = run("problems")
    assert {(f["workload"], f["container"], f["kind"]) for f in result["findings"]} == PLANTED
    assert len(result["findings"]) == len(PLANTED)
    assert result["summary"] == {"workloads": 7, "findings": 7, "errors": 6, "warnings": 1, "verdict": "fail"}


def test_the_clean_set_passes_and_every_workload_lands_somewhere():
    result = run("clean")
    assert result["findings"] == []
    assert result["summary"]["verdict"] == "pass"
    kinds = sorted(row["kind"] for row in result["workloads"])
    assert kinds == ["CronJob", "DaemonSet", "Deployment", "Deployment", "Job", "Pod", "ReplicaSet", "StatefulSet"]
    for name, by_arch in cells(result).items():
        assert "ok" in [cell["verdict"] for cell in by_arch.values()], name


def test_clean_set_cells_follow_the_taint_strategy():
    by_name = cells(run("clean"))
    assert by_name["Deployment/web"]["arm64"] == {
        "verdict": "blocked",
        "reason": "taint arm=true:NoSchedule not tolerated",
    }
    assert by_name["Deployment/web-arm"]["arm64"]["verdict"] == "ok"
    assert by_name["Deployment/web-arm"]["amd64"]["verdict"] == "blocked"
    assert {a: c["verdict"] for a, c in by_name["CronJob/report"].items()} == {"amd64": "ok", "arm64": "ok"}
    # the device plugin: the DaemonSet controller's toleration lets it onto the cordoned GPU node, not the arm taint
    assert by_name["DaemonSet/nvidia-device-plugin-daemonset"]["amd64"]["reason"] == "can land on 3 amd64 node(s)"
    assert by_name["Pod/gpu-pod"]["amd64"]["reason"] == "can land on 1 amd64 node(s)"  # one uncordoned GPU node


@pytest.mark.parametrize(
    "workload, words",
    [
        (
            "Deployment/default/edge-agent",
            [
                "can land on amd64 nodes (no selector, no taint keeps it off)",
                "registry.example.com/edge/agent:2.0 is arm64-only",
                "add a nodeSelector for arm64 (kubernetes.io/arch: arm64) and a toleration for arm=true:NoSchedule",
                "publish a linux/amd64 variant",
            ],
        ),
        (
            "DaemonSet/logging/log-shipper",
            ["tolerates the arm=true:NoSchedule taint", "is amd64-only", "drop the toleration"],
        ),
        ("Deployment/ml/inference-arm", ["selects arm64", "fetch-weights:0.3 is amd64-only", "select amd64"]),
        ("Job/batch/power-bench", ["selects ppc64le but no ppc64le node exists"]),
        (
            "CronJob/ml/nightly-train-arm",
            ["requests 1 GPU(s)", "no GPU node of its architecture (arm64)", "GPU nodes: amd64", "select amd64"],
        ),
        ("StatefulSet/db/nvme-cache", ["can land on no node", "nodeSelector disktype=nvme"]),
        ("Pod/tools/debug-shell", ["debug-tools:0.9 could not be read (not_found"]),
    ],
)
def test_findings_name_the_problem_and_the_fix(workload, words):
    (found,) = [f for f in run("problems")["findings"] if f["workload"] == workload]
    text = found["problem"] + " | " + found["fix"]
    for word in words:
        assert word in text, text
