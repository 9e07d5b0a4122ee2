# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML page of the fleet report, read back with the standard library's HTML parser (what a browser would see)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from html.parser import HTMLParser

from ansible_collections.gpufleet.containers.plugins.module_utils.report.fleet import build_report
from ansible_collections.gpufleet.containers.plugins.module_utils.report.html import render_html

A100_GPU = {"index": 0, "name": "NVIDIA A100-SXM4-80GB", "memory_total_mib": 81920, "mig_mode": "Disabled"}
PASSING_A100 = {
    "host": "gpu-a1",
    "verdict": "pass",
    "architecture": "amd64",
    "distribution": "Debian 12",
    "docker_version": "20.10.24",
    "toolkit_version": "1.17.8-1",
    "expected": {"model": "A100", "count": 8, "min_driver_version": "535.0"},
    "found": {
        "gpu_count": 8,
        "models": ["NVIDIA A100-SXM4-80GB"],
        "memory_total_mib": [81920],
        "driver_version": "535.129.03",
        "cuda_version": "12.2",
        "mig_devices": 0,
    },
    "gpus": [dict(A100_GPU, index=index) for index in range(8)],
    "mismatches": [],
    "simulated_gpu": True,
}
WRONG_MODEL = dict(
    PASSING_A100,
    host="gpu-b2",
    verdict="fail",
    architecture="arm64",
    expected={"model": "H100", "count": 8},
    reason="expected model H100, found NVIDIA A100-SXM4-80GB",
    hint="check the host's group: it is listed as an H100 node",
    mismatches=[{"field": "model", "expected": "H100", "found": ["NVIDIA A100-SXM4-80GB"], "message": "..."}],
)
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&"


class PageReader(HTMLParser):
    """Tags, attributes and text as a browser's parser would build them; no script or external resource allowed."""

    def __init__(self):
        HTMLParser.__init__(self)
        self.tags = []
        self.text = []
        self.rows = []  # (class, data-host) of every tr with a data-host

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "tr" and "data-host" in attrs:
            self.rows.append((attrs.get("class"), attrs["data-host"]))

    def handle_data(self, data):
        self.text.append(data)


def read(page):
    reader = PageReader()
    reader.feed(page)
    reader.close()
    return reader


def test_failed_hosts_come_first_with_reason_and_fix_then_passing_hosts():
    report = build_report({"gpu-a1": PASSING_A100, "gpu-b2": WRONG_MODEL}, hosts=["gpu-a1", "gpu-b2", "gpu-c3"])
    page = read(render_html(report))
    assert [host for cls, host in page.rows if cls.startswith("host")] == ["gpu-b2", "gpu-c3", "gpu-a1"]
    assert ("why", "gpu-b2") in page.rows and ("why", "gpu-a1") not in page.rows
    text = " ".join(page.text)
    assert "expected model H100, found NVIDIA A100-SXM4-80GB" in text
    assert "check the host's group: it is listed as an H100 node" in text
    assert "run again with -l gpu-c3" in text  # the host without a verdict is there, with its fix


def test_totals_by_verdict_and_architecture():
    report = build_report({"gpu-a1": PASSING_A100, "gpu-b2": WRONG_MODEL}, hosts=["gpu-a1", "gpu-b2", "gpu-c3"])
    page = render_html(report)
    assert '<span id="total-hosts">3</span>' in page
    assert '<span class="badge pass" id="total-pass">1 pass</span>' in page
    assert '<span class="badge fail" id="total-fail">2 fail</span>' in page
    assert (
        '<tr data-arch="arm64"><td>arm64</td><td class="n">0</td><td class="n">1</td><td class="n">1</td></tr>' in page
    )
    assert '<tr data-arch="unknown"><td>unknown</td>' in page


