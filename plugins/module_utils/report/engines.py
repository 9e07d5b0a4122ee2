# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-engine part of the fleet report: a host verdict's `engines` map, read, counted and put in words.

A verdict from gpu_verify may carry `engines`, keyed by engine name in the order verified, each value at least
{"verdict": "pass"|"fail", "reason", "hint", "error_kind", "version", "gpu_count", "command", "detail"}. Verdicts
without it (older files) stay valid: the report then says nothing about engines for that host. Plain Python (no
Ansible import) so it is unit-tested directly.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.containers.plugins.module_utils.json_types import json_type_name

# How the engines are listed in totals, whatever order hosts verified them in: the names users set in
# gpufleet_container_engines, in the order the README lists them; any other name after them, sorted.
KNOWN_ENGINES = ("docker", "containerd", "podman")
# The fields of an engine's result the report prints: one value each, never an object or an array.
PRINTED_ENGINE_FIELDS = ("verdict", "reason", "hint", "error_kind", "version")
# The rows fleet.py makes up for hosts without a readable verdict: nothing was verified, so no engine result is missing.
NO_VERDICT_KINDS = ("no_verdict", "verdict_unreadable")


def engines_shape_problem(engines):
    """Why a verdict's `engines` value cannot be reported on, or None when it can (or is absent)."""
    if engines is None:
        return None
    if not isinstance(engines, dict):
        return "engines is %s, not an object keyed by engine name" % json_type_name(engines)
    for name, result in engines.items():
        if not isinstance(result, dict):
            return "engines.%s is %s, not an object" % (name, json_type_name(result))
        for field in PRINTED_ENGINE_FIELDS:
            value = result.get(field)
            if isinstance(value, (dict, list)):
                return "engines.%s.%s is %s, not a single value" % (name, field, json_type_name(value))
    return None


def host_engines(row):
    """[(name, result)] in the order the host verified them; [] for a verdict without per-engine results."""
    engines = row.get("engines")
    return list(engines.items()) if isinstance(engines, dict) else []


def engine_verdict(result):
    """'pass' or 'fail': anything but an explicit pass fails, as for the host's own verdict."""
    return "pass" if result.get("verdict") == "pass" else "fail"


def ordered_engine_names(names):
    names = set(names)
    return [name for name in KNOWN_ENGINES if name in names] + sorted(names - set(KNOWN_ENGINES))


def count_by_engine(rows):
    """{engine: {"pass": n, "fail": n}} over the hosts that reported per-engine results."""
    counts = {}
    for row in rows:
        for name, result in host_engines(row):
            counts.setdefault(name, {"pass": 0, "fail": 0})[engine_verdict(result)] += 1
    return dict((name, counts[name]) for name in ordered_engine_names(counts))


def hosts_without_engine_results(rows):
    """Hosts that were verified (they have a verdict file) but whose verdict predates per-engine results."""
    return [row["host"] for row in rows if row.get("error_kind") not in NO_VERDICT_KINDS and "engines" not in row]


def engine_label(name, result):
    """'podman 4.3.1' or 'podman' when the version is unknown."""
    version = result.get("version")
    return "%s %s" % (name, version) if version not in (None, "") else str(name)


def engines_cell_text(row):
    """The engines column's text: each engine's verdict in words; 'not recorded' for a verdict from before per-engine
    results; '-' for a host without a readable verdict (nothing was verified)."""
    if row.get("error_kind") in NO_VERDICT_KINDS:
        return "-"
    return engines_summary_text(row) or "not recorded"


def engines_summary_text(row):
    """'docker: pass · containerd: pass · podman: FAIL' in words, not only symbols; None without engines."""
    engines = host_engines(row)
    if not engines:
        return None
    return " · ".join("%s: %s" % (name, engine_verdict(result).upper()) for name, result in engines)


def engine_failures(row):
    """[(engine names, reason, hint or None)] of the host's failing engines, for the reader of the host's reason.

    gpu_verify names the first failing engine's reason as the host's ("podman: <reason>") with its fix: that engine
    is not listed again. Engines that failed alike (a host that stopped before verification fails every engine with
    "not verified: the host stopped at <stage>") share one line, and a fix the host's already gives is not repeated.
    """
    grouped = []
    for name, result in host_engines(row):
        if engine_verdict(result) == "pass":
            continue
        reason = result.get("reason")
        reason = "failed" if reason in (None, "") else str(reason)
        if row.get("reason") in (reason, "%s: %s" % (name, reason)):
            continue
        hint = result.get("hint")
        hint = None if hint in (None, "") or hint == row.get("hint") else str(hint)
        for entry in grouped:
            if entry[1:] == [reason, hint]:
                entry[0].append(str(name))
                break
        else:
            grouped.append([[str(name)], reason, hint])
    return [tuple(entry) for entry in grouped]


def engines_totals_text(totals, rows):
    """'Engines: docker 3 pass, 0 fail; ...' for the fleet, or None when no host reported per-engine results."""
    by_engine = totals.get("by_engine") or {}
    if not by_engine:
        return None
    text = "Engines: %s." % "; ".join(
        "%s %d pass, %d fail" % (name, counts["pass"], counts["fail"]) for name, counts in by_engine.items()
    )
    older = hosts_without_engine_results(rows)
    if older:
        text += " Not broken down by engine (verdict from before per-engine results): %s." % ", ".join(older)
    return text
