#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kubelet_extra_args
short_description: Merge registration taints and node labels into the kubelet's extra arguments
version_added: 0.2.0
description:
  - Sets the taints (C(--register-with-taints)) and labels (C(--node-labels)) a kubelet registers its node with, in
    the file its systemd unit reads C(KUBELET_EXTRA_ARGS) from (C(/etc/default/kubelet) on Debian and Ubuntu, as
    kubeadm's drop-in C(10-kubeadm.conf) sets it up), merged with the arguments already there.
  - The file is read the way systemd reads an C(EnvironmentFile=) (comments, quotes, backslash escapes and
    continuations), and the value is split at whitespace as systemd splits C($KUBELET_EXTRA_ARGS) into arguments.
    Both C(--flag=value) and C(--flag value) are understood.
  - Only the keys given here change. A user's other labels and taints, every other argument, comment and variable
    stay as they are, in their order. A label key given here replaces that key's pair wherever it is (the kubelet
    merges every C(--node-labels), later pairs winning); a taint key given here replaces the taints with that key in
    the last C(--register-with-taints), the only one the kubelet reads. New labels and taints go at the end of the
    existing flag, or into a new flag at the end of the arguments.
  - The file is written only when the argument list changes; the assignment is then rewritten on one line, in the
    quotes it had. A file the kubelet could not use (an unclosed quote, C(export KUBELET_EXTRA_ARGS=), a label pair
    without C(=), a malformed taint, a flag without its value) makes the module fail naming the line and the fix,
    and is left untouched.
  - The kubelet reads these arguments only when it starts, and applies taints and labels only when it registers its
    node. A node that has already joined keeps the ones it has; change them with C(kubectl taint) and
    C(kubectl label). The module never restarts the kubelet.
author:
  - gpufleet maintainers (@gpufleet)
