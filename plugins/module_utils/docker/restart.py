# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker's words for the engine-agnostic restart with rollback (service/restart.py does the work).

dockerd reads daemon.json, its unit's drop-ins and the runtime hook's location when it starts; it answers
`docker info` once it is up, and says why it stopped in lines like "failed to start daemon" or "unable to configure".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.gpufleet.containers.plugins.module_utils.service.restart import EngineProfile

# The lines of dockerd's journal that say why it stopped; when none matches, the last lines are the best account.
DAEMON_ERROR_LINE = re.compile(r"(?i)failed to start daemon|unable to configure|unable to parse|level=fatal")
DAEMON_ERROR_KIND = "docker_restart_failed"
HINT = (
    "Fix the settings dockerd names above (in docker_daemon_options, or the other inputs to daemon.json) and run "
    "again; journalctl -u docker.service has the daemon's whole account."
)

DOCKER = EngineProfile(
    name="Docker",
    daemon="dockerd",
    service="docker.service",
    ready_command=["docker", "info", "--format", "{{.ServerVersion}}"],
    error_line=DAEMON_ERROR_LINE,
    error_kind=DAEMON_ERROR_KIND,
    hint=HINT,
    watch=["/etc/docker/daemon.json"],
)
