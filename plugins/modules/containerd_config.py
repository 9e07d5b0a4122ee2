#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: containerd_config
short_description: Register NVIDIA's runtime with containerd's CRI plugin, as a drop-in that config.toml imports
version_added: 0.2.0
description:
  - Computes containerd's wanted configuration and writes it only where it differs. The C(nvidia) runtime (type
    C(io.containerd.runc.v2), O(runtime_binary) as C(BinaryName), the other options such as C(SystemdCgroup) copied
    from the existing C(runc) runtime) goes to a drop-in, by default C(/etc/containerd/conf.d/99-nvidia.toml), and
    config.toml gets C(imports) naming the drop-in folder.
  - The config schema follows the installed containerd (C(containerd --version)); version 2 for containerd 1.x, where
    the CRI plugin is C(io.containerd.grpc.v1.cri), and version 3 for 2.x, where the runtimes live under
    C(io.containerd.cri.v1.runtime).
  - containerd before 2.1 replaces a plugin's whole section with an imported file's, so the drop-in carries the whole
    CRI section. It is computed from C(containerd config dump) of config.toml and its other imports WITHOUT the
    drop-in, so later edits to config.toml reach the drop-in on the next run instead of being shadowed by it.
  - A config.toml without C(version) is read by containerd as schema 1. One without plugin sections (Docker's
    containerd.io ships such a file) gets a C(version) line; one with schema-1 plugin sections is refused, with the fix.
  - config.toml is edited as text, only where needed (C(imports), C(version), the CRI entry of C(disabled_plugins)),
    so comments and layout stay. A missing config.toml is created with only C(version) and C(imports).
  - A config.toml that disables the CRI plugin is reported (RV(cri_disabled)) and left alone, with a warning, unless
    O(enable_cri) is true; then that entry is removed.
  - Before anything is written, containerd itself reads the candidate (C(containerd --config <copy> config dump), the
    copy importing the candidate drop-in where the real one sorts). When it refuses it, or its dump lacks the
    runtime, default runtime or CDI asked for, the module fails with containerd's own words and writes nothing.
  - The module never restarts containerd; M(gpufleet.containers.engine_restart) does, and rolls back to
    RV(previous) when containerd does not come back.
author: gpufleet maintainers (@gpufleet)
requirements:
  - Python 3.11 or later on the host, or the python3-tomli package.
