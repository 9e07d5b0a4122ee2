# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduling audit in the fleet report: workloads x node architectures, each cell's verdict and reason."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
from html.parser import HTMLParser

import pytest
from test_fleet_report_engines import assert_well_formed
from test_fleet_report_html import HOSTILE, PASSING_A100, read

from ansible_collections.gpufleet.containers.plugins.module_utils.kubernetes.nodes import read_kubectl_nodes
from ansible_collections.gpufleet.containers.plugins.module_utils.kubernetes.scheduling import audit, image_index
from ansible_collections.gpufleet.containers.plugins.module_utils.kubernetes.workloads import read_workloads
from ansible_collections.gpufleet.containers.plugins.module_utils.report import scheduling
from ansible_collections.gpufleet.containers.plugins.module_utils.report.fleet import (
    build_report,
    render_json,
    render_markdown,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.report.html import render_html, render_scheduling_page
from ansible_collections.gpufleet.containers.plugins.module_utils.report.markdown import table_cell

NO_ARM64_VARIANT = "can land on arm64 nodes (no selector, no taint keeps it off), image has no linux/arm64 variant"
ARM_TAINT = "the taint arm=true:NoSchedule keeps it off arm64 nodes"
# A cluster of amd64 GPU nodes and arm64 nodes tainted arm=true:NoSchedule, as issue 16 describes it.
RESULT = {
    "node_architectures": ["amd64", "arm64"],
    "nodes": [
        {"name": "gpu-a1", "architecture": "amd64", "gpus": 8, "labels": {"kubernetes.io/arch": "amd64"},
         "taints": [], "source": "kubectl"},
        {"name": "gpu-a2", "architecture": "amd64", "gpus": 8, "labels": {"kubernetes.io/arch": "amd64"},
         "taints": [], "source": "kubectl"},
        {"name": "arm-b1", "architecture": "arm64", "gpus": 0, "labels": {"kubernetes.io/arch": "arm64"},
         "taints": [{"key": "arm", "value": "true", "effect": "NoSchedule"}], "source": "kubectl"},
    ],
    "workloads": [
        {
            "kind": "Deployment",
            "namespace": "ml",
            "name": "trainer",
            "containers": [{"name": "trainer", "image": "registry.example:5000/trainer:1.4", "init": False,
                            "platforms": ["linux/amd64"]}],
            "architectures": {
                "amd64": {"verdict": "ok", "reason": "lands on amd64 nodes; every image has linux/amd64"},
                "arm64": {"verdict": "fail", "reason": NO_ARM64_VARIANT},
            },
        },
        {
            "kind": "DaemonSet",
            "namespace": "kube-system",
            "name": "gpu-exporter",
            "containers": [{"name": "exporter", "image": "registry.example:5000/exporter:2", "init": False,
                            "platforms": ["linux/amd64", "linux/arm64"]}],
            "architectures": {
                "amd64": {"verdict": "ok", "reason": "lands on amd64 nodes; every image has linux/amd64"},
                "arm64": {"verdict": "blocked", "reason": ARM_TAINT},
            },
        },
        {
            "kind": "Job",
            "namespace": "ml",
            "name": "arm-batch",
            "containers": [{"name": "batch", "image": "registry.example:5000/batch:arm64", "init": False,
                            "platforms": ["linux/arm64"]}],
            "architectures": {
                "amd64": {"verdict": "blocked", "reason": "nodeSelector kubernetes.io/arch=arm64"},
                "arm64": {"verdict": "blocked", "reason": "requests GPUs but no arm64 node has GPUs"},
            },
        },
    ],
    "findings": [
        {"workload": "Deployment/ml/trainer", "container": "trainer", "image": "registry.example:5000/trainer:1.4",
         "problem": NO_ARM64_VARIANT, "fix": "add a nodeSelector for amd64 or publish an arm64 variant",
         "severity": "error"},
        {"workload": "DaemonSet/kube-system/gpu-exporter", "container": None, "image": None,
         "problem": "does not tolerate the arm taint: no exporter on arm64 nodes",
         "fix": "add a toleration for arm=true:NoSchedule if it should run there", "severity": "warning"},
        {"workload": "Job/ml/arm-batch", "container": None, "image": None,
         "problem": "requests GPUs but no GPU node of its architecture", "fix": "add an arm64 GPU node or drop "
         "the nvidia.com/gpu limit", "severity": "error"},
    ],
    "summary": {"workloads": 3, "findings": 3, "errors": 2, "verdict": "fail"},
}  # fmt: skip


def test_markdown_table_of_workloads_by_node_architecture_then_findings_with_fixes():
    text = render_markdown(build_report({"gpu-a1": PASSING_A100}, scheduling=RESULT))
    assert text.index("| gpu-a1 | PASS |") < text.index("## Scheduling audit")  # after the fleet
    assert "Scheduling audit: FAIL. 3 workload(s), 3 finding(s): 2 error(s), 1 warning(s)." in text
    assert "Nodes: amd64 2 (2 with GPUs), arm64 1 (0 with GPUs); from kubectl." in text
    lines = text.splitlines()
    assert "| workload | amd64 | arm64 |" in lines
    assert (
        "| Deployment/ml/trainer | ok: lands on amd64 nodes; every image has linux/amd64 | FAIL: %s |"
        % NO_ARM64_VARIANT
        in lines
    )
    assert (
        "| DaemonSet/kube-system/gpu-exporter | ok: lands on amd64 nodes; every image has linux/amd64 | "
        "blocked: %s |" % ARM_TAINT in lines
    )
    assert (
        "| Job/ml/arm-batch | blocked: nodeSelector kubernetes.io/arch=arm64 | "
        "blocked: requests GPUs but no arm64 node has GPUs |" in lines
    )
    findings = lines[lines.index("Findings, each with its fix:") + 1 :]
    assert findings == [
        "- ERROR Deployment/ml/trainer, container trainer, image registry.example:5000/trainer:1.4: %s. Fix: add a "
        "nodeSelector for amd64 or publish an arm64 variant" % NO_ARM64_VARIANT,
        "- ERROR Job/ml/arm-batch: requests GPUs but no GPU node of its architecture. Fix: add an arm64 GPU node or "
        "drop the nvidia.com/gpu limit",
        "- WARNING DaemonSet/kube-system/gpu-exporter: does not tolerate the arm taint: no exporter on arm64 nodes. "
        "Fix: add a toleration for arm=true:NoSchedule if it should run there",
    ]


def test_json_carries_the_result_under_scheduling_and_nothing_without_it():
    with_audit = json.loads(render_json(build_report({"gpu-a1": PASSING_A100}, scheduling=RESULT)))
    assert with_audit["scheduling"] == RESULT
    without = json.loads(render_json(build_report({"gpu-a1": PASSING_A100})))
    assert sorted(without) == ["hosts", "totals", "unreadable"]
    assert "Scheduling" not in render_markdown(build_report({"gpu-a1": PASSING_A100}))


class Cells(HTMLParser):
    """{(workload, arch): (class, title, visible text)} of the scheduling table."""

    def __init__(self):
        HTMLParser.__init__(self)
        self.cells, self.workload, self.key = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr":
            self.workload = attrs.get("data-workload")
        if tag == "td" and self.workload and "data-arch" in attrs:
            self.key = (self.workload, attrs["data-arch"])
            self.cells[self.key] = [attrs.get("class"), attrs.get("title"), ""]

    def handle_endtag(self, tag):
        if tag == "td":
            self.key = None

    def handle_data(self, data):
        if self.key:
            self.cells[self.key][2] += data


def cells_of(page):
    reader = Cells()
    reader.feed(page)
    return {key: tuple(value) for key, value in reader.cells.items()}


def test_html_cells_say_the_verdict_and_reason_as_text_and_tooltip():
    page = render_html(build_report({"gpu-a1": PASSING_A100}, scheduling=RESULT))
    assert_well_formed(page)
    cells = cells_of(page)
    assert cells[("Deployment/ml/trainer", "arm64")] == ("cell fail", NO_ARM64_VARIANT, "FAIL" + NO_ARM64_VARIANT)
    assert cells[("DaemonSet/kube-system/gpu-exporter", "arm64")] == ("cell blocked", ARM_TAINT, "blocked" + ARM_TAINT)
    ok = "lands on amd64 nodes; every image has linux/amd64"
    assert cells[("Deployment/ml/trainer", "amd64")] == ("cell ok", ok, "ok" + ok)
    assert len(cells) == 6
    assert '<th scope="col">workload</th><th scope="col">amd64</th><th scope="col">arm64</th>' in page
    text = " ".join(read(page).text)
    assert "Scheduling audit: FAIL. 3 workload(s), 3 finding(s): 2 error(s), 1 warning(s)." in text
    assert "add a nodeSelector for amd64 or publish an arm64 variant" in text
    # Errors first, then warnings, each with its fix.
    assert page.index('<li class="error"><b class="severity">ERROR</b> Job/ml/arm-batch: ') < page.index(
        '<li class="warning"><b class="severity">WARNING</b> DaemonSet/kube-system/gpu-exporter: '
    )
    assert (
        '<b>Fix:</b> <span class="fix">add a toleration for arm=true:NoSchedule if it should run there</span></li>'
        in page
    )


def test_a_workload_not_judged_on_an_architecture_says_so():
    result = copy.deepcopy(RESULT)
    del result["workloads"][0]["architectures"]["arm64"]
    assert "| Deployment/ml/trainer | ok: lands on amd64 nodes; every image has linux/amd64 | not assessed |" in (
        scheduling.render_markdown(result)
    )
    assert cells_of(render_scheduling_page(result))[("Deployment/ml/trainer", "arm64")] == (
        "cell muted",
        None,
        "not assessed",
    )


def test_the_scheduling_audit_renders_on_its_own():
    text = scheduling.render_markdown(RESULT)
    assert text.startswith("# Scheduling audit\n\nScheduling audit: FAIL.")
    assert "host(s)" not in text
    page = render_scheduling_page(RESULT, "Scheduling audit: cluster prod")
    assert_well_formed(page)
    assert "<h1>Scheduling audit: cluster prod</h1>" in page
    assert page.count("<h1>") == 1 and "<h2>Findings, each with its fix</h2>" in page
    assert "failed-hosts" not in page and len(cells_of(page)) == 6


def test_a_clean_audit_says_pass_and_no_findings():
    clean = copy.deepcopy(RESULT)
    clean["workloads"] = clean["workloads"][:1]
    clean["workloads"][0]["architectures"]["arm64"] = {"verdict": "blocked", "reason": "nodeSelector amd64"}
    clean["findings"] = []
    clean["summary"] = {"workloads": 1, "findings": 0, "errors": 0, "verdict": "pass"}
    text = scheduling.render_markdown(clean)
    assert "Scheduling audit: PASS. 1 workload(s), 0 finding(s): 0 error(s), 0 warning(s)." in text
    assert text.endswith("No findings.\n")
    assert '<span class="badge pass">PASS</span>' in render_scheduling_page(clean)


def test_every_value_from_the_manifests_is_escaped():
    hostile = copy.deepcopy(RESULT)
    hostile["workloads"][0]["name"] = HOSTILE
    hostile["workloads"][0]["architectures"]["arm64"]["reason"] = HOSTILE
    hostile["findings"][0].update(image=HOSTILE, problem=HOSTILE, fix=HOSTILE)
    hostile["node_architectures"] = ["amd64", HOSTILE]
    page = render_scheduling_page(hostile)
    reader = read(page)
    assert [tag for tag, attrs in reader.tags if tag in ("script", "img")] == []
    assert not [attrs for tag, attrs in reader.tags if any(name.startswith("on") for name in attrs)]
    assert HOSTILE in reader.text
    assert cells_of(page)[("Deployment/ml/" + HOSTILE, "arm64")][1] == HOSTILE  # the tooltip too, unchanged


def test_a_pipe_in_a_reason_does_not_split_the_markdown_row():
    result = copy.deepcopy(RESULT)
    result["workloads"][0]["architectures"]["arm64"]["reason"] = "nodeSelector a|b"
    row = [line for line in scheduling.render_markdown(result).splitlines() if "trainer |" in line][0]
    assert "FAIL: nodeSelector a\\|b |" in row and row.count(" | ") == 2


def test_an_unreadable_scheduling_file_is_said_in_the_fleet_report():
    problem = {"file": "/r/scheduling.json", "reason": "workloads is an object, not an array"}
    report = build_report({"gpu-a1": PASSING_A100}, scheduling_unreadable=problem)
    expected = (
        "The scheduling audit's result /r/scheduling.json could not be read: workloads is an object, not an array. "
        "Run playbooks/scheduling_audit.yml again to write it."
    )
    assert expected in render_markdown(report)
    assert expected in " ".join(read(render_html(report)).text)
    assert json.loads(render_json(report))["scheduling_unreadable"] == problem


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda r: r.update(workloads={}), "workloads is an object, not an array"),
        (lambda r: r.update(node_architectures="amd64"), "node_architectures is a string, not a list of strings"),
        (lambda r: r["workloads"].append("Deployment/ml/x"), "workloads[3] is a string, not an object"),
        (lambda r: r["workloads"][1].update(name=["x"]), "workloads[1].name is an array, not a single value"),
        (
            lambda r: r["workloads"][0]["architectures"]["arm64"].update(verdict="maybe"),
            'workloads[0].architectures.arm64.verdict is "maybe", not one of ok, fail, blocked',
        ),
        (
            lambda r: r["workloads"][0]["architectures"].update(arm64="fail"),
            "workloads[0].architectures.arm64 is a string, not an object",
        ),
        (lambda r: r["findings"][2].update(fix={"a": 1}), "findings[2].fix is an object, not a single value"),
        (lambda r: r["nodes"][0].update(gpus="8"), "nodes[0].gpus is a string, not a number"),
        (lambda r: r.update(summary=[]), "summary is an array, not an object"),
    ],
)
def test_a_result_of_the_wrong_shape_is_unreadable_with_the_reason(change, words):
    result = copy.deepcopy(RESULT)
    change(result)
    with pytest.raises(scheduling.SchedulingUnreadable) as caught:
        scheduling.parse_scheduling(json.dumps(result))
    assert str(caught.value) == words


