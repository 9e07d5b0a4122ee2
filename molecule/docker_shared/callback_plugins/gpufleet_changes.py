# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: gpufleet_changes
type: aggregate
short_description: Test aid; appends, per playbook run, which tasks reported changed on which host
description:
  - Lets a molecule verify step compare a check-mode run with the real run that follows it.
  - Writes one JSON line per playbook run to the file named by E(GPUFLEET_CHANGE_LOG); does nothing without it.
requirements:
  - enable in ansible.cfg or with E(ANSIBLE_CALLBACKS_ENABLED)
"""

import json
import os

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
        if result.is_changed():
            self._changed.setdefault(result._host.get_name(), []).append(result._task.get_name())

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
