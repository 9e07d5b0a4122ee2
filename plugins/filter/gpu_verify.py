# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verdict of a host that failed before its GPUs were verified, in the schema every verdict file has.

The logic lives in module_utils/verification/verdict.py, beside the verdict the gpu_verify module gives; site.yml's
rescue calls this filter, so a host that stopped in preflight or at a Docker restart is reported like a verified one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.containers.plugins.module_utils.verification.verdict import failure_verdict


def gpu_verify_failure(host, **kwargs):
    try:
        return failure_verdict(host, **kwargs)
    except (KeyError, TypeError, AttributeError) as error:
        # A missing argument, or a failed result that is not a mapping: name both.
        raise AnsibleFilterError(
            "gpu_verify_failure: unexpected input (%s: %s)" % (type(error).__name__, error)
        ) from error


class FilterModule:
    def filters(self):
        return {"gpu_verify_failure": gpu_verify_failure}
