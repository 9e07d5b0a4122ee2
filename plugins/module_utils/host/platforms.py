# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection knows per distribution, stated once: supported releases, the ldconfig the runtime hook must
call, and how a release is named in reports. Architecture names live beside it, in host/architecture.py.

Plain Python (no Ansible import). Roles read it through the `gpufleet.containers.platform` filter (preflight's and
the docker role's support checks, the toolkit's ldconfig line); verdicts name the distribution with `release_name`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.containers.plugins.module_utils.host.architecture import (
    UnsupportedArchitecture,
    dpkg_arch,
)

# Debian by major version (its point releases change nothing here), Ubuntu by full version (24.04 is not 24.10).
SUPPORTED_RELEASES = {"Debian": ["11", "12", "13"], "Ubuntu": ["20.04", "22.04", "24.04"]}
# Ubuntu diverts ldconfig to a wrapper script; the hook must call the real binary there.
LDCONFIG = {"Debian": "@/sbin/ldconfig", "Ubuntu": "@/sbin/ldconfig.real"}
DEFAULT_LDCONFIG = "@/sbin/ldconfig"


def release_version(facts):
    """The version a distribution's releases are told apart by: Debian's major, anything else's full version."""
    if facts.get("distribution") == "Debian":
        return "%s" % facts.get("distribution_major_version", "")
    return "%s" % facts.get("distribution_version", "")


def release_name(facts):
    """`Debian 12`, `Ubuntu 24.04`; None when the facts were never read (a host that failed before any)."""
    name = (facts or {}).get("distribution")
    if not name:
        return None
    return "%s %s" % (name, release_version(facts))


def platform(facts, supported_releases=None):
    """Everything the roles decide per platform, from Ansible's facts (distribution, distribution_version,
    distribution_major_version, architecture).

    supported_releases: a user's override of SUPPORTED_RELEASES (preflight_supported_releases); empty for ours.
    """
    facts = facts or {}
    releases = supported_releases or SUPPORTED_RELEASES
    distribution = facts.get("distribution")
    version = release_version(facts)
    try:
        architecture = dpkg_arch(facts.get("architecture") or "")
    except UnsupportedArchitecture:
        architecture = None
    return {
        "distribution": distribution,
        "release": release_name(facts),
        "release_version": version,
        "distribution_supported": distribution in releases,
        "release_supported": version in releases.get(distribution, []),
        "supported_releases": releases,
        "architecture": architecture,
        "architecture_supported": architecture is not None,
        "ldconfig": LDCONFIG.get(distribution, DEFAULT_LDCONFIG),
    }
