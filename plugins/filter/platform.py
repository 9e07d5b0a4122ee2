# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform filter (documented in platform.yml): what the collection knows about a host's platform."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.containers.plugins.module_utils.host.platforms import platform


class FilterModule:
    def filters(self):
        return {"platform": platform}
