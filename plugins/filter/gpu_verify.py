# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The gpu_verify role's verdict filters, so the role's logic lives in module_utils/_gpu_verdict.py.

Two filters in one file: each is documented in the YAML file named after it (gpu_verify_blocker.yml,
gpu_verify_verdict.yml), which is where ansible-doc looks for filters that share a file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.containers.plugins.module_utils._gpu_verdict import build_verdict, find_blocker


def _wrap(name, function):
    def filter_function(value, **kwargs):
        try:
            return function(value, **kwargs)
        except (KeyError, TypeError, AttributeError) as error:
            # A registered result without the key the verdict reads, or a missing argument: name both.
            raise AnsibleFilterError("%s: unexpected input (%s: %s)" % (name, type(error).__name__, error)) from error

    return filter_function


class FilterModule:
    def filters(self):
        return {
            "gpu_verify_blocker": _wrap("gpu_verify_blocker", find_blocker),
            "gpu_verify_verdict": _wrap("gpu_verify_verdict", build_verdict),
        }
