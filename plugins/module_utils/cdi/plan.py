# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide what to do with the NVIDIA CDI spec of a host: keep it, generate it, regenerate it, or hand it to the
toolkit's refresh units; and whether NVIDIA's legacy OCI hook for Podman must go.

Plain Python (no Ansible import); the module gathers the inputs (the spec on disk, a spec freshly made by
`nvidia-ctk cdi generate` in a temporary folder, what nvidia-smi says now, which unit files exist) and applies the
answer. The arbiter for a spec the module writes itself is the fresh spec: the file changes exactly when it differs
from what nvidia-ctk makes now, so a rerun reports no change and check mode predicts the real run. The staleness
checks (driver version, missing files, devices) explain why it differs. A spec the refresh units write cannot be
held against a plain `cdi generate` (the units take their own options from nvidia-cdi-refresh.env), so it is judged
by those checks alone.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.gpufleet.containers.plugins.module_utils.cdi.spec import (
    ALL_DEVICES,
    CdiSpecError,
    load_spec,
    same_spec,
    spec_facts,
)

# Toolkit 1.18 and later: the path unit watches the driver's modules and starts the service, which runs
# `nvidia-ctk cdi generate` into the dynamic spec folder; CDI loaders let /var/run/cdi win over /etc/cdi.
REFRESH_SERVICE = "nvidia-cdi-refresh.service"
REFRESH_PATH_UNIT = "nvidia-cdi-refresh.path"
REFRESH_UNITS = (REFRESH_PATH_UNIT, REFRESH_SERVICE)
DYNAMIC_SPEC = "/var/run/cdi/nvidia.yaml"
STATIC_SPEC_DIR = "/etc/cdi"
DYNAMIC_SPEC_DIR = "/var/run/cdi"
UNIT_DIRS = ("/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")
# NVIDIA's prestart hook for Podman, from the days before CDI; with a CDI device as well, the GPU is set up twice
# and the container fails to start.
LEGACY_HOOKS = (
    "/usr/share/containers/oci/hooks.d/oci-nvidia-hook.json",
    "/etc/containers/oci/hooks.d/oci-nvidia-hook.json",
)
NO_DRIVER_HINT = (
    "nvidia-ctk cannot see an NVIDIA driver on this host (NVML, libnvidia-ml.so, is missing or cannot talk to the "
    "kernel module). Install the driver and check that nvidia-smi works, or leave CDI off for this host "
    "(nvidia_container_toolkit_cdi: false and no podman in gpufleet_container_engines)."
)
_CDI_DEVICE = re.compile(r"^([a-z0-9][a-z0-9.-]*/[a-zA-Z0-9][a-zA-Z0-9_.-]*)=(\S+)$")


class CdiPlanError(Exception):
    """The inputs contradict each other; the message names the fix."""


def parse_gpu_query(stdout):
    """(driver_version, [(index, uuid), ...]) from `nvidia-smi --query-gpu=driver_version,index,uuid
    --format=csv,noheader`; driver_version None when no GPU line is there."""
    driver = None
    gpus = []
    for line in stdout.splitlines():
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != 3 or not fields[1].isdigit():
            continue
        driver = driver or fields[0]
        gpus.append((fields[1], fields[2]))
    return driver, gpus


def parse_cdi_list(stdout):
    """The fully qualified device names (nvidia.com/gpu=0) that `nvidia-ctk cdi list` prints, logging aside."""
    return [line.strip() for line in stdout.splitlines() if _CDI_DEVICE.match(line.strip())]


def staleness(facts, driver_version, gpus, path_exists):
    """Why a spec no longer fits the host, as sentences; [] when nothing says so.

    driver_version and gpus come from nvidia-smi (None and [] when it could not be asked, which skips those
    checks); path_exists tells whether a host file is there.
    """
    reasons = []
    if driver_version and facts["driver_versions"] and driver_version not in facts["driver_versions"]:
        reasons.append(
            "made for driver %s, the driver is %s" % (" and ".join(facts["driver_versions"]), driver_version)
        )
    missing = [path for path in facts["host_paths"] if not path_exists(path)]
    if missing:
        reasons.append("names host files that no longer exist: %s" % ", ".join(_shorten(missing)))
    if gpus:
        present = set(name for pair in gpus for name in pair)
        named = [name for name in facts["device_names"] if name != ALL_DEVICES]
        gone = [name for name in named if name not in present]
        if gone:
            reasons.append("names devices that are not there now: %s" % ", ".join(_shorten(gone)))
        # nvidia-ctk names each GPU by index and by UUID (its default strategies); a GPU counts as lacking when the
        # spec uses a naming and that GPU's name in it is missing.
        by_uuid = any(not name.isdigit() for name in named)
        by_index = any(name.isdigit() for name in named)
        lacking = [
            uuid if by_uuid else "index %s" % index
            for index, uuid in gpus
            if (by_uuid and uuid not in named) or (by_index and not by_uuid and index not in named)
        ]
        if lacking:
            reasons.append("lacks GPUs that are there now: %s" % ", ".join(_shorten(lacking)))
    return reasons


def _shorten(items, keep=5):
    return items if len(items) <= keep else items[:keep] + ["and %d more" % (len(items) - keep)]


