#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: engine_restart
short_description: Restart a container engine when what it reads at start changed; roll back when it fails
version_added: 0.2.0
description:
  - Decides from the host's state whether a container engine's daemon (Docker, containerd) runs with what it would
    read if it started now, and restarts its systemd unit when it does not. A restart is due when a path in O(watch)
    changed after the daemon's main process started (a configuration file, a drop-in, a runtime binary), when
    systemd has unit files for the service it has not loaded yet (a proxy drop-in added or removed), or when the
    service is not active.
  - Because the decision comes from the host and not from what the current run changed, a run that failed between
    writing a file and restarting is finished by the next run, and a host restarted by hand is left alone.
  - After the restart it waits until the engine answers (C(docker info), C(ctr version)), and for containerd checks
    that the plugins in O(expect_plugins) loaded. When the daemon does not come back, or comes back without them,
    it writes back the files in O(restore) (and O(previous)) as the engine last started with them, removes those
    that did not exist, starts the engine again, and fails with the daemon's own error from the journal. A
    playbook's C(rescue) records that failure like any other.
  - O(engine) chooses the defaults (unit, watched files, the command that tells the engine answers, wording and hint);
    each can be overridden. The defaults are Docker's, so that C(gpufleet.containers.docker_restart), which redirects
    here, keeps working as before.
