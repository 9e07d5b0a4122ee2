# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: gpufleet_changes
type: aggregate
short_description: Test aid; appends, per playbook run, what each host's changed tasks changed (or would change)
description:
  - Lets a molecule verify step compare a check-mode run with the real run that follows it, and both with the host's
    state, by what changed rather than by task names.
  - Each changed result on a host becomes effects such as C(package:docker.io), C(file:/etc/docker/daemon.json),
    C(image:NAME), C(service:docker.service), C(group:docker), read from the module's arguments and result.
    Tasks delegated to another host (the controller's verdict files) are left out.
  - Writes one JSON line per playbook run to the file named by E(GPUFLEET_CHANGE_LOG); does nothing without it.
requirements:
  - enable in ansible.cfg or with E(ANSIBLE_CALLBACKS_ENABLED)
"""

import json
import os
import re

from ansible import context
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "gpufleet_changes"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self._playbook = None
        self._changed = {}

    def v2_playbook_on_start(self, playbook):
        self._playbook = os.path.basename(playbook._file_name)

    def v2_runner_on_ok(self, result):
        if not result.is_changed() or result._task.delegate_to:
            return
        host = self._changed.setdefault(result._host.get_name(), {"tasks": [], "effects": []})
        host["tasks"].append(result._task.get_name())
        for effect in effects(result._task.action, result._task.args, result._result):
            if effect not in host["effects"]:
                host["effects"].append(effect)

    def v2_playbook_on_stats(self, stats):
        log = os.environ.get("GPUFLEET_CHANGE_LOG")
        if not log:
            return
        record = {
            "playbook": self._playbook,
            "check": bool(context.CLIARGS.get("check")),
            "changed": self._changed,
        }
        with open(log, "a") as stream:
            stream.write(json.dumps(record, sort_keys=True) + "\n")


FILE_MODULES = ("copy", "template", "lineinfile", "file", "docker_daemon_config", "replace", "blockinfile")
# The roles' check-mode predictions where the real module cannot simulate: apt without the repository on the host,
# user with a group that the package creates.
PREDICTED_INSTALL = re.compile(r"^Would install (.+?)(?: and hold them)?$")
PREDICTED_MEMBER = re.compile(r"^Would add \S+ to the (\S+) group")
# Where the specification goes depends on the toolkit version still to be installed (its refresh units write
# /var/run/cdi, else the role writes /etc/cdi): the effect is the specification of NVIDIA's GPUs, wherever it lands.
PREDICTED_CDI = re.compile(r"^Would generate the CDI specification ")
CDI_EFFECT = "cdi:nvidia.com/gpu"
PREDICTED_FILES = re.compile(r"^Would write (.+?) once ")


def _names(value):
    names = value if isinstance(value, list) else [value]
    return [str(name).split("=", 1)[0] for name in names if name]


def effects(action, args, result):
    """What one changed result changed on its host, as kind:target strings; a loop's, from its changed items."""
    if isinstance(result.get("results"), list):
        found = []
        for item in result["results"]:
            if isinstance(item, dict) and item.get("changed"):
                found.extend(effect for effect in effects(action, args, item) if effect not in found)
        return found
    short = action.rsplit(".", 1)[-1]
    if short in ("apt", "dpkg_selections"):
        return ["package:" + name for name in _names(args.get("name"))]
    if short in FILE_MODULES:
        # A loop's items carry their own path; the task's arguments would still read "{{ item }}".
        return ["file:" + str(result.get("dest") or result.get("path") or args.get("dest") or args.get("path"))]
    if short == "nvidia_repo":
        return ["file:" + result[key]["path"] for key in ("keyring", "source") if result.get(key, {}).get("changed")]
    if short in ("docker_restart", "engine_restart", "systemd_service", "systemd", "service"):
        engine_unit = str(args.get("engine") or "docker") + ".service"
        return ["service:" + str(args.get("name") or args.get("service") or engine_unit)]
    if short == "containerd_config":
        return ["file:" + path for path in result.get("changed_files") or []]
    if short == "nvidia_cdi":
        return [CDI_EFFECT]
    if short == "gpu_verify":
        return ["image:" + str(args.get("image"))]
    if short == "user":
        return ["group:" + group for group in _names(args.get("groups"))]
    if short == "debug":
        message = str(result.get("msg", ""))
        match = PREDICTED_INSTALL.match(message)
        if match:
            return ["package:" + name for name in _names(match.group(1).split(", "))]
        match = PREDICTED_MEMBER.match(message)
        if match:
            return ["group:" + match.group(1)]
        match = PREDICTED_FILES.match(message)
        if match:
            return ["file:" + path for path in match.group(1).split(" and ")]
        if PREDICTED_CDI.match(message):
            return [CDI_EFFECT]
    return ["task:" + action]