def _differences(existing, fresh):
    """A short account of how two parsed specs differ, for when no staleness check explains it."""
    notes = []
    old, new = spec_facts(existing), spec_facts(fresh)
    for label, key in (("devices", "device_names"), ("host files", "host_paths")):
        added = sorted(set(new[key]) - set(old[key]))
        removed = sorted(set(old[key]) - set(new[key]))
        if added:
            notes.append("%s added: %s" % (label, ", ".join(_shorten(added))))
        if removed:
            notes.append("%s dropped: %s" % (label, ", ".join(_shorten(removed))))
    if old["cdi_version"] != new["cdi_version"]:
        notes.append("cdiVersion %s becomes %s" % (old["cdi_version"], new["cdi_version"]))
    return notes or ["hooks, environment or options differ"]


def plan_static_spec(existing_text, fresh_text, driver_version, gpus, path_exists):
    """What to do with a spec this module writes itself.

    Returns {"action": "keep"|"generate"|"regenerate", "reason": str, "reasons": [...], "warnings": [...]}.
    """
    warnings = []
    fresh_facts = spec_facts(load_spec(fresh_text))
    if existing_text is None:
        return {"action": "generate", "reason": "missing: no spec yet", "reasons": [], "warnings": warnings}
    try:
        existing = load_spec(existing_text)
    except CdiSpecError as error:
        reason = "unreadable: %s" % error
        return {"action": "regenerate", "reason": reason, "reasons": [reason], "warnings": warnings}
    facts = spec_facts(existing)
    reasons = staleness(facts, driver_version, gpus, path_exists)
    if same_spec(existing_text, fresh_text):
        if reasons:
            # nvidia-ctk names the same things now: the driver install itself lacks them, no new spec can help.
            warnings.append(
                "the spec matches what nvidia-ctk generates now, yet it %s; check the driver install"
                % "; ".join(reasons)
            )
        return {
            "action": "keep",
            "reason": "current: same as nvidia-ctk generates now",
            "reasons": [],
            "warnings": warnings,
        }
    if facts["kind"] != fresh_facts["kind"]:
        reasons.insert(0, "its kind is %s, nvidia-ctk makes %s" % (facts["kind"], fresh_facts["kind"]))
    if not reasons:
        reasons = [
            "differs from what nvidia-ctk cdi generate makes now (%s)"
            % "; ".join(_differences(existing, load_spec(fresh_text)))
        ]
    return {"action": "regenerate", "reason": "stale: " + "; ".join(reasons), "reasons": reasons, "warnings": warnings}


def plan_dynamic_spec(dynamic_text, driver_version, gpus, path_exists):
    """Whether the refresh units' spec needs a run of the service: {"action": "keep"|"refresh", "reason", ...}."""
    if dynamic_text is None:
        return {"action": "refresh", "reason": "missing: %s not written yet" % DYNAMIC_SPEC, "reasons": []}
    try:
        facts = spec_facts(load_spec(dynamic_text))
    except CdiSpecError as error:
        reason = "unreadable: %s" % error
        return {"action": "refresh", "reason": reason, "reasons": [reason]}
    reasons = staleness(facts, driver_version, gpus, path_exists)
    if reasons:
        return {"action": "refresh", "reason": "stale: " + "; ".join(reasons), "reasons": reasons}
    return {"action": "keep", "reason": "current: %s fits the driver and GPUs" % DYNAMIC_SPEC, "reasons": []}


def use_refresh_units(choice, shipped_units):
    """Whether the toolkit's refresh units keep the spec: choice is auto|true|false, shipped_units the unit names
    whose files exist. CdiPlanError when asked for units this toolkit does not ship."""
    shipped = all(unit in shipped_units for unit in REFRESH_UNITS)
    if choice == "auto":
        return shipped
    if choice == "true" and not shipped:
        raise CdiPlanError(
            "use_refresh_units is true but this toolkit does not ship %s (they come with NVIDIA Container Toolkit "
            "1.18 and later); upgrade the toolkit or set use_refresh_units to auto or false"
            % " and ".join(REFRESH_UNITS)
        )
    return choice == "true"


def refresh_unit_actions(path_unit_enabled, path_unit_active, dynamic_plan):
    """The systemctl calls that bring the refresh units where they must be, in order."""
    actions = []
    if not path_unit_enabled or not path_unit_active:
        actions.append(["enable", "--now", REFRESH_PATH_UNIT])
    if dynamic_plan["action"] == "refresh":
        actions.append(["start", REFRESH_SERVICE])
    return actions


def shadowed_static_specs(static_specs, dynamic_kind):
    """The /etc/cdi specs (path -> text) of the dynamic spec's kind: the loaders ignore their devices, since
    /var/run/cdi wins, and they go stale unseen until the dynamic spec is gone (it lives on a tmpfs)."""
    shadowed = []
    for path in sorted(static_specs):
        try:
            kind = load_spec(static_specs[path]).get("kind")
        except CdiSpecError:
            continue
        if kind == dynamic_kind:
            shadowed.append(path)
    return shadowed


def legacy_hooks_to_remove(existing_hooks, cdi_used, remove_requested):
    """The legacy OCI hook files to delete: all found, when CDI is in use and removal is asked for."""
    if not (cdi_used and remove_requested):
        return []
    return [path for path in LEGACY_HOOKS if path in existing_hooks]


def spec_format_problem(path, spec_format):
    """A sentence when the output file's name and the format disagree (CDI loaders go by the extension)."""
    extensions = {"yaml": (".yaml", ".yml"), "json": (".json",)}
    if not path.endswith(extensions[spec_format]):
        return (
            "output %s does not end in %s, but format is %s: CDI loaders read only .yaml, .yml and .json files and "
            "parse them by that extension; rename the output or change the format"
            % (path, " or ".join(extensions[spec_format]), spec_format)
        )
    return None
