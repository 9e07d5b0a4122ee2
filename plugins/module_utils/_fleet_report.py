# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report: per-host verdicts in, one machine-readable document and one human summary out.

Plain Python (no Ansible import) so it is unit-tested directly. Hosts without a verdict are reported too: a host
that was unreachable, or stopped before it was verified, must not vanish from the report.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

NO_VERDICT = "no verdict"


def _host_row(host, verdict):
    if verdict is None:
        return {
            "host": host,
            "verdict": "fail",
            "stage": "unknown",
            "reason": (
                "%s: the host was unreachable, not reached yet, or the run stopped before it was verified" % NO_VERDICT
            ),
            "error_kind": "no_verdict",
            "hint": "run again with -l %s and read the first failed task" % host,
        }
    row = dict(verdict)
    row.setdefault("host", host)
    row["verdict"] = "pass" if row.get("verdict") == "pass" else "fail"
    return row


def _count_by(rows, key):
    counts = {}
    for row in rows:
        value = row.get(key) or "unknown"
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def build_report(verdicts, hosts=None):
    """verdicts: {host: verdict dict}; hosts: every host the run targeted (missing ones get a failing row).

    Failed hosts come first (sorted by host name), then passing ones.
    """
    names = sorted(set(verdicts) | set(hosts or []))
    rows = [_host_row(name, verdicts.get(name)) for name in names]
    rows.sort(key=lambda row: (row["verdict"] == "pass", row["host"]))
    totals = {
        "hosts": len(rows),
        "by_verdict": _count_by(rows, "verdict"),
        "by_architecture": _count_by(rows, "architecture"),
        "by_architecture_and_verdict": {},
    }
    for row in rows:
        arch = row.get("architecture") or "unknown"
        per_arch = totals["by_architecture_and_verdict"].setdefault(arch, {"pass": 0, "fail": 0})
        per_arch[row["verdict"]] += 1
    return {"totals": totals, "hosts": rows}


def _gpus_found(row):
    found = row.get("found") or {}
    count = found.get("gpu_count")
    if count is None:
        return "-"
    models = sorted(set(found.get("models") or []))
    memory = found.get("memory_total_mib")
    if isinstance(memory, list):
        memory = min(memory) if memory else None
    text = "%s x %s" % (count, ", ".join(models) or "?")
    if memory:
        text += " (%s MiB)" % memory
    return text


def _expected(row):
    expected = row.get("expected") or {}
    if not expected:
        return "-"
    return ", ".join("%s=%s" % (key, expected[key]) for key in sorted(expected))


def _cell(value):
    text = "-" if value in (None, "") else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report, title="GPU fleet report"):
    totals = report["totals"]
    lines = [
        "# %s" % title,
        "",
        "%d host(s): %d pass, %d fail."
        % (totals["hosts"], totals["by_verdict"].get("pass", 0), totals["by_verdict"].get("fail", 0)),
        "",
        "| architecture | pass | fail |",
        "| --- | --- | --- |",
    ]
    for arch, counts in sorted(totals["by_architecture_and_verdict"].items()):
        lines.append("| %s | %d | %d |" % (arch, counts["pass"], counts["fail"]))
    lines += [
        "",
        "| host | verdict | arch | distribution | docker | toolkit | GPUs found | driver | CUDA | expected | reason |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in report["hosts"]:
        found = row.get("found") or {}
        reason = row.get("reason") if row["verdict"] == "fail" else ""
        if row["verdict"] == "fail" and row.get("hint"):
            reason = "%s Fix: %s" % (reason, row["hint"])
        cells = [
            row["host"],
            row["verdict"].upper(),
            row.get("architecture"),
            row.get("distribution"),
            row.get("docker_version"),
            row.get("toolkit_version"),
            _gpus_found(row),
            found.get("driver_version"),
            found.get("cuda_version"),
            _expected(row),
            reason,
        ]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    simulated = [row["host"] for row in report["hosts"] if row.get("simulated_gpu")]
    if simulated:
        lines += ["", "Simulated GPU (testbed replay of captured nvidia-smi output): %s." % ", ".join(simulated)]
    return "\n".join(lines) + "\n"


def render_json(report):
    return json.dumps(report, indent=2, sort_keys=True) + "\n"
