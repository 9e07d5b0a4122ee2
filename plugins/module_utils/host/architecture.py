# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that maps architecture names between the kernel, Debian and OCI.

`uname -m` (and Ansible's `ansible_facts.architecture`) says x86_64/aarch64, dpkg and NVIDIA's repository folders
say amd64/arm64, image indexes say linux/amd64 and linux/arm64/v8. Every role asks here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class UnsupportedArchitecture(ValueError):
    """An architecture the collection cannot set up, with the reason and what to do."""


# canonical dpkg name -> facts about it
_ARCHITECTURES = {
    "amd64": {"kernel": "x86_64", "oci_arch": "amd64", "oci_variant": None},
    "arm64": {"kernel": "aarch64", "oci_arch": "arm64", "oci_variant": "v8"},
}
_ALIASES = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "x64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "arm64/v8": "arm64",
    "armv8": "arm64",
}
# Known, but not something NVIDIA's repository or this collection serves; say why.
_REFUSED = {
    "ppc64el": "NVIDIA stopped publishing ppc64el packages after toolkit 1.17.9",
    "ppc64le": "NVIDIA stopped publishing ppc64el packages after toolkit 1.17.9",
    "s390x": "NVIDIA publishes no container toolkit for s390x",
    "armhf": "NVIDIA publishes no container toolkit for 32-bit Arm",
    "armv7l": "NVIDIA publishes no container toolkit for 32-bit Arm",
    "i386": "NVIDIA publishes no container toolkit for 32-bit x86",
    "i686": "NVIDIA publishes no container toolkit for 32-bit x86",
}


def dpkg_arch(name):
    """Any spelling (x86_64, aarch64, linux/arm64/v8, arm64) -> the dpkg name (amd64, arm64)."""
    key = str(name).strip().lower()
    if key.startswith("linux/"):
        key = key[len("linux/") :]
    if key in _ALIASES:
        return _ALIASES[key]
    reason = _REFUSED.get(key, "it is not one of the supported architectures")
    raise UnsupportedArchitecture(
        "architecture %r is not supported: %s. Supported: amd64 (x86_64) and arm64 (aarch64)." % (name, reason)
    )


def kernel_arch(name):
    """-> the `uname -m` name (x86_64, aarch64)."""
    return _ARCHITECTURES[dpkg_arch(name)]["kernel"]


def oci_platform(name, with_variant=False):
    """-> `linux/amd64`, `linux/arm64` (or `linux/arm64/v8` with the variant)."""
    facts = _ARCHITECTURES[dpkg_arch(name)]
    platform = "linux/" + facts["oci_arch"]
    if with_variant and facts["oci_variant"]:
        platform += "/" + facts["oci_variant"]
    return platform


def is_supported(name):
    try:
        dpkg_arch(name)
    except UnsupportedArchitecture:
        return False
    return True


def platform_matches(platform, host_arch):
    """True when an image platform (`linux/arm64/v8`, `{'os': 'linux', 'architecture': 'arm64'}`) runs natively
    on a host of architecture `host_arch` (any spelling)."""
    if isinstance(platform, dict):
        if platform.get("os", "linux") != "linux":
            return False
        platform = platform.get("architecture", "")
    try:
        return dpkg_arch(platform) == dpkg_arch(host_arch)
    except UnsupportedArchitecture:
        return False
