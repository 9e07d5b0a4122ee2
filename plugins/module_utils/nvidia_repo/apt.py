# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""apt-get and apt-cache runs that touch one repository only.

Two kinds of run, both restricted to a single source (Dir::Etc::sourceparts=- hides every other list):
- a probe into a private state directory: the candidate keyring and source are tried before anything is
  written to the host, so a broken repository never reaches /etc/apt, and check mode can ask the repository
  which versions it has;
- the host update of our source alone, which keeps the other sources' lists untouched (List-Cleanup=0).

A proxy reaches apt only through a private configuration file (see private_config): on apt's command line its
password would show in the process list and in the module's results.

`run` is any callable taking an argument list and returning (rc, stdout, stderr), so tests can record calls.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import os
import re
import shutil
import tempfile

from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_repo.repository import (
    classify_update_failure,
    parse_madison,
)

HOST_LISTS_DIR = "/var/lib/apt/lists"
_NOT_INDEXES = ("lock", "partial", "auxfiles")
# Inside a quoted apt.conf value, '"' ends it and ';', '{', '}' or a newline would start new settings.
_PROXY = re.compile(r"^(https?|socks5h)://[^\s\"';{}\\]+\Z")


def check_proxy(proxy):
    if not _PROXY.match(proxy):
        # The value is never repeated: it may hold a password.
        raise ValueError(
            "proxy is not a URL apt can take: use http://[user:password@]host:port (or https://, socks5h://), "
            "with no spaces, quotes, backslashes, braces or semicolons; percent-encode them in the password"
        )
    return proxy


@contextlib.contextmanager
def private_config(proxy):
    """Path of an apt configuration file that sets the proxy, or None without one.

    The file is mode 0600 in a folder of its own (0700) and removed on leaving the block. apt reads it as root
    before handing the settings to its download methods, so `_apt` needs no access to it.
    """
    if not proxy:
        yield None
        return
    check_proxy(proxy)
    folder = tempfile.mkdtemp(prefix="gpufleet-apt-conf-")
    try:
        path = os.path.join(folder, "proxy.conf")
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "w") as stream:
            stream.write('Acquire::http::Proxy "%s";\nAcquire::https::Proxy "%s";\n' % (proxy, proxy))
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def apt_options(sourcelist, lists_dir=None, config_file=None):
    options = [
        "-o",
        "Dir::Etc::sourcelist=%s" % sourcelist,
        "-o",
        "Dir::Etc::sourceparts=-",
        "-o",
        "APT::Get::List-Cleanup=0",
    ]
    if lists_dir:
        # The binary caches would otherwise be rebuilt in /var/cache/apt from this one source.
        options += [
            "-o",
            "Dir::State::Lists=%s" % lists_dir,
            "-o",
            "Dir::Cache::pkgcache=",
            "-o",
            "Dir::Cache::srcpkgcache=",
        ]
    if config_file:
        # -c is read after /etc/apt/apt.conf.d, so its proxy wins over a host-wide one, as on the command line.
        options += ["-c", config_file]
    return options


def update_argv(options):
    return ["apt-get", "-q", "update"] + options


def madison_argv(options, packages):
    return ["apt-cache"] + options + ["madison", "--"] + list(packages)


class RepositoryError(Exception):
    def __init__(self, cause, message, hint, rc=None, stdout="", stderr=""):
        super(RepositoryError, self).__init__(message)
        self.cause, self.message, self.hint = cause, message, hint
        self.rc, self.stdout, self.stderr = rc, stdout, stderr


def update(run, options, uri):
    """Run apt-get update; RepositoryError naming the cause when apt could not use the repository."""
    rc, stdout, stderr = run(update_argv(options))
    failure = classify_update_failure(rc, stdout + "\n" + stderr, uri)
    if failure:
        raise RepositoryError(failure[0], failure[1], failure[2], rc, stdout, stderr)


def versions(run, options, uri, packages):
    rc, stdout, stderr = run(madison_argv(options, packages))
    # madison exits non-zero only on a broken configuration; unknown package names just print nothing.
    if rc != 0:
        raise RepositoryError("apt_cache", "apt-cache madison failed (rc=%s)" % rc, "Read stderr.", rc, stdout, stderr)
    return parse_madison(stdout, uri)


def probe(run, workdir, keyring, line_for, uri, packages, proxy=None):
    """Try the repository from `workdir` with the candidate keyring; returns {package: [versions]}.

    `line_for(keyring_path)` renders the source entry for a keyring path. Files are made world-readable
    because apt downloads and checks signatures as its unprivileged `_apt` user.
    """
    os.chmod(workdir, 0o755)
    keyring_path = os.path.join(workdir, "keyring.gpg")
    sourcelist = os.path.join(workdir, "sources.list")
    lists_dir = os.path.join(workdir, "lists")
    os.makedirs(os.path.join(lists_dir, "partial"), 0o755)
    _write(keyring_path, keyring)
    _write(sourcelist, (line_for(keyring_path) + "\n").encode("utf-8"))
    with private_config(proxy) as config_file:
        options = apt_options(sourcelist, lists_dir, config_file)
        update(run, options, uri)
        found = versions(run, options, uri, packages)
    return found, index_files(lists_dir)


def update_host(run, source_file, uri, proxy=None):
    """Refresh the host's lists for `source_file` alone."""
    with private_config(proxy) as config_file:
        update(run, apt_options(source_file, config_file=config_file), uri)


def index_files(lists_dir):
    return sorted(name for name in os.listdir(lists_dir) if name not in _NOT_INDEXES)


def host_cache_current(probe_lists_dir, names, host_lists_dir=HOST_LISTS_DIR):
    """True when the host already holds the very index files the probe just downloaded."""
    if not names:
        return False
    for name in names:
        host_file = os.path.join(host_lists_dir, name)
        if not os.path.isfile(host_file):
            return False
        if _read(host_file) != _read(os.path.join(probe_lists_dir, name)):
            return False
    return True


def _write(path, data):
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o644)


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()
