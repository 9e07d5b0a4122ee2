# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nodes a scheduling audit places pods on, from a `kubectl get nodes -o json` export or from the inventory.

Every node becomes {"name", "architecture", "gpus", "labels", "taints": [{"key", "value", "effect"}], "source"}.
From kubectl: the architecture is `status.nodeInfo.architecture` (the kubelet's own `runtime.GOARCH`), GPUs are
`status.allocatable["nvidia.com/gpu"]` (what the scheduler counts; capacity when allocatable is absent). From the
inventory (before a cluster exists): the node gets the labels the kubelet would set itself (`kubernetes.io/arch`,
`beta.kubernetes.io/arch`, `kubernetes.io/os`, `kubernetes.io/hostname`) plus those declared, the declared taints,
and its GPU count from the host's verdict file when the verification passed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.gpufleet.containers.plugins.module_utils.host.architecture import (
    UnsupportedArchitecture,
    dpkg_arch,
)

GPU_RESOURCE = "nvidia.com/gpu"
ARCH_LABELS = ("kubernetes.io/arch", "beta.kubernetes.io/arch")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


class NodeError(ValueError):
    """Node input the audit cannot use; `hint` says how to fix it."""

    def __init__(self, message, hint):
        super(NodeError, self).__init__(message)
        self.hint = hint


def canonical_arch(name):
    """Go's and Debian's names are the same for the two served architectures; other spellings (aarch64) are mapped,
    and an architecture the collection does not serve (s390x) is kept as written: pods can still land there."""
    try:
        return dpkg_arch(name)
    except UnsupportedArchitecture:
        return str(name).strip().lower()


def gpu_count(value, where):
    """A resource quantity as the API writes it ("8", 8) -> int; GPUs are whole devices."""
    if value is None or value == "":
        return 0
    try:
        return int(str(value))
    except ValueError:
        raise NodeError(
            "%s: %s is %r, not a whole number" % (where, GPU_RESOURCE, value),
            "nvidia.com/gpu counts whole devices; export the nodes again with `kubectl get nodes -o json`.",
        ) from None


def parse_taint(taint, where):
    """A taint as the API writes it ({key, value, effect}) or as kubelet's --register-with-taints takes it
    (`key=value:Effect`, `key:Effect`) -> {key, value, effect}."""
    if isinstance(taint, str):
        key_value, sep, effect = taint.rpartition(":")
        key, _eq, value = key_value.partition("=")
        taint = {"key": key, "value": value, "effect": effect} if sep else {"key": taint}
    if not isinstance(taint, dict) or not taint.get("key") or taint.get("effect") not in TAINT_EFFECTS:
        raise NodeError(
            "%s: taint %r needs a key and an effect (one of %s)" % (where, taint, ", ".join(TAINT_EFFECTS)),
            "Write taints as `key=value:NoSchedule` or {key: ..., value: ..., effect: NoSchedule}.",
        )
    return {"key": str(taint["key"]), "value": str(taint.get("value") or ""), "effect": taint["effect"]}


def _labels(value, where):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise NodeError(
            "%s: labels are %s, not a mapping" % (where, type(value).__name__),
            "Write labels as a mapping of label -> value.",
        )
    return {str(key): str(label) for key, label in value.items()}


def node(name, architecture, gpus=0, labels=None, taints=(), source="inventory"):
    return {
        "name": name,
        "architecture": architecture,
        "gpus": gpus,
        "labels": labels or {},
        "taints": list(taints),
        "source": source,
    }


def nodes_from_kubectl(document, label="nodes_json"):
    """The nodes of a `kubectl get nodes -o json` export (a List of Node), or of one Node."""
    if isinstance(document, dict) and document.get("kind") == "Node":
        document = {"items": [document]}
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise NodeError(
            "%s is not a node list: no `items` list" % label,
            "Export the nodes with `kubectl get nodes -o json > nodes.json`.",
        )
    nodes = []
    for item in document["items"]:
        if not isinstance(item, dict) or item.get("kind", "Node") != "Node":
            continue
        metadata = item.get("metadata") or {}
        name = metadata.get("name") or "?"
        where = "%s node %s" % (label, name)
        labels = _labels(metadata.get("labels"), where)
        status = item.get("status") or {}
        arch = (status.get("nodeInfo") or {}).get("architecture") or labels.get(ARCH_LABELS[0])
        if not arch:
            raise NodeError(
                "%s has neither status.nodeInfo.architecture nor a kubernetes.io/arch label" % where,
                "Export the nodes with `kubectl get nodes -o json` from a cluster whose kubelets have registered.",
            )
        resources = status.get("allocatable") or {}
        if GPU_RESOURCE not in resources:
            resources = status.get("capacity") or {}
        taints = [parse_taint(taint, where) for taint in (item.get("spec") or {}).get("taints") or []]
        nodes.append(
            node(name, canonical_arch(arch), gpu_count(resources.get(GPU_RESOURCE), where), labels, taints, "kubectl")
        )
    return nodes


def read_kubectl_nodes(path):
    try:
        with open(path, "rb") as handle:
            document = json.loads(handle.read().decode("utf-8-sig"))
    except (OSError, ValueError) as error:
        raise NodeError(
            "cannot read %s as JSON: %s" % (path, error),
            "Export the nodes with `kubectl get nodes -o json > nodes.json` (JSON, not YAML or a table).",
        ) from None
    return nodes_from_kubectl(document, path)


def read_verdict(verdict_dir, name):
    """The host's verdict file written by site.yml, or None when there is none (a host not verified yet)."""
    if not verdict_dir:
        return None
    path = os.path.join(verdict_dir, "%s.json" % name)
    try:
        with open(path) as handle:
            verdict = json.load(handle)
    except (OSError, ValueError):
        return None
    return verdict if isinstance(verdict, dict) else None


def node_from_inventory(entry, verdict=None):
    """A node from an inventory host: {name, architecture?, gpus?, labels?, taints?}. The architecture falls back to
    the one the host's verdict recorded; GPUs to the verdict's count when it passed (a host whose GPUs failed
    verification takes no GPU pods)."""
    if not isinstance(entry, dict) or not entry.get("name"):
        raise NodeError("inventory node %r has no name" % (entry,), "Give each node as {name: ..., architecture: ...}.")
    name = str(entry["name"])
    where = "inventory node %s" % name
    verdict = verdict or {}
    arch = entry.get("architecture") or verdict.get("architecture")
    if not arch:
        raise NodeError(
            "%s has no architecture: no facts, no k8s_node_architecture and no verdict file" % where,
            "Gather facts for the host, set k8s_node_architecture, or run site.yml first so the verdict records it.",
        )
    arch = canonical_arch(arch)
    gpus = entry.get("gpus")
    if gpus is None:
        found = verdict.get("found") or {}
        gpus = found.get("gpu_count") if verdict.get("verdict") == "pass" else 0
    labels = {
        ARCH_LABELS[0]: arch,
        ARCH_LABELS[1]: arch,
        "kubernetes.io/os": "linux",
        "kubernetes.io/hostname": name,
    }
    labels.update(_labels(entry.get("labels"), where))
    taints = [parse_taint(taint, where) for taint in entry.get("taints") or []]
    return node(name, arch, gpu_count(gpus, where), labels, taints, "inventory")
