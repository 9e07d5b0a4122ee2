# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What containerd itself says about its CRI plugin: the runtimes in `containerd config dump`, and whether the plugin
loaded (`ctr plugins ls`).

Plain Python (no Ansible import). The dump is containerd's merged view (config.toml and every import), so it is the
configuration containerd runs with, not the one a file on disk suggests. A loaded configuration is not enough: a
drop-in that defines only runtimes.nvidia replaces the runtimes map, runc goes missing, and containerd starts with the
CRI plugin in `error` (measured on containerd 1.6.20), so both are read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    import tomllib as _toml
except ImportError:  # Python before 3.11 (Debian 11, Ubuntu 22.04 targets)
    try:
        import tomli as _toml
    except ImportError:
        _toml = None

# The CRI plugin's runtime section: config schema version 2 (containerd 1.6/1.7), then version 3 (containerd 2.x).
CRI_PLUGINS = ("io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime")
# `ctr plugins ls` names the CRI plugin by type and id; 2.x keeps the grpc one as the service in front of the runtime.
CRI_PLUGIN_ROWS = (("io.containerd.grpc.v1", "cri"), ("io.containerd.cri.v1", "runtime"))
# Without a TOML library: the table headers containerd's dump writes, one per runtime and its options.
_RUNTIME_HEADER = re.compile(
    r'^\s*\[plugins\."(?P<plugin>[^"]+)"\.containerd\.runtimes\.(?P<name>"[^"]+"|[A-Za-z0-9_-]+)\]\s*$', re.MULTILINE
)
_DISABLED = re.compile(r"^disabled_plugins\s*=\s*\[(?P<items>[^\]]*)\]", re.MULTILINE)


class DumpError(ValueError):
    """The text is not a TOML document containerd could have written."""


def _runtimes_from_tables(document):
    plugins = document.get("plugins", {})
    for plugin in CRI_PLUGINS:
        section = plugins.get(plugin)
        if isinstance(section, dict):
            runtimes = section.get("containerd", {}).get("runtimes", {})
            return plugin, sorted(runtimes) if isinstance(runtimes, dict) else []
    return None, []


def _runtimes_from_headers(text):
    found = {}
    for match in _RUNTIME_HEADER.finditer(text):
        if match.group("plugin") in CRI_PLUGINS:
            found.setdefault(match.group("plugin"), set()).add(match.group("name").strip('"'))
    for plugin in CRI_PLUGINS:
        if plugin in found:
            return plugin, sorted(found[plugin])
    return None, []


def parse_config_dump(text):
    """`containerd config dump` -> {"cri_plugin": section name or None, "cri_runtimes": [names], "disabled_plugins"}.

    cri_plugin is None when the dump has no CRI section: the plugin is disabled (containerd then leaves it out) or
    this containerd has none. Raises DumpError for text that is not TOML.
    """
    if _toml is not None:
        try:
            document = _toml.loads(text)
        except ValueError as error:  # tomllib.TOMLDecodeError is a ValueError
            raise DumpError("containerd config dump is not TOML: %s" % error) from error
        plugin, runtimes = _runtimes_from_tables(document)
        disabled = document.get("disabled_plugins", [])
    else:
        plugin, runtimes = _runtimes_from_headers(text)
        match = _DISABLED.search(text)
        disabled = re.findall(r'"([^"]+)"', match.group("items")) if match else []
    return {"cri_plugin": plugin, "cri_runtimes": runtimes, "disabled_plugins": list(disabled)}


def cri_plugin_status(plugins_ls):
    """`ctr plugins ls` -> the CRI plugin's status (ok, error, skip), or None when it is not listed (disabled)."""
    for line in plugins_ls.splitlines():
        fields = line.split()
        if len(fields) >= 4 and (fields[0], fields[1]) in CRI_PLUGIN_ROWS:
            return fields[-1]
    return None