def test_each_host_shows_gpus_driver_cuda_engine_toolkit_and_expected_against_found():
    page = render_html(build_report({"gpu-a1": PASSING_A100, "gpu-b2": WRONG_MODEL}))
    text = " ".join(read(page).text)
    for words in ("8 x NVIDIA A100-SXM4-80GB, 81920 MiB", "535.129.03", "12.2", "20.10.24", "1.17.8-1"):
        assert words in text
    assert '<li class="bad">model: H100, found NVIDIA A100-SXM4-80GB</li>' in page
    assert '<li class="ok">count: 8, found 8</li>' in page  # on the failed host: only the model failed
    assert '<li class="ok">min_driver_version: 535.0, found 535.129.03</li>' in page


def test_a_host_that_failed_before_its_gpus_were_compared_shows_its_expectations_unchecked():
    docker_broken = {
        "host": "gpu-d4",
        "verdict": "fail",
        "expected": {"model": "A100"},
        "reason": "/etc/docker/daemon.json is not valid JSON",
    }
    page = render_html(build_report({"gpu-d4": docker_broken}))
    assert '<li class="unchecked">model: A100, found -</li>' in page


def test_every_value_from_a_host_is_escaped_so_the_page_runs_nothing():
    hostile = dict(
        WRONG_MODEL,
        host="gpu-" + HOSTILE,
        reason=HOSTILE,
        hint=HOSTILE,
        distribution=HOSTILE,
        docker_version=HOSTILE,
        architecture=HOSTILE,
        expected={"model": HOSTILE},
        gpus=[dict(A100_GPU, name=HOSTILE)],
    )
    page = render_html(build_report({hostile["host"]: hostile}, unreadable={HOSTILE + ".json": HOSTILE}), HOSTILE)
    reader = read(page)
    assert [tag for tag, attrs in reader.tags if tag in ("script", "img")] == []
    assert not [attrs for tag, attrs in reader.tags if any(name.startswith("on") for name in attrs)]
    # ...and the text itself reaches the reader unchanged, as text.
    assert HOSTILE in reader.text
    assert ("host fail", "gpu-" + HOSTILE) in reader.rows


def test_the_page_loads_nothing_from_elsewhere():
    page = render_html(build_report({"gpu-a1": PASSING_A100, "gpu-b2": WRONG_MODEL}))
    reader = read(page)
    assert [tag for tag, attrs in reader.tags if tag in ("script", "link", "img", "iframe", "object")] == []
    assert not [attrs for tag, attrs in reader.tags if "src" in attrs or "href" in attrs]
    assert "url(" not in page and "@import" not in page
    assert '<meta charset="utf-8">' in page


def test_verdict_fields_of_unexpected_shape_do_not_break_the_page():
    # parse_verdict checks only the fields the Markdown report reads; the page reads gpus and mismatches as well.
    odd = dict(PASSING_A100, gpus="8 x A100", mismatches={"field": "model"}, expected={"count": [8]})
    page = render_html(build_report({"gpu-a1": odd}))
    assert "8 x NVIDIA A100-SXM4-80GB" in page  # falls back to found
    assert '<li class="ok">count: 8, found 8</li>' in page


def test_unreadable_files_and_simulated_gpus_are_said():
    report = build_report({"gpu-a1": PASSING_A100}, unreadable={"/r/hosts/gpu-z9.json": "holds an array"})
    text = " ".join(read(render_html(report)).text)
    assert "/r/hosts/gpu-z9.json: holds an array" in text
    assert "Simulated GPU (testbed replay of captured nvidia-smi output): gpu-a1." in text


def test_a_500_host_fleet_stays_under_400_kib():
    verdicts = {}
    for number in range(500):
        host = "gpu-%03d.dc1.example.com" % number
        if number % 50 == 7:
            verdicts[host] = dict(WRONG_MODEL, host=host)
        else:
            verdicts[host] = dict(PASSING_A100, host=host, architecture=("arm64" if number % 3 == 0 else "amd64"))
    page = render_html(build_report(verdicts))
    assert len(page.encode("utf-8")) < 400 * 1024
    assert len([row for row in read(page).rows if row[0].startswith("host")]) == 500
