# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a user's `settings` go into an engine's config, the same for daemon.json (docker/daemon_json.py) and
containerd's TOML (containerd/config.py), so that one rule holds for every engine.

Plain Python, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy


def deep_merge(base, overrides):
    """A new dict: `base` with `overrides` merged in. Objects (tables) merge key by key at every depth; every other
    value, arrays included, replaces the old one. Keys `overrides` does not name keep their place and value; new keys
    go at the end. Neither input is changed, and the result shares nothing with them."""
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
