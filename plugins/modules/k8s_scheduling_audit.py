#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: k8s_scheduling_audit
short_description: Check where each Kubernetes workload can land, by node architecture, against its images' platforms
version_added: 0.2.0
description:
  - For every workload in O(manifests) (Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob and the
    objects of a C(List); init containers too), works out the node architectures its pods can land on, and holds
    each against the platforms of each of its images. A pod that lands where an image has no variant crash-loops
    with C(exec format error).
  - A pod can land on a node when its C(nodeSelector) labels are all on the node, one of its required node affinity
    terms matches (terms ORed, expressions ANDed; C(In), C(NotIn), C(Exists), C(DoesNotExist), and C(Gt)/C(Lt) on a
    label's integer value), a toleration matches each C(NoSchedule) and C(NoExecute) taint of the node
    (C(PreferNoSchedule) does not keep pods off), and the node has as many C(nvidia.com/gpu) as the pod asks for.
    DaemonSet pods get the tolerations the DaemonSet controller adds (the C(node.kubernetes.io/*) condition
    taints), never for custom taints.
  - Nodes come from a C(kubectl get nodes -o json) export (O(nodes_json)) or, before a cluster exists, from
    O(nodes) built from the inventory; O(verdict_dir) fills their GPU count (and architecture) from the verdicts
    C(site.yml) wrote.
  - The images' platforms come from O(image_platforms), the RV(gpufleet.containers.image_platforms#module:images)
    result of a prior C(image_platforms) call over the same manifests; this module talks to no registry, so the
    registry options (credentials, CA, insecure registries) live in one module only.
  - Reads only; C(changed) is always false.
author: gpufleet maintainers (@gpufleet)
options:
  manifests:
    description:
      - Kubernetes manifest files (multi-document YAML or JSON), or folders whose C(*.yaml), C(*.yml) and C(*.json)
        files are read (recursively, hidden ones left out).
    type: list
    elements: path
    required: true
  nodes_json:
    description: A C(kubectl get nodes -o json) export. Mutually exclusive with O(nodes).
    type: path
  nodes:
    description:
      - Nodes described by the inventory, each C(name), and C(architecture) (any spelling, V(x86_64) or V(amd64)),
        C(labels) (a mapping), C(taints) (C(key=value:Effect) strings, as the kubelet's C(--register-with-taints)
        takes them, or mappings with C(key), C(value), C(effect)) and C(gpus) (a count), all but C(name) optional.
      - The node gets the labels the kubelet sets itself (C(kubernetes.io/arch), C(beta.kubernetes.io/arch),
        C(kubernetes.io/os), C(kubernetes.io/hostname)).
    type: list
    elements: dict
  verdict_dir:
    description:
      - Folder of the per-host verdicts C(site.yml) writes (C(<report_dir>/hosts/<host>.json)). A node of O(nodes)
        without C(gpus) gets the GPU count its verdict found when the verification passed, else 0; one without
        C(architecture) gets the verdict's.
    type: path
  image_platforms:
    description:
      - The platforms of the images, either the RV(gpufleet.containers.image_platforms#module:images) list a
        C(image_platforms) call returned, or a mapping of image reference to a list of platforms
        (V(linux/amd64), V(linux/arm64/v8)); a mapping to a text instead of a list marks an image whose platforms
        could not be read, the text saying why.
      - An image not given here is reported as a warning, its architectures unchecked.
    type: raw
    required: true
  fail_on:
    description:
      - V(error) fails the module when there is an error finding, V(warning) also on a warning, V(never) only
        reports.
    type: str
    choices: [error, warning, never]
    default: error
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The module only reads files, so it runs in check mode and reports the same result.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - Run it on the controller (C(delegate_to localhost)); C(playbooks/scheduling_audit.yml) runs C(image_platforms)
    and this module and writes C(scheduling.json).
  - Node labels decide selectors; a node described by the inventory has only the labels given and the kubelet's
    own, so a selector on labels set later (GPU Feature Discovery's, for example) needs them declared.
  - C(spec.nodeName), preferred affinity, pod affinity and topology spread are not judged.
"""

EXAMPLES = r"""
- name: Read the platforms of the manifests' images
  gpufleet.containers.image_platforms:
    k8s_manifests: [/srv/cluster/apps/web.yaml]
  register: images
  delegate_to: localhost

- name: Check where each workload can land in the running cluster
  gpufleet.containers.k8s_scheduling_audit:
    manifests: [/srv/cluster/apps]
    nodes_json: /srv/cluster/nodes.json   # kubectl get nodes -o json > nodes.json
    image_platforms: "{{ images.images }}"
  delegate_to: localhost

- name: Before the cluster exists, from the inventory (taints as the kubelet registers them)
  gpufleet.containers.k8s_scheduling_audit:
    manifests: [/srv/cluster/apps/web.yaml]
    nodes:
      - {name: gpu-a100-01, architecture: x86_64}
      - {name: gpu-gh200-01, architecture: aarch64, taints: ["arm=true:NoSchedule"]}
    verdict_dir: report/hosts
    image_platforms:
      registry.example.com/shop/web:3.1: [linux/amd64]
    fail_on: never
  delegate_to: localhost
"""

RETURN = r"""
node_architectures:
  description: The architectures of the nodes, sorted.
  returned: always
  type: list
  elements: str
  sample: [amd64, arm64]
nodes:
  description: The nodes the audit placed pods on.
  returned: always
  type: list
  elements: dict
  sample:
    - {"name": "arm-01", "architecture": "arm64", "gpus": 0, "labels": {"kubernetes.io/arch": "arm64"},
       "taints": [{"key": "arm", "value": "true", "effect": "NoSchedule"}], "source": "kubectl"}
workloads:
  description:
    - One entry per workload, with its containers (C(platforms) null when unknown) and a verdict per node
      architecture, V(ok) (it can land there and every image has that architecture), V(fail) (it can land
      there and an image lacks it) or V(blocked) (it cannot land there), with the reason.
  returned: always
  type: list
  elements: dict
  sample:
    - kind: Deployment
      namespace: default
      name: edge-agent
      containers: [{"name": "agent", "image": "registry.example.com/edge/agent:2.0", "init": false,
                    "platforms": ["linux/arm64/v8"]}]
      architectures:
        amd64: {"verdict": "fail",
                "reason": "image registry.example.com/edge/agent:2.0 (agent) has no linux/amd64 variant"}
        arm64: {"verdict": "blocked", "reason": "taint arm=true:NoSchedule not tolerated"}
findings:
  description:
    - The problems, each naming the workload (C(Kind/namespace/name), or the file for one that cannot be read), the
      container and image when one is at fault, a C(kind), the problem, the fix and the severity.
    - Kinds C(lands_where_image_lacks_architecture), C(tolerates_taint_image_lacks_architecture),
      C(selects_architecture_image_lacks), C(selects_missing_architecture), C(no_gpu_node_of_architecture),
      C(unschedulable), C(unreadable_manifest) are errors; C(platforms_unknown) is a warning.
  returned: always
  type: list
  elements: dict
  sample:
    - workload: Deployment/default/edge-agent
      container: agent
      image: registry.example.com/edge/agent:2.0
      kind: lands_where_image_lacks_architecture
      problem: "can land on amd64 nodes (no selector, no taint keeps it off), image registry.example.com/edge/agent:2.0
        is arm64-only"
      fix: "add a nodeSelector for arm64 (kubernetes.io/arch: arm64) and a toleration for arm=true:NoSchedule, or
        publish a linux/amd64 variant of registry.example.com/edge/agent:2.0"
      severity: error
summary:
  description: Counts, and V(fail) when there is an error finding.
  returned: always
  type: dict
  sample: {"workloads": 7, "findings": 7, "errors": 6, "warnings": 1, "verdict": "fail"}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.containers.plugins.module_utils.kubernetes.nodes import (
    NodeError,
    node_from_inventory,
    read_kubectl_nodes,
    read_verdict,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.kubernetes.scheduling import audit, image_index
from ansible_collections.gpufleet.containers.plugins.module_utils.kubernetes.workloads import read_workloads


def build_nodes(params):
    if params["nodes_json"]:
        return read_kubectl_nodes(params["nodes_json"])
    return [
        node_from_inventory(entry, read_verdict(params["verdict_dir"], (entry or {}).get("name")))
        for entry in params["nodes"]
    ]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            manifests=dict(type="list", elements="path", required=True),
            nodes_json=dict(type="path"),
            nodes=dict(type="list", elements="dict"),
            verdict_dir=dict(type="path"),
            image_platforms=dict(type="raw", required=True),
            fail_on=dict(type="str", choices=["error", "warning", "never"], default="error"),
        ),
        mutually_exclusive=[("nodes_json", "nodes")],
        required_one_of=[("nodes_json", "nodes")],
        supports_check_mode=True,
    )
    params = module.params
    if not isinstance(params["image_platforms"], (list, dict)):
        module.fail_json(
            msg="image_platforms must be the `images` list image_platforms returns or a mapping image -> platforms"
        )
    try:
        nodes = build_nodes(params)
        workloads, source_errors = read_workloads(params["manifests"])
    except NodeError as error:
        module.fail_json(msg="%s. %s" % (error, error.hint))
    except ImportError:
        module.fail_json(msg="reading manifests needs PyYAML (python3-yaml) on the host the module runs on")
    result = audit(workloads, nodes, image_index(params["image_platforms"]), source_errors)
    for item in result["findings"]:
        if item["severity"] == "warning":
            module.warn("%s: %s" % (item["workload"], item["problem"]))
    summary = result["summary"]
    failing = summary["errors"] + (summary["warnings"] if params["fail_on"] == "warning" else 0)
    if params["fail_on"] != "never" and failing:
        module.fail_json(
            msg="%d scheduling finding(s): %s"
            % (failing, "; ".join("%s: %s" % (f["workload"], f["problem"]) for f in result["findings"])),
            changed=False,
            **result,
        )
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
