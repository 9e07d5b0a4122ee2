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
  - A verdict that carries per-engine results (C(engines), from C(gpu_verify) on hosts running docker, containerd
    and podman) adds an engines column with each engine's verdict in words, the failing engines' reasons and fixes
    beside the host's, and totals per engine. Verdicts without it render as before.
  - With O(scheduling_file), the scheduling audit's result (what C(gpufleet.containers.k8s_scheduling_audit)
    returns, written by the scheduling audit playbook) is added, as a table of workloads by node architecture with
    each cell's verdict (ok, fail, blocked) and reason, then the findings with their fixes.
  - Without O(verdict_dir), only the scheduling audit is rendered, to C(scheduling.md) and C(scheduling.html) in
    O(dest_dir); no fleet report is written.
  - Runs where the verdict files are, normally the controller (C(delegate_to=localhost)).
author: gpufleet maintainers (@gpufleet)
options:
  verdict_dir:
    description:
      - Folder of C(<host>.json) verdict files.
      - Without it, O(scheduling_file) is required and only the scheduling audit is rendered.
    type: path
  dest_dir:
    description:
      - Folder for C(fleet-report.json), C(fleet-report.md) and C(fleet-report.html).
      - Without O(verdict_dir), the folder for C(scheduling.md) and C(scheduling.html).
    type: path
    required: true
  hosts:
    description: Every host the run targeted; those without a verdict are reported as failed.
    type: list
    elements: str
    default: []
  title:
    description:
      - Heading of the human summary and of the HTML page.
      - When not set, C(GPU fleet report), or C(Scheduling audit) without O(verdict_dir).
    type: str
  html:
    description:
      - Write C(fleet-report.html) as well.
      - When V(false), an C(fleet-report.html) left by an earlier run is not touched.
    type: bool
    default: true
    version_added: 0.2.0
  scheduling_file:
    description:
      - The scheduling audit's result, as JSON (C(<report_dir>/scheduling.json) from the scheduling audit playbook),
        to add to the report under C(scheduling).
      - A file that does not exist leaves the scheduling part out, unless O(scheduling_required) is set or
        O(verdict_dir) is not.
      - A file that is not JSON or not shaped as a scheduling result is named in the report with the reason, as
        RV(scheduling_unreadable), and the fleet report is written all the same.
    type: path
    version_added: 0.2.0
  scheduling_required:
    description:
      - Fail the task when O(scheduling_file) does not exist or cannot be read; the fleet report is written first,
        saying why the scheduling part is missing.
      - When V(false), that is only a warning.
    type: bool
    default: false
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

- name: Write the fleet report with the scheduling audit, when the audit has run
  gpufleet.containers.fleet_report:
    verdict_dir: "{{ playbook_dir }}/report/hosts"
    dest_dir: "{{ playbook_dir }}/report"
    hosts: "{{ ansible_play_hosts_all }}"
    scheduling_file: "{{ playbook_dir }}/report/scheduling.json"
  delegate_to: localhost
  run_once: true

- name: Render the scheduling audit on its own (scheduling.md and scheduling.html beside scheduling.json)
  gpufleet.containers.fleet_report:
    scheduling_file: "{{ report_dir }}/scheduling.json"
    dest_dir: "{{ report_dir }}"
  delegate_to: localhost
"""

RETURN = r"""
totals:
  description:
    - Host counts, by verdict, by architecture, and per engine (C(by_engine), over the hosts whose verdict has
      per-engine results; empty when none has).
  returned: when O(verdict_dir) is set
  type: dict
  sample:
    hosts: 3
    by_verdict: {"fail": 1, "pass": 2}
    by_architecture: {"amd64": 3}
    by_engine: {"docker": {"pass": 3, "fail": 0}, "podman": {"pass": 2, "fail": 1}}
failed_hosts:
  description: Failed hosts with their reason, fix and failing engines, in report order.
  returned: when O(verdict_dir) is set
  type: list
  elements: dict
  sample:
    - host: gpu-03
      reason: "daemon.json is not valid JSON: line 3 column 5"
      hint: "fix /etc/docker/daemon.json"
      failed_engines: ["docker"]
json_path:
  description: Path of the machine-readable report.
  returned: when O(verdict_dir) is set
  type: str
markdown_path:
  description: Path of the human summary (C(fleet-report.md), or C(scheduling.md) without O(verdict_dir)).
  returned: always
  type: str
html_path:
  description: Path of the HTML page (C(fleet-report.html), or C(scheduling.html) without O(verdict_dir)).
  returned: when O(html=true)
  type: str
  version_added: 0.2.0
scheduling:
  description: The scheduling audit's verdict and counts, from O(scheduling_file).
  returned: when O(scheduling_file) was read
  type: dict
  version_added: 0.2.0
  sample: {"file": "report/scheduling.json", "verdict": "fail", "workloads": 6, "findings": 4, "errors": 3}
scheduling_unreadable:
  description: O(scheduling_file) and why it could not be used; the report says the same.
  returned: when O(scheduling_file) exists but could not be read, or is missing and required
  type: dict
  version_added: 0.2.0
  sample: {"file": "report/scheduling.json", "reason": "workloads is an object, not an array"}
summary:
  description: The human summary's text.
  returned: always
  type: str
