# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NVIDIA's libnvidia-container apt repository: the source entry, leftovers of older schemes, apt's answers.

Plain functions over text, no I/O: the module feeds them file contents and command output.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
from urllib.parse import unquote, urlsplit

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
# Everything below these folders of NVIDIA's host is NVIDIA's, whatever the layout of the year.
LEGACY_REPOSITORIES = (
    "https://nvidia.github.io/nvidia-docker",
    "https://nvidia.github.io/libnvidia-container",
    "https://nvidia.github.io/nvidia-container-runtime",
)
_DEFAULT_PORTS = {"http": 80, "https": 443}

_ENTRY = re.compile(r"^\s*(deb|deb-src)\s+(?:\[(?P<options>[^\]]*)\]\s+)?(?P<uri>\S+)(?P<rest>.*)$")

# Values written into the source entry or handed to apt and apt-cache. Each pattern is strict enough that the value
# cannot end the entry's [options], start another option or line, or be read as a command-line option.
_ARCHITECTURE = re.compile(r"^[a-z0-9][a-z0-9-]*\Z")
_SAFE_PATH = re.compile(r"^(/[A-Za-z0-9._+-]+)+\Z")
_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]+\Z")
# RFC 3986 characters less '#' (apt reads the rest of the line as a comment) and quotes; '[' ']' for IPv6 hosts.
_URL_CHARS = re.compile(r"^[A-Za-z0-9._~:/?\[\]@!$&()*+,;=%-]+\Z")


def check_architecture(architecture):
    if not _ARCHITECTURE.match(architecture or ""):
        raise ValueError(
            "architecture %r is not a dpkg architecture name: give what `dpkg --print-architecture` prints "
            "(lower-case letters, digits and '-', e.g. amd64 or arm64)" % (architecture,)
        )
    return architecture


def check_apt_path(option, path):
    """`path` itself when it is absolute, normalised and plain; apt reads it inside a source entry or its options."""
    if not _SAFE_PATH.match(path or "") or os.path.normpath(path) != path or "/../" in path + "/":
        raise ValueError(
            "%s %r must be an absolute, normalised path (no '.', '..', '//' or trailing '/') made of letters, digits "
            "and . _ + - only: no spaces, quotes or brackets, which would change the apt source entry" % (option, path)
        )
    return path


def check_base_url(url):
    parts = urlsplit(url or "")
    scheme = parts.scheme.lower()
    if (
        not _URL_CHARS.match(url or "")
        or scheme not in ("http", "https", "file")
        or (scheme == "file" and (parts.netloc or not parts.path.startswith("/")))
        or (scheme != "file" and not parts.hostname)
    ):
        raise ValueError(
            "base_url %r is not a repository URL apt can take in a source entry: use http://host/path, "
            "https://host/path or file:///path, with no spaces, quotes or '#' (percent-encode them)" % (url,)
        )
    return url


def check_package_names(names):
    bad = [name for name in names if not _PACKAGE.match(name or "")]
    if bad:
        raise ValueError(
            "not Debian package names: %s (a package name is two or more lower-case letters, digits and + - . "
            "starting with a letter or digit; a leading '-' would be read as an option)"
            % ", ".join(repr(name) for name in bad)
        )
    return names


def key_location(url):
    """('file', local path) or ('http', url) for a key URL; ValueError for anything the module cannot fetch."""
    parts = urlsplit(url or "")
    scheme = parts.scheme.lower()
    if scheme in ("http", "https") and parts.hostname:
        return "http", url
    if scheme == "file":
        path = unquote(parts.path)
        if parts.netloc not in ("", "localhost"):
            raise ValueError(
                "key_url %s names the host %r: a file:// key URL can only read a file on the managed host itself "
                "(file:///path). Serve the key over HTTPS, or give it with key_content" % (url, parts.netloc)
            )
        if path.startswith("/"):
            return "file", path
    raise ValueError(
        "key_url %s is not an http://, https:// or file:///path URL: give the URL of the armored key, or the key "
        "itself with key_content" % (url,)
    )


def repository_uri(base_url, channel, architecture):
    """NVIDIA's flat layout: one folder per architecture holding InRelease, Packages and the .debs."""
    if channel not in CHANNELS:
        raise ValueError("channel must be one of %s, not %r" % (", ".join(CHANNELS), channel))
    check_base_url(base_url)
    check_architecture(architecture)
    return "%s/%s/deb/%s" % (base_url.rstrip("/"), channel, architecture)


def source_line(base_url, channel, architecture, keyring):
    check_apt_path("keyring", keyring)
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
    # Only NVIDIA's channel folders under base_url: a mirror host also serves Debian, Ubuntu and the like.
    roots = LEGACY_REPOSITORIES + tuple("%s/%s" % (base_url.rstrip("/"), channel) for channel in CHANNELS)
    entries = source_entries(text)
    nvidia = [uri for uri, _options in entries if any(points_into(uri, root) for root in roots)]
    if name in LEGACY_LIST_NAMES:
        return "legacy NVIDIA list name%s" % (" (%d entries)" % len(entries) if entries else ", no active entries")
    if nvidia and len(nvidia) == len(entries):
        return "points only into NVIDIA's repositories (%s)" % ", ".join(sorted(set(nvidia)))
    return None


def points_into(uri, root):
    """True when `uri` is `root` or below it: the same host (any case) and port, and root's path as whole segments.

    http and https count as one server (NVIDIA's old lists used either); an explicit default port is no port.
    """
    uri_location, root_location = _location(uri), _location(root)
    if uri_location is None or root_location is None or uri_location[:2] != root_location[:2]:
        return False
    root_segments = root_location[2]
    return uri_location[2][: len(root_segments)] == root_segments


def _location(url):
    parts = urlsplit(url)
    scheme = parts.scheme.lower().split("+")[-1]  # mirror+http://, tor+https://
    try:
        port = parts.port
    except ValueError:
        return None
    if port == _DEFAULT_PORTS.get(scheme):
        port = None
    return (parts.hostname or "").lower(), port, [segment for segment in parts.path.split("/") if segment]


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
