# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NVIDIA's libnvidia-container apt repository: the source entry, leftovers of older schemes, apt's answers.

Plain functions over text, no I/O: the module feeds them file contents and command output.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

DEFAULT_BASE_URL = "https://nvidia.github.io/libnvidia-container"
CHANNELS = ("stable", "experimental")
TOOLKIT_PACKAGES = (
    "nvidia-container-toolkit",
    "nvidia-container-toolkit-base",
    "libnvidia-container-tools",
    "libnvidia-container1",
)
LEGACY_PACKAGES = ("nvidia-docker2", "nvidia-container-runtime")

# Lists written by NVIDIA's older install instructions (nvidia-docker until 2021, per-distribution
# libnvidia-container lists until 2023); they name the same host with another or no signed-by.
LEGACY_LIST_NAMES = ("nvidia-docker.list", "libnvidia-container.list", "nvidia-container-runtime.list")
LEGACY_URL_MARKERS = (
    "nvidia.github.io/nvidia-docker",
    "nvidia.github.io/libnvidia-container",
    "nvidia.github.io/nvidia-container-runtime",
)

_ENTRY = re.compile(r"^\s*(deb|deb-src)\s+(?:\[(?P<options>[^\]]*)\]\s+)?(?P<uri>\S+)(?P<rest>.*)$")


def repository_uri(base_url, channel, architecture):
    """NVIDIA's flat layout: one folder per architecture holding InRelease, Packages and the .debs."""
    if channel not in CHANNELS:
        raise ValueError("channel must be one of %s, not %r" % (", ".join(CHANNELS), channel))
    return "%s/%s/deb/%s" % (base_url.rstrip("/"), channel, architecture)


def source_line(base_url, channel, architecture, keyring):
    # The host's architecture is written out (with arch=) instead of NVIDIA's literal $(ARCH): apt expands
    # $(ARCH) for every architecture dpkg knows, so a multiarch host (i386 added for Steam or Wine) would ask
    # for a stable/deb/i386/ folder that does not exist and `apt-get update` would fail for the whole host.
    return "deb [arch=%s signed-by=%s] %s /" % (architecture, keyring, repository_uri(base_url, channel, architecture))


def source_file_content(line):
    return (
        "# NVIDIA Container Toolkit, managed by gpufleet.containers.nvidia_container_toolkit: edits are replaced.\n"
        "%s\n" % line
    )


def source_entries(text):
    """[(uri, options string)] of active one-line entries in a sources.list-style file."""
    entries = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        match = _ENTRY.match(line)
        if match:
            entries.append((match.group("uri"), (match.group("options") or "").strip()))
    return entries


def leftover_reason(name, text, own_name, base_url):
    """Why a file under sources.list.d is a leftover of an older NVIDIA install, or None to keep it.

    A file is a leftover when NVIDIA's old instructions named it so, or when every entry in it points into
    NVIDIA's repositories (ours or the retired ones). Files that mix NVIDIA's and other entries are not touched.
    """
    if name == own_name or not name.endswith(".list"):
        return None
    markers = LEGACY_URL_MARKERS + (_strip_scheme(base_url),)
    entries = source_entries(text)
    nvidia = [uri for uri, _options in entries if any(marker in _strip_scheme(uri) for marker in markers)]
    if name in LEGACY_LIST_NAMES:
        return "legacy NVIDIA list name%s" % (" (%d entries)" % len(entries) if entries else ", no active entries")
    if nvidia and len(nvidia) == len(entries):
        return "points only into NVIDIA's repositories (%s)" % ", ".join(sorted(set(nvidia)))
    return None


def _strip_scheme(url):
    return re.sub(r"^[a-z+]+://", "", url.rstrip("/"))


def parse_madison(output, uri):
    """{package: [versions as apt lists them, newest first]} for lines that come from `uri`."""
    versions = {}
    wanted = _strip_scheme(uri)
    for line in output.splitlines():
        fields = [field.strip() for field in line.split("|")]
        if len(fields) != 3 or wanted not in _strip_scheme(fields[2].split()[0] if fields[2] else ""):
            continue
        package_versions = versions.setdefault(fields[0], [])
        if fields[1] not in package_versions:
            package_versions.append(fields[1])
    return versions


def missing_version(versions, packages, wanted):
    """None when every package has `wanted` (or, with no pin, any version); else the message to fail with."""
    absent = [package for package in packages if not versions.get(package)]
    if absent:
        return "the repository has no %s package%s at all" % (", ".join(absent), "s" if len(absent) > 1 else "")
    lacking = [package for package in packages if wanted and wanted not in versions[package]]
    if lacking:
        common = [version for version in versions[packages[0]] if all(version in versions[p] for p in packages)]
        return "version %s is not in the repository for %s; versions available for all of them: %s" % (
            wanted,
            ", ".join(lacking),
            ", ".join(common) or "(none)",
        )
    return None


# (cause, regular expression over apt-get update's output, hint). First match wins, most specific first:
# an HTML page also makes apt say the repository "is not signed", so that case comes before signatures.
_UPDATE_FAILURES = (
    (
        "not_a_repository",
        r"Clearsigned file isn't valid|NOSPLIT|does the network require authentication",
        "The server answered with something that is not an apt repository (an HTML page: a captive portal, a "
        "proxy's error page, or a wrong URL). Check nvidia_container_toolkit_repo_base_url and the proxy.",
    ),
    (
        "signature",
        r"NO_PUBKEY|BADSIG|EXPKEYSIG|signatures couldn't be verified|signatures were invalid|is not signed",
        "The repository's InRelease is not signed by the pinned key. Check nvidia_container_toolkit_repo_base_url "
        "(a mirror must keep NVIDIA's signature) and nvidia_container_toolkit_gpg_fingerprint.",
    ),
    (
        "not_found",
        r"\b404\b|does not have a Release file",
        "Nothing is published at this URL: check the base URL and channel, and whether NVIDIA publishes "
        "packages for this architecture.",
    ),
    (
        "unreachable",
        r"Could not resolve|Temporary failure resolving|Failed to connect|Connection refused|Connection timed out"
        r"|Could not connect|Unable to connect|No route to host|Network is unreachable|Received HTTP code 40[37] "
        r"from proxy|Certificate verification failed",
        "The repository could not be reached. Check DNS, firewall and nvidia_container_toolkit_proxy.",
    ),
)


def classify_update_failure(rc, output, uri):
    """(cause, message, hint) when apt-get update failed for `uri`, or None when it worked.

    apt-get update exits 0 on some fetch failures (they are only warnings, "W: Failed to fetch"), so the output
    is read whatever the exit code says.
    """
    relevant = _strip_scheme(uri)
    lines = [line for line in output.splitlines() if line.startswith(("E:", "W:", "Err:", "  ")) or "NO_PUBKEY" in line]
    failed = rc != 0 or any(
        line.startswith(("E:", "Err:")) or (line.startswith("W:") and relevant in _strip_scheme(line)) for line in lines
    )
    if not failed:
        return None
    text = "\n".join(lines) or output
    for cause, pattern, hint in _UPDATE_FAILURES:
        if re.search(pattern, text):
            detail = next((line.strip() for line in lines if re.search(pattern, line)), "")
            return cause, "apt could not use %s (%s): %s" % (uri, cause.replace("_", " "), detail), hint
    return "unknown", "apt-get update failed for %s (rc=%s)" % (uri, rc), "Read stdout/stderr for apt's own words."
