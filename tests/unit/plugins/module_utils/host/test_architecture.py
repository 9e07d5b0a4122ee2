# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.host.architecture import (
    UnsupportedArchitecture,
    dpkg_arch,
    is_supported,
    kernel_arch,
    oci_platform,
    platform_matches,
)


@pytest.mark.parametrize(
    "spelling, expected",
    [
        ("x86_64", "amd64"),  # uname -m, ansible_facts.architecture
        ("amd64", "amd64"),  # dpkg --print-architecture
        ("linux/amd64", "amd64"),  # OCI platform
        ("aarch64", "arm64"),  # uname -m on Graviton and Grace Hopper
        ("arm64", "arm64"),
        ("linux/arm64/v8", "arm64"),  # what docker prints for arm64 hosts
        ("ARM64", "arm64"),
    ],
)
def test_every_spelling_maps_to_the_dpkg_name(spelling, expected):
    assert dpkg_arch(spelling) == expected


def test_the_other_directions():
    assert kernel_arch("arm64") == "aarch64"
    assert kernel_arch("linux/amd64") == "x86_64"
    assert oci_platform("aarch64") == "linux/arm64"
    assert oci_platform("aarch64", with_variant=True) == "linux/arm64/v8"
    assert oci_platform("x86_64", with_variant=True) == "linux/amd64"


@pytest.mark.parametrize("name, reason", [("ppc64el", "1.17.9"), ("s390x", "s390x"), ("armhf", "32-bit Arm")])
def test_unsupported_architectures_say_why_and_what_is_supported(name, reason):
    with pytest.raises(UnsupportedArchitecture) as raised:
        dpkg_arch(name)
    assert reason in str(raised.value)
    assert "Supported: amd64 (x86_64) and arm64 (aarch64)" in str(raised.value)
    assert not is_supported(name)


def test_image_platforms_match_hosts():
    assert platform_matches("linux/arm64/v8", "aarch64")
    assert platform_matches({"os": "linux", "architecture": "amd64"}, "x86_64")
    assert not platform_matches("linux/amd64", "aarch64")
    assert not platform_matches({"os": "windows", "architecture": "amd64"}, "x86_64")
    assert not platform_matches("linux/s390x", "x86_64")
