# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report as one self-contained HTML page, rendered from _fleet_report.build_report's document.

The page works offline and from a mail attachment: its CSS is inline, it loads nothing (no image, font, script or
stylesheet) and needs no JavaScript. Every value that comes from a host (reasons, hints, versions, GPU names, even
host names) is HTML-escaped: a verdict file is written from what a host said, and the page must not run it.
Plain Python (no Ansible import) so it is unit-tested directly.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import html

from ansible_collections.gpufleet.containers.plugins.module_utils.report import scheduling as scheduling_report
from ansible_collections.gpufleet.containers.plugins.module_utils.report.engines import (
    engine_failures,
    engine_label,
    engine_verdict,
    engines_cell_text,
    host_engines,
    hosts_without_engine_results,
)

# Kept short: a 500-host page repeats the class names, not the styles.
STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:1.5em;color:#1d2733}
h1{margin:0 0 .2em;font-size:1.6em}h2{margin:1.4em 0 .4em;font-size:1.2em}
.summary{font-size:1.15em;margin:.2em 0 1em}
.badge{display:inline-block;padding:.05em .55em;border-radius:.8em;font-weight:600;color:#fff}
.badge.pass{background:#1e7a3c}.badge.fail{background:#b3261e}
table{border-collapse:collapse;margin:.3em 0 1em}
th,td{border:1px solid #c9d1da;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eef2f6}td.nw{white-space:nowrap}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.host.fail>td:first-child{border-left:4px solid #b3261e}tr.host.pass>td:first-child{border-left:4px solid #1e7a3c}
tr.why td{background:#fdf1f0;border-top:none}.why b{color:#b3261e}
ul.checks{list-style:none;margin:0;padding:0}.checks li.bad{color:#b3261e;font-weight:600}
.checks li.ok::before{content:"\\2713  ";color:#1e7a3c}.checks li.bad::before{content:"\\2717  "}
.checks li.unchecked{color:#5c6b7a}.checks li.unchecked::before{content:"?  "}
.why .engine-failure{margin-top:.3em}
td.cell.ok{background:#eaf6ee}td.cell.fail{background:#fdf1f0}td.cell.fail b{color:#b3261e}
td.cell.blocked{color:#5c6b7a}ul.findings li{margin:.2em 0}ul.findings li.error b.severity{color:#b3261e}
.muted{color:#5c6b7a}footer{margin-top:2em;color:#5c6b7a;font-size:.9em}
"""

# What each expectation key is checked against in a verdict's `found`, for the expected-vs-found column.
FOUND_FOR_EXPECTATION = {
    "model": "models",
    "count": "gpu_count",
    "min_memory_mib": "memory_total_mib",
    "min_driver_version": "driver_version",
    "min_cuda_version": "cuda_version",
}
COLUMNS = ("host", "verdict", "arch", "distribution", "Docker", "toolkit", "GPUs", "driver", "CUDA", "expected / found")
# With per-engine results, the engines column follows the host's verdict.
COLUMNS_WITH_ENGINES = COLUMNS[:2] + ("engines",) + COLUMNS[2:]


def esc(value):
    """Text for HTML content or a quoted attribute; None and '' print as '-' like the Markdown report."""
    return html.escape("-" if value in (None, "") else str(value), quote=True)


def _plain(value):
    """A value of the verdict as short text: lists joined, nothing nested printed as Python's repr."""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value if not isinstance(item, (dict, list))) or None
    if isinstance(value, dict):
        return None
    return value


def _gpus(row):
    """'8 x NVIDIA A100-SXM4-80GB, 81920 MiB' per kind of GPU: the host's GPUs without 500 x 8 lines."""
    gpus = row.get("gpus")
    if isinstance(gpus, list) and gpus and all(isinstance(gpu, dict) for gpu in gpus):
        kinds = {}
        for gpu in gpus:
            key = (str(gpu.get("name") or "?"), gpu.get("memory_total_mib"))
            kinds[key] = kinds.get(key, 0) + 1
        return [
            "%d x %s%s" % (count, name, ", %s MiB" % memory if memory is not None else "")
            for (name, memory), count in sorted(kinds.items(), key=lambda item: (item[0][0], str(item[0][1])))
        ]
    found = row.get("found") or {}
    if found.get("gpu_count") is None:
        return []
    models = sorted(set(found.get("models") or [])) or ["?"]
    return ["%s x %s" % (found["gpu_count"], ", ".join(models))]


def _found_for(row, key):
    if key == "mig":
        gpus = row.get("gpus")
        if isinstance(gpus, list):
            modes = sorted({str(gpu.get("mig_mode")) for gpu in gpus if isinstance(gpu, dict) and gpu.get("mig_mode")})
            return ", ".join(modes) or None
        return None
    return _plain((row.get("found") or {}).get(FOUND_FOR_EXPECTATION.get(key, key)))


def _checks(row):
    """[(state, text)] per expectation: what was expected, what was found, and whether it held.

    state: ok (held), bad (named in the verdict's mismatches) or unchecked (the host failed before its GPUs were
    compared, so nothing was found to hold against the expectation).
    """
    expected = row.get("expected") or {}
    mismatches = row.get("mismatches")
    failed_fields = set()
    if isinstance(mismatches, list):
        failed_fields = {item.get("field") for item in mismatches if isinstance(item, dict)}
    checks = []
    for key in sorted(expected):
        if row["verdict"] == "pass":
            state = "ok"
        elif key in failed_fields:
            state = "bad"
        elif failed_fields:
            state = "ok"  # the GPUs were compared, and only other expectations failed
        else:
            state = "unchecked"
        shown = _found_for(row, key)
        text = "%s: %s, found %s" % (key, _plain(expected[key]), "-" if shown in (None, "") else shown)
        checks.append((state, text))
    return checks


def _engines_cell(row):
    """Each engine's verdict as a word (pass / FAIL) beside its mark, so the cell reads the same without colour."""
    engines = host_engines(row)
    if not engines:
        return '<td class="muted">%s</td>' % esc(engines_cell_text(row))
    # No per-item attributes: three engines on 500 hosts must keep the page under its size limit.
    items = "".join(
        '<li class="%s">%s: %s</li>'
        % (
            "ok" if engine_verdict(result) == "pass" else "bad",
            esc(engine_label(name, result)),
            esc(engine_verdict(result).upper()),
        )
        for name, result in engines
    )
    return '<td class="nw"><ul class="checks">%s</ul></td>' % items


def _engine_failures_html(row):
    parts = []
    for engines, reason, hint in engine_failures(row):
        text = '<div class="engine-failure" data-engines="%s"><b>%s:</b> <span class="engine-reason">%s</span>' % (
            esc(" ".join(engines)),
            esc(", ".join(engines)),
            esc(reason),
        )
        if hint:
            text += ' <b>Fix:</b> <span class="engine-hint">%s</span>' % esc(hint)
        parts.append(text + "</div>")
    return "".join(parts)


def _host_rows(row, columns=COLUMNS):
    verdict = row["verdict"]
    cells = [
        '<td class="nw"><b>%s</b></td>' % esc(row["host"]),
        '<td><span class="badge %s">%s</span></td>' % (esc(verdict), esc(verdict.upper())),
    ]
    if "engines" in columns:
        cells.append(_engines_cell(row))
    cells += [
        "<td>%s</td>" % esc(row.get("architecture")),
        "<td>%s</td>" % esc(row.get("distribution")),
        '<td class="nw">%s</td>' % esc(row.get("docker_version")),
        '<td class="nw">%s</td>' % esc(row.get("toolkit_version")),
        "<td>%s</td>" % ("<br>".join(esc(line) for line in _gpus(row)) or "-"),
        '<td class="nw">%s</td>' % esc((row.get("found") or {}).get("driver_version")),
        '<td class="nw">%s</td>' % esc((row.get("found") or {}).get("cuda_version")),
    ]
    checks = _checks(row)
    if checks:
        items = "".join('<li class="%s">%s</li>' % (state, esc(text)) for state, text in checks)
        cells.append('<td><ul class="checks">%s</ul></td>' % items)
    else:
        cells.append('<td class="muted">nothing expected</td>')
    lines = ['<tr class="host %s" data-host="%s">%s</tr>' % (esc(verdict), esc(row["host"]), "".join(cells))]
    if verdict == "fail":
        lines.append(
            '<tr class="why" data-host="%s"><td colspan="%d"><b>Reason:</b> <span class="reason">%s</span>'
            '<br><b>Fix:</b> <span class="hint">%s</span>%s</td></tr>'
            % (
                esc(row["host"]),
                len(columns),
                esc(row.get("reason")),
                esc(row.get("hint")),
                _engine_failures_html(row),
            )
        )
    return lines


def _host_table(table_id, rows, columns=COLUMNS):
    head = "".join("<th>%s</th>" % esc(name) for name in columns)
    body = [line for row in rows for line in _host_rows(row, columns)]
    return ['<table id="%s"><thead><tr>%s</tr></thead><tbody>' % (table_id, head)] + body + ["</tbody></table>"]


def _page_head(title):
    return [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>%s</title><style>%s</style></head><body>" % (esc(title), STYLE.strip()),
        "<h1>%s</h1>" % esc(title),
    ]


def _by_engine_table(totals, rows):
    by_engine = totals.get("by_engine") or {}
    if not by_engine:
        return []
    parts = [
        "<h2>By engine</h2>",
        '<table id="by-engine"><thead><tr><th>engine</th><th>pass</th><th>fail</th><th>hosts</th></tr></thead><tbody>',
    ]
    for name, counts in by_engine.items():
        parts.append(
            '<tr data-engine="%s"><td>%s</td><td class="n">%d</td><td class="n">%d</td><td class="n">%d</td></tr>'
            % (esc(name), esc(name), counts["pass"], counts["fail"], counts["pass"] + counts["fail"])
        )
    parts.append("</tbody></table>")
    older = hosts_without_engine_results(rows)
    if older:
        parts.append(
            '<p id="engines-not-recorded" class="muted">Not broken down by engine (verdict from before per-engine '
            "results): %s.</p>" % esc(", ".join(older))
        )
    return parts


def _scheduling_cell(workload, arch):
    verdict, reason = scheduling_report.cell(workload, arch)
    word = scheduling_report.CELL_WORDS.get(verdict, verdict)
    if verdict is None:
        return '<td class="cell muted" data-arch="%s">%s</td>' % (esc(arch), esc(word))
    # The reason is visible text, and the tooltip too (title) for a reader scanning a wide table.
    return '<td class="cell %s" data-arch="%s" title="%s"><b>%s</b><br><span class="cell-reason">%s</span></td>' % (
        esc(verdict),
        esc(arch),
        esc(reason),
        esc(word),
        esc(reason),
    )


def scheduling_section(result, heading_level=2):
    """The scheduling audit as HTML: its verdict, the nodes, workloads x node architectures, findings with fixes."""
    columns = scheduling_report.architectures(result)
    verdict = scheduling_report.verdict(result)
    parts = [
        '<h%d id="scheduling">Scheduling audit</h%d>' % (heading_level, heading_level),
        '<p class="summary" id="scheduling-summary"><span class="badge %s">%s</span> %s</p>'
        % (esc(verdict), esc(verdict.upper()), esc(scheduling_report.summary_text(result))),
    ]
    nodes = scheduling_report.nodes_text(result)
    if nodes:
        parts.append('<p id="scheduling-nodes">%s</p>' % esc(nodes))
    workloads = result.get("workloads") or []
    if workloads:
        head = "".join('<th scope="col">%s</th>' % esc(arch) for arch in columns)
        parts.append(
            '<table id="scheduling-table"><thead><tr><th scope="col">workload</th>%s</tr></thead><tbody>' % head
        )
        for workload in workloads:
            name = scheduling_report.workload_name(workload)
            cells = "".join(_scheduling_cell(workload, arch) for arch in columns)
            parts.append('<tr data-workload="%s"><th scope="row">%s</th>%s</tr>' % (esc(name), esc(name), cells))
        parts.append("</tbody></table>")
    findings = scheduling_report.ordered_findings(result)
    if not findings:
        parts.append('<p id="scheduling-findings">No findings.</p>')
        return parts
    parts.append(
        '<h%d>Findings, each with its fix</h%d><ul class="findings" id="scheduling-findings">'
        % (heading_level + 1, heading_level + 1)
    )
    for finding in findings:
        severity = "warning" if finding.get("severity") == "warning" else "error"
        where = [esc(finding.get("workload"))]
        if finding.get("container"):
            where.append("container %s" % esc(finding["container"]))
        if finding.get("image"):
            where.append("image <code>%s</code>" % esc(finding["image"]))
        item = '<li class="%s"><b class="severity">%s</b> %s: <span class="problem">%s</span>' % (
            severity,
            severity.upper(),
            ", ".join(where),
            esc(scheduling_report.sentence(finding.get("problem"))),
        )
        if finding.get("fix"):
            item += ' <b>Fix:</b> <span class="fix">%s</span>' % esc(finding["fix"])
        parts.append(item + "</li>")
    parts.append("</ul>")
    return parts


def render_html(report, title="GPU fleet report"):
    """The whole page as text; failed hosts first, each with its reason and the fix."""
    totals = report["totals"]
    passed = [row for row in report["hosts"] if row["verdict"] == "pass"]
    failed = [row for row in report["hosts"] if row["verdict"] != "pass"]
    # The engines column only where some host verified per engine: a docker-only fleet's page stays as it was.
    columns = COLUMNS_WITH_ENGINES if any(row.get("engines") for row in report["hosts"]) else COLUMNS
    parts = _page_head(title) + [
        '<p class="summary" id="summary"><span id="total-hosts">%d</span> host(s): '
        '<span class="badge pass" id="total-pass">%d pass</span> '
        '<span class="badge fail" id="total-fail">%d fail</span></p>' % (totals["hosts"], len(passed), len(failed)),
        "<h2>By architecture</h2>",
        '<table id="by-architecture"><thead><tr><th>architecture</th><th>pass</th><th>fail</th><th>hosts</th>'
        "</tr></thead><tbody>",
    ]
    for arch, counts in sorted(totals["by_architecture_and_verdict"].items()):
        parts.append(
            '<tr data-arch="%s"><td>%s</td><td class="n">%d</td><td class="n">%d</td><td class="n">%d</td></tr>'
            % (esc(arch), esc(arch), counts["pass"], counts["fail"], counts["pass"] + counts["fail"])
        )
    parts.append(
        '</tbody><tfoot><tr><th>all</th><td class="n">%d</td><td class="n">%d</td><td class="n">%d</td></tr>'
        "</tfoot></table>" % (len(passed), len(failed), totals["hosts"])
    )
    parts += _by_engine_table(totals, report["hosts"])
    if failed:
        parts.append('<h2 id="failed">Failed hosts (%d)</h2>' % len(failed))
        parts += _host_table("failed-hosts", failed, columns)
    if passed:
        parts.append('<h2 id="passed">Passing hosts (%d)</h2>' % len(passed))
        parts += _host_table("passing-hosts", passed, columns)
    if report.get("unreadable"):
        parts.append('<h2 id="unreadable">Verdict files that could not be read</h2>')
        parts.append("<p>Delete them and verify those hosts again.</p><ul>")
        parts += ["<li>%s: %s</li>" % (esc(entry["file"]), esc(entry["reason"])) for entry in report["unreadable"]]
        parts.append("</ul>")
    if report.get("scheduling") is not None:
        parts += scheduling_section(report["scheduling"])
    if report.get("scheduling_unreadable"):
        parts.append('<h2 id="scheduling">Scheduling audit</h2>')
        parts.append(
            '<p id="scheduling-unreadable">%s</p>'
            % esc(scheduling_report.unreadable_text(report["scheduling_unreadable"]))
        )
    simulated = [row["host"] for row in report["hosts"] if row.get("simulated_gpu")]
    parts.append("<footer>")
    if simulated:
        parts.append(
            '<p id="simulated">Simulated GPU (testbed replay of captured nvidia-smi output): %s.</p>'
            % esc(", ".join(simulated))
        )
    parts.append("<p>Written by gpufleet.containers.fleet_report beside fleet-report.json and fleet-report.md.</p>")
    parts.append("</footer></body></html>")
    return "\n".join(parts) + "\n"


def render_scheduling_page(result, title="Scheduling audit"):
    """The scheduling audit on its own page, for the scheduling audit playbook (no hosts verified)."""
    parts = (
        _page_head(title) + scheduling_section(result, heading_level=1)[1:]
    )  # the page's own heading replaces the section's
    parts.append("<footer><p>Written by gpufleet.containers.fleet_report beside scheduling.json and scheduling.md.</p>")
    parts.append("</footer></body></html>")
    return "\n".join(parts) + "\n"
