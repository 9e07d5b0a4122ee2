# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-platform facts the roles and the report read from one place."""

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.host.platforms import platform, release_name


def facts(distribution, version, architecture="x86_64"):
    return {
        "distribution": distribution,
        "distribution_version": version,
        "distribution_major_version": version.split(".")[0],
        "architecture": architecture,
    }


@pytest.mark.parametrize(
    "host, release, supported, ldconfig",
    [
        (facts("Debian", "12.8"), "Debian 12", True, "@/sbin/ldconfig"),
        (facts("Debian", "13"), "Debian 13", True, "@/sbin/ldconfig"),
        (facts("Debian", "10.13"), "Debian 10", False, "@/sbin/ldconfig"),
        (facts("Ubuntu", "24.04", "aarch64"), "Ubuntu 24.04", True, "@/sbin/ldconfig.real"),
        (facts("Ubuntu", "24.10"), "Ubuntu 24.10", False, "@/sbin/ldconfig.real"),
    ],
)
def test_release_support_and_ldconfig(host, release, supported, ldconfig):
    found = platform(host)
    assert (found["release"], found["release_supported"], found["ldconfig"]) == (release, supported, ldconfig)
    assert found["architecture_supported"]


def test_other_distributions_and_architectures_are_not_supported():
    found = platform(facts("Fedora", "41", "ppc64le"))
    assert (found["distribution_supported"], found["release_supported"]) == (False, False)
    assert (found["architecture"], found["architecture_supported"]) == (None, False)


def test_a_users_list_replaces_the_collections():
    found = platform(facts("Debian", "14"), {"Debian": ["14"]})
    assert found["release_supported"] and found["supported_releases"] == {"Debian": ["14"]}


def test_no_facts_name_no_release():
    assert release_name({}) is None and release_name(None) is None
    assert platform({})["release"] is None
