# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() with real argument handling, with only the commands it would run replaced."""

import json
import os

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class Commands:
    """Stands in for the host: records each argv and its environment, and answers with a canned (rc, stdout, stderr).

    One answer for every command, or with by_command one per command name (the basename of argv[0]). Binaries in
    `missing` are not found; the others are in /usr/bin.
    """

    def __init__(self, answer=(0, "", ""), missing=(), by_command=None):
        self.answer, self.missing, self.by_command = answer, missing, by_command
        self.calls, self.environ = [], []

    def install(self, monkeypatch):
        monkeypatch.setattr(basic.AnsibleModule, "run_command", self.run_command)
        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", self.get_bin_path)

    def run_command(self, argv, **kwargs):
        self.calls.append(argv)
        self.environ.append(kwargs.get("environ_update"))
        if self.by_command is None:
            return self.answer
        return self.by_command[os.path.basename(argv[0])]

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return None if name in self.missing else "/usr/bin/" + name


def run_main(module, args, capsys):
    """The module's JSON answer, with `_exit` its exit code."""
    with patch_module_args(args), pytest.raises(SystemExit) as exit_info:
        module.main()
    result = json.loads(capsys.readouterr().out)
    result["_exit"] = exit_info.value.code
    return result
