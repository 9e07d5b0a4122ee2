# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the NVIDIA Container Toolkit adds to daemon.json, folded into the user's settings before the one write.

Plain Python (no Ansible import). The docker role writes daemon.json once, from the user's settings and, when the
toolkit role is part of the play, the toolkit's contribution: the `nvidia` runtime, and `default-runtime` and
`features.cdi` when the toolkit's variables ask for them. When they no longer ask, what the toolkit set is taken
out again, but never a value the user sets in their own settings: a user's `default-runtime: nvidia` stays, so
nothing flips between runs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

RUNTIME_NAME = "nvidia"
# What `nvidia-ctk runtime configure --runtime=docker` writes.
RUNTIME = {"path": "nvidia-container-runtime", "args": []}
DEFAULT_RUNTIME_VARIABLE = "nvidia_container_toolkit_default_runtime"
CDI_VARIABLE = "nvidia_container_toolkit_cdi"


class ContributionConflict(ValueError):
    """The user's settings and the toolkit's variables ask for different values of one key."""


def _merge(wanted, settings):
    """settings with wanted's keys added where the user has none; recursion follows wanted (two levels), so a
    deeply nested user value is not walked here (the depth check comes later, with the other settings checks)."""
    merged = dict(settings)
    for key, value in wanted.items():
        if key not in merged:
            merged[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(merged[key], dict):
            merged[key] = _merge(value, merged[key])
    return merged


def _user_sets(settings, *path):
    node = settings
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def _get(config, *path):
    node = config
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def with_nvidia_runtime(settings, remove, nvidia, current):
    """(settings, remove) for the one write: the user's, with the toolkit's contribution folded in.

    settings: the user's settings (a dict); remove: the user's key paths (lists of keys).
    nvidia: None when the toolkit is not part of the play, else {"default": bool, "cdi": bool}.
    current: daemon.json as it is (parsed), to know what the toolkit set on an earlier run.
    """
    settings = settings or {}
    remove = [list(path) for path in remove or []]
    if nvidia is None:
        return settings, remove
    wanted = {"runtimes": {RUNTIME_NAME: RUNTIME}}
    if nvidia.get("default"):
        user_default = settings.get("default-runtime", RUNTIME_NAME)
        if user_default != RUNTIME_NAME:
            raise ContributionConflict(
                "default-runtime is %r in the daemon settings but %s is true, which makes it %r: keep one of them"
                % (user_default, DEFAULT_RUNTIME_VARIABLE, RUNTIME_NAME)
            )
        wanted["default-runtime"] = RUNTIME_NAME
    elif not _user_sets(settings, "default-runtime") and _get(current, "default-runtime") == RUNTIME_NAME:
        remove.append(["default-runtime"])
    if nvidia.get("cdi"):
        if _user_sets(settings, "features", "cdi") and settings["features"]["cdi"] is not True:
            raise ContributionConflict(
                "features.cdi is %r in the daemon settings but %s is true: keep one of them"
                % (settings["features"]["cdi"], CDI_VARIABLE)
            )
        wanted["features"] = {"cdi": True}
    elif not _user_sets(settings, "features", "cdi") and _get(current, "features", "cdi") is True:
        remove.append(["features", "cdi"])
    # The user's own values win where both name a key (a runtime path of their own, say); conflicts were refused.
    return _merge(wanted, settings), remove


def missing_runtime_hint(default_runtime):
    """The fix to name when default-runtime points at a runtime nothing defines."""
    if default_runtime == RUNTIME_NAME:
        return (
            "the nvidia runtime is registered by the gpufleet.containers.nvidia_container_toolkit role: run that "
            "role in the same play (it includes this one), and set %s: true there rather than default-runtime in "
            "the daemon settings" % DEFAULT_RUNTIME_VARIABLE
        )
    return "define it under runtimes, or remove default-runtime"
