# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare a parsed nvidia-smi result with what a host should have, and list every difference.

Expectations (all optional):

- ``model``: every GPU's name must contain it, case-insensitively (``A100`` matches ``NVIDIA A100-SXM4-80GB``).
  Prefix it with ``re:`` for a regular expression searched case-insensitively (``re:A100.*80GB``).
- ``count``: the exact number of GPUs.
- ``min_memory_mib``: every GPU has at least this much memory.
- ``min_driver_version`` / ``min_cuda_version``: dotted versions compared number by number (``535.104.05``).
- ``mig``: ``enabled`` or ``disabled`` on every GPU.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The modules' argument spec for `expect` (nvidia_smi, gpu_verify): one list of what can be expected.
EXPECT_OPTIONS = {
    "model": {"type": "str"},
    "count": {"type": "int"},
    "min_memory_mib": {"type": "int"},
    "min_driver_version": {"type": "str"},
    "min_cuda_version": {"type": "str"},
    "mig": {"type": "str", "choices": ["enabled", "disabled"]},
}

import re

EXPECTATION_KEYS = tuple(EXPECT_OPTIONS)
REGEX_PREFIX = "re:"


def version_key(version):
    """'535.104.05' -> (535, 104, 5); raises ValueError on anything that is not dotted numbers."""
    text = str(version).strip()
    if not re.match(r"^\d+(\.\d+)*$", text):
        raise ValueError("%r is not a dotted numeric version" % version)
    return tuple(int(part) for part in text.split("."))


def compare_versions(left, right):
    """-1, 0 or 1 as left is older than, equal to or newer than right; missing parts count as 0."""
    a, b = version_key(left), version_key(right)
    width = max(len(a), len(b))
    a, b = a + (0,) * (width - len(a)), b + (0,) * (width - len(b))
    return (a > b) - (a < b)


def mismatch(field, expected, found, message):
    return {"field": field, "expected": expected, "found": found, "message": message}


def summarize_names(names):
    counts = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return ", ".join("%s x %d" % (name, count) for name, count in sorted(counts.items(), key=lambda item: str(item[0])))


def model_matcher(model):
    if model.startswith(REGEX_PREFIX):
        try:
            pattern = re.compile(model[len(REGEX_PREFIX) :], re.IGNORECASE)
        except re.error as error:
            raise ValueError(
                "expectation model %r is not a valid regular expression (%s): fix the pattern after 're:', or drop "
                "'re:' to match the text as written" % (model, error)
            ) from None
        return lambda name: bool(pattern.search(name or ""))
    return lambda name: model.lower() in (name or "").lower()


def check_model(result, model):
    matches = model_matcher(str(model))
    names = [gpu.get("name") for gpu in result["gpus"]]
    wrong = [name for name in names if not matches(name)]
    if not wrong and names:
        return []
    found = summarize_names(names) or "no GPU"
    message = "expected model %r on every GPU, found %s" % (model, found)
    if any(name and name.endswith("...") for name in wrong):
        message += " (names cut short by the table layout: ask nvidia-smi for XML or CSV to see them whole)"
    return [mismatch("model", model, found, message)]


def check_count(result, count):
    if result["gpu_count"] == int(count):
        return []
    return [
        mismatch(
            "count", int(count), result["gpu_count"], "expected %d GPUs, found %d" % (int(count), result["gpu_count"])
        )
    ]


def check_memory(result, minimum):
    short = [
        gpu for gpu in result["gpus"] if gpu.get("memory_total_mib") is None or gpu["memory_total_mib"] < int(minimum)
    ]
    if not short:
        return []
    found = [gpu.get("memory_total_mib") for gpu in result["gpus"]]
    details = ", ".join(
        "GPU %s: %s"
        % (gpu["index"], "not shown" if gpu.get("memory_total_mib") is None else "%d MiB" % gpu["memory_total_mib"])
        for gpu in short
    )
    return [
        mismatch(
            "min_memory_mib",
            int(minimum),
            found,
            "expected at least %d MiB per GPU, found %s" % (int(minimum), details),
        )
    ]


def check_version(result, field, key, minimum, label):
    found = result.get(key)
    if found is None:
        return [
            mismatch(
                field, str(minimum), None, "expected %s >= %s, but this output does not show it" % (label, minimum)
            )
        ]
    try:
        older = compare_versions(found, minimum) < 0
    except ValueError as error:
        return [mismatch(field, str(minimum), found, "cannot compare %s: %s" % (label, error))]
    if not older:
        return []
    return [mismatch(field, str(minimum), found, "expected %s >= %s, found %s" % (label, minimum, found))]


def check_mig(result, wanted):
    wanted = str(wanted).lower()
    modes = [gpu.get("mig_mode") for gpu in result["gpus"]]
    if modes and all(found == wanted for found in modes):
        return []
    shown = ", ".join("GPU %s: %s" % (gpu["index"], gpu.get("mig_mode") or "not shown") for gpu in result["gpus"])
    return [mismatch("mig", wanted, modes, "expected MIG %s on every GPU, found %s" % (wanted, shown or "no GPU"))]


def validate(expect):
    """Raise ValueError naming the first expectation that cannot be checked; return the expectations that are set.

    Called before nvidia-smi runs, so that a typo fails the task instead of reading as a host that differs.
    """
    expect = dict((key, value) for key, value in (expect or {}).items() if value is not None)
    unknown = sorted(set(expect) - set(EXPECTATION_KEYS))
    if unknown:
        raise ValueError("unknown expectation(s) %s; known: %s" % (", ".join(unknown), ", ".join(EXPECTATION_KEYS)))
    if expect.get("mig") is not None and str(expect["mig"]).lower() not in ("enabled", "disabled"):
        raise ValueError("expectation mig must be 'enabled' or 'disabled', not %r" % expect["mig"])
    for key in ("min_driver_version", "min_cuda_version"):
        if key in expect:
            version_key(expect[key])
    for key in ("count", "min_memory_mib"):
        if key in expect:
            try:
                int(expect[key])
            except (TypeError, ValueError):
                raise ValueError("expectation %s must be a whole number, not %r" % (key, expect[key])) from None
    if "model" in expect:
        model_matcher(str(expect["model"]))
    return expect


def check(result, expect):
    """Return the list of every mismatch between result and expect (empty when the host is as expected)."""
    expect = validate(expect)
    mismatches = []
    if "model" in expect:
        mismatches += check_model(result, expect["model"])
    if "count" in expect:
        mismatches += check_count(result, expect["count"])
    if "min_memory_mib" in expect:
        mismatches += check_memory(result, expect["min_memory_mib"])
    if "min_driver_version" in expect:
        mismatches += check_version(
            result, "min_driver_version", "driver_version", expect["min_driver_version"], "driver"
        )
    if "min_cuda_version" in expect:
        mismatches += check_version(result, "min_cuda_version", "cuda_version", expect["min_cuda_version"], "CUDA")
    if "mig" in expect:
        mismatches += check_mig(result, expect["mig"])
    return mismatches
