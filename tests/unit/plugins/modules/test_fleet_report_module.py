# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run fleet_report's main() over verdict files on disk, as the controller holds them after a run."""

import json

from fake_commands import run_main as run_module_main

from ansible_collections.gpufleet.containers.plugins.modules import fleet_report

PASSING = {"host": "gpu-a1", "verdict": "pass", "architecture": "amd64", "found": {"gpu_count": 1}}


def run_main(args, capsys):
    return run_module_main(fleet_report, args, capsys)


def test_verdict_files_of_the_wrong_shape_are_listed_and_the_rest_reported(capsys, tmp_path):
    verdicts = tmp_path / "hosts"
    verdicts.mkdir()
    (verdicts / "gpu-a1.json").write_text(json.dumps(PASSING))
    (verdicts / "gpu-b2.json").write_text(json.dumps([PASSING]))
    (verdicts / "gpu-c3.json").write_text(json.dumps(dict(PASSING, host={"name": "gpu-c3"})))
    (verdicts / "gpu-d4.json").write_text('{"host": "gpu-d4",')
    args = {"verdict_dir": str(verdicts), "dest_dir": str(tmp_path), "hosts": ["gpu-a1", "gpu-b2", "gpu-c3", "gpu-d4"]}
    result = run_main(args, capsys)
    assert result["_exit"] == 0
    assert result["unreadable"] == [
        {"file": str(verdicts / "gpu-b2.json"), "reason": "holds an array, not a JSON object"},
        {"file": str(verdicts / "gpu-c3.json"), "reason": "host is an object, not a string"},
        {
            "file": str(verdicts / "gpu-d4.json"),
            "reason": "not JSON: Expecting property name enclosed in double quotes: line 1 column 19 (char 18)",
        },
    ]
    assert result["totals"]["by_verdict"] == {"fail": 3, "pass": 1}
    assert [host["host"] for host in result["failed_hosts"]] == ["gpu-b2", "gpu-c3", "gpu-d4"]
    written = json.loads((tmp_path / "fleet-report.json").read_text())
    assert written["unreadable"] == result["unreadable"]
    assert "could not be read" in (tmp_path / "fleet-report.md").read_text()


def test_the_html_page_is_written_beside_json_and_markdown_and_rewritten_only_on_change(capsys, tmp_path):
    verdicts = tmp_path / "hosts"
    verdicts.mkdir()
    (verdicts / "gpu-a1.json").write_text(json.dumps(PASSING))
    args = {"verdict_dir": str(verdicts), "dest_dir": str(tmp_path / "report"), "hosts": ["gpu-a1", "gpu-b2"]}
    first = run_main(args, capsys)
    page = tmp_path / "report" / "fleet-report.html"
    assert first["changed"] is True and first["html_path"] == str(page)
    assert 'data-host="gpu-b2"' in page.read_text() and "run again with -l gpu-b2" in page.read_text()
    assert run_main(args, capsys)["changed"] is False


def test_html_false_leaves_the_page_alone(capsys, tmp_path):
    verdicts = tmp_path / "hosts"
    verdicts.mkdir()
    (verdicts / "gpu-a1.json").write_text(json.dumps(PASSING))
    old_page = tmp_path / "fleet-report.html"
    old_page.write_text("an earlier run's page")
    result = run_main({"verdict_dir": str(verdicts), "dest_dir": str(tmp_path), "html": False}, capsys)
    assert result["changed"] is True and "html_path" not in result
    assert old_page.read_text() == "an earlier run's page"
    assert (tmp_path / "fleet-report.md").exists()


SCHEDULING = {
    "node_architectures": ["amd64", "arm64"],
    "nodes": [
        {"name": "gpu-a1", "architecture": "amd64", "gpus": 8, "labels": {}, "taints": [], "source": "inventory"}
    ],
    "workloads": [
        {
            "kind": "Deployment",
            "namespace": "ml",
            "name": "trainer",
            "containers": [{"name": "trainer", "image": "r:5000/t:1", "init": False, "platforms": ["linux/amd64"]}],
            "architectures": {
                "amd64": {"verdict": "ok", "reason": "lands on amd64 nodes; every image has linux/amd64"},
                "arm64": {"verdict": "blocked", "reason": "no arm64 node exists"},
            },
        }
    ],
    "findings": [],
    "summary": {"workloads": 1, "findings": 0, "errors": 0, "verdict": "pass"},
}


def fleet_with_verdict(tmp_path):
    verdicts = tmp_path / "hosts"
    verdicts.mkdir()
    (verdicts / "gpu-a1.json").write_text(json.dumps(PASSING))
    return {"verdict_dir": str(verdicts), "dest_dir": str(tmp_path), "hosts": ["gpu-a1"]}


