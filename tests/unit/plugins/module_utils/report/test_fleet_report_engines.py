# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report of hosts that run docker, containerd and podman: a verdict per engine and per host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from html.parser import HTMLParser

import pytest
from test_fleet_report_html import read

from ansible_collections.gpufleet.containers.plugins.module_utils.report.fleet import (
    VerdictUnreadable,
    build_report,
    parse_verdict,
    render_json,
    render_markdown,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.report.html import render_html
from ansible_collections.gpufleet.containers.plugins.module_utils.verification.verdict import (
    combine_engines,
    failure_verdict,
)

IMAGE = "nvidia/cuda:12.4.1-base-ubuntu22.04"
QUERY = ["nvidia-smi", "--query-gpu=index,name,memory.total,driver_version", "--format=csv,noheader,nounits"]
FOUND = {
    "gpu_count": 8,
    "models": ["NVIDIA A100-SXM4-80GB"],
    "memory_total_mib": [81920],
    "driver_version": "550.90.07",
    "cuda_version": "12.4",
}
DOCKER = {
    "verdict": "pass",
    "reason": "8 GPU(s) as expected",
    "hint": None,
    "error_kind": None,
    "version": "26.1.5+dfsg1",
    "gpu_count": 8,
    "command": ["docker", "run", "--rm", "--runtime", "nvidia", "--gpus", "all", IMAGE] + QUERY,
    "detail": {},
}
CONTAINERD = {
    "verdict": "pass",
    "reason": "8 GPU(s) as expected",
    "hint": None,
    "error_kind": None,
    "version": "1.7.24",
    "gpu_count": 8,
    "command": ["ctr", "run", "--rm", "--runc-binary", "/usr/bin/nvidia-container-runtime", IMAGE, "gpu-verify"]
    + QUERY,
    "detail": {"cri_runtimes": ["nvidia", "runc"]},
}
PODMAN = {
    "verdict": "pass",
    "reason": "8 GPU(s) as expected",
    "hint": None,
    "error_kind": None,
    "version": "5.4.2",
    "gpu_count": 8,
    "command": ["podman", "run", "--rm", "--device", "nvidia.com/gpu=all", IMAGE] + QUERY,
    "detail": {"device": "nvidia.com/gpu=all"},
}
STALE_CDI = (
    "podman could not inject the GPUs: /etc/cdi/nvidia.yaml names "
    "/usr/lib/x86_64-linux-gnu/libcuda.so.535.129.03, which does not exist (made for driver 535.129.03)"
)
REGENERATE = "regenerate it: nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml, or run the podman role again"
PODMAN_FAILING = dict(PODMAN, verdict="fail", reason=STALE_CDI, hint=REGENERATE, error_kind="cdi_stale", gpu_count=None)


def host(name, engines, **fields):
    verdict = {
        "host": name,
        "verdict": "pass" if all(result["verdict"] == "pass" for result in engines.values()) else "fail",
        "architecture": "amd64",
        "distribution": "Debian 13",
        "docker_version": DOCKER["version"],
        "toolkit_version": "1.17.8-1",
        "expected": {"count": 8},
        "found": FOUND,
        "engines": engines,
    }
    verdict.update(fields)
    return verdict


MIXED_1 = host("gpu-m1", {"docker": DOCKER, "containerd": CONTAINERD, "podman": PODMAN})
# gpu_verify copies the first failing engine's reason and hint up to the host's verdict.
MIXED_2 = host(
    "gpu-m2", {"docker": DOCKER, "containerd": CONTAINERD, "podman": PODMAN_FAILING}, reason=STALE_CDI, hint=REGENERATE
)
MIXED_3 = host(
    "gpu-m3",
    {"containerd": dict(CONTAINERD, version="1.6.20"), "podman": dict(PODMAN, version="4.3.1")},
    architecture="arm64",
    distribution="Debian 12",
    docker_version=None,
)
# A verdict file from before per-engine results: docker only, no engines key.
OLD_SCHEMA = {
    "host": "gpu-o4",
    "verdict": "pass",
    "architecture": "amd64",
    "distribution": "Debian 12",
    "docker_version": "20.10.24",
    "toolkit_version": "1.17.8-1",
    "expected": {"count": 8},
    "found": FOUND,
}
FLEET = {"gpu-m1": MIXED_1, "gpu-m2": MIXED_2, "gpu-m3": MIXED_3, "gpu-o4": OLD_SCHEMA}


def fleet_report(hosts=None):
    # As the module reads them: each verdict through parse_verdict, from the JSON text gpu_verify wrote.
    verdicts = {name: parse_verdict(json.dumps(verdict)) for name, verdict in FLEET.items()}
    return build_report(verdicts, hosts=hosts)


def markdown_row(text, host_name):
    return [line for line in text.splitlines() if line.startswith("| %s |" % host_name)][0]


def test_json_keeps_every_host_key_and_engines_and_counts_each_engine():
    report = json.loads(render_json(fleet_report()))
    assert sorted(report) == ["hosts", "totals", "unreadable"]
    assert sorted(report["totals"]) == [
        "by_architecture",
        "by_architecture_and_verdict",
        "by_engine",
        "by_verdict",
        "hosts",
    ]
    assert report["totals"]["by_engine"] == {
        "docker": {"pass": 2, "fail": 0},
        "containerd": {"pass": 3, "fail": 0},
        "podman": {"pass": 2, "fail": 1},
    }
    assert list(fleet_report()["totals"]["by_engine"]) == ["docker", "containerd", "podman"]
    rows = {row["host"]: row for row in report["hosts"]}
    assert rows["gpu-m2"]["verdict"] == "fail"
    assert rows["gpu-m2"]["engines"]["podman"]["error_kind"] == "cdi_stale"
    assert rows["gpu-m1"]["engines"]["containerd"]["detail"] == {"cri_runtimes": ["nvidia", "runc"]}
    assert "engines" not in rows["gpu-o4"]
    assert report["totals"]["by_verdict"] == {"fail": 1, "pass": 3}


def test_markdown_has_an_engines_column_in_words_and_a_per_engine_line():
    text = render_markdown(fleet_report(hosts=sorted(FLEET) + ["gpu-x5"]))
    assert "| host | verdict | engines | arch | distribution | docker | toolkit |" in text
    assert (
        "Engines: docker 2 pass, 0 fail; containerd 3 pass, 0 fail; podman 2 pass, 1 fail. Not broken down by "
        "engine (verdict from before per-engine results): gpu-o4." in text
    )
    assert markdown_row(text, "gpu-m1").startswith(
        "| gpu-m1 | PASS | docker: PASS · containerd: PASS · podman: PASS | amd64 | Debian 13 | 26.1.5+dfsg1 |"
    )
    assert markdown_row(text, "gpu-m3").startswith("| gpu-m3 | PASS | containerd: PASS · podman: PASS | arm64 |")
    assert markdown_row(text, "gpu-o4").startswith("| gpu-o4 | PASS | not recorded | amd64 | Debian 12 | 20.10.24 |")
    assert markdown_row(text, "gpu-x5").startswith("| gpu-x5 | FAIL | - | - |")  # no verdict: nothing verified


def test_a_failing_engine_reads_as_fail_with_its_reason_and_fix_once():
    text = render_markdown(fleet_report())
    row = markdown_row(text, "gpu-m2")
    assert row.startswith("| gpu-m2 | FAIL | docker: PASS · containerd: PASS · podman: FAIL |")
    assert row.endswith("| %s Fix: %s |" % (STALE_CDI, REGENERATE))  # the host's reason is the engine's: said once
    assert row.count(STALE_CDI) == 1
    assert text.index("| gpu-m2 |") < text.index("| gpu-m1 |")  # failed hosts first, as before


def test_an_engine_failure_other_than_the_hosts_reason_is_listed_after_it():
    containerd_down = dict(
        CONTAINERD,
        verdict="fail",
        reason="containerd does not answer on /run/containerd/containerd.sock",
        hint="start it: systemctl start containerd",
    )
    verdict = host(
        "gpu-m6",
        {"docker": DOCKER, "containerd": containerd_down, "podman": PODMAN_FAILING},
        reason="2 of 3 engines failed: containerd, podman",
        hint=None,
    )
    row = markdown_row(render_markdown(build_report({"gpu-m6": verdict})), "gpu-m6")
    assert row.endswith(
        "| 2 of 3 engines failed: containerd, podman containerd: containerd does not answer on "
        "/run/containerd/containerd.sock Fix: start it: systemctl start containerd podman: %s Fix: %s |"
        % (STALE_CDI, REGENERATE)
    )


def test_a_docker_only_fleet_of_old_verdicts_renders_exactly_as_before():
    report = build_report({"gpu-o4": OLD_SCHEMA})
    text = render_markdown(report)
    assert report["totals"]["by_engine"] == {}
    assert "engines" not in text and "Engines:" not in text
    assert "| host | verdict | arch | distribution | docker | toolkit | GPUs found |" in text
    assert markdown_row(text, "gpu-o4") == (
        "| gpu-o4 | PASS | amd64 | Debian 12 | 20.10.24 | 1.17.8-1 | 8 x NVIDIA A100-SXM4-80GB (81920 MiB) | "
        "550.90.07 | 12.4 | count=8 | - |"
    )
    page = render_html(report)
    assert "<th>engines</th>" not in page and 'id="by-engine"' not in page


class TagBalance(HTMLParser):
    """Every element the page opens is closed, in order (void elements aside): the page is well-formed."""

    VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr"}

    def __init__(self):
        HTMLParser.__init__(self)
        self.open = []
        self.errors = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.errors.append("</%s> closes <%s>" % (tag, self.open[-1] if self.open else "nothing"))
        else:
            self.open.pop()


def assert_well_formed(page):
    checker = TagBalance()
    checker.feed(page)
    checker.close()
    assert checker.errors == [] and checker.open == []
    read(page)  # and the reader the other page tests use takes it


def engine_items(page):
    """{(host, engine, class): text} of the engines column's items, as a reader sees them."""

    class Items(HTMLParser):
        def __init__(self):
            HTMLParser.__init__(self)
            self.items, self.host, self.key, self.column = {}, None, None, 0

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "tr" and "data-host" in attrs:
                self.host, self.column = attrs["data-host"], 0
            if tag == "td":
                self.column += 1
            # The engines column is the third: host, verdict, engines.
            if tag == "li" and attrs.get("class") in ("ok", "bad") and self.host and self.column == 3:
                self.key = [self.host, attrs["class"], ""]

        def handle_endtag(self, tag):
            if tag == "li" and self.key:
                host, state, text = self.key
                self.items[(host, text.split(" ")[0].rstrip(":"), state)] = text
                self.key = None

        def handle_data(self, data):
            if self.key:
                self.key[2] += data

    items = Items()
    items.feed(page)
    return items.items


def test_html_engines_column_says_pass_or_fail_in_text_with_versions():
    page = render_html(fleet_report(hosts=sorted(FLEET) + ["gpu-x5"]))
    assert_well_formed(page)
    assert "<th>host</th><th>verdict</th><th>engines</th><th>arch</th>" in page
    items = engine_items(page)
    assert items[("gpu-m2", "podman", "bad")] == "podman 5.4.2: FAIL"
    assert items[("gpu-m2", "docker", "ok")] == "docker 26.1.5+dfsg1: PASS"
    assert items[("gpu-m3", "containerd", "ok")] == "containerd 1.6.20: PASS"
    assert not [key for key in items if key[0] == "gpu-o4"]
    text = " ".join(read(page).text)
    assert "not recorded" in text
    # The failing engine's reason and fix are in the host's why-row; repeated only when they differ from the host's.
    assert text.count(STALE_CDI) == 1 and REGENERATE in text


def test_html_by_engine_table_counts_each_engine():
    page = render_html(fleet_report())
    assert (
        '<tr data-engine="podman"><td>podman</td><td class="n">2</td><td class="n">1</td><td class="n">3</td></tr>'
        in page
    )
    assert page.index('data-engine="docker"><td>') < page.index('data-engine="containerd"><td>')
    assert "Not broken down by engine (verdict from before per-engine results): gpu-o4." in page


def test_html_lists_each_failing_engine_that_differs_from_the_hosts_reason():
    containerd_down = dict(CONTAINERD, verdict="fail", reason="containerd <down>", hint="systemctl start containerd")
    verdict = host("gpu-m6", {"containerd": containerd_down, "podman": PODMAN_FAILING}, reason="2 engines failed")
    page = render_html(build_report({"gpu-m6": verdict}))
    assert_well_formed(page)
    assert (
        '<div class="engine-failure" data-engines="containerd"><b>containerd:</b> <span class="engine-reason">'
        'containerd &lt;down&gt;</span> <b>Fix:</b> <span class="engine-hint">systemctl start containerd</span></div>'
        in page
    )
    assert 'data-engines="podman"><b>podman:</b>' in page
    assert '<td colspan="11">' in page  # the why-row spans the engines column too


def engine_verdict_of(reason=None, hint=None, kind=None, gpu_count=8):
    """One engine's verdict as build_verdict shapes it, for combine_engines."""
    return {
        "host": "gpu-m7",
        "stage": "verify",
        "verdict": "fail" if kind else "pass",
        "cause": "container_runtime" if kind else None,
        "reason": reason or "8 GPU(s) as expected",
        "error_kind": kind,
        "hint": hint,
        "mismatches": [],
        "expected": {"count": 8},
        "found": dict(FOUND, gpu_count=gpu_count),
        "gpus": [],
        "architecture": "amd64",
        "distribution": "Debian 13",
        "docker_version": None,
        "toolkit_version": "1.17.8-1",
        "nvidia_smi": {"cmd": None if kind else ["nvidia-smi"], "rc": None, "stdout_tail": [], "stderr_tail": []},
    }


def test_a_host_verdict_combined_by_gpu_verify_names_the_failing_engine_once():
    combined = combine_engines(
        [
            ("docker", engine_verdict_of(), "26.1.5+dfsg1", {}),
            ("containerd", engine_verdict_of(), "1.7.24", {"cri_runtimes": ["nvidia", "runc"]}),
            ("podman", engine_verdict_of(STALE_CDI, REGENERATE, "no_gpu_runtime", None), "5.4.2", {}),
        ]
    )
    assert combined["reason"] == "podman: " + STALE_CDI  # what gpu_verify writes today
    report = build_report({"gpu-m7": parse_verdict(json.dumps(combined))})
    row = markdown_row(render_markdown(report), "gpu-m7")
    assert row.startswith("| gpu-m7 | FAIL | docker: PASS · containerd: PASS · podman: FAIL |")
    assert row.endswith("| podman: %s Fix: %s |" % (STALE_CDI, REGENERATE))
    assert report["totals"]["by_engine"]["podman"] == {"pass": 0, "fail": 1}


def test_a_host_that_stopped_before_verification_lists_its_engines_on_one_line():
    stopped = failure_verdict(
        "gpu-m8",
        "Restart containerd",
        {"msg": "containerd did not come back", "error_kind": "containerd_restart_failed", "hint": "read its log"},
        {"count": 8},
        IMAGE,
        "arm64",
        {"distribution": "Debian", "distribution_major_version": "13", "distribution_version": "13.1"},
        engines=["docker", "containerd", "podman"],
    )
    report = build_report({"gpu-m8": parse_verdict(json.dumps(stopped))})
    row = markdown_row(render_markdown(report), "gpu-m8")
    assert row.startswith("| gpu-m8 | FAIL | docker: FAIL · containerd: FAIL · podman: FAIL | arm64 |")
    assert row.endswith(
        "| containerd did not come back Fix: read its log docker, containerd, podman: not verified: the host stopped "
        "at Restart containerd |"
    )
    page = render_html(report)
    assert_well_formed(page)
    assert (
        '<div class="engine-failure" data-engines="docker containerd podman"><b>docker, containerd, podman:</b>' in page
    )


@pytest.mark.parametrize(
    "engines, words",
    [
        (["docker"], "engines is an array, not an object keyed by engine name"),
        ({"podman": "fail"}, "engines.podman is a string, not an object"),
        ({"podman": dict(PODMAN, reason={"msg": "x"})}, "engines.podman.reason is an object, not a single value"),
        ({"docker": dict(DOCKER, version=["26.1"])}, "engines.docker.version is an array, not a single value"),
    ],
)
def test_engines_of_the_wrong_shape_make_the_verdict_unreadable_with_the_reason(engines, words):
    with pytest.raises(VerdictUnreadable) as caught:
        parse_verdict(json.dumps(dict(MIXED_1, engines=engines)))
    assert str(caught.value) == words


def test_a_500_host_fleet_with_three_engines_each_stays_under_400_kib():
    verdicts = {}
    for number in range(500):
        name = "gpu-%03d.dc1.example.com" % number
        failing = number % 40 == 3
        engines = {"docker": DOCKER, "containerd": CONTAINERD, "podman": PODMAN_FAILING if failing else PODMAN}
        verdicts[name] = host(name, engines, reason=("podman: " + STALE_CDI) if failing else None)
    page = render_html(build_report(verdicts))
    assert len(page.encode("utf-8")) < 400 * 1024
    assert len([row for row in read(page).rows if row[0].startswith("host")]) == 500
