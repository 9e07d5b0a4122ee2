# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduling audit's part of the report: its result read back, checked, and put as a table in words.

The result is what the k8s_scheduling_audit module returns and playbooks/scheduling_audit.yml writes to
<report_dir>/scheduling.json: node_architectures, nodes, workloads (each with a verdict per node architecture:
ok, fail or blocked, and the reason), findings (problem and fix) and a summary. The report shows a table of
workloads x node architectures, then the findings with their fixes. Plain Python (no Ansible import) so it is
unit-tested directly.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.gpufleet.containers.plugins.module_utils.json_types import is_number, json_type_name
from ansible_collections.gpufleet.containers.plugins.module_utils.report.markdown import table_row

CELL_VERDICTS = ("ok", "fail", "blocked")
# How a cell's verdict reads: a failure stands out in capitals, as a failed host does.
CELL_WORDS = {"ok": "ok", "fail": "FAIL", "blocked": "blocked", None: "not assessed"}
SEVERITIES = ("error", "warning")
PRINTED_WORKLOAD_FIELDS = ("kind", "namespace", "name")
PRINTED_FINDING_FIELDS = ("workload", "container", "image", "problem", "fix", "severity")
PRINTED_NODE_FIELDS = ("name", "architecture", "source")


class SchedulingUnreadable(Exception):
    """A scheduling result that cannot be reported on; the message says why."""


def _single_value_problem(where, item, fields):
    for field in fields:
        value = item.get(field)
        if isinstance(value, (dict, list)):
            return "%s.%s is %s, not a single value" % (where, field, json_type_name(value))
    return None


def _list_of_objects_problem(result, key):
    value = result.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        return "%s is %s, not an array" % (key, json_type_name(value))
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            return "%s[%d] is %s, not an object" % (key, index, json_type_name(item))
    return None


def _workload_problem(index, workload):
    where = "workloads[%d]" % index
    problem = _single_value_problem(where, workload, PRINTED_WORKLOAD_FIELDS)
    if problem:
        return problem
    cells = workload.get("architectures")
    if cells is None:
        return None
    if not isinstance(cells, dict):
        return "%s.architectures is %s, not an object keyed by architecture" % (where, json_type_name(cells))
    for arch, cell in cells.items():
        if not isinstance(cell, dict):
            return "%s.architectures.%s is %s, not an object" % (where, arch, json_type_name(cell))
        if cell.get("verdict") not in CELL_VERDICTS:
            return "%s.architectures.%s.verdict is %s, not one of %s" % (
                where,
                arch,
                json.dumps(cell.get("verdict")),
                ", ".join(CELL_VERDICTS),
            )
        if isinstance(cell.get("reason"), (dict, list)):
            return "%s.architectures.%s.reason is %s, not a single value" % (
                where,
                arch,
                json_type_name(cell["reason"]),
            )
    return None


def scheduling_shape_problem(result):
    """Why the report cannot use this parsed scheduling result, or None when it can."""
    if not isinstance(result, dict):
        return "holds %s, not a JSON object" % json_type_name(result)
    arches = result.get("node_architectures")
    if arches is not None and not (isinstance(arches, list) and all(isinstance(arch, str) for arch in arches)):
        return "node_architectures is %s, not a list of strings" % json_type_name(arches)
    for key in ("nodes", "workloads", "findings"):
        problem = _list_of_objects_problem(result, key)
        if problem:
            return problem
    for index, node in enumerate(result.get("nodes") or []):
        problem = _single_value_problem("nodes[%d]" % index, node, PRINTED_NODE_FIELDS)
        if problem:
            return problem
        if node.get("gpus") is not None and not is_number(node["gpus"]):
            return "nodes[%d].gpus is %s, not a number" % (index, json_type_name(node["gpus"]))
    for index, workload in enumerate(result.get("workloads") or []):
        problem = _workload_problem(index, workload)
        if problem:
            return problem
    for index, finding in enumerate(result.get("findings") or []):
        problem = _single_value_problem("findings[%d]" % index, finding, PRINTED_FINDING_FIELDS)
        if problem:
            return problem
    summary = result.get("summary")
    if summary is not None and not isinstance(summary, dict):
        return "summary is %s, not an object" % json_type_name(summary)
    return _single_value_problem("summary", summary or {}, ("verdict",))


def parse_scheduling(data):
    """The scheduling result in a file's bytes or text; SchedulingUnreadable says what is wrong with it."""
    try:
        result = json.loads(data)
    except ValueError as error:
        raise SchedulingUnreadable("not JSON: %s" % error) from None
    except RecursionError:
        raise SchedulingUnreadable("not JSON: nested too deeply to read") from None
    problem = scheduling_shape_problem(result)
    if problem:
        raise SchedulingUnreadable(problem)
    return result


def architectures(result):
    """The table's columns: the nodes' architectures in the audit's order, then any other a workload was judged for."""
    columns = list(result.get("node_architectures") or [])
    extra = set()
    for workload in result.get("workloads") or []:
        extra.update(arch for arch in (workload.get("architectures") or {}) if arch not in columns)
    return columns + sorted(extra)


