#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: docker_restart
short_description: Restart dockerd when what it reads at start changed, and roll back when it does not come back
version_added: 0.2.0
description:
  - Decides from the host's state whether the Docker daemon runs with what it would read if it started now, and
    restarts it when it does not. A restart is due when a path in O(watch) changed after the daemon's main process
    started (daemon.json, the runtime hook that C(docker run --gpus) needs on dockerd's PATH), when systemd has
    unit files for the service it has not loaded yet (a proxy drop-in added or removed), or when the service is not
    active.
  - Because the decision comes from the host and not from what the current run changed, a run that failed between
    writing daemon.json and restarting is finished by the next run, and a host restarted by hand is left alone.
  - After the restart it waits until C(docker info) answers. When the daemon does not come back, it writes back
    O(previous) (the daemon.json the engine last started with), starts Docker again, and fails with dockerd's own
    error from the journal. A playbook's C(rescue) records that failure like any other.
author: gpufleet maintainers (@gpufleet)
options:
  service:
    description: The systemd unit of the Docker daemon.
    type: str
    default: docker.service
  watch:
    description:
      - Files the daemon reads (or looks up) when it starts. One that changed after the daemon started makes a
        restart due; one that does not exist is ignored.
      - A change is the later of the file's modification and status change times, so a package upgrade counts
        from the moment dpkg installed the file, not from the build time it carries.
    type: list
    elements: path
    default: [/etc/docker/daemon.json]
  config_path:
    description: Where O(previous) is written back when the daemon does not start.
    type: path
    default: /etc/docker/daemon.json
  previous:
    description:
      - daemon.json as the engine last started with it, in the shape M(gpufleet.containers.host_probe) returns for a
        file it read, with the keys C(exists), C(content) (base64), C(mode), C(owner) and C(group). With C(exists)
        false the rollback removes the file.
      - Without it a failed restart is reported but nothing is restored.
    type: dict
  assume_changed:
    description:
      - In check mode, whether earlier tasks of this run would change something the daemon reads. They changed
        nothing in check mode, so the files cannot show it; this keeps the prediction equal to what the real run
        does. Ignored outside check mode.
      - Where the service does not exist yet (before Docker is installed) it is the whole answer. Say true there
        only for a change made after the package has started the daemon.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for C(docker info) to answer after a start.
    type: int
    default: 60
  docker_bin:
    description: The Docker CLI used to ask whether the daemon answers.
    type: str
    default: docker
attributes:
  check_mode:
    support: full
    description: Can run in check mode and return changed status prediction without modifying target.
    details: Check mode reads the same state and reports whether a restart is due; it restarts nothing.
  diff_mode:
    support: none
    description: Restarts change no file; a rollback restores one, and says so in its message.
  platform:
    support: full
    platforms: posix
    description: Hosts where systemd runs the Docker daemon.
notes:
  - Commands run as argument lists with C(LC_ALL=C).
seealso:
  - module: gpufleet.containers.docker_daemon_config
  - module: gpufleet.containers.host_probe
"""

EXAMPLES = r"""
- name: Read daemon.json before changing it
  gpufleet.containers.host_probe:
    read: [/etc/docker/daemon.json]
  register: probe

- name: Merge settings into daemon.json
  gpufleet.containers.docker_daemon_config:
    settings: {log-driver: local}

- name: Restart Docker if daemon.json or the runtime changed since it started; roll back if it does not come back
  gpufleet.containers.docker_restart:
    watch: [/etc/docker/daemon.json, /usr/bin/nvidia-container-runtime-hook]
    previous: "{{ probe.paths['/etc/docker/daemon.json'] }}"
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
  description: Whether O(previous) was written back after a failed start.
  returned: always
  type: bool
daemon_said:
  description: dockerd's own error lines from the journal, after a failed start.
  returned: failure
  type: str
error_kind:
  description: C(docker_restart_failed) when the daemon did not come back.
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
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.containers.plugins.module_utils.docker.restart import (
    DAEMON_ERROR_KIND,
    HINT,
    Host,
    decide_restart,
    parse_systemctl_show,
    restart_with_rollback,
)

SHOWN_PROPERTIES = [
    "LoadState",
    "ActiveState",
    "NeedDaemonReload",
    "ExecMainStartTimestampMonotonic",
    "ActiveEnterTimestampMonotonic",
]


class ModuleHost(Host):
    def __init__(self, module, config_path):
        self.module = module
        self.config_path = config_path

    def run(self, argv):
        rc, stdout, stderr = self.module.run_command(argv, environ_update={"LC_ALL": "C"})
        return rc, stdout, stderr

    def sleep(self, seconds):
        time.sleep(seconds)

    def restore(self, previous):
        if not previous.get("exists"):
            if os.path.lexists(self.config_path):
                os.unlink(self.config_path)
            return
        content = base64.b64decode(previous.get("content") or "")
        directory = os.path.dirname(self.config_path) or "."
        handle, temporary = tempfile.mkstemp(prefix=".daemon.json.", dir=directory)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
                stream.flush()
                os.fsync(stream.fileno())
            self.module.atomic_move(temporary, self.config_path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        file_args = {"path": self.config_path}
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
            "service": {"type": "str", "default": "docker.service"},
            "watch": {"type": "list", "elements": "path", "default": ["/etc/docker/daemon.json"]},
            "config_path": {"type": "path", "default": "/etc/docker/daemon.json"},
            "previous": {"type": "dict"},
            "assume_changed": {"type": "bool", "default": False},
            "timeout": {"type": "int", "default": 60},
            "docker_bin": {"type": "str", "default": "docker"},
        },
        supports_check_mode=True,
    )


def main():
    module = build_module()
    params = module.params
    if params["service"].startswith("-"):
        module.fail_json(
            msg="service %r starts with '-': give the unit's name, e.g. docker.service." % params["service"]
        )
    if params["timeout"] < 0:
        module.fail_json(msg="timeout is %d: give the seconds to wait, 0 or more." % params["timeout"])
    host = ModuleHost(module, params["config_path"])
    show = ["systemctl", "show", params["service"]] + ["--property=" + name for name in SHOWN_PROPERTIES]
    rc, stdout, stderr = host.run(show)
    if rc != 0:
        module.fail_json(
            msg="systemctl could not tell the state of %s: %s" % (params["service"], stderr.strip()),
            rc=rc,
            stdout=stdout,
            stderr=stderr,
            hint="Is systemd running on this host? The docker_restart module needs it.",
        )
    watched = {path: last_change(path) for path in params["watch"]}
    decision = decide_restart(
        parse_systemctl_show(stdout),
        watched,
        time.time(),
        time.monotonic(),
        assume_changed=params["assume_changed"] and module.check_mode,
    )
    result = {"changed": decision.needed, "restarted": decision.needed, "reasons": decision.reasons}
    result.update({"rolled_back": False, "commands": [show]})
    if not decision.needed or module.check_mode:
        module.exit_json(**result)
    if not decision.unit_loaded:
        module.fail_json(msg="%s does not exist on this host: install Docker first." % params["service"], **result)
    outcome = restart_with_rollback(
        host, params["service"], params["docker_bin"], params["timeout"], params["previous"]
    )
    result["commands"] += outcome["commands"]
    result["rolled_back"] = outcome["rolled_back"]
    if outcome["ok"]:
        result["server_version"] = outcome["server_version"]
        module.exit_json(**result)
    result["restarted"] = False
    module.fail_json(
        msg=outcome["message"], error_kind=DAEMON_ERROR_KIND, hint=HINT, daemon_said=outcome["daemon_said"], **result
    )


if __name__ == "__main__":
    main()
