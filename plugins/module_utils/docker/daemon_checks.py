# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What dockerd would refuse in a daemon.json, found before the file is written.

Plain Python, no Ansible import. Each rule mirrors a check dockerd makes at start-up (moby
daemon/config): a key also given as a command-line flag, a value of the wrong JSON type, a default
runtime that is not defined, a reserved runtime name, graph together with data-root.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import shlex

from ansible_collections.gpufleet.containers.plugins.module_utils.docker.nvidia_runtime import missing_runtime_hint

# Flags whose daemon.json key is not the flag's own name (moby's opts.NamedOption values).
FLAG_TO_KEY = {
    "host": "hosts",
    "label": "labels",
    "dns-opt": "dns-opts",
    "insecure-registry": "insecure-registries",
    "registry-mirror": "registry-mirrors",
    "storage-opt": "storage-opts",
    "log-opt": "log-opts",
    "exec-opt": "exec-opts",
    "authorization-plugin": "authorization-plugins",
    "cluster-store-opt": "cluster-store-opts",
    "default-ulimit": "default-ulimits",
    "add-runtime": "runtimes",
    "node-generic-resource": "node-generic-resources",
    "default-address-pool": "default-address-pools",
    "cdi-spec-dir": "cdi-spec-dirs",
    "default-network-opt": "default-network-opts",
}
SHORTHAND_TO_FLAG = {
    "H": "host",
    "D": "debug",
    "l": "log-level",
    "b": "bridge",
    "G": "group",
    "p": "pidfile",
    "s": "storage-driver",
    "g": "graph",
}
# dockerd merges these from flag and file instead of refusing (moby: skipDuplicates).
MERGED_FROM_FLAG_AND_FILE = frozenset(["runtimes"])
# Runtime names dockerd knows without a definition: they may be default-runtime as they are.
BUILTIN_RUNTIMES = frozenset(["runc", "io.containerd.runc.v2", "io.containerd.runtime.v1.linux"])
# Names no runtimes entry may take. Newer dockerd also reserves io.containerd.runc.v2; 20.10 accepts it.
RESERVED_RUNTIME_NAMES = frozenset(["runc"])

_BOOL_KEYS = (
    "debug",
    "experimental",
    "icc",
    "init",
    "ip-forward",
    "ip-masq",
    "ip6tables",
    "iptables",
    "ipv6",
    "live-restore",
    "no-new-privileges",
    "selinux-enabled",
    "tls",
    "tlsverify",
    "userland-proxy",
)
_STRING_KEYS = (
    "bridge",
    "cgroup-parent",
    "containerd",
    "data-root",
    "default-runtime",
    "exec-root",
    "group",
    "log-driver",
    "log-level",
    "pidfile",
    "storage-driver",
    "userns-remap",
)
_STRING_LIST_KEYS = (
    "authorization-plugins",
    "dns",
    "dns-opts",
    "dns-search",
    "exec-opts",
    "hosts",
    "insecure-registries",
    "labels",
    "registry-mirrors",
    "storage-opts",
)
# logrus level names; dockerd exits with "unable to parse logging level" on anything else.
LOG_LEVELS = ("trace", "debug", "info", "warn", "warning", "error", "fatal", "panic")
_OBJECT_KEYS = ("default-ulimits", "features", "log-opts", "runtimes")
# Values inside these objects are Go map[string]string: a YAML `max-file: 3` arrives as a number.
_STRING_VALUED_OBJECTS = ("log-opts",)

_EXEC_START_ARGV = re.compile(r"argv\[\]=(.*?) ; ignore_errors=")
_VERSION = re.compile(r"version\s+v?(\d+)\.(\d+)(?:\.(\d+))?(\S*)", re.IGNORECASE)
_C8D_RUNTIME_NAME = re.compile(r"^[^.]+\.[^.]+\.[^.]+\.v\d+$")

VALIDATE_FLAG_SINCE = (23, 0)


def parse_exec_start(output):
    """Arguments of the last ExecStart from `systemctl show -p ExecStart --value UNIT`; [] when none.

    systemd prints each ExecStart as `{ path=... ; argv[]=ARGS ; ignore_errors=no ; ... }`.
    """
    commands = _EXEC_START_ARGV.findall(output or "")
    if not commands:
        return []
    try:
        return shlex.split(commands[-1])
    except ValueError:
        return commands[-1].split()


