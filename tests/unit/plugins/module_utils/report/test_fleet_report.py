# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.report.fleet import (
    VerdictUnreadable,
    build_report,
    parse_verdict,
    render_json,
    render_markdown,
)

PASSING_A100 = {
    "host": "gpu-a1",
    "verdict": "pass",
    "architecture": "amd64",
    "distribution": "Debian 12",
    "docker_version": "20.10.24",
    "toolkit_version": "1.17.8-1",
    "expected": {"model": "A100", "count": 8},
    "found": {
        "gpu_count": 8,
        "models": ["NVIDIA A100-SXM4-80GB"] * 8,
        "memory_total_mib": [81920] * 8,
        "driver_version": "535.129.03",
        "cuda_version": "12.2",
    },
    "simulated_gpu": True,
}
WRONG_MODEL = {
    "host": "gpu-b2",
    "verdict": "fail",
    "architecture": "arm64",
    "distribution": "Debian 12",
    "reason": "expected model H100, found NVIDIA A100-SXM4-80GB",
    "hint": "check the host's group: it is listed as an H100 node",
    "error_kind": None,
}


def test_failed_hosts_come_first_and_missing_hosts_are_not_dropped():
    report = build_report({"gpu-a1": PASSING_A100, "gpu-b2": WRONG_MODEL}, hosts=["gpu-a1", "gpu-b2", "gpu-c3"])
    assert [row["host"] for row in report["hosts"]] == ["gpu-b2", "gpu-c3", "gpu-a1"]
    missing = report["hosts"][1]
    assert missing["verdict"] == "fail" and "unreachable" in missing["reason"]
    assert report["totals"]["by_verdict"] == {"fail": 2, "pass": 1}
    assert report["totals"]["by_architecture_and_verdict"] == {
        "amd64": {"pass": 1, "fail": 0},
        "arm64": {"pass": 0, "fail": 1},
        "unknown": {"pass": 0, "fail": 1},
    }


def test_markdown_names_reason_fix_gpus_and_says_the_gpu_was_simulated():
    text = render_markdown(build_report({"gpu-a1": PASSING_A100, "gpu-b2": WRONG_MODEL}))
    assert "2 host(s): 1 pass, 1 fail." in text
    assert "expected model H100, found NVIDIA A100-SXM4-80GB Fix: check the host's group" in text
    assert "| gpu-a1 | PASS | amd64 | Debian 12 | 20.10.24 | 1.17.8-1 | 8 x NVIDIA A100-SXM4-80GB (81920 MiB) |" in text
    assert "Simulated GPU (testbed replay of captured nvidia-smi output): gpu-a1." in text
    # the failing host's row comes before the passing one
    assert text.index("| gpu-b2 |") < text.index("| gpu-a1 |")


def test_json_is_stable_so_an_unchanged_fleet_rewrites_nothing():
    verdicts = {"gpu-a1": PASSING_A100, "gpu-b2": WRONG_MODEL}
    first = render_json(build_report(verdicts, ["gpu-b2", "gpu-a1"]))
    second = render_json(build_report(dict(reversed(list(verdicts.items()))), ["gpu-a1", "gpu-b2"]))
    assert first == second
    assert json.loads(first)["totals"]["hosts"] == 2


def test_pipes_in_reasons_do_not_break_the_table():
    verdict = dict(WRONG_MODEL, reason="daemon.json | line 3")
    row = [line for line in render_markdown(build_report({"gpu-b2": verdict})).splitlines() if "gpu-b2" in line][0]
    assert "daemon.json \\| line 3" in row
    assert row.count(" | ") == 10


