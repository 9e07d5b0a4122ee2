# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Architecture name filters, so roles and playbooks share module_utils/host/architecture.py.

Three filters in one file: each is documented in the YAML file named after it (dpkg_arch.yml, kernel_arch.yml,
oci_platform.yml), which is where ansible-doc looks for filters that share a file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.containers.plugins.module_utils.host.architecture import (
    UnsupportedArchitecture,
    dpkg_arch,
    kernel_arch,
    oci_platform,
)


def _wrap(function):
    def filter_function(value, *args, **kwargs):
        # strict=false hands an unsupported name back unchanged: for reports about hosts that failed preflight.
        strict = kwargs.pop("strict", True)
        try:
            return function(value, *args, **kwargs)
        except UnsupportedArchitecture as error:
            if not strict:
                return value
            raise AnsibleFilterError(str(error)) from error

    return filter_function


class FilterModule:
    def filters(self):
        return {
            "dpkg_arch": _wrap(dpkg_arch),
            "kernel_arch": _wrap(kernel_arch),
            "oci_platform": _wrap(oci_platform),
        }
