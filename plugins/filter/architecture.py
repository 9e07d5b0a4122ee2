# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Architecture name filters, so roles and playbooks share module_utils/_architecture.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dpkg_arch
short_description: Architecture name as dpkg and NVIDIA's repository spell it
version_added: 0.1.0
description:
  - Turns C(x86_64), C(aarch64), C(linux/arm64/v8) or C(arm64) into C(amd64) or C(arm64).
  - Fails with the reason for architectures the collection does not support (armhf, ppc64el, s390x).
  - The same plugin file also provides C(kernel_arch) (C(x86_64), C(aarch64)) and C(oci_platform) (C(linux/arm64)).
options:
  _input:
    description: An architecture name in any of the spellings above.
    type: str
    required: true
  strict:
    description: When false, an unsupported name is returned unchanged instead of failing.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Pick the repository folder for this host
  ansible.builtin.debug:
    msg: "{{ ansible_facts.architecture | gpufleet.containers.dpkg_arch }}"  # amd64 or arm64
"""

RETURN = r"""
_value:
  description: The dpkg architecture name.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.containers.plugins.module_utils._architecture import (
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
