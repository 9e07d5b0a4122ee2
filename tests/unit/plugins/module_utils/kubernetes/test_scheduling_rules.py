# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduling rules one at a time: selectors, affinity operators, tolerations, GPUs, DaemonSets, CronJobs,
Lists, init containers."""

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.kubernetes.nodes import node_from_inventory
from ansible_collections.gpufleet.containers.plugins.module_utils.kubernetes.scheduling import (
    audit_workload,
    expression_matches,
    gpu_request,
    toleration_matches,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.kubernetes.workloads import workloads_from_documents

ARM_TAINT = "arm=true:NoSchedule"
MULTI, AMD, ARM = "reg/multi:1", "reg/amd:1", "reg/arm:1"
IMAGES = {
    MULTI: {"platforms": ["linux/amd64", "linux/arm64/v8"], "why": ""},
    AMD: {"platforms": ["linux/amd64"], "why": ""},
    ARM: {"platforms": ["linux/arm64/v8"], "why": ""},
}


def cluster(arm_taints=(ARM_TAINT,), arm_gpus=0):
    return [
        node_from_inventory({"name": "x86-gpu", "architecture": "x86_64", "gpus": 8}),
        node_from_inventory({"name": "arm", "architecture": "aarch64", "taints": list(arm_taints), "gpus": arm_gpus}),
    ]


def workload(spec, kind="Pod", image=MULTI):
    spec = dict(spec)
    spec.setdefault("containers", [{"name": "app", "image": image}])
    return {"kind": kind, "namespace": "default", "name": "w", "pod_spec": spec, "source": "test"}


def verdicts(spec, kind="Pod", image=MULTI, nodes=None):
    row, findings = audit_workload(workload(spec, kind, image), nodes or cluster(), IMAGES)
    return {arch: cell["verdict"] for arch, cell in row["architectures"].items()}, {f["kind"] for f in findings}


ARM_TOLERATION = {"key": "arm", "operator": "Equal", "value": "true", "effect": "NoSchedule"}


@pytest.mark.parametrize(
    "operator, values, labels, expected",
    [
        ("In", ["a", "b"], {"k": "b"}, True),
        ("In", ["a"], {}, False),
        ("NotIn", ["a"], {}, True),
        ("NotIn", ["a"], {"k": "a"}, False),
        ("Exists", [], {"k": ""}, True),
        ("DoesNotExist", [], {"k": ""}, False),
        ("Gt", ["4"], {"k": "8"}, True),
        ("Gt", ["8"], {"k": "8"}, False),
        ("Lt", ["4"], {"k": "2"}, True),
        ("Lt", ["4"], {}, False),  # no label: no match, as the scheduler does
        ("Gt", ["4"], {"k": "many"}, False),
        ("Bogus", ["a"], {"k": "a"}, False),
    ],
)
def test_affinity_operators(operator, values, labels, expected):
    assert expression_matches({"key": "k", "operator": operator, "values": values}, labels) is expected


def test_node_selector_on_either_arch_label():
    assert verdicts({"nodeSelector": {"kubernetes.io/arch": "amd64"}})[0] == {"amd64": "ok", "arm64": "blocked"}
    spec = {"nodeSelector": {"beta.kubernetes.io/arch": "arm64"}, "tolerations": [ARM_TOLERATION]}
    assert verdicts(spec)[0] == {"amd64": "blocked", "arm64": "ok"}


def test_affinity_terms_are_ored_and_expressions_anded():
    arm = {"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}
    gpu = {"key": "kubernetes.io/hostname", "operator": "In", "values": ["x86-gpu"]}
    anded = {"nodeSelectorTerms": [{"matchExpressions": [arm, gpu]}]}
    ored = {"nodeSelectorTerms": [{"matchExpressions": [arm]}, {"matchExpressions": [gpu]}]}
    tolerate = [ARM_TOLERATION]

    def spec(required):
        return {
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}},
            "tolerations": tolerate,
        }

    assert verdicts(spec(anded)) == ({"amd64": "blocked", "arm64": "blocked"}, {"unschedulable"})
    assert verdicts(spec(ored))[0] == {"amd64": "ok", "arm64": "ok"}
    empty_term = {"nodeSelectorTerms": [{}]}  # matches nothing, as in Kubernetes
    assert verdicts(spec(empty_term))[1] == {"unschedulable"}


def test_taint_effects():
    assert verdicts({}, image=AMD)[0] == {"amd64": "ok", "arm64": "blocked"}
    nodes = cluster(arm_taints=["arm=true:PreferNoSchedule"])  # discourages only: the amd64-only image lands there
    assert verdicts({}, image=AMD, nodes=nodes) == (
        {"amd64": "ok", "arm64": "fail"},
        {"lands_where_image_lacks_architecture"},
    )
    nodes = cluster(arm_taints=["arm=true:NoExecute"])
    assert verdicts({}, image=AMD, nodes=nodes)[0]["arm64"] == "blocked"


@pytest.mark.parametrize(
    "toleration, expected",
    [
        ({"operator": "Exists"}, True),  # empty key with Exists tolerates every taint
        ({"operator": "Exists", "effect": "NoExecute"}, False),
        ({"key": "arm", "operator": "Exists"}, True),
        ({"key": "arm", "value": "true"}, True),  # operator defaults to Equal
        ({"key": "arm", "operator": "Equal", "value": "false"}, False),
        ({"key": "arm", "operator": "Equal", "value": "true", "effect": "NoExecute"}, False),
        ({"key": "other", "operator": "Exists"}, False),
    ],
)
def test_toleration_matching(toleration, expected):
    taint = {"key": "arm", "value": "true", "effect": "NoSchedule"}
    assert toleration_matches(toleration, taint) is expected


def test_the_arm_taint_tolerated_by_an_amd64_only_image():
    found = verdicts({"tolerations": [ARM_TOLERATION]}, image=AMD)
    assert found == ({"amd64": "ok", "arm64": "fail"}, {"tolerates_taint_image_lacks_architecture"})


def test_untainted_arm64_nodes_take_amd64_only_images():
    row, findings = audit_workload(workload({}, image=AMD), cluster(arm_taints=()), IMAGES)
    assert row["architectures"]["arm64"]["verdict"] == "fail"
    (finding,) = findings
    assert finding["problem"] == (
        "can land on arm64 nodes (no selector, no taint keeps it off), image reg/amd:1 is amd64-only"
    )
    assert finding["fix"] == (
        "add a nodeSelector for amd64 (kubernetes.io/arch: amd64), or publish a linux/arm64 variant of reg/amd:1"
    )


def test_daemonsets_tolerate_node_conditions_but_not_custom_taints():
    cordoned = ["node.kubernetes.io/unschedulable:NoSchedule", "node.kubernetes.io/not-ready:NoExecute"]
    nodes = cluster(arm_taints=cordoned)
    assert verdicts({}, kind="DaemonSet", image=AMD, nodes=nodes)[0]["arm64"] == "fail"  # it lands there
    assert verdicts({}, kind="Deployment", image=AMD, nodes=nodes)[0]["arm64"] == "blocked"
    assert verdicts({}, kind="DaemonSet", image=AMD)[0]["arm64"] == "blocked"  # arm=true is custom
    network = cluster(arm_taints=["node.kubernetes.io/network-unavailable:NoSchedule"])
    assert verdicts({}, kind="DaemonSet", image=AMD, nodes=network)[0]["arm64"] == "blocked"
    assert verdicts({"hostNetwork": True}, kind="DaemonSet", image=AMD, nodes=network)[0]["arm64"] == "fail"


def test_gpu_requests_from_limits_or_requests_and_init_containers():
    def spec(app, init=None):
        containers = [{"name": "a", "image": MULTI, "resources": r} for r in app]
        inits = [{"name": "i", "image": MULTI, "resources": r} for r in init or []]
        return {"containers": containers, "initContainers": inits}

    assert gpu_request(spec([{"limits": {"nvidia.com/gpu": "2"}}, {"requests": {"nvidia.com/gpu": 1}}])) == 3
    assert gpu_request(spec([{"limits": {"cpu": "1"}}], [{"limits": {"nvidia.com/gpu": 4}}])) == 4
    assert gpu_request(spec([{}])) == 0


def test_gpu_pods_need_a_gpu_node_of_their_architecture():
    gpu = {
        "containers": [{"name": "train", "image": ARM, "resources": {"limits": {"nvidia.com/gpu": 1}}}],
        "tolerations": [ARM_TOLERATION],
    }
    assert verdicts(gpu) == (
        {"amd64": "fail", "arm64": "blocked"},
        {"lands_where_image_lacks_architecture", "no_gpu_node_of_architecture"},
    )
    assert verdicts(gpu, nodes=cluster(arm_gpus=4))[0] == {"amd64": "fail", "arm64": "ok"}
    too_many = {"containers": [{"name": "t", "image": MULTI, "resources": {"limits": {"nvidia.com/gpu": 16}}}]}
    assert verdicts(too_many)[1] == {"no_gpu_node_of_architecture"}


def test_selecting_an_architecture_without_nodes():
    found = verdicts({"nodeSelector": {"kubernetes.io/arch": "arm64"}}, nodes=cluster()[:1])
    assert found == ({"amd64": "blocked"}, {"selects_missing_architecture"})


def test_cronjob_list_and_init_containers_are_read():
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "c", "namespace": "n"},
        "spec": {
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "initContainers": [{"name": "init", "image": AMD}],
                            "containers": [{"name": "app", "image": MULTI}],
                        }
                    }
                }
            }
        },
    }
    documents = [{"kind": "List", "items": [cron, {"kind": "ConfigMap", "metadata": {"name": "x"}}]}]
    (found,) = workloads_from_documents(documents, "test")
    assert (found["kind"], found["namespace"], found["name"]) == ("CronJob", "n", "c")
    row, findings = audit_workload(found, cluster(arm_taints=()), IMAGES)
    assert [(c["name"], c["init"]) for c in row["containers"]] == [("init", True), ("app", False)]
    assert [(f["container"], f["kind"]) for f in findings] == [("init", "lands_where_image_lacks_architecture")]


def test_inventory_nodes_take_gpus_and_architecture_from_a_passing_verdict():
    passed = {"verdict": "pass", "architecture": "arm64", "found": {"gpu_count": 1}}
    node = node_from_inventory({"name": "gh200", "taints": [ARM_TAINT], "labels": {"pool": "gh"}}, passed)
    assert (node["architecture"], node["gpus"], node["labels"]["kubernetes.io/arch"], node["labels"]["pool"]) == (
        "arm64",
        1,
        "arm64",
        "gh",
    )
    assert node["taints"] == [{"key": "arm", "value": "true", "effect": "NoSchedule"}]
    failed = dict(passed, verdict="fail")
    assert node_from_inventory({"name": "gh200"}, failed)["gpus"] == 0
