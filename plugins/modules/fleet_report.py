#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: fleet_report
short_description: Write the fleet report from per-host GPU verdicts
version_added: 0.1.0
description:
  - Reads the per-host verdict files that the C(gpufleet.containers.gpu_verify) role and C(site.yml) write, and
    writes C(fleet-report.json) (machine-readable), C(fleet-report.md) (a human summary) and C(fleet-report.html)
    (the same as a page) next to them.
  - The HTML page is self-contained (inline CSS, no external assets, no JavaScript), so it opens offline, from a
    mail attachment or a CI artifact; every value that comes from a host is HTML-escaped.
  - Failed hosts come first, with their reason and the fix; totals by architecture and verdict.
  - Hosts listed in O(hosts) that have no verdict file are reported as failed with C(no verdict) (unreachable, or
    stopped before verification), so no host silently drops out of the report.
  - A verdict file that is not JSON or not shaped as a verdict (an array, a C(host) that is not a string) is listed
    in RV(unreadable) and in the summary with the reason; the other files are reported as usual.
  - Runs where the verdict files are, normally the controller (C(delegate_to=localhost)).
author: gpufleet maintainers (@gpufleet)
options:
  verdict_dir:
    description: Folder of C(<host>.json) verdict files.
    type: path
    required: true
  dest_dir:
    description: Folder for C(fleet-report.json), C(fleet-report.md) and C(fleet-report.html).
    type: path
    required: true
  hosts:
    description: Every host the run targeted; those without a verdict are reported as failed.
    type: list
    elements: str
    default: []
  title:
    description: Heading of the human summary and of the HTML page.
    type: str
    default: GPU fleet report
  html:
    description:
      - Write C(fleet-report.html) as well.
      - When V(false), an C(fleet-report.html) left by an earlier run is not touched.
    type: bool
    default: true
    version_added: 0.2.0
attributes:
  check_mode:
    support: full
    description: Nothing is written; RV(ignore:changed) says whether the report files would change.
  diff_mode:
    support: full
    description: Shows the human summary before and after.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller or any POSIX host that holds the verdict files.
"""

EXAMPLES = r"""
- name: Write the fleet report on the controller
  gpufleet.containers.fleet_report:
    verdict_dir: "{{ playbook_dir }}/report/hosts"
    dest_dir: "{{ playbook_dir }}/report"
    hosts: "{{ ansible_play_hosts_all }}"
  delegate_to: localhost
  run_once: true

- name: Write only the JSON and Markdown reports
  gpufleet.containers.fleet_report:
    verdict_dir: /var/lib/gpufleet/report/hosts
    dest_dir: /var/lib/gpufleet/report
    html: false
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
totals:
  description: Host counts, by verdict and by architecture.
  returned: always
  type: dict
  sample: {"hosts": 3, "by_verdict": {"fail": 1, "pass": 2}, "by_architecture": {"amd64": 3}}
failed_hosts:
  description: Failed hosts with their reason, in report order.
  returned: always
  type: list
  elements: dict
  sample: [{"host": "gpu-03", "reason": "daemon.json is not valid JSON: line 3 column 5"}]
json_path:
  description: Path of the machine-readable report.
  returned: always
  type: str
markdown_path:
  description: Path of the human summary.
  returned: always
  type: str
html_path:
  description: Path of the HTML page.
  returned: when O(html=true)
  type: str
  version_added: 0.2.0
summary:
  description: The human summary's text.
  returned: always
  type: str
unreadable:
  description:
    - Verdict files that could not be read (not JSON, or not shaped as a verdict), with the reason; the report covers
      the other hosts, and a targeted host whose file this is fails with the reason.
  returned: always
  type: list
  elements: dict
  sample: [{"file": "report/hosts/gpu-03.json", "reason": "holds an array, not a JSON object"}]
"""

import glob
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.containers.plugins.module_utils.report.fleet import (
    VerdictUnreadable,
    build_report,
    parse_verdict,
    render_json,
    render_markdown,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.report.html import render_html


def read_verdicts(verdict_dir):
    """({host: verdict}, {path: reason}): one bad file is reported, it does not hide the rest of the fleet."""
    verdicts, unreadable = {}, {}
    for path in sorted(glob.glob(os.path.join(verdict_dir, "*.json"))):
        try:
            with open(path, "rb") as handle:
                verdict = parse_verdict(handle.read())
        except OSError as error:
            unreadable[path] = "cannot open: %s" % error.strerror
            continue
        except VerdictUnreadable as error:
            unreadable[path] = str(error)
            continue
        host = verdict.get("host") or os.path.basename(path)[: -len(".json")]
        verdicts[host] = verdict
    return verdicts, unreadable


def current_text(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None


def write_atomically(module, path, text):
    directory = os.path.dirname(path)
    fd, temp_path = tempfile.mkstemp(dir=directory, prefix=".fleet-report-")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(temp_path, 0o644)
    module.atomic_move(temp_path, path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            verdict_dir=dict(type="path", required=True),
            dest_dir=dict(type="path", required=True),
            hosts=dict(type="list", elements="str", default=[]),
            title=dict(type="str", default="GPU fleet report"),
            html=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    verdicts, unreadable = read_verdicts(params["verdict_dir"])
    report = build_report(verdicts, params["hosts"], unreadable)
    outputs = {
        os.path.join(params["dest_dir"], "fleet-report.json"): render_json(report),
        os.path.join(params["dest_dir"], "fleet-report.md"): render_markdown(report, params["title"]),
    }
    html_path = os.path.join(params["dest_dir"], "fleet-report.html")
    if params["html"]:
        outputs[html_path] = render_html(report, params["title"])
    stale = [path for path, text in outputs.items() if current_text(path) != text]
    markdown_path = os.path.join(params["dest_dir"], "fleet-report.md")
    result = dict(
        changed=bool(stale),
        totals=report["totals"],
        failed_hosts=[
            {"host": row["host"], "reason": row.get("reason"), "hint": row.get("hint")}
            for row in report["hosts"]
            if row["verdict"] != "pass"
        ],
        json_path=os.path.join(params["dest_dir"], "fleet-report.json"),
        markdown_path=markdown_path,
        summary=outputs[markdown_path],
        unreadable=report["unreadable"],
    )
    if params["html"]:
        result["html_path"] = html_path
    if module._diff:
        result["diff"] = dict(
            before=current_text(markdown_path) or "",
            after=outputs[markdown_path],
            before_header=markdown_path,
            after_header=markdown_path,
        )
    if stale and not module.check_mode:
        if not os.path.isdir(params["dest_dir"]):
            os.makedirs(params["dest_dir"])
        for path in stale:
            write_atomically(module, path, outputs[path])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