@pytest.mark.parametrize(
    "text, words",
    [
        ('[{"host": "gpu-a1", "verdict": "pass"}]', "holds an array, not a JSON object"),
        ('{"host": {"name": "gpu-a1"}, "verdict": "pass"}', "host is an object, not a string"),
        ('{"host": "gpu-a1", "architecture": ["amd64"]}', "architecture is an array, not a string"),
        ('{"host": "gpu-a1", "reason": {"msg": "failed"}}', "reason is an object, not a single value"),
        ('{"host": "gpu-a1", "found": [8]}', "found is an array, not an object"),
        ('{"host": "gpu-a1", "expected": "A100"}', "expected is a string, not an object"),
        ('{"host": "gpu-a1", "found": {"models": "A100"}}', "found.models is a string, not a list of strings"),
        ('{"host": "gpu-a1", "found": {"models": [{"name": "A100"}]}}', "found.models is an array, not a list of"),
        ('{"host": "gpu-a1", "found": {"memory_total_mib": ["80 GB"]}}', "found.memory_total_mib is an array"),
        ('{"host": "gpu-a1", "verdict": "pass"', "not JSON: Expecting ',' delimiter: line 1 column 37"),
        ("[" * 100000, "not JSON: nested too deeply"),
        (b'{"host": "gpu-\xff"}', "not JSON: 'utf-8' codec can't decode byte 0xff"),
        ("", "not JSON: Expecting value"),
    ],
)
def test_a_verdict_of_the_wrong_shape_is_unreadable_with_the_reason(text, words):
    with pytest.raises(VerdictUnreadable) as caught:
        parse_verdict(text)
    assert words in str(caught.value)


def test_a_verdict_as_the_role_writes_it_is_read_back_unchanged():
    text = json.dumps(dict(PASSING_A100, found=dict(PASSING_A100["found"], memory_total_mib=[81920, None])))
    assert parse_verdict(text)["found"]["memory_total_mib"] == [81920, None]
    # Printed fields may be any single value: a version a YAML inventory turned into a number is still readable.
    assert parse_verdict(json.dumps(dict(WRONG_MODEL, docker_version=20.10, hint=None)))["docker_version"] == 20.10
    assert parse_verdict(json.dumps(PASSING_A100).encode("utf-8")) == PASSING_A100


def test_unreadable_files_are_listed_and_the_other_hosts_still_reported():
    unreadable = {
        "/report/hosts/gpu-c3.json": "holds an array, not a JSON object",
        "/report/hosts/notes.json": "not JSON: Expecting value: line 1 column 1 (char 0)",
    }
    report = build_report({"gpu-a1": PASSING_A100}, hosts=["gpu-a1", "gpu-c3", "gpu-d4"], unreadable=unreadable)
    assert report["unreadable"] == [
        {"file": "/report/hosts/gpu-c3.json", "reason": "holds an array, not a JSON object"},
        {"file": "/report/hosts/notes.json", "reason": "not JSON: Expecting value: line 1 column 1 (char 0)"},
    ]
    rows = dict((row["host"], row) for row in report["hosts"])
    assert sorted(rows) == ["gpu-a1", "gpu-c3", "gpu-d4"]  # a stray file does not become a host
    assert rows["gpu-c3"]["error_kind"] == "verdict_unreadable"
    assert "/report/hosts/gpu-c3.json could not be read: holds an array" in rows["gpu-c3"]["reason"]
    assert rows["gpu-d4"]["error_kind"] == "no_verdict"
    text = render_markdown(report)
    assert "- /report/hosts/notes.json: not JSON: Expecting value" in text
    assert "| gpu-a1 | PASS |" in text


def test_a_report_with_every_file_readable_lists_none():
    report = build_report({"gpu-a1": PASSING_A100})
    assert report["unreadable"] == []
    assert "could not be read" not in render_markdown(report)


def test_gpus_of_which_one_has_no_memory_reading_still_render():
    verdict = dict(PASSING_A100, found=dict(PASSING_A100["found"], memory_total_mib=[None, 81920]))
    assert "8 x NVIDIA A100-SXM4-80GB (81920 MiB)" in render_markdown(build_report({"gpu-a1": verdict}))
