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
