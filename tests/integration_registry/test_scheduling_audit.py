# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/scheduling_audit.yml end to end: image_platforms reads real docker-registry processes on 127.0.0.1 (the
registry fixture of test_image_platforms_registry.py: multi-arch, amd64-only and arm64-only images), then
k8s_scheduling_audit places the fixture workloads on the fixture cluster.

The fixture manifests name public-looking images; here each is replaced by the local image with the same platforms
(tests/fixtures/kubernetes/image-platforms.json says which), and the image whose platforms are unknown by one the
registry does not have.

    .venv/bin/python -m pytest -q tests/integration_registry/test_scheduling_audit.py
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURE = os.path.join(REPO_ROOT, "tests", "testbed", "registry", "registry_fixture.py")
KUBERNETES = os.path.join(REPO_ROOT, "tests", "fixtures", "kubernetes")
BIN = os.path.dirname(sys.executable)
# (workload, container, kind) planted in tests/fixtures/kubernetes/problems, as the unit test asserts them
PLANTED = {
    ("Deployment/default/edge-agent", "agent", "lands_where_image_lacks_architecture"),
    ("DaemonSet/logging/log-shipper", "shipper", "tolerates_taint_image_lacks_architecture"),
    ("Deployment/ml/inference-arm", "fetch-weights", "selects_architecture_image_lacks"),
    ("Job/batch/power-bench", None, "selects_missing_architecture"),
    ("CronJob/ml/nightly-train-arm", None, "no_gpu_node_of_architecture"),
    ("StatefulSet/db/nvme-cache", None, "unschedulable"),
    ("Pod/tools/debug-shell", "shell", "platforms_unknown"),
}


@pytest.fixture(scope="module")
def registries(tmp_path_factory):
    state = str(tmp_path_factory.mktemp("registries"))
    try:
        path = subprocess.run(
            [sys.executable, FIXTURE, "up", "--state", state], check=True, stdout=subprocess.PIPE, text=True
        ).stdout.strip()
        with open(path) as handle:
            yield json.load(handle)
    finally:
        subprocess.run([sys.executable, FIXTURE, "down", "--state", state], check=False)


def local_image(registries, platforms):
    """The registry fixture's image with the same platforms as a fixture image (a text: its platforms are unknown)."""
    host = registries["registries"]["open"]["host"]
    if not isinstance(platforms, list):
        return "%s/gpufleet/retired:1.0" % host  # not in the registry: not_found
    arches = sorted({platform.split("/")[1] for platform in platforms})
    name = {("amd64", "arm64"): "multi", ("amd64",): "amd64only", ("arm64",): "arm64only"}[tuple(arches)]
    return "%s/gpufleet/%s:1.0" % (host, name)


def local_manifests(registries, folder, destination):
    with open(os.path.join(KUBERNETES, "image-platforms.json")) as handle:
        platforms = json.load(handle)
    shutil.copytree(os.path.join(KUBERNETES, folder), destination)
    for name in os.listdir(destination):
        path = os.path.join(destination, name)
        with open(path) as handle:
            text = handle.read()
        for image, known in platforms.items():
            text = text.replace("image: %s\n" % image, "image: %s\n" % local_image(registries, known))
        with open(path, "w") as handle:
            handle.write(text)
    return destination


def run_playbook(tmp_path, audit_vars, *extra):
    path = str(tmp_path / "vars.json")
    with open(path, "w") as handle:
        json.dump(audit_vars, handle)
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    return subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "playbooks/scheduling_audit.yml", "-e", "@" + path] + list(extra),
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )


def audit_vars(registries, tmp_path, folder):
    return {
        "scheduling_audit_manifests": [local_manifests(registries, folder, str(tmp_path / folder))],
        "scheduling_audit_nodes_json": os.path.join(KUBERNETES, "nodes.json"),
        "scheduling_audit_insecure_registries": [registries["registries"]["open"]["host"]],
        "scheduling_audit_report_dir": str(tmp_path / "report"),
    }


def test_planted_problems_found_through_real_registries(registries, tmp_path):
    run = run_playbook(tmp_path, audit_vars(registries, tmp_path, "problems"))
    assert run.returncode == 2, run.stdout  # fails on the errors, after writing the report
    assert "6 scheduling error(s) in 7 workload(s)" in run.stdout
    with open(str(tmp_path / "report" / "scheduling.json")) as handle:
        result = json.load(handle)
    assert {(f["workload"], f["container"], f["kind"]) for f in result["findings"]} == PLANTED
    (unknown,) = [f for f in result["findings"] if f["kind"] == "platforms_unknown"]
    assert "(not_found:" in unknown["problem"]
    rows = {row["name"]: row for row in result["workloads"]}
    assert rows["edge-agent"]["containers"][0]["platforms"] == ["linux/arm64/v8"]  # read from the registry
    assert rows["log-shipper"]["architectures"]["arm64"]["verdict"] == "fail"
    assert set(result) == {"node_architectures", "nodes", "workloads", "findings", "summary"}


def test_clean_set_passes_with_nodes_from_the_inventory(registries, tmp_path):
    """Before a cluster exists: nodes from inventory hosts, GPUs from a verdict file, taints and labels per host."""
    hosts = tmp_path / "report" / "hosts"
    hosts.mkdir(parents=True)
    (hosts / "gpu-a100-01.json").write_text(
        json.dumps({"host": "gpu-a100-01", "verdict": "pass", "architecture": "amd64", "found": {"gpu_count": 8}})
    )
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "gpu_hosts:\n  hosts:\n"
        "    gpu-a100-01:\n"
        "      k8s_node_labels: {nvidia.com/gpu.present: 'true', nvidia.com/gpu.count: '8'}\n"
        "    arm-01:\n"
        "      k8s_node_architecture: aarch64\n"
        "      k8s_node_taints: ['arm=true:NoSchedule']\n"
    )
    found = audit_vars(registries, tmp_path, "clean")
    del found["scheduling_audit_nodes_json"]
    run = run_playbook(tmp_path, found, "-i", str(inventory))
    assert run.returncode == 0, run.stdout
    with open(str(tmp_path / "report" / "scheduling.json")) as handle:
        result = json.load(handle)
    assert result["summary"]["verdict"] == "pass" and result["findings"] == []
    nodes = {node["name"]: node for node in result["nodes"]}
    assert (nodes["gpu-a100-01"]["gpus"], nodes["gpu-a100-01"]["source"]) == (8, "inventory")
    assert nodes["arm-01"]["taints"] == [{"key": "arm", "value": "true", "effect": "NoSchedule"}]
    checked = run_playbook(tmp_path, found, "-i", str(inventory), "--check")
    assert checked.returncode == 0, checked.stdout  # it only reads: check mode audits the same
