#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: docker_daemon_config
short_description: Merge settings into Docker's daemon.json without losing the keys already there
version_added: 0.1.0
description:
  - Reads C(daemon.json), merges the requested O(settings) into it (objects key by key at any depth, lists and
    other values replaced, keys not named kept as they are), removes the key paths listed in O(remove), and writes
    the result only when the parsed content differs. Key order and whitespace are not differences.
  - A missing or empty file counts as C({}). An existing empty file is still rewritten (as C({}) at least), because
    dockerd 20.10 refuses to start with it. A file that is not one JSON object (a syntax error, an array) makes the
    module fail with the line and column of the fault; the file is left untouched.
  - Before writing, refuses content that dockerd is known to refuse at start-up, so a restart cannot fail on it.
    Checked are keys also given as dockerd flags in the systemd unit (for example C(hosts) while the unit passes
    C(-H fd://), C(containerd) while it passes C(--containerd)), values of the wrong JSON type for well-known keys
    (C(debug) as a string, C(hosts) as a string, a number inside C(log-opts)), an unknown C(log-level), a
    C(default-runtime) that is not
    defined under C(runtimes), a runtime named C(runc) (reserved by dockerd), and
    C(graph) together with C(data-root). Unknown keys (which differ between Docker releases) and bad values of
    other keys are not checked here; C(dockerd --validate) catches them where it exists.
  - Where the installed dockerd has C(--validate) (Docker 23.0 and later), the candidate content is also checked with
    C(dockerd --validate --config-file) before it is written. Older daemons (Debian 12 ships 20.10) have no such flag;
    the module then reports the validation as skipped.
  - The file is written atomically (a temporary file in the same directory, synced to disk, then renamed) and keeps
    its owner and mode; a new file is created C(0644), owned by root. No temporary file stays behind when a write
    fails.
  - When O(path) is a symbolic link, the file it points to is read and rewritten and the link stays as it is (as
    config management that links daemon.json from elsewhere expects). A link whose target folder does not exist is
    an error.
  - Settings that dockerd could not read back as given are refused, in check mode as in a real run, naming the key
    path. These are numbers that are not finite (a YAML C(.inf) or C(.nan)), strings holding a lone surrogate such as
    C(\ud800), and values nested more than 100 levels deep. A file nested that deep, or holding a number out of
    the range of a 64-bit float (C(1e999)), is refused too and left untouched. A lone surrogate escape already in
    the file is written back as the same escape.
  - The module never restarts Docker. M(gpufleet.containers.engine_restart) does, when the file changed after dockerd
    started; dockerd reads C(runtimes) and C(default-runtime) on a reload, most other settings only on a restart.
author:
  - gpufleet maintainers (@gpufleet)
options:
  path:
    description: Path of the daemon configuration file.
    type: path
    default: /etc/docker/daemon.json
  settings:
    description:
      - Settings to merge into the file, as daemon.json keys.
      - Nested objects merge key by key; a list or any other value replaces the value in the file.
      - Values keep their YAML types. dockerd wants strings inside C(log-opts), so quote numbers there.
    type: dict
    default: {}
  remove:
    description:
      - Key paths to delete, each a list of keys from the top, for example C([runtimes, nvidia]) or
        C([default-runtime]). A plain string names a top-level key. Absent keys are ignored.
      - Removals apply before the merge. A path that is also set in O(settings) is an error.
    type: list
    elements: raw
    default: []
  backup:
    description: Keep a timestamped copy of the previous file next to it when the module changes it.
    type: bool
    default: false
  validate:
    description:
      - Check the candidate content with C(dockerd --validate --config-file) before writing, where dockerd supports it.
      - The checks of known conflicts (see the description) run regardless.
    type: bool
    default: true
  dockerd_path:
    description: The dockerd binary used for validation, a name looked up on PATH or an absolute path.
    type: str
    default: dockerd
  service:
    description:
      - The systemd unit whose C(ExecStart) flags are checked against the file.
      - Ignored when O(dockerd_flags) is given. A unit that does not exist yet means no flags.
    type: str
    default: docker.service
  dockerd_flags:
    description:
      - The flags dockerd is started with, to check instead of reading the systemd unit, for example
        C([-H, fd://, --containerd=/run/containerd/containerd.sock]).
    type: list
    elements: str
  nvidia_runtime:
    description:
      - The NVIDIA Container Toolkit's part of the file, folded into O(settings) so that the file is written once
        with one diff. Omit it when the toolkit is not installed.
      - Registers the C(nvidia) runtime (C(nvidia-container-runtime)), as C(nvidia-ctk runtime configure) does.
      - When C(default) or C(cdi) is false, a C(default-runtime) of C(nvidia) or a C(features.cdi) of true found in
        the file is removed again, unless O(settings) sets that key itself. A key that O(settings) sets to another
        value than the one asked for here is an error naming both.
    type: dict
    suboptions:
      default:
        description: Make C(nvidia) the C(default-runtime).
        type: bool
        default: false
      cdi:
        description: Set C(features.cdi) to true (Docker 25 and later read CDI specifications then).
        type: bool
        default: false
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Nothing is written; the result (changed, before, after, diff) is the one a real run would give.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Before and after are the file's text.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - Flags that the unit takes from environment variables (Debian's C($DOCKER_OPTS)) are not expanded; the module warns
    and does not check them. Give them through O(dockerd_flags) to have them checked.
  - Duplicate keys in the file are reported as a warning; the rewritten file keeps the last value, as dockerd does.
seealso:
  - name: dockerd configuration file reference
    description: Every daemon.json key.
    link: https://docs.docker.com/reference/cli/dockerd/#daemon-configuration-file
"""

EXAMPLES = r"""
- name: The user's settings and the NVIDIA runtime as the default, in one write that keeps every other key
  gpufleet.containers.docker_daemon_config:
    settings:
      log-driver: local
    nvidia_runtime:
      default: true
  register: merged

- name: Rotate container logs (log-opts values are strings for dockerd)
  gpufleet.containers.docker_daemon_config:
    settings:
      log-driver: json-file
      log-opts:
        max-size: 10m
        max-file: "3"
    backup: true

- name: Stop making nvidia the default runtime
  gpufleet.containers.docker_daemon_config:
    remove:
      - [default-runtime]
      - [features, cdi]
"""

RETURN = r"""
before:
  description: The file's content before the change, parsed; C({}) for a missing or empty file.
  returned: success
  type: dict
  sample: {"log-driver": "json-file"}
after:
  description: The content after the change (in check mode, the content a real run would write), parsed.
  returned: success
  type: dict
  sample: {"log-driver": "json-file", "runtimes": {"nvidia": {"path": "nvidia-container-runtime", "args": []}}}
backup_file:
  description: The copy of the previous file, when O(backup=true) and the file changed.
  returned: changed and backup requested
  type: str
  sample: /etc/docker/daemon.json.12345.2026-01-01@10:00:00~
validation:
  description: What C(dockerd --validate) said, or why it did not run.
  returned: success
  type: str
  sample: "skipped: dockerd 20.10.24+dfsg1 has no --validate"
dockerd_flags:
  description: The dockerd flags the content was checked against.
  returned: success
  type: list
  elements: str
  sample: ["/usr/sbin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock"]
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.gpufleet.containers.plugins.module_utils.docker.daemon_checks import (
    config_problems,
    flags_in_command,
    has_validate_flag,
    parse_dockerd_version,
    parse_exec_start,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.docker.daemon_json import (
    DaemonJsonError,
    DaemonJsonInputError,
    plan_update,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.files import replace_file

C_LOCALE = {"LC_ALL": "C", "LANG": "C"}


BECOME_HINT = "run the task as root (become: true)"


def os_error_text(exc):
    """The system's words, with the fix where the fix is known: a refusal to this user means become."""
    if isinstance(exc, PermissionError):
        return "%s; %s" % (exc.strerror, BECOME_HINT)
    return exc.strerror or str(exc)


def resolve_link(module, path):
    """The file to read and write: path itself, or the file a symbolic link at path points to.

    A link is written through, never replaced: daemon.json linked from a config-management checkout or a shared
    folder is meant to stay a link, and replacing it with a regular file would leave the real file stale.
    """
    if not os.path.islink(path):
        return path
    target = os.path.realpath(path)
    if not os.path.isdir(os.path.dirname(target)):
        module.fail_json(
            msg="%s is a symbolic link to %s, whose folder %s does not exist; create it or point the link at an "
            "existing file (the link was left untouched)" % (path, target, os.path.dirname(target))
        )
    return target


def file_exists(module, path):
    try:
        os.stat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        # A folder on the way that cannot be searched: "missing" would be a guess, and a wrong one.
        module.fail_json(msg="cannot look at %s: %s" % (path, os_error_text(exc)))
    return True


def read_current_text(module, path, exists):
    if os.path.isdir(path):
        module.fail_json(msg="%s is a directory, not a daemon.json file" % path)
    if not exists:
        return ""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        module.fail_json(msg="cannot read %s: %s" % (path, os_error_text(exc)))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        module.fail_json(
            msg="%s is not UTF-8 text (byte %d); dockerd cannot read it either" % (path, exc.start),
            hint="Convert the file to UTF-8 or fix it by hand; it was left untouched.",
        )


def nearest_existing_folder(path):
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    return folder


def check_writable(module, path):
    """Fail, in check mode as in a real run, when the file's folder (or the one it would be made in) refuses writes.

    The real write needs a new file in that folder (the temporary file that is renamed over daemon.json).
    """
    folder = nearest_existing_folder(path)
    if not os.access(folder, os.W_OK | os.X_OK):
        module.fail_json(
            msg="cannot write %s: the folder %s does not allow this user to create files in it; %s"
            % (path, folder, BECOME_HINT),
            hint="The file was left untouched.",
        )


def dockerd_start_flags(module):
    if module.params["dockerd_flags"] is not None:
        return list(module.params["dockerd_flags"])
    systemctl = module.get_bin_path("systemctl")
    if systemctl is None:
        return []
    rc, out, err = module.run_command(
        [systemctl, "show", "-p", "ExecStart", "--value", module.params["service"]], environ_update=C_LOCALE
    )
    if rc != 0:
        module.warn("Could not read the flags of %s (%s); they were not checked" % (module.params["service"], err))
        return []
    return parse_exec_start(out)


def find_dockerd(module):
    name = module.params["dockerd_path"]
    if os.path.isabs(name):
        return name if os.access(name, os.X_OK) else None
    return module.get_bin_path(name)


def validate_with_dockerd(module, new_text):
    """dockerd's own verdict on the candidate, or the reason there is none."""
    if not module.params["validate"]:
        return "skipped: validate=false"
    dockerd = find_dockerd(module)
    if dockerd is None:
        return "skipped: %s not found" % module.params["dockerd_path"]
    rc, out, err = module.run_command([dockerd, "--version"], environ_update=C_LOCALE)
    version = parse_dockerd_version(out) if rc == 0 else None
    if version is None:
        return "skipped: could not read the version of %s (%s)" % (dockerd, (out + err).strip())
    if not has_validate_flag(version):
        return "skipped: dockerd %s has no --validate" % version[2]
    handle, candidate = tempfile.mkstemp(prefix="daemon.json.", suffix=".candidate", dir=module.tmpdir)
    with os.fdopen(handle, "wb") as stream:
        stream.write(new_text.encode("utf-8"))
    cmd = [dockerd, "--validate", "--config-file", candidate]
    rc, out, err = module.run_command(cmd, environ_update=C_LOCALE)
    if rc != 0:
        module.fail_json(
            msg="dockerd %s rejects the new %s: %s" % (version[2], module.params["path"], (err or out).strip()),
            cmd=cmd,
            rc=rc,
            stdout=out,
            stderr=err,
            candidate=new_text,
            hint="Fix the settings named in the error; the file was left untouched.",
        )
    return "passed: dockerd %s --validate (%s)" % (version[2], (out or err).strip())


def write_atomically(module, path, new_text):
    try:
        existed = replace_file(path, new_text.encode("utf-8"), module.atomic_move)
    except OSError as exc:
        module.fail_json(msg="cannot write %s: %s" % (path, os_error_text(exc)), hint="The file was left untouched.")
    if not existed and os.geteuid() == 0:
        os.chown(path, 0, 0)


def run_module(module):
    path = resolve_link(module, module.params["path"])
    existed = file_exists(module, path)
    text = read_current_text(module, path, existed)
    try:
        plan = plan_update(
            text, module.params["settings"], module.params["remove"], existed, module.params["nvidia_runtime"]
        )
    except DaemonJsonError as exc:
        where = " at line %s column %s" % (exc.line, exc.column) if exc.line else ""
        module.fail_json(
            msg="%s: %s%s" % (path, exc.message, where),
            line=exc.line,
            column=exc.column,
            hint="dockerd will not start with this file either. Fix it by hand; it was left untouched.",
        )
    except DaemonJsonInputError as exc:
        module.fail_json(msg=to_native(exc))
    for warning in plan["warnings"]:
        module.warn("%s: %s" % (path, warning))

    argv = dockerd_start_flags(module)
    _names, unexpanded = flags_in_command(argv)
    if unexpanded:
        module.warn(
            "%s passes dockerd flags through %s; those were not checked (give them in dockerd_flags)"
            % (module.params["service"], " ".join(unexpanded))
        )
    problems = config_problems(plan["after"], argv)
    if problems:
        module.fail_json(
            msg="dockerd would refuse to start with the resulting %s: %s" % (path, "; ".join(problems)),
            problems=problems,
            dockerd_flags=argv,
            before=plan["before"],
            after=plan["after"],
            hint="Change or remove the settings named; the file was left untouched.",
        )

    result = {
        "changed": plan["changed"],
        "before": plan["before"],
        "after": plan["after"],
        "dockerd_flags": argv,
        "validation": "not needed: content unchanged",
    }
    if plan["changed"]:
        check_writable(module, path)
        result["validation"] = validate_with_dockerd(module, plan["new_text"])
        if module._diff:
            result["diff"] = {
                "before": text,
                "after": plan["new_text"],
                "before_header": path,
                "after_header": path,
            }
        if not module.check_mode:
            if module.params["backup"] and existed:
                result["backup_file"] = module.backup_local(path)
            write_atomically(module, path, plan["new_text"])
    module.exit_json(**result)


def build_module():
    return AnsibleModule(
        argument_spec={
            "path": {"type": "path", "default": "/etc/docker/daemon.json"},
            "settings": {"type": "dict", "default": {}},
            "remove": {"type": "list", "elements": "raw", "default": []},
            "backup": {"type": "bool", "default": False},
            "validate": {"type": "bool", "default": True},
            "dockerd_path": {"type": "str", "default": "dockerd"},
            "service": {"type": "str", "default": "docker.service"},
            "dockerd_flags": {"type": "list", "elements": "str"},
            "nvidia_runtime": {
                "type": "dict",
                "options": {"default": {"type": "bool", "default": False}, "cdi": {"type": "bool", "default": False}},
            },
        },
        supports_check_mode=True,
    )


def main():
    run_module(build_module())


if __name__ == "__main__":
    main()