options:
  config_path:
    description: containerd's main configuration file.
    type: path
    default: /etc/containerd/config.toml
  dropin_dir:
    description: The folder of drop-ins config.toml imports (as C(<dropin_dir>/*.toml)).
    type: path
    default: /etc/containerd/conf.d
  dropin_name:
    description: The drop-in's file name. It sorts last by default, so it comes after other drop-ins.
    type: str
    default: 99-nvidia.toml
  nvidia_runtime:
    description: Register the C(nvidia) runtime with the CRI plugin.
    type: bool
    default: true
  runtime_binary:
    description: NVIDIA's runtime, the C(BinaryName) of the C(nvidia) runtime.
    type: path
    default: /usr/bin/nvidia-container-runtime
  default_runtime:
    description:
      - Make C(nvidia) the CRI plugin's default runtime (C(default_runtime_name)); pods then need no RuntimeClass.
    type: bool
    default: false
  cdi:
    description: Enable CDI in the CRI plugin (C(enable_cdi), C(cdi_spec_dirs)); containerd 1.7 and later.
    type: bool
    default: false
  cdi_spec_dirs:
    description: Where the CRI plugin looks for CDI specifications when O(cdi) is true; default containerd's own.
    type: list
    elements: path
  enable_cri:
    description: Remove the CRI plugin from config.toml's C(disabled_plugins) when it is there.
    type: bool
    default: false
  settings:
    description:
      - Your own containerd settings, as the TOML document would hold them, merged into the drop-in (like
        C(docker_daemon_options) for daemon.json). Top-level keys such as C(debug), C(grpc), C(oom_score), and
        plugin sections under C(plugins) keyed by the plugin's full name, such as C(io.containerd.grpc.v1.cri) (see
        the examples).
      - A plugin section is merged into that plugin's whole section as containerd dumps it (for the CRI plugin, into
        the section carrying the nvidia runtime), because containerd before 2.1 replaces a plugin's section with an
        imported file's. Top-level keys are written as given; containerd merges those with config.toml's field by
        field, but cannot set a value config.toml gives to zero, false or empty from an imported file.
      - Refused before anything is written when a setting contradicts the module's own options (the nvidia runtime's
        C(BinaryName) or C(runtime_type), C(default_runtime_name) against O(default_runtime), C(enable_cdi) or
        C(cdi_spec_dirs) against O(cdi), disabling the CRI plugin), names C(version) or C(imports), or does not show
        in containerd's dump of the candidate (a key containerd does not know, a zero value it ignores).
    type: dict
    default: {}
  containerd_bin:
    description: The containerd binary, for its version and its C(config dump).
    type: str
    default: containerd
attributes:
  check_mode:
    support: full
    description: Can run in check mode and return changed status prediction without modifying target.
    details: Everything is computed and checked by containerd as in a real run; nothing is written.
  diff_mode:
    support: full
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    details: One before/after pair per file (config.toml, the drop-in).
  platform:
    support: full
    platforms: posix
    description: Hosts with containerd 1.6 or later.
notes:
  - Commands run as argument lists with C(LC_ALL=C).
  - Files are written atomically; a new file is C(0644), owned by root; an existing one keeps its owner and mode.
seealso:
  - module: gpufleet.containers.engine_restart
"""

EXAMPLES = r"""
- name: Register the nvidia runtime with containerd's CRI plugin
  gpufleet.containers.containerd_config:
    nvidia_runtime: true
  register: containerd_config

- name: Restart containerd if its configuration changed; put both files back if it does not come back
  gpufleet.containers.engine_restart:
    engine: containerd
    watch: [/etc/containerd/config.toml, /etc/containerd/conf.d/99-nvidia.toml, /usr/bin/nvidia-container-runtime]
    restore: "{{ containerd_config.previous }}"

- name: The nvidia runtime and the user's own settings in one drop-in
  gpufleet.containers.containerd_config:
    settings:
      oom_score: -999
      debug:
        level: debug
      plugins:
        io.containerd.grpc.v1.cri:
          max_concurrent_downloads: 5
          containerd:
            snapshotter: native

- name: Docker's containerd.io with the CRI plugin switched on, nvidia as the default runtime, and CDI
  gpufleet.containers.containerd_config:
    enable_cri: true
    default_runtime: true
    cdi: true
"""

RETURN = r"""
changed_files:
  description: The files written (or, in check mode, to be written or removed).
  returned: always
  type: list
  elements: str
  sample: [/etc/containerd/config.toml, /etc/containerd/conf.d/99-nvidia.toml]
config_edits:
  description: What was changed in config.toml, in words.
  returned: success
  type: list
  elements: str
  sample: ["imports /etc/containerd/conf.d/*.toml"]
schema_version:
  description: The config schema written (2 for containerd 1.x, 3 for 2.x).
  returned: success
  type: int
  sample: 2
containerd_version:
  description: The installed containerd's version.
  returned: success
  type: str
  sample: 1.6.20
cri_disabled:
  description: Whether the configuration as found disables the CRI plugin.
  returned: success
  type: bool
runtimes:
  description: The CRI plugin's runtimes in containerd's dump of the new configuration.
  returned: success
  type: list
  elements: str
  sample: [nvidia, runc]
expect_plugins:
  description:
    - The plugins C(ctr plugins ls) must list as C(ok) once containerd runs this configuration, for
      O(gpufleet.containers.engine_restart#module:expect_plugins); empty when the CRI plugin stays disabled.
    - C(io.containerd.grpc.v1.cri) on containerd 1.x; on 2.x also every plugin of type C(io.containerd.cri.v1).
  returned: success
  type: list
  elements: str
  sample: [io.containerd.grpc.v1.cri]
previous:
  description:
    - Both files as they were before this task, for the O(gpufleet.containers.engine_restart#module:restore) option
      of M(gpufleet.containers.engine_restart).
    - Each item has C(path), C(exists), and when it existed C(content) (base64), C(mode), C(owner) and C(group).
  returned: success
  type: list
  elements: dict
dropin_path:
  description: The drop-in's path.
  returned: success
  type: str
  sample: /etc/containerd/conf.d/99-nvidia.toml
"""

import base64
import grp
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.containers.plugins.module_utils.containerd.config import ConfigError, TomlError, plan
from ansible_collections.gpufleet.containers.plugins.module_utils.files import replace_file


def file_state(path):
    """A file as engine_restart restores it."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return {"path": path, "exists": False}
    with open(path, "rb") as handle:
        content = handle.read()
    return {
        "path": path,
        "exists": True,
        "content": base64.b64encode(content).decode("ascii"),
        "mode": "%04o" % stat.S_IMODE(info.st_mode),
        "owner": pwd.getpwuid(info.st_uid).pw_name,
        "group": grp.getgrgid(info.st_gid).gr_name,
    }


def build_module():
    return AnsibleModule(
        argument_spec={
            "config_path": {"type": "path", "default": "/etc/containerd/config.toml"},
            "dropin_dir": {"type": "path", "default": "/etc/containerd/conf.d"},
            "dropin_name": {"type": "str", "default": "99-nvidia.toml"},
            "nvidia_runtime": {"type": "bool", "default": True},
            "runtime_binary": {"type": "path", "default": "/usr/bin/nvidia-container-runtime"},
            "default_runtime": {"type": "bool", "default": False},
            "cdi": {"type": "bool", "default": False},
            "cdi_spec_dirs": {"type": "list", "elements": "path"},
            "enable_cri": {"type": "bool", "default": False},
            "settings": {"type": "dict", "default": {}},
            "containerd_bin": {"type": "str", "default": "containerd"},
        },
        supports_check_mode=True,
    )


def main():
    module = build_module()
    params = module.params
    name = params["dropin_name"]
    if "/" in name or not name.endswith(".toml") or name.startswith("."):
        module.fail_json(msg="dropin_name %r must be a file name ending in .toml, e.g. 99-nvidia.toml." % name)
    if params["containerd_bin"].startswith("-"):
        module.fail_json(
            msg="containerd_bin %r starts with '-': give the binary, e.g. containerd." % params["containerd_bin"]
        )
    options = dict(params, dropin_path=os.path.join(params["dropin_dir"], name))

    def run(argv):
        return module.run_command(argv, environ_update={"LC_ALL": "C"})

    try:
        wanted = plan(run, options)
    except (ConfigError, TomlError) as exc:
        module.fail_json(
            msg=getattr(exc, "message", str(exc)),
            hint=getattr(exc, "hint", None) or "Nothing was written.",
            stderr=getattr(exc, "stderr", None) or "",
        )
    for warning in wanted["warnings"]:
        module.warn(warning)
    files = [wanted["config"], wanted["dropin"]]
    changed_files = [item["path"] for item in files if item["before"] != item["after"]]
    result = {
        "changed": bool(changed_files),
        "changed_files": changed_files,
        "config_edits": wanted["config"]["edits"],
        "schema_version": wanted["schema"],
        "containerd_version": wanted["version"],
        "cri_disabled": wanted["cri_disabled"],
        "runtimes": wanted["runtimes"],
        "expect_plugins": wanted["expect_plugins"],
        "previous": [file_state(item["path"]) for item in files],
        "dropin_path": wanted["dropin"]["path"],
    }
    if module._diff:
        result["diff"] = [
            {
                "before_header": item["path"] if item["before"] is not None else "%s (absent)" % item["path"],
                "after_header": item["path"] if item["after"] is not None else "%s (absent)" % item["path"],
                "before": item["before"] or "",
                "after": item["after"] or "",
            }
            for item in files
            if item["before"] != item["after"]
        ]
    if not module.check_mode:
        for item in files:
            if item["before"] == item["after"]:
                continue
            try:
                if item["after"] is None:
                    os.unlink(item["path"])
                else:
                    replace_file(item["path"], item["after"].encode("utf-8"), module.atomic_move)
            except OSError as exc:
                module.fail_json(
                    msg="cannot write %s: %s" % (item["path"], exc.strerror or exc),
                    hint="Run the task with become: true.",
                    **result,
                )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
