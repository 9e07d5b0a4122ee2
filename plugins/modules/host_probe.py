#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_probe
short_description: Read packages, systemd units, files and free space of a Debian/Ubuntu host in one call
version_added: 0.1.0
description:
  - Answers the questions a role asks before it decides anything, in one round trip instead of one task each
    (a task costs about 0.2 s over SSH even when it only reads).
  - The host's dpkg architecture (C(dpkg --print-architecture)).
  - The dpkg state of O(packages), asked with one C(dpkg-query) call.
  - The load, active and unit-file states of O(units), asked with one C(systemctl show) call.
  - Whether each of O(paths) exists, with its type, mode and owner, and the content of those in O(read).
  - Free space of the file system that holds O(free_space_path), or will hold it once it is created.
  - Reads only; it changes nothing on the host, so C(changed) is always false.
author: gpufleet maintainers (@gpufleet)
options:
  packages:
    description:
      - Package names to look up in dpkg's database. A name dpkg never heard of is reported not installed.
      - A name that starts with C(-) is refused, as dpkg-query would read it as an option.
    type: list
    elements: str
    default: []
  units:
    description:
      - systemd units to look up, for example V(docker.service). A unit that does not exist has the C(load_state)
        C(not-found) in RV(units).
      - A name that starts with C(-) is refused, as systemctl would read it as an option.
    type: list
    elements: str
    default: []
  paths:
    description: Paths to look at (links are followed).
    type: list
    elements: path
    default: []
  read:
    description:
      - Files whose content to return, base64-encoded, in RV(paths). They are looked at as O(paths) are, so they need
        not be listed twice. A missing file is reported with C(exists=false) in RV(paths), not as an error.
      - Meant for small configuration files; a file over 1 MiB fails the module. The limit counts the bytes read,
        not the size a file reports, so C(/proc) files (which report 0) are limited too.
    type: list
    elements: path
    default: []
  free_space_path:
    description: Measure the free space of the file system that holds this path (or its nearest existing parent).
    type: path
attributes:
  check_mode:
    support: full
    description: Can run in check mode and return changed status prediction without modifying target.
    details: It only reads, so it runs in check mode too and the result is the same.
  diff_mode:
    support: none
    description: Nothing on the host changes, so there is no diff to show.
  platform:
    support: full
    platforms: posix
    description: Debian and Ubuntu hosts (dpkg); systemd for O(units).
notes:
  - Commands run as argument lists with C(LC_ALL=C).
"""

EXAMPLES = r"""
- name: Read what the role decides on, in one round trip
  gpufleet.containers.host_probe:
    packages: [docker.io, docker-ce, containerd.io]
    units: [docker.service]
    read: [/etc/docker/daemon.json]
    free_space_path: /var/lib/docker
  register: probe

- name: Install Docker only when it is missing
  ansible.builtin.apt:
    name: docker.io
  when: not probe.packages['docker.io'].installed
"""

RETURN = r"""
dpkg_architecture:
  description: The host's dpkg architecture, or null when dpkg is missing.
  returned: always
  type: str
  sample: arm64
packages:
  description: One entry per name in O(packages).
  returned: always
  type: dict
  sample:
    docker.io: {installed: true, selection: install, status: "ii", version: "20.10.24+dfsg1-1+deb12u1+b6",
                architecture: amd64}
    docker-ce: {installed: false, selection: null, status: null, version: null, architecture: null}
  contains:
    installed:
      description: All the package's files are in place (dpkg state installed, or installed awaiting triggers).
      type: bool
    selection:
      description: What dpkg is told to do with it, V(install), V(hold), V(deinstall), V(purge) or V(unknown);
        null when dpkg has no record of it.
      type: str
    status:
      description: dpkg's two- or three-letter status (C(db:Status-Abbrev)), for example C(ii), C(hi), C(rc).
      type: str
    version:
      description: Installed version; null when not installed.
      type: str
units:
  description: One entry per unit in O(units).
  returned: always
  type: dict
  sample: {docker.service: {load_state: loaded, active_state: active, unit_file_state: enabled}}
