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
import os

from ansible_collections.gpufleet.containers.plugins.module_utils.json_types import is_number, json_type_name
from ansible_collections.gpufleet.containers.plugins.module_utils.report import scheduling as scheduling_report
from ansible_collections.gpufleet.containers.plugins.module_utils.report.engines import (
    count_by_engine,
    engine_failures,
    engines_cell_text,
    engines_shape_problem,
    engines_totals_text,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.report.markdown import table_cell

NO_VERDICT = "no verdict"
# The fields the report reads, with the JSON type it needs: a verdict file that gets one wrong is listed as unreadable
# instead of stopping the report for the whole fleet. Names it sorts and counts by must be strings; what it only prints
# may be any single value, but not an object or an array (which would print as Python's repr).
KEY_FIELDS = ("host", "verdict", "architecture")
PRINTED_FIELDS = ("stage", "reason", "hint", "distribution", "docker_version", "toolkit_version")
OBJECT_FIELDS = ("found", "expected")


class VerdictUnreadable(Exception):
    """A verdict file that cannot be reported on; the message says why."""


def verdict_shape_problem(verdict):
    """Why the report cannot use this parsed verdict, or None when it can."""
    if not isinstance(verdict, dict):
        return "holds %s, not a JSON object" % json_type_name(verdict)
    for field in KEY_FIELDS:
        value = verdict.get(field)
        if value is not None and not isinstance(value, str):
            return "%s is %s, not a string" % (field, json_type_name(value))
    for field in PRINTED_FIELDS:
        value = verdict.get(field)
        if isinstance(value, (dict, list)):
            return "%s is %s, not a single value" % (field, json_type_name(value))
    for field in OBJECT_FIELDS:
        value = verdict.get(field)
        if value is not None and not isinstance(value, dict):
            return "%s is %s, not an object" % (field, json_type_name(value))
    found = verdict.get("found") or {}
    models = found.get("models")
    if models is not None and not (isinstance(models, list) and all(isinstance(model, str) for model in models)):
        return "found.models is %s, not a list of strings" % json_type_name(models)
    memory = found.get("memory_total_mib")
    readings = memory if isinstance(memory, list) else [memory]
    if not all(reading is None or is_number(reading) for reading in readings):
        return "found.memory_total_mib is %s, not a number or a list of numbers" % json_type_name(memory)
    return engines_shape_problem(verdict.get("engines"))


def parse_verdict(data):
    """The verdict in a file's bytes or text; VerdictUnreadable says what is wrong with it."""
    try:
        verdict = json.loads(data)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError alike
        raise VerdictUnreadable("not JSON: %s" % error) from None
    except RecursionError:
        raise VerdictUnreadable("not JSON: nested too deeply to read") from None
    problem = verdict_shape_problem(verdict)
    if problem:
        raise VerdictUnreadable(problem)
    return verdict


def _unreadable_file_of(host, unreadable):
    for path in sorted(unreadable):
        if os.path.basename(path) == host + ".json":
            return path
    return None


def _host_row(host, verdict, unreadable):
    if verdict is None and _unreadable_file_of(host, unreadable):
        path = _unreadable_file_of(host, unreadable)
        return {
            "host": host,
            "verdict": "fail",
            "stage": "unknown",
            "reason": "%s: its verdict file %s could not be read: %s" % (NO_VERDICT, path, unreadable[path]),
            "error_kind": "verdict_unreadable",
            "hint": "delete %s and run again with -l %s" % (path, host),
        }
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


def build_report(verdicts, hosts=None, unreadable=None, scheduling=None, scheduling_unreadable=None):
    """verdicts: {host: verdict dict}; hosts: every host the run targeted (missing ones get a failing row);
    unreadable: {verdict file path: reason} for files that parse_verdict refused; scheduling: the scheduling audit's
    result (parse_scheduling) to report with the fleet; scheduling_unreadable: {"file", "reason"} when its file could
    not be read.

    Failed hosts come first (sorted by host name), then passing ones. An unreadable file is listed on its own; a
    targeted host whose file it is (by its name, <host>.json) fails with the reason. Hosts keep their verdict's
    `engines`; totals count each engine's pass and fail over the hosts that reported per-engine results.
    """
    unreadable = unreadable or {}
    names = sorted(set(verdicts) | set(hosts or []))
    rows = [_host_row(name, verdicts.get(name), unreadable) for name in names]
    rows.sort(key=lambda row: (row["verdict"] == "pass", row["host"]))
    totals = {
        "hosts": len(rows),
        "by_verdict": _count_by(rows, "verdict"),
        "by_architecture": _count_by(rows, "architecture"),
        "by_architecture_and_verdict": {},
        "by_engine": count_by_engine(rows),
    }
    for row in rows:
        arch = row.get("architecture") or "unknown"
        per_arch = totals["by_architecture_and_verdict"].setdefault(arch, {"pass": 0, "fail": 0})
        per_arch[row["verdict"]] += 1
    report = {
        "totals": totals,
        "hosts": rows,
        "unreadable": [{"file": path, "reason": unreadable[path]} for path in sorted(unreadable)],
    }
    # Only when there is something to say: a fleet report without a scheduling audit reads as it did before.
    if scheduling is not None:
        report["scheduling"] = scheduling
    if scheduling_unreadable:
        report["scheduling_unreadable"] = dict(scheduling_unreadable)
    return report


def _gpus_found(row):
    found = row.get("found") or {}
    count = found.get("gpu_count")
    if count is None:
        return "-"
    models = sorted(set(found.get("models") or []))
    memory = found.get("memory_total_mib")
    if isinstance(memory, list):
        # A GPU without a memory reading (N/A on integrated GPUs) does not hide the others'.
        readings = [reading for reading in memory if reading is not None]
        memory = min(readings) if readings else None
    text = "%s x %s" % (count, ", ".join(models) or "?")
    if memory:
        text += " (%s MiB)" % memory
    return text


def _expected(row):
    expected = row.get("expected") or {}
    if not expected:
        return "-"
    return ", ".join("%s=%s" % (key, expected[key]) for key in sorted(expected))


def failure_text(row):
    """What a failed host's reader needs: its reason and fix, then each failing engine's own (when they differ)."""
    if row["verdict"] != "fail":
        return ""
    text = row.get("reason") or ""
    if row.get("hint"):
        text = "%s Fix: %s" % (text, row["hint"])
    for engines, reason, hint in engine_failures(row):
        text += " %s: %s" % (", ".join(engines), reason)
        if hint:
            text += " Fix: %s" % hint
    return text.strip()


def render_markdown(report, title="GPU fleet report"):
    totals = report["totals"]
    lines = [
        "# %s" % title,
        "",
        "%d host(s): %d pass, %d fail."
        % (totals["hosts"], totals["by_verdict"].get("pass", 0), totals["by_verdict"].get("fail", 0)),
    ]
    engines_line = engines_totals_text(totals, report["hosts"])
    if engines_line:
        lines.append(engines_line)
    lines += ["", "| architecture | pass | fail |", "| --- | --- | --- |"]
    for arch, counts in sorted(totals["by_architecture_and_verdict"].items()):
        lines.append("| %s | %d | %d |" % (arch, counts["pass"], counts["fail"]))
    # The engines column only where some host verified per engine: a docker-only fleet's table stays as it was.
    with_engines = any(row.get("engines") for row in report["hosts"])
    header = ["host", "verdict"] + (["engines"] if with_engines else [])
    header += ["arch", "distribution", "docker", "toolkit", "GPUs found", "driver", "CUDA", "expected", "reason"]
    lines += ["", "| %s |" % " | ".join(header), "| %s |" % " | ".join(["---"] * len(header))]
    for row in report["hosts"]:
        found = row.get("found") or {}
        cells = [row["host"], row["verdict"].upper()]
        if with_engines:
            cells.append(engines_cell_text(row))
        cells += [
            row.get("architecture"),
            row.get("distribution"),
            row.get("docker_version"),
            row.get("toolkit_version"),
            _gpus_found(row),
            found.get("driver_version"),
            found.get("cuda_version"),
            _expected(row),
            failure_text(row),
        ]
        lines.append("| " + " | ".join(table_cell(cell) for cell in cells) + " |")
    if report.get("unreadable"):
        lines += ["", "Verdict files that could not be read (delete them and verify those hosts again):"]
        lines += ["- %s: %s" % (entry["file"], entry["reason"]) for entry in report["unreadable"]]
    simulated = [row["host"] for row in report["hosts"] if row.get("simulated_gpu")]
    if simulated:
        lines += ["", "Simulated GPU (testbed replay of captured nvidia-smi output): %s." % ", ".join(simulated)]
    if report.get("scheduling") is not None:
        lines += [""] + scheduling_report.render_markdown_section(report["scheduling"])
    if report.get("scheduling_unreadable"):
        lines += ["", "## Scheduling audit", "", scheduling_report.unreadable_text(report["scheduling_unreadable"])]
    return "\n".join(lines) + "\n"


def render_json(report):
    return json.dumps(report, indent=2, sort_keys=True) + "\n"
