# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the roles read from a host before deciding anything, gathered in one module call.

Every remote task costs a round trip (about 0.2 s over SSH with pipelining, more on a busy controller); a role that
asks dpkg, systemd and the file system one question per task spends most of a no-op run on round trips. These
helpers build the few commands that answer all of them at once and parse what comes back. Plain Python, no Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import grp
import os
import pwd
import stat

# dpkg-query's db:Status-Abbrev: first letter the wanted selection, second the package's state.
SELECTIONS = {"u": "unknown", "i": "install", "h": "hold", "r": "deinstall", "p": "purge"}
# Installed (i), or installed and waiting for triggers (W, t): the package's files are all there.
INSTALLED_STATES = ("i", "W", "t")
DPKG_QUERY_FORMAT = "${Package}\t${db:Status-Abbrev}\t${Version}\t${Architecture}\n"
UNIT_PROPERTIES = ("LoadState", "ActiveState", "UnitFileState")
# Files read back whole; daemon.json, drop-ins and config.toml are a few KiB.
MAX_READ_BYTES = 1024 * 1024
MIB = 1024 * 1024


class ProbeError(Exception):
    """A probe that cannot answer; the message names the cause."""


def option_like_names(names):
    """The names a command would read as options (they start with "-"): refused before any command runs.

    "--" before the names guards dpkg-query and systemctl too; refusing such names as well gives the user an error
    that names them, instead of a package or unit reported as not found.
    """
    return [name for name in names if name.startswith("-")]


def dpkg_query_argv(packages):
    return ["dpkg-query", "--show", "--showformat=" + DPKG_QUERY_FORMAT, "--"] + list(packages)


def absent_package():
    return {"installed": False, "selection": None, "status": None, "version": None, "architecture": None}


def parse_dpkg_query(stdout, packages):
    """{name: {installed, selection, status, version, architecture}} for every name asked about.

    dpkg-query prints nothing for a name it never heard of (and exits 1): such a name is not installed. A name
    listed twice (one line per architecture of a multi-arch package) counts as installed when any line is.
    """
    found = dict((name, absent_package()) for name in packages)
    for line in stdout.splitlines():
        fields = line.split("\t")
        if len(fields) != 4 or fields[0] not in found:
            continue
        name, status, version, architecture = fields
        status = status.strip()
        installed = len(status) >= 2 and status[1] in INSTALLED_STATES
        if found[name]["installed"] and not installed:
            continue
        found[name] = {
            "installed": installed,
            "selection": SELECTIONS.get(status[:1], "unknown"),
            "status": status,
            # dpkg keeps the version of a removed package whose config files remain ("rc"): only an installed
            # package has a version that means something.
            "version": version if installed else None,
            "architecture": architecture or None,
        }
    return found


def systemctl_show_argv(units):
    return ["systemctl", "show", "--property=" + ",".join(UNIT_PROPERTIES), "--"] + list(units)


def _snake(name):
    return "".join("_" + char.lower() if char.isupper() and index else char.lower() for index, char in enumerate(name))


def parse_systemctl_show(stdout, units):
    """{unit: {load_state, active_state, unit_file_state}} from `systemctl show` of several units.

    systemctl prints one block per unit, in the order asked, separated by an empty line; a unit that does not exist
    still gets a block (LoadState=not-found).
    """
    blocks = stdout.strip("\n").split("\n\n") if stdout.strip() else []
    if len(blocks) != len(units):
        raise ProbeError(
            "systemctl show answered %d block(s) for %d unit(s): %r" % (len(blocks), len(units), stdout[:500])
        )
    result = {}
    for unit, block in zip(units, blocks):
        properties = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        result[unit] = dict((_snake(key), properties.get(key) or None) for key in UNIT_PROPERTIES)
    return result


def _name(lookup, ident):
    try:
        return lookup(ident)[0]
    except KeyError:
        return str(ident)


def path_info(path, read=False, max_bytes=MAX_READ_BYTES):
    """{exists, type, mode, owner, group, size[, content]} of one path, links followed; content is base64."""
    try:
        info = os.stat(path)
    except OSError:
        return {"exists": False}
    kind = "directory" if stat.S_ISDIR(info.st_mode) else "file" if stat.S_ISREG(info.st_mode) else "other"
    result = {
        "exists": True,
        "type": kind,
        "mode": "%04o" % stat.S_IMODE(info.st_mode),
        "owner": _name(pwd.getpwuid, info.st_uid),
        "group": _name(grp.getgrgid, info.st_gid),
        "size": info.st_size,
    }
    if read:
        if kind != "file":
            raise ProbeError("%s is a %s, not a file: it cannot be read" % (path, kind))
        if info.st_size > max_bytes:
            raise ProbeError("%s is %d bytes, more than the %d this probe reads" % (path, info.st_size, max_bytes))
        # The size is only a claim: /proc and /sys files report 0 and return what they like. One byte past the
        # limit tells a file that is too big from one exactly at it, without reading the rest.
        with open(path, "rb") as handle:
            content = handle.read(max_bytes + 1)
        if len(content) > max_bytes:
            raise ProbeError(
                "%s holds more than the %d bytes this probe reads (it reports a size of %d); read it another way"
                % (path, max_bytes, info.st_size)
            )
        result["content"] = base64.b64encode(content).decode("ascii")
    return result


def free_space(path):
    """Free and total MiB of the file system that holds `path`, or would hold it once created.

    A path that does not exist yet (Docker's data-root before Docker is installed) is measured at its nearest
    existing parent, which is where it will be created.
    """
    checked = os.path.abspath(path)
    while not os.path.exists(checked):
        parent = os.path.dirname(checked)
        if parent == checked:
            break
        checked = parent
    info = os.statvfs(checked)
    return {
        "path": path,
        "measured_at": checked,
        "free_mib": info.f_bavail * info.f_frsize // MIB,
        "total_mib": info.f_blocks * info.f_frsize // MIB,
    }