paths:
  description: One entry per path in O(paths) and O(read).
  returned: always
  type: dict
  sample:
    /etc/docker/daemon.json: {exists: true, type: file, mode: "0644", owner: root, group: root, size: 18,
                              content: "eyJicmlkZ2UiOiAibm9uZSJ9Cg=="}
    /snap/bin/docker: {exists: false}
free_space:
  description: Free and total MiB of the file system holding O(free_space_path), and where it was measured.
  returned: when O(free_space_path) is set
  type: dict
  sample: {path: /var/lib/docker, measured_at: /var/lib, free_mib: 51234, total_mib: 100410}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.containers.plugins.module_utils.host.probe import (
    ProbeError,
    absent_package,
    dpkg_query_argv,
    free_space,
    option_like_names,
    parse_dpkg_query,
    parse_systemctl_show,
    path_info,
    systemctl_show_argv,
)

ARGUMENT_SPEC = dict(
    packages=dict(type="list", elements="str", default=[]),
    units=dict(type="list", elements="str", default=[]),
    paths=dict(type="list", elements="path", default=[]),
    read=dict(type="list", elements="path", default=[]),
    free_space_path=dict(type="path"),
)
C_LOCALE = {"LC_ALL": "C", "LANG": "C"}


def probe_dpkg(module, packages):
    if not module.get_bin_path("dpkg-query"):
        return None, dict((name, absent_package()) for name in packages)
    rc, stdout, _stderr = module.run_command(["dpkg", "--print-architecture"], environ_update=C_LOCALE)
    architecture = stdout.strip() if rc == 0 else None
    if not packages:
        return architecture, {}
    argv = dpkg_query_argv(packages)
    rc, stdout, stderr = module.run_command(argv, environ_update=C_LOCALE)
    # 1 means "some names unknown", which is an answer; anything else is dpkg failing (a locked or broken database).
    if rc not in (0, 1):
        module.fail_json(
            msg="dpkg-query failed (rc %d): %s. Repair dpkg first (dpkg --configure -a)." % (rc, stderr.strip()),
            cmd=argv,
            rc=rc,
            stdout=stdout,
            stderr=stderr,
        )
    return architecture, parse_dpkg_query(stdout, packages)


def probe_units(module, units):
    if not units:
        return {}
    if not module.get_bin_path("systemctl"):
        module.fail_json(msg="systemctl not found: the units %s need systemd on the host" % ", ".join(units))
    argv = systemctl_show_argv(units)
    rc, stdout, stderr = module.run_command(argv, environ_update=C_LOCALE)
    if rc != 0:
        module.fail_json(
            msg="systemctl show failed (rc %d): %s" % (rc, stderr.strip() or stdout.strip()),
            cmd=argv,
            rc=rc,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        return parse_systemctl_show(stdout, units)
    except ProbeError as error:
        module.fail_json(msg=str(error), cmd=argv, rc=rc, stdout=stdout, stderr=stderr)


def refuse_option_like_names(module):
    refused = [
        "%s %s" % (kind, name) for kind in ("packages", "units") for name in option_like_names(module.params[kind])
    ]
    if refused:
        module.fail_json(
            msg="names that start with '-' would be read as options by dpkg-query or systemctl, not looked up: %s. "
            "Correct or remove them." % ", ".join(refused)
        )


def run_module(module):
    refuse_option_like_names(module)
    params = module.params
    architecture, packages = probe_dpkg(module, params["packages"])
    result = dict(changed=False, dpkg_architecture=architecture, packages=packages)
    result["units"] = probe_units(module, params["units"])
    paths = {}
    try:
        for path in params["paths"]:
            paths[path] = path_info(path)
        for path in params["read"]:
            paths[path] = path_info(path, read=True)
    except (ProbeError, OSError) as error:
        module.fail_json(msg="Cannot read %s: %s" % (path, error), **result)
    result["paths"] = paths
    if params["free_space_path"]:
        result["free_space"] = free_space(params["free_space_path"])
    module.exit_json(**result)


def main():
    run_module(AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True))


if __name__ == "__main__":
    main()