def flags_in_command(argv):
    """(flag names given on the command line, words left as unexpanded $VARIABLES).

    argv[0] (the program) is skipped when it does not look like a flag, so callers may pass either
    a whole command or just its flags. Values are not interpreted: only which flags are present.
    """
    names = []
    unexpanded = []
    words = list(argv)
    if words and not words[0].startswith("-"):
        words = words[1:]
    for word in words:
        if word.startswith("$"):
            unexpanded.append(word)
        elif word.startswith("--") and len(word) > 2:
            names.append(word[2:].split("=", 1)[0])
        elif word.startswith("-") and len(word) > 1:
            names.append(SHORTHAND_TO_FLAG.get(word[1], word[1]))
    return names, unexpanded


def runtime_names_from_flags(argv):
    """Runtime names defined with --add-runtime NAME=PATH on the command line."""
    names = []
    words = list(argv)
    for index, word in enumerate(words):
        value = None
        if word.startswith("--add-runtime="):
            value = word.split("=", 1)[1]
        elif word == "--add-runtime" and index + 1 < len(words):
            value = words[index + 1]
        if value and "=" in value:
            names.append(value.split("=", 1)[0])
    return names


def flag_conflicts(config, flag_names):
    """Keys that dockerd would find both in the file and as a flag; it refuses to start then."""
    conflicts = []
    for flag in flag_names:
        key = FLAG_TO_KEY.get(flag, flag)
        if key in config and key not in MERGED_FROM_FLAG_AND_FILE and key not in conflicts:
            conflicts.append(key)
    return conflicts


def _type_problem(key, value, expected):
    return "%s must be %s, not %r" % (key, expected, value)


def value_problems(config):
    """Values dockerd cannot unmarshal into its configuration, for the keys whose type is fixed."""
    problems = []
    for key in _BOOL_KEYS:
        if key in config and not isinstance(config[key], bool):
            problems.append(_type_problem(key, config[key], "true or false"))
    for key in _STRING_KEYS:
        if key in config and not isinstance(config[key], str):
            problems.append(_type_problem(key, config[key], "a string"))
    level = config.get("log-level")
    if isinstance(level, str) and level.lower() not in LOG_LEVELS:
        problems.append("log-level must be one of %s, not %r" % (", ".join(LOG_LEVELS), level))
    for key in _STRING_LIST_KEYS:
        if key in config:
            value = config[key]
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                problems.append(_type_problem(key, value, "a list of strings"))
    for key in _OBJECT_KEYS:
        if key in config and not isinstance(config[key], dict):
            problems.append(_type_problem(key, config[key], "an object"))
    for key in _STRING_VALUED_OBJECTS:
        value = config.get(key)
        if isinstance(value, dict):
            for name, item in value.items():
                if not isinstance(item, str):
                    problems.append(
                        '%s.%s must be a string, not %r (quote it, e.g. "%s")' % (key, name, item, _as_text(item))
                    )
    return problems


def _as_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def runtime_problems(config, flag_runtime_names=()):
    """default-runtime without a definition, and runtimes that take a reserved name."""
    problems = []
    runtimes = config.get("runtimes")
    defined = set(runtimes) if isinstance(runtimes, dict) else set()
    for name in sorted(defined & RESERVED_RUNTIME_NAMES):
        problems.append("runtimes.%s: the runtime name %r is reserved by dockerd" % (name, name))
    default = config.get("default-runtime")
    if isinstance(default, str) and default:
        known = defined | set(flag_runtime_names) | BUILTIN_RUNTIMES
        # Names in containerd's form (io.containerd.NAME.vN) are accepted by newer dockerd undefined.
        if default not in known and not _C8D_RUNTIME_NAME.match(default):
            problems.append(
                "default-runtime %r is not defined under runtimes (defined: %s); %s"
                % (
                    default,
                    ", ".join(sorted(defined | set(flag_runtime_names))) or "none",
                    missing_runtime_hint(default),
                )
            )
    return problems


def config_problems(config, argv=()):
    """Every reason known in advance why dockerd started with argv would refuse this config."""
    names, _unexpanded = flags_in_command(argv)
    problems = []
    for key in flag_conflicts(config, names):
        problems.append("%s is set in the file and also as a dockerd flag (%s)" % (key, " ".join(argv)))
    problems.extend(value_problems(config))
    problems.extend(runtime_problems(config, runtime_names_from_flags(argv)))
    if "graph" in config and "data-root" in config:
        problems.append("graph and data-root are both set; keep only data-root")
    return problems


def parse_dockerd_version(output):
    """(major, minor, text) from `dockerd --version`, e.g. 'Docker version 20.10.24+dfsg1, build ...'."""
    match = _VERSION.search(output or "")
    if not match:
        return None
    text = ".".join(part for part in match.group(1, 2, 3) if part) + (match.group(4) or "").rstrip(",")
    return int(match.group(1)), int(match.group(2)), text


def has_validate_flag(version):
    """dockerd gained --validate in 23.0."""
    return version is not None and (version[0], version[1]) >= VALIDATE_FLAG_SINCE