@pytest.mark.parametrize(
    "data, words",
    [("[]", "holds an array, not a JSON object"), ('{"workloads": [', "not JSON: Expecting value")],
)
def test_a_file_that_is_no_result_is_unreadable(data, words):
    with pytest.raises(scheduling.SchedulingUnreadable) as caught:
        scheduling.parse_scheduling(data)
    assert str(caught.value).startswith(words)


def test_the_result_as_written_reads_back_unchanged():
    assert scheduling.parse_scheduling(json.dumps(RESULT).encode("utf-8")) == RESULT


FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "kubernetes")


def audited(folder):
    """The real audit's result over the fixture cluster, as scheduling_audit.yml writes it (JSON) and reads back."""
    nodes = read_kubectl_nodes(os.path.join(FIXTURES, "nodes.json"))
    with open(os.path.join(FIXTURES, "image-platforms.json")) as handle:
        images = image_index(json.load(handle))
    workloads, errors = read_workloads([os.path.join(FIXTURES, folder)])
    assert errors == []
    return scheduling.parse_scheduling(json.dumps(audit(workloads, nodes, images), indent=2))


def test_the_real_audit_of_the_fixture_cluster_renders_every_cell_and_finding():
    result = audited("problems")
    text = scheduling.render_markdown(result)
    lines = text.splitlines()
    assert "| workload | %s |" % " | ".join(result["node_architectures"]) in lines
    for workload in result["workloads"]:
        row = [line for line in lines if line.startswith("| %s |" % scheduling.workload_name(workload))]
        assert len(row) == 1
        for arch in result["node_architectures"]:
            verdict, reason = scheduling.cell(workload, arch)
            assert table_cell(scheduling.cell_text(verdict, reason)) in row[0]
    assert {scheduling.CELL_WORDS[verdict] for verdict in ("ok", "fail", "blocked")} <= set(
        word for line in lines for word in line.replace(":", " ").split()
    )
    assert sum(1 for line in lines if line.startswith("- ERROR ")) == result["summary"]["errors"]
    assert sum(1 for line in lines if line.startswith("- WARNING ")) == result["summary"]["warnings"]
    page = render_scheduling_page(result)
    assert_well_formed(page)
    assert len(cells_of(page)) == len(result["workloads"]) * len(result["node_architectures"])


def test_the_real_audit_of_the_clean_set_says_pass():
    text = scheduling.render_markdown(audited("clean"))
    assert "Scheduling audit: PASS. 8 workload(s), 0 finding(s): 0 error(s), 0 warning(s)." in text
    assert text.endswith("No findings.\n")