def test_a_scheduling_file_not_there_yet_leaves_the_report_as_it_was(capsys, tmp_path):
    args = fleet_with_verdict(tmp_path)
    run_main(args, capsys)
    before = {name: (tmp_path / name).read_text() for name in ("fleet-report.json", "fleet-report.md")}
    result = run_main(dict(args, scheduling_file=str(tmp_path / "scheduling.json")), capsys)
    assert result["_exit"] == 0 and result["changed"] is False
    assert "scheduling" not in result and "scheduling_unreadable" not in result
    assert {name: (tmp_path / name).read_text() for name in before} == before


def test_the_scheduling_audit_joins_the_fleet_report(capsys, tmp_path):
    args = fleet_with_verdict(tmp_path)
    (tmp_path / "scheduling.json").write_text(json.dumps(SCHEDULING))
    result = run_main(dict(args, scheduling_file=str(tmp_path / "scheduling.json")), capsys)
    assert result["scheduling"] == {
        "file": str(tmp_path / "scheduling.json"),
        "verdict": "pass",
        "workloads": 1,
        "findings": 0,
        "errors": 0,
    }
    assert json.loads((tmp_path / "fleet-report.json").read_text())["scheduling"] == SCHEDULING
    assert "| Deployment/ml/trainer | ok: lands on amd64 nodes; every image has linux/amd64 | blocked: no arm64" in (
        (tmp_path / "fleet-report.md").read_text()
    )
    assert 'id="scheduling-table"' in (tmp_path / "fleet-report.html").read_text()


def test_a_broken_scheduling_file_is_named_and_the_fleet_still_reported(capsys, tmp_path):
    args = fleet_with_verdict(tmp_path)
    (tmp_path / "scheduling.json").write_text(json.dumps(dict(SCHEDULING, workloads={})))
    result = run_main(dict(args, scheduling_file=str(tmp_path / "scheduling.json")), capsys)
    assert result["_exit"] == 0
    assert result["scheduling_unreadable"]["reason"] == "workloads is an object, not an array"
    # Ansible 2.19 returns warnings as structured events; older cores as strings: the words are in either.
    assert "could not be used: workloads is an object, not an array" in json.dumps(result["warnings"])
    assert "| gpu-a1 | PASS |" in (tmp_path / "fleet-report.md").read_text()
    assert (tmp_path / "scheduling.json").read_text() == json.dumps(dict(SCHEDULING, workloads={}))  # untouched


def test_a_required_scheduling_file_that_is_missing_fails_after_the_report_says_why(capsys, tmp_path):
    args = dict(fleet_with_verdict(tmp_path), scheduling_file=str(tmp_path / "scheduling.json"))
    result = run_main(dict(args, scheduling_required=True), capsys)
    assert result["_exit"] == 1 and result["failed"] is True
    assert "scheduling.json could not be used: the file does not exist" in result["msg"]
    assert "Run playbooks/scheduling_audit.yml again" in result["msg"]
    assert "could not be read: the file does not exist" in (tmp_path / "fleet-report.md").read_text()


def test_without_verdict_dir_only_the_scheduling_audit_is_rendered(capsys, tmp_path):
    (tmp_path / "scheduling.json").write_text(json.dumps(SCHEDULING))
    args = {"scheduling_file": str(tmp_path / "scheduling.json"), "dest_dir": str(tmp_path)}
    result = run_main(args, capsys)
    assert result["_exit"] == 0 and result["changed"] is True
    assert sorted(path.name for path in tmp_path.iterdir()) == ["scheduling.html", "scheduling.json", "scheduling.md"]
    assert result["markdown_path"] == str(tmp_path / "scheduling.md")
    assert result["html_path"] == str(tmp_path / "scheduling.html")
    assert result["summary"].startswith("# Scheduling audit\n\nScheduling audit: PASS.")
    assert "totals" not in result and "json_path" not in result
    assert run_main(args, capsys)["changed"] is False


def test_without_verdict_dir_a_missing_scheduling_file_fails_and_writes_nothing(capsys, tmp_path):
    args = {"scheduling_file": str(tmp_path / "scheduling.json"), "dest_dir": str(tmp_path / "report")}
    result = run_main(args, capsys)
    assert result["_exit"] == 1
    assert result["msg"] == (
        "Cannot render the scheduling audit: %s the file does not exist. Run playbooks/scheduling_audit.yml again "
        "to write it." % (tmp_path / "scheduling.json")
    )
    assert not (tmp_path / "report").exists()


def test_check_mode_writes_nothing_and_says_what_would_change(capsys, tmp_path):
    (tmp_path / "scheduling.json").write_text(json.dumps(SCHEDULING))
    args = {
        "scheduling_file": str(tmp_path / "scheduling.json"),
        "dest_dir": str(tmp_path),
        "_ansible_check_mode": True,
    }
    assert run_main(args, capsys)["changed"] is True
    assert not (tmp_path / "scheduling.md").exists()