def workload_name(workload):
    """'Deployment/ml/trainer': kind/namespace/name, as the findings name workloads."""
    return "/".join(
        "-" if workload.get(field) in (None, "") else str(workload[field]) for field in PRINTED_WORKLOAD_FIELDS
    )


def cell(workload, arch):
    """(verdict or None, reason or None) of one workload on one architecture; None: the audit did not judge it."""
    result = (workload.get("architectures") or {}).get(arch)
    if result is None:
        return None, None
    return result["verdict"], result.get("reason")


def verdict(result):
    """'pass' or 'fail' for the whole audit: the summary's word, else failed when any finding is an error."""
    stated = (result.get("summary") or {}).get("verdict")
    if stated in ("pass", "fail"):
        return stated
    return "fail" if errors(result) else "pass"


def errors(result):
    return [finding for finding in result.get("findings") or [] if finding.get("severity") != "warning"]


def ordered_findings(result):
    """Errors first, each kind in the audit's order."""
    findings = result.get("findings") or []
    return [item for item in findings if item.get("severity") != "warning"] + [
        item for item in findings if item.get("severity") == "warning"
    ]


def summary_text(result):
    """'Scheduling audit: FAIL. 6 workload(s), 5 finding(s): 4 error(s), 1 warning(s).'"""
    findings = result.get("findings") or []
    error_count = len(errors(result))
    return "Scheduling audit: %s. %d workload(s), %d finding(s): %d error(s), %d warning(s)." % (
        verdict(result).upper(),
        len(result.get("workloads") or []),
        len(findings),
        error_count,
        len(findings) - error_count,
    )


def nodes_text(result):
    """'Nodes: amd64 2 (2 with GPUs), arm64 1 (0 with GPUs); from kubectl.' or None when the audit lists none."""
    nodes = result.get("nodes") or []
    if not nodes:
        return None
    counts = {}
    for node in nodes:
        per_arch = counts.setdefault(str(node.get("architecture") or "unknown"), [0, 0])
        per_arch[0] += 1
        per_arch[1] += 1 if (node.get("gpus") or 0) > 0 else 0
    sources = sorted({str(node.get("source")) for node in nodes if node.get("source")})
    text = "Nodes: %s" % ", ".join(
        "%s %d (%d with GPUs)" % (arch, total, gpus) for arch, (total, gpus) in sorted(counts.items())
    )
    return text + ("; from %s." % " and ".join(sources) if sources else ".")


def cell_text(verdict_word, reason):
    """'FAIL: image has no linux/arm64 variant': the verdict in words, then why."""
    word = CELL_WORDS.get(verdict_word, str(verdict_word))
    return "%s: %s" % (word, reason) if reason not in (None, "") else word


def finding_text(finding):
    """'ERROR Deployment/ml/trainer, container trainer, image reg/x:1: <problem>. Fix: <fix>'"""
    where = [str(finding.get("workload") or "-")]
    if finding.get("container"):
        where.append("container %s" % finding["container"])
    if finding.get("image"):
        where.append("image %s" % finding["image"])
    text = "%s %s: %s" % (
        str(finding.get("severity") or "error").upper(),
        ", ".join(where),
        sentence(finding.get("problem")),
    )
    if finding.get("fix"):
        text += " Fix: %s" % finding["fix"]
    return text


def sentence(text):
    """The audit's problems are phrases; a full stop keeps the fix after it from reading as part of them."""
    text = "-" if text in (None, "") else str(text).rstrip()
    return text if text.endswith((".", "!", "?", ":")) else text + "."


def unreadable_text(entry):
    """Why the report has no scheduling table though one was asked for, and what to do."""
    return (
        "The scheduling audit's result %s could not be read: %s. Run playbooks/scheduling_audit.yml again to "
        "write it." % (entry.get("file"), entry.get("reason"))
    )


def render_markdown_section(result, heading="## Scheduling audit"):
    """The table of workloads x node architectures and the findings, as Markdown lines."""
    columns = architectures(result)
    lines = [heading, "", summary_text(result)]
    nodes = nodes_text(result)
    if nodes:
        lines.append(nodes)
    workloads = result.get("workloads") or []
    if workloads:
        lines += ["", table_row(["workload"] + columns), "| " + " | ".join(["---"] * (len(columns) + 1)) + " |"]
        for workload in workloads:
            lines.append(table_row([workload_name(workload)] + [cell_text(*cell(workload, arch)) for arch in columns]))
    findings = ordered_findings(result)
    if findings:
        lines += ["", "Findings, each with its fix:"]
        lines += ["- %s" % finding_text(finding).replace("\n", " ") for finding in findings]
    else:
        lines += ["", "No findings."]
    return lines


def render_markdown(result, title="Scheduling audit"):
    """The scheduling audit on its own, as a Markdown document."""
    return "\n".join(render_markdown_section(result, "# %s" % title)) + "\n"