unreadable:
  description:
    - Verdict files that could not be read (not JSON, or not shaped as a verdict), with the reason; the report covers
      the other hosts, and a targeted host whose file this is fails with the reason.
  returned: when O(verdict_dir) is set
  type: list
  elements: dict
  sample: [{"file": "report/hosts/gpu-03.json", "reason": "holds an array, not a JSON object"}]
"""

import glob
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.containers.plugins.module_utils.report import scheduling as scheduling_report
from ansible_collections.gpufleet.containers.plugins.module_utils.report.engines import engine_verdict, host_engines
from ansible_collections.gpufleet.containers.plugins.module_utils.report.fleet import (
    VerdictUnreadable,
    build_report,
    parse_verdict,
    render_json,
    render_markdown,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.report.html import render_html, render_scheduling_page


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


def read_scheduling(path, required):
    """(result or None, {"file", "reason"} or None). A missing file is nothing to report unless it is required."""
    if not path:
        return None, None
    if not os.path.exists(path):
        if not required:
            return None, None
        return None, {"file": path, "reason": "the file does not exist"}
    try:
        with open(path, "rb") as handle:
            return scheduling_report.parse_scheduling(handle.read()), None
    except OSError as error:
        return None, {"file": path, "reason": "cannot open: %s" % error.strerror}
    except scheduling_report.SchedulingUnreadable as error:
        return None, {"file": path, "reason": str(error)}


def scheduling_result(path, result):
    return dict(
        file=path,
        verdict=scheduling_report.verdict(result),
        workloads=len(result.get("workloads") or []),
        findings=len(result.get("findings") or []),
        errors=len(scheduling_report.errors(result)),
    )


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


def fleet_outputs(params, scheduling, scheduling_unreadable):
    """({path: text}, the part of the result that describes the fleet)."""
    verdicts, unreadable = read_verdicts(params["verdict_dir"])
    report = build_report(verdicts, params["hosts"], unreadable, scheduling, scheduling_unreadable)
    title = params["title"] or "GPU fleet report"
    markdown_path = os.path.join(params["dest_dir"], "fleet-report.md")
    json_path = os.path.join(params["dest_dir"], "fleet-report.json")
    outputs = {json_path: render_json(report), markdown_path: render_markdown(report, title)}
    if params["html"]:
        outputs[os.path.join(params["dest_dir"], "fleet-report.html")] = render_html(report, title)
    described = dict(
        totals=report["totals"],
        failed_hosts=[
            {
                "host": row["host"],
                "reason": row.get("reason"),
                "hint": row.get("hint"),
                "failed_engines": [name for name, result in host_engines(row) if engine_verdict(result) == "fail"],
            }
            for row in report["hosts"]
            if row["verdict"] != "pass"
        ],
        json_path=json_path,
        markdown_path=markdown_path,
        unreadable=report["unreadable"],
    )
    return outputs, described


def scheduling_outputs(params, scheduling):
    """The scheduling audit on its own: scheduling.md and scheduling.html beside the result."""
    title = params["title"] or "Scheduling audit"
    markdown_path = os.path.join(params["dest_dir"], "scheduling.md")
    outputs = {markdown_path: scheduling_report.render_markdown(scheduling, title)}
    if params["html"]:
        outputs[os.path.join(params["dest_dir"], "scheduling.html")] = render_scheduling_page(scheduling, title)
    return outputs, dict(markdown_path=markdown_path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            verdict_dir=dict(type="path"),
            dest_dir=dict(type="path", required=True),
            hosts=dict(type="list", elements="str", default=[]),
            title=dict(type="str"),
            html=dict(type="bool", default=True),
            scheduling_file=dict(type="path"),
            scheduling_required=dict(type="bool", default=False),
        ),
        required_one_of=[("verdict_dir", "scheduling_file")],
        supports_check_mode=True,
    )
    params = module.params
    fleet = bool(params["verdict_dir"])
    scheduling, scheduling_unreadable = read_scheduling(
        params["scheduling_file"], params["scheduling_required"] or not fleet
    )
    if not fleet and scheduling_unreadable:
        # Nothing else to render: nothing is written, and the task says what to fix.
        module.fail_json(
            msg="Cannot render the scheduling audit: %s %s. Run playbooks/scheduling_audit.yml again to write it."
            % (scheduling_unreadable["file"], scheduling_unreadable["reason"]),
            scheduling_unreadable=scheduling_unreadable,
        )
    if fleet:
        outputs, result = fleet_outputs(params, scheduling, scheduling_unreadable)
    else:
        outputs, result = scheduling_outputs(params, scheduling)
    markdown_path = result["markdown_path"]
    html_path = markdown_path[: -len(".md")] + ".html"
    stale = [path for path, text in outputs.items() if current_text(path) != text]
    result.update(changed=bool(stale), summary=outputs[markdown_path])
    if params["html"]:
        result["html_path"] = html_path
    if scheduling is not None:
        result["scheduling"] = scheduling_result(params["scheduling_file"], scheduling)
    if scheduling_unreadable:
        result["scheduling_unreadable"] = scheduling_unreadable
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
    if scheduling_unreadable:
        message = "The scheduling audit's result %s could not be used: %s; the fleet report says so." % (
            scheduling_unreadable["file"],
            scheduling_unreadable["reason"],
        )
        if params["scheduling_required"]:
            module.fail_json(msg=message + " Run playbooks/scheduling_audit.yml again to write it.", **result)
        module.warn(message)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
