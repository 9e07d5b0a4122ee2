# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML fleet report in a real browser: headless Chromium renders it, and the checks read the DOM it built.

    python tests/collection/render_report.py [--out DIR] [--hosts 500]

Renders a synthetic fleet (500 hosts by default: amd64 and arm64, some failing, one failing with a hostile reason
that tries to inject markup), with scripts disabled and the network unreachable, and checks in the rendered DOM:
the counts, failed hosts first with reason and fix, no element the host's text tried to inject. Also renders a small
fleet to a screenshot (DIR/fleet-report-small.png, to look at) and prints the 500-host page's size, which must
stay under SIZE_LIMIT_BYTES. Exits non-zero on any failure.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "collections"))

from ansible_collections.gpufleet.containers.plugins.module_utils.report.fleet import build_report  # noqa: E402
from ansible_collections.gpufleet.containers.plugins.module_utils.report.html import render_html  # noqa: E402

SIZE_LIMIT_BYTES = 400 * 1024
HOSTILE_REASON = '<script>document.title="pwned"</script><img src=x onerror=alert(1)> daemon.json & "quotes"'


def synthetic_verdicts(count):
    """count hosts, every 25th failing (model mismatch), one with a hostile reason, a third of them arm64."""
    verdicts = {}
    for number in range(count):
        host = "gpu-%04d.rack%02d.example.net" % (number, number // 40)
        arch = "arm64" if number % 3 == 0 else "amd64"
        gpu = {"name": "NVIDIA GH200 480GB" if arch == "arm64" else "NVIDIA A100-SXM4-80GB", "mig_mode": "Disabled"}
        gpu["memory_total_mib"] = 97871 if arch == "arm64" else 81920
        verdict = {
            "host": host,
            "verdict": "pass",
            "architecture": arch,
            "distribution": "Ubuntu 24.04" if number % 2 else "Debian 12",
            "docker_version": "26.1.5+dfsg1",
            "toolkit_version": "1.17.8-1",
            "expected": {"count": 8 if arch == "amd64" else 1, "min_driver_version": "550.0"},
            "found": {
                "gpu_count": 8 if arch == "amd64" else 1,
                "models": [gpu["name"]],
                "memory_total_mib": [gpu["memory_total_mib"]],
                "driver_version": "550.90.07",
                "cuda_version": "12.4",
                "mig_devices": 0,
            },
            "gpus": [dict(gpu, index=index) for index in range(8 if arch == "amd64" else 1)],
            "mismatches": [],
        }
        if number % 25 == 11:
            verdict.update(
                verdict="fail",
                expected={"model": "H100", "count": verdict["found"]["gpu_count"]},
                reason="expected model H100, found %s" % gpu["name"],
                hint="check the host's inventory group",
                mismatches=[{"field": "model", "expected": "H100", "found": [gpu["name"]], "message": "model"}],
            )
        verdicts[host] = verdict
    hostile_host = sorted(verdicts)[1]
    verdicts[hostile_host].update(verdict="fail", reason=HOSTILE_REASON, hint="fix <b>daemon.json</b>")
    return verdicts


class DomReader(HTMLParser):
    """The rows, the ids' text and every tag of the DOM Chromium dumped."""

    def __init__(self):
        HTMLParser.__init__(self)
        self.tags = []
        self.rows = []  # (class, data-host)
        self.text_by_id = {}
        self._open_ids = []
        self.reasons = []
        self._in_reason = False
        self.arch_rows = {}  # architecture: the texts of its row's cells
        self._arch = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "tr":
            self._arch = attrs.get("data-arch")
            if self._arch:
                self.arch_rows[self._arch] = []
        if tag == "td" and self._arch:
            self.arch_rows[self._arch].append("")
        if tag == "tr" and "data-host" in attrs:
            self.rows.append((attrs.get("class") or "", attrs["data-host"]))
        element_id = "title" if tag == "title" else attrs.get("id")  # <title>: what a hostile script would change
        if element_id:
            self._open_ids.append((tag, element_id))
            self.text_by_id.setdefault(element_id, "")
        self._in_reason = attrs.get("class") == "reason"
        if self._in_reason:
            self.reasons.append("")

    def handle_endtag(self, tag):
        if self._open_ids and self._open_ids[-1][0] == tag:
            self._open_ids.pop()
        if tag == "span":
            self._in_reason = False

    def handle_data(self, data):
        if self._arch and self.arch_rows[self._arch]:
            self.arch_rows[self._arch][-1] += data
        for _tag, element_id in self._open_ids:
            self.text_by_id[element_id] += data
        if self._in_reason:
            self.reasons[-1] += data


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("render_report: no chromium on PATH; install the Debian package 'chromium' (tests/setup.sh does)")


def chromium(page_path, profile_dir, *extra):
    """Headless Chromium over a file:// page, with every host name unresolvable (the page must load nothing)."""
    argv = [
        chromium_binary(),
        "--headless",
        "--no-sandbox",  # runs as root in CI
        "--disable-gpu",
        "--no-first-run",
        "--user-data-dir=%s" % profile_dir,
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ]
    argv += list(extra) + ["file://" + page_path]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        sys.exit("render_report: chromium failed (rc %d): %s" % (result.returncode, result.stderr[-2000:]))
    return result.stdout


def check(condition, message, failures):
    print(("ok    " if condition else "FAIL  ") + message)
    if not condition:
        failures.append(message)


def check_large_fleet(out_dir, profile_dir, hosts, failures):
    verdicts = synthetic_verdicts(hosts)
    report = build_report(verdicts)
    page = render_html(report, "GPU fleet report (synthetic, %d hosts)" % hosts)
    page_path = os.path.join(out_dir, "fleet-report-%d.html" % hosts)
    with open(page_path, "w") as handle:
        handle.write(page)
    size = os.path.getsize(page_path)
    print(
        "size  %d-host page: %d bytes (%.0f KiB; limit %d KiB)" % (hosts, size, size / 1024, SIZE_LIMIT_BYTES // 1024)
    )
    check(size < SIZE_LIMIT_BYTES, "the %d-host page is under %d KiB" % (hosts, SIZE_LIMIT_BYTES // 1024), failures)

    started = time.time()
    dom = DomReader()
    # Scripts stay on here (--dump-dom needs them): a script a host's reason managed to inject would run and retitle
    # the page, which the title check below sees.
    dom.feed(chromium(page_path, profile_dir, "--dump-dom"))
    print("time  chromium rendered the %d-host page in %.1fs" % (hosts, time.time() - started))
    failed = sorted(host for host, verdict in verdicts.items() if verdict["verdict"] == "fail")
    host_rows = [host for cls, host in dom.rows if cls.startswith("host ")]
    failed_rows = [host for cls, host in dom.rows if cls == "host fail"]
    check(len(host_rows) == hosts, "the DOM has one row per host (%d of %d)" % (len(host_rows), hosts), failures)
    check(host_rows[: len(failed)] == failed, "the %d failed hosts come first, by name" % len(failed), failures)
    check(failed_rows == failed, "exactly the failed hosts are marked failed", failures)
    total = dom.text_by_id.get("total-hosts", "").strip()
    check(total == str(hosts), "the total says %s host(s)" % total, failures)
    fail_badge = dom.text_by_id.get("total-fail", "").strip()
    check(fail_badge == "%d fail" % len(failed), "the fail count says '%s'" % fail_badge, failures)
    arm64 = sum(1 for verdict in verdicts.values() if verdict["architecture"] == "arm64")
    arm64_failed = sum(1 for host in failed if verdicts[host]["architecture"] == "arm64")
    wanted = ["arm64", str(arm64 - arm64_failed), str(arm64_failed), str(arm64)]
    arm64_cells = [cell.strip() for cell in dom.arch_rows.get("arm64", [])]
    check(arm64_cells == wanted, "the arm64 row (pass, fail, hosts) is %s" % arm64_cells, failures)
    title = dom.text_by_id.get("title", "")
    check(title.startswith("GPU fleet report"), "the page's heading is still its own: %r" % title, failures)
    check("script" not in dom.tags and "img" not in dom.tags, "no element injected by a host's reason", failures)
    check(HOSTILE_REASON in dom.reasons, "the hostile reason is shown as text, unchanged", failures)


def screenshot_small_fleet(out_dir, profile_dir, failures):
    verdicts = synthetic_verdicts(30)
    small = {host: verdicts[host] for host in sorted(verdicts)[:6]}
    small[sorted(small)[2]].update(
        verdict="fail",
        reason="expected model H100, found NVIDIA A100-SXM4-80GB",
        hint="check the host's inventory group",
        expected={"model": "H100", "count": 8},
        mismatches=[{"field": "model"}],
    )
    page_path = os.path.join(out_dir, "fleet-report-small.html")
    with open(page_path, "w") as handle:
        handle.write(render_html(build_report(small, hosts=sorted(small) + ["gpu-unreached.example.net"])))
    shot = os.path.join(out_dir, "fleet-report-small.png")
    # Scripts off: the page must read the same without JavaScript.
    chromium(
        page_path,
        profile_dir,
        "--disable-javascript",
        "--screenshot=%s" % shot,
        "--window-size=1400,900",
        "--hide-scrollbars",
    )
    check(os.path.getsize(shot) > 10000, "screenshot written: %s" % shot, failures)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", help="folder for the pages and the screenshot (default: a temporary folder)")
    parser.add_argument("--hosts", type=int, default=500)
    args = parser.parse_args()
    out_dir = os.path.abspath(args.out or tempfile.mkdtemp(prefix="gpufleet-render-"))
    os.makedirs(out_dir, exist_ok=True)
    failures = []
    with tempfile.TemporaryDirectory(prefix="gpufleet-chromium-") as profile_dir:
        check_large_fleet(out_dir, profile_dir, args.hosts, failures)
        screenshot_small_fleet(out_dir, profile_dir, failures)
    print("render_report: %d check(s) failed" % len(failures) if failures else "render_report: all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