options:
  path:
    description: The environment file the kubelet's unit reads C(KUBELET_EXTRA_ARGS) from. Created when missing.
    type: path
    default: /etc/default/kubelet
  taints:
    description:
      - Registration taints, each a string C(key=value:effect) (or C(key:effect)) or a dict with C(key), C(value)
        (optional) and C(effect).
      - The effect is one of C(NoSchedule), C(PreferNoSchedule), C(NoExecute); with O(state=absent) it may be left
        out, as taints are removed by key.
    type: list
    elements: raw
    default: []
  labels:
    description:
      - Node labels as a mapping of key to value. Booleans are written C(true) and C(false), null as an empty value.
      - Keys and values must be valid Kubernetes label keys and values. Labels under C(kubernetes.io) or C(k8s.io)
        that the kubelet may not set on itself (for example C(node-role.kubernetes.io/worker)) are refused, as the
        kubelet would refuse to start with them.
      - With O(state=absent) only the keys count.
    type: dict
    default: {}
  gpu_product:
    description:
      - The GPU model as nvidia-smi names it (for example C(NVIDIA A100-SXM4-80GB)). Adds the labels GPU Feature
        Discovery gives a GPU node, C(nvidia.com/gpu.present=true) and C(nvidia.com/gpu.product) with the model's
        spaces as C(-) (C(NVIDIA-A100-SXM4-80GB)); other characters a label value cannot hold become C(-) too.
      - With O(state=absent), removes those two labels.
    type: str
  state:
    description: Whether the given taints and labels are to be there (V(present)) or their keys gone (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  backup:
    description: Keep a timestamped copy of the previous file next to it when the module changes it.
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Nothing is written; changed, args, actions and the diff are the ones a real run gives.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Before and after are the file's text.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - The kubelet is not packaged in Debian; the module works on the file alone and needs no kubelet installed, so it
    can prepare a host before the kubelet arrives.
  - When the file sets C(KUBELET_EXTRA_ARGS) more than once, systemd uses the last, and so does this module; it warns.
seealso:
  - name: kubelet command line reference
    description: C(--register-with-taints) and C(--node-labels).
    link: https://kubernetes.io/docs/reference/command-line-tools-reference/kubelet/
  - name: Configuring each kubelet in your cluster using kubeadm
    description: The drop-in that reads C(/etc/default/kubelet).
    link: https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/kubelet-integration/
"""

EXAMPLES = r"""
- name: Keep x86-only images off this arm64 node, and label it as a GPU node
  gpufleet.containers.kubelet_extra_args:
    taints:
      - arm=true:NoSchedule
    labels:
      team: ml
    gpu_product: "{{ gpu_verify_result.found.models[0] }}"

- name: The same taint as a dict
  gpufleet.containers.kubelet_extra_args:
    taints:
      - key: arm
        value: "true"
        effect: NoSchedule

- name: Take the arm taint and the team label out again, leaving everything else
  gpufleet.containers.kubelet_extra_args:
    taints: [arm]
    labels:
      team:
    state: absent
"""

RETURN = r"""
args:
  description: The kubelet's extra arguments after the change (in check mode, those a real run writes).
  returned: success
  type: list
  elements: str
  sample:
    - --max-pods=110
    - --node-labels=team=ml,nvidia.com/gpu.present=true
    - --register-with-taints=arm=true:NoSchedule
args_before:
  description: The extra arguments before the change; empty for a missing file.
  returned: success
  type: list
  elements: str
  sample: ["--max-pods=110", "--node-labels=team=ml"]
actions:
  description: What was (or, in check mode, would be) changed, in words; empty when nothing changes.
  returned: success
  type: list
  elements: str
  sample: ["add label nvidia.com/gpu.present=true", "add taint arm=true:NoSchedule"]
backup_file:
  description: The copy of the previous file, when O(backup=true) and the file changed.
  returned: changed and backup requested
  type: str
  sample: /etc/default/kubelet.12345.2026-01-01@10:00:00~
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.containers.plugins.module_utils.files import replace_file
from ansible_collections.gpufleet.containers.plugins.module_utils.kubernetes.kubelet_args import (
    KubeletArgsError,
    plan_update,
)

UNTOUCHED = "The file was left untouched."


def read_text(module, path):
    """The file's text, "" when it does not exist yet."""
    if os.path.isdir(path):
        module.fail_json(msg="%s is a directory, not the kubelet's environment file" % path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return "", False
    except OSError as exc:
        module.fail_json(msg="cannot read %s: %s; run the task as root (become: true)" % (path, exc.strerror))
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError as exc:
        module.fail_json(
            msg="%s is not UTF-8 text (byte %d), which systemd requires of an environment file" % (path, exc.start),
            hint="Convert it to UTF-8. " + UNTOUCHED,
        )


def write_atomically(module, path, text):
    try:
        # atomic_move keeps the old file's owner, mode and SELinux context.
        replace_file(path, text.encode("utf-8"), module.atomic_move)
    except OSError as exc:
        module.fail_json(msg="cannot write %s: %s" % (path, exc), hint=UNTOUCHED)


def run_module(module):
    # A link is written through (the file it points to changes), never replaced by a regular file.
    path = os.path.realpath(module.params["path"])
    text, existed = read_text(module, path)
    try:
        plan = plan_update(
            text,
            taints=module.params["taints"],
            labels=module.params["labels"],
            gpu_product=module.params["gpu_product"],
            state=module.params["state"],
        )
    except KubeletArgsError as exc:
        module.fail_json(msg="%s: %s" % (module.params["path"], exc), line=exc.line, fix=exc.fix, hint=UNTOUCHED)
    for warning in plan["warnings"]:
        module.warn("%s: %s" % (module.params["path"], warning))
    result = {
        "changed": plan["changed"],
        "args": plan["args"],
        "args_before": plan["args_before"],
        "actions": plan["actions"],
    }
    if plan["changed"]:
        if module._diff:
            result["diff"] = {
                "before": text,
                "after": plan["new_text"],
                "before_header": module.params["path"],
                "after_header": module.params["path"],
            }
        if not module.check_mode:
            if module.params["backup"] and existed:
                result["backup_file"] = module.backup_local(path)
            write_atomically(module, path, plan["new_text"])
    module.exit_json(**result)


def build_module():
    return AnsibleModule(
        argument_spec={
            "path": {"type": "path", "default": "/etc/default/kubelet"},
            "taints": {"type": "list", "elements": "raw", "default": []},
            "labels": {"type": "dict", "default": {}},
            "gpu_product": {"type": "str"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "backup": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )


def main():
    run_module(build_module())


if __name__ == "__main__":
    main()
