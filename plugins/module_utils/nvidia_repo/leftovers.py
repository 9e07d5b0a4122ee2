# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Leftovers of older NVIDIA installs under /etc/apt: found by a read-only plan, removed with a backup.

- lists such as nvidia-docker.list name NVIDIA's host with another or no signed-by, and apt then refuses every
  update ("Conflicting values set for option Signed-By");
- NVIDIA's key added with `apt-key add` sits in /etc/apt/trusted.gpg or trusted.gpg.d, where apt trusts it for
  every repository, not just NVIDIA's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import time

from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_repo.keyring import (
    KeyringError,
    to_binary,
    without_keys,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.nvidia_repo.repository import leftover_reason


class Leftover(object):
    """One change to make: remove `path`, or rewrite it as `new_content` (a keyring losing one key)."""

    def __init__(self, path, reason, new_content=None):
        self.path, self.reason, self.new_content = path, reason, new_content

    @property
    def action(self):
        return "removed" if self.new_content is None else "rewritten"

    def as_dict(self, backup=None):
        return {"path": self.path, "action": self.action, "reason": self.reason, "backup": backup}


def plan(etc_apt, own_source, base_url, fingerprint):
    """(leftovers to act on, warnings about things left alone); reads files, changes nothing."""
    leftovers, warnings = [], []
    parts = os.path.join(etc_apt, "sources.list.d")
    for name in _listdir(parts):
        path = os.path.join(parts, name)
        if os.path.isfile(path) and path != own_source:
            reason = leftover_reason(
                name, _read(path).decode("utf-8", "replace"), os.path.basename(own_source), base_url
            )
            if reason:
                leftovers.append(Leftover(path, reason))
    keyrings = [os.path.join(etc_apt, "trusted.gpg")]
    keyrings += [
        os.path.join(etc_apt, "trusted.gpg.d", name) for name in _listdir(os.path.join(etc_apt, "trusted.gpg.d"))
    ]
    for path in keyrings:
        if os.path.isfile(path) and path.endswith((".gpg", ".asc")):
            _plan_keyring(path, fingerprint, leftovers, warnings)
    return leftovers, warnings


def _plan_keyring(path, fingerprint, leftovers, warnings):
    try:
        data = to_binary(_read(path))
        kept, removed = without_keys(data, [fingerprint])
    except KeyringError as exc:
        warnings.append("%s was not inspected: %s" % (path, exc))
        return
    if not removed:
        return
    reason = "holds key %s, which apt would trust for every repository" % fingerprint
    if not kept:
        leftovers.append(Leftover(path, reason))
    elif path.endswith(".asc"):
        warnings.append("%s holds key %s among other keys; armored keyrings are not rewritten" % (path, fingerprint))
    else:
        leftovers.append(Leftover(path, reason, kept))


def apply(leftovers, backup_dir, stamp=None):
    """Back each file up into `backup_dir`, then remove or rewrite it; returns the result dicts."""
    stamp = stamp or time.strftime("%Y%m%dT%H%M%S")
    results = []
    if leftovers and not os.path.isdir(backup_dir):
        os.makedirs(backup_dir, 0o700)
    for leftover in leftovers:
        backup = os.path.join(backup_dir, "%s.%s" % (leftover.path.strip("/").replace("/", "_"), stamp))
        shutil.copy2(leftover.path, backup)
        if leftover.new_content is None:
            os.remove(leftover.path)
        else:
            temporary = leftover.path + ".gpufleet-tmp"
            with open(temporary, "wb") as handle:
                handle.write(leftover.new_content)
            shutil.copymode(leftover.path, temporary)
            os.rename(temporary, leftover.path)
        results.append(leftover.as_dict(backup))
    return results


def describe(result, planned=False):
    verb = ("would be " + result["action"]) if planned else result["action"]
    line = "%s %s (%s)" % (verb.capitalize(), result["path"], result["reason"])
    if result.get("backup"):
        line += "; backup at %s" % result["backup"]
    return line


def _listdir(path):
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()
