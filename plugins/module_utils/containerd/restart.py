# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd's words for the engine-agnostic restart with rollback (service/restart.py does the work).

containerd reads config.toml and the files it imports when it starts, and looks up runtime binaries when a container
starts. It answers `ctr version` (a Server block) once it is up. A configuration it refuses ends the process with a
line "containerd: failed to load TOML from ...: ..." or a level=fatal log line, which is what the journal shows.
A CRI plugin that refuses its configuration does not end the process: containerd logs
`level=warning msg="failed to load plugin io.containerd.grpc.v1.cri" error="invalid plugin config: ..."` and runs
on, and `ctr plugins ls` lists the plugin with status `error` (1.6.20, measured); so the restart reads that list.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.gpufleet.containers.plugins.module_utils.service.restart import EngineProfile

DAEMON_ERROR_LINE = re.compile(r"(?i)^containerd: |level=fatal|level=error")
DAEMON_ERROR_KIND = "containerd_restart_failed"
HINT = (
    "Fix the settings containerd names above (in /etc/containerd/config.toml, the files it imports, or the "
    "containerd role's variables) and run again; journalctl -u containerd.service has the daemon's whole account."
)

CONTAINERD = EngineProfile(
    name="containerd",
    daemon="containerd",
    service="containerd.service",
    ready_command=["ctr", "version"],
    error_line=DAEMON_ERROR_LINE,
    error_kind=DAEMON_ERROR_KIND,
    hint=HINT,
    watch=["/etc/containerd/config.toml", "/etc/containerd/conf.d/99-nvidia.toml"],
    plugins_command=["ctr", "plugins", "ls"],
)