author: gpufleet maintainers (@gpufleet)
options:
  engine:
    description: Whose defaults to use for O(service), O(watch), O(ready_command) and the failure's wording.
    type: str
    choices: [docker, containerd]
    default: docker
  service:
    description: The engine's systemd unit. Default C(docker.service) or C(containerd.service) by O(engine).
    type: str
  watch:
    description:
      - Files the daemon reads (or looks up) when it starts. One that changed after the daemon started makes a
        restart due; one that does not exist is ignored.
      - A change is the later of the file's modification and status change times, so a package upgrade counts
        from the moment dpkg installed the file, not from the build time it carries.
      - Default C([/etc/docker/daemon.json]) for Docker; containerd's config.toml and
        C(/etc/containerd/conf.d/99-nvidia.toml) for containerd.
    type: list
    elements: path
  restore:
    description:
      - Files to put back when the engine does not start, each as the engine last started with it, in the shape
        M(gpufleet.containers.host_probe) and M(gpufleet.containers.containerd_config) return for a file they read,
        plus its C(path).
      - Each item has C(path), C(exists) (false removes the file on rollback), and when it existed C(content)
        (base64) and optionally C(mode), C(owner) and C(group). Other keys (a probe's C(type), C(size)) are ignored.
      - Without it (and without O(previous)) a failed restart is reported but nothing is restored.
    type: list
    elements: dict
    default: []
  config_path:
    description:
      - Where O(previous) is written back. Default the first of the engine's default O(watch) files
        (C(/etc/docker/daemon.json) for Docker).
    type: path
  previous:
    description:
      - One file (O(config_path)) as the engine last started with it, in the shape of an O(restore) item without
        C(path). Kept for C(docker_restart)'s callers; O(restore) takes any number of files.
    type: dict
  assume_changed:
    description:
      - In check mode, whether earlier tasks of this run would change something the daemon reads. They changed
        nothing in check mode, so the files cannot show it; this keeps the prediction equal to what the real run
        does. Ignored outside check mode.
      - Where the service does not exist yet (before the engine is installed) it is the whole answer. Say true there
        only for a change made after the package has started the daemon.
    type: bool
    default: false
  expect_plugins:
    description:
      - containerd only. Plugins that must load; after a start (and after a rollback's start) C(ctr plugins ls) must
        list each with status C(ok), or the restart failed and is rolled back like a refused start, with the
        daemon's C(failed to load plugin) line from the journal in the message.
      - containerd whose CRI plugin refuses its configuration runs on without it and answers C(ctr version), so
        without this a Kubernetes node would be left without CRI. M(gpufleet.containers.containerd_config) returns
        the list to give (RV(gpufleet.containers.containerd_config#module:expect_plugins)).
      - Each item is a plugin's full name (type and ID, C(io.containerd.grpc.v1.cri)) or a plugin type
        (C(io.containerd.cri.v1) on containerd 2.x, meaning every plugin of that type, and at least one).
      - The plugin list is read with O(ready_command) less its last word plus C(plugins ls) when O(ready_command)
        ends in C(version), else with C(ctr plugins ls). Check mode and runs without a restart do not read it.
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds to wait for O(ready_command) to answer after a start.
    type: int
    default: 60
  ready_command:
    description:
      - The command that exits 0 once the daemon answers, printing its version (C(ctr version)'s Server block is
        read, otherwise the first line). Default C(docker info --format {{.ServerVersion}}) or C(ctr version).
    type: list
    elements: str
  docker_bin:
    description: The Docker CLI, in place of C(docker) at the start of Docker's O(ready_command).
    type: str
  engine_name:
    description: The engine's name in the failure message, in place of O(engine)'s (C(Docker), C(containerd)).
    type: str
  daemon_name:
    description: The daemon's name in reasons and messages (C(dockerd), C(containerd)).
    type: str
  error_kind:
    description:
      - The C(error_kind) of a failed restart. Default C(docker_restart_failed) or C(containerd_restart_failed).
    type: str
  hint:
    description: What to do about a failed restart, in place of the engine's own hint.
    type: str
attributes:
  check_mode:
    support: full
    description: Can run in check mode and return changed status prediction without modifying target.
    details: Check mode reads the same state and reports whether a restart is due; it restarts nothing.
  diff_mode:
    support: none
    description: Restarts change no file; a rollback restores files, and says which in its message and RV(restored).
  platform:
    support: full
    platforms: posix
    description: Hosts where systemd runs the engine.
notes:
  - Commands run as argument lists with C(LC_ALL=C).
seealso:
  - module: gpufleet.containers.containerd_config
  - module: gpufleet.containers.docker_daemon_config
  - module: gpufleet.containers.host_probe
"""

EXAMPLES = r"""
- name: Read daemon.json before changing it
  gpufleet.containers.host_probe:
    read: [/etc/docker/daemon.json]
  register: probe

- name: Restart Docker if daemon.json or the runtime changed since it started; roll back if it does not come back
  gpufleet.containers.engine_restart:
    watch: [/etc/docker/daemon.json, /usr/bin/nvidia-container-runtime-hook]
    restore: ["{{ probe.paths['/etc/docker/daemon.json'] | combine({'path': '/etc/docker/daemon.json'}) }}"]

- name: Register the nvidia runtime with containerd's CRI plugin
  gpufleet.containers.containerd_config: {}
  register: containerd_config

- name: Restart containerd if its configuration changed; put both files back if it does not come back
  gpufleet.containers.engine_restart:
    engine: containerd
    watch:
      - /etc/containerd/config.toml
      - /etc/containerd/conf.d/99-nvidia.toml
      - /usr/bin/nvidia-container-runtime
    restore: "{{ containerd_config.previous }}"
    # containerd runs on when only its CRI plugin fails: that counts as a failed restart too.
    expect_plugins: "{{ containerd_config.expect_plugins }}"
"""

RETURN = r"""
restarted:
  description: Whether the daemon was (or, in check mode, would be) restarted.
  returned: success
  type: bool
reasons:
  description: Why a restart was due; empty when none was.
  returned: always
  type: list
  elements: str
  sample: ["/etc/docker/daemon.json changed after dockerd started"]
server_version:
  description: The daemon's version after the restart.
  returned: when restarted
  type: str
  sample: 20.10.24+dfsg1
rolled_back:
  description: Whether files were written back after a failed start.
  returned: always
  type: bool
restored:
  description: The files written back (or removed) after a failed start.
  returned: always
  type: list
  elements: str
daemon_said:
  description: The daemon's own error lines from the journal, after a failed start.
  returned: failure
  type: str
missing_plugins:
  description: The plugins of O(expect_plugins) the daemon came back without, with their status, after a failed start.
  returned: failure
  type: list
  elements: str
  sample: ["io.containerd.grpc.v1.cri (error)"]
error_kind:
  description:
    - C(docker_restart_failed), C(containerd_restart_failed) or O(error_kind), when the daemon did not come back.
  returned: failure
  type: str
hint:
  description: What to do about a failed restart.
  returned: failure
  type: str
commands:
  description: The commands that ran, in order.
  returned: always
  type: list
  elements: list
"""

import base64
import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.containers.plugins.module_utils.containerd.restart import CONTAINERD
from ansible_collections.gpufleet.containers.plugins.module_utils.docker.restart import DOCKER
from ansible_collections.gpufleet.containers.plugins.module_utils.files import replace_file
from ansible_collections.gpufleet.containers.plugins.module_utils.service.restart import (
    Host,
    decide_restart,
    parse_systemctl_show,
    restart_with_rollback,
)

PROFILES = {"docker": DOCKER, "containerd": CONTAINERD}

SHOWN_PROPERTIES = [
    "LoadState",
    "ActiveState",
    "NeedDaemonReload",
    "ExecMainStartTimestampMonotonic",
    "ActiveEnterTimestampMonotonic",
]


class ModuleHost(Host):
    def __init__(self, module):
        self.module = module

    def run(self, argv):
        rc, stdout, stderr = self.module.run_command(argv, environ_update={"LC_ALL": "C"})
        return rc, stdout, stderr

    def sleep(self, seconds):
        time.sleep(seconds)

    def restore(self, previous):
        path = previous["path"]
        if not previous.get("exists"):
            if os.path.lexists(path):
                os.unlink(path)
            return
        content = base64.b64decode(previous.get("content") or "")
        # The mode, owner and group come back below, from the file as it was read.
        replace_file(path, content, self.module.atomic_move, new_file_mode=None)
        file_args = {"path": path}
        for key in ("mode", "owner", "group"):
            if previous.get(key):
                file_args[key] = previous[key]
        self.module.set_fs_attributes_if_different(self.module.load_file_common_arguments(file_args), False)


def last_change(path):
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return max(status.st_mtime, status.st_ctime)


def build_module():
    return AnsibleModule(
        argument_spec={
            "engine": {"type": "str", "choices": sorted(PROFILES), "default": "docker"},
            "service": {"type": "str"},
            "watch": {"type": "list", "elements": "path"},
            "restore": {"type": "list", "elements": "dict", "default": []},
            "config_path": {"type": "path"},
            "previous": {"type": "dict"},
            "assume_changed": {"type": "bool", "default": False},
            "expect_plugins": {"type": "list", "elements": "str", "default": []},
            "timeout": {"type": "int", "default": 60},
            "ready_command": {"type": "list", "elements": "str"},
            "docker_bin": {"type": "str"},
            "engine_name": {"type": "str"},
            "daemon_name": {"type": "str"},
            "error_kind": {"type": "str"},
            "hint": {"type": "str"},
        },
        supports_check_mode=True,
    )


def profile_from(params):
    """The engine's preset with the task's own choices over it."""
    preset = PROFILES[params["engine"]]
    ready_command = params["ready_command"]
    if ready_command is None and params["docker_bin"]:
        ready_command = [params["docker_bin"]] + preset.ready_command[1:]
    plugins_command = None
    if preset.plugins_command and ready_command and ready_command[-1] == "version":
        # The same client and address as the ready command (`ctr --address X version` -> `ctr --address X plugins ls`).
        plugins_command = ready_command[:-1] + ["plugins", "ls"]
    return preset.but(
        plugins_command=plugins_command,
        service=params["service"],
        watch=params["watch"],
        ready_command=ready_command,
        name=params["engine_name"],
        daemon=params["daemon_name"],
        error_kind=params["error_kind"],
        hint=params["hint"],
    )


def files_to_restore(params, profile):
    """The files a rollback puts back, checked before anything runs; a list of problems when they are unusable."""
    previous_files = [dict(item) for item in params["restore"]]
    if params["previous"] is not None:
        path = params["config_path"] or profile.watch[0]
        previous_files.append(dict(params["previous"], path=path))
    problems = []
    for index, item in enumerate(previous_files):
        if not isinstance(item.get("path"), str) or not item["path"].startswith("/"):
            problems.append("item %d has no absolute path" % index)
        elif not isinstance(item.get("exists"), bool):
            problems.append("%s has no exists (true or false)" % item["path"])
        elif item["exists"] and not isinstance(item.get("content"), str):
            problems.append("%s existed but its content (base64) is not given" % item["path"])
    return previous_files, problems


def main():
    module = build_module()
    params = module.params
    profile = profile_from(params)
    if profile.service.startswith("-"):
        module.fail_json(
            msg="service %r starts with '-': give the unit's name, e.g. %s."
            % (profile.service, PROFILES[params["engine"]].service)
        )
    if not profile.ready_command or profile.ready_command[0].startswith("-"):
        module.fail_json(msg="ready_command %r must start with a program, e.g. ctr version." % profile.ready_command)
    if params["timeout"] < 0:
        module.fail_json(msg="timeout is %d: give the seconds to wait, 0 or more." % params["timeout"])
    if params["expect_plugins"] and not profile.plugins_command:
        module.fail_json(
            msg="expect_plugins is for containerd, whose `ctr plugins ls` lists its plugins; %s has no such list: "
            "leave expect_plugins out for engine %s." % (profile.name, params["engine"])
        )
    previous_files, problems = files_to_restore(params, profile)
    if problems:
        module.fail_json(
            msg="restore cannot be used: %s. Give each file as host_probe or containerd_config read it, "
            "with its path." % "; ".join(problems)
        )
    host = ModuleHost(module)
    show = ["systemctl", "show", profile.service] + ["--property=" + name for name in SHOWN_PROPERTIES]
    rc, stdout, stderr = host.run(show)
    if rc != 0:
        module.fail_json(
            msg="systemctl could not tell the state of %s: %s" % (profile.service, stderr.strip()),
            rc=rc,
            stdout=stdout,
            stderr=stderr,
            hint="Is systemd running on this host? The engine_restart module needs it.",
        )
    watched = {path: last_change(path) for path in profile.watch}
    decision = decide_restart(
        parse_systemctl_show(stdout),
        watched,
        time.time(),
        time.monotonic(),
        assume_changed=params["assume_changed"] and module.check_mode,
        daemon=profile.daemon,
    )
    result = {"changed": decision.needed, "restarted": decision.needed, "reasons": decision.reasons}
    result.update({"rolled_back": False, "restored": [], "commands": [show]})
    if not decision.needed or module.check_mode:
        module.exit_json(**result)
    if not decision.unit_loaded:
        module.fail_json(
            msg="%s does not exist on this host: install %s first." % (profile.service, profile.name), **result
        )
    outcome = restart_with_rollback(host, profile, params["timeout"], previous_files, params["expect_plugins"])
    result["commands"] += outcome["commands"]
    result["rolled_back"] = outcome["rolled_back"]
    result["restored"] = outcome["restored"]
    if outcome["ok"]:
        result["server_version"] = outcome["server_version"]
        module.exit_json(**result)
    result["restarted"] = False
    module.fail_json(
        msg=outcome["message"],
        error_kind=profile.error_kind,
        hint=profile.hint,
        daemon_said=outcome["daemon_said"],
        missing_plugins=outcome["missing_plugins"],
        **result,
    )


if __name__ == "__main__":
    main()
