# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workloads of Kubernetes manifests, each with its pod spec: what the scheduler places.

Reads the same files the image audit reads, through the same walk (images/sources.py: UTF-8, multi-document YAML,
`kind: List`, the pod spec where each kind keeps it, a CronJob's under `jobTemplate`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.gpufleet.containers.plugins.module_utils.images.sources import (
    SourceError,
    decode_source,
    load_yaml_documents,
    pod_specs,
)

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
CONTAINER_LISTS = (("initContainers", True), ("containers", False))


def manifest_files(paths):
    """Files as given, and for a folder its *.yaml, *.yml and *.json below it (hidden ones left out), sorted; the
    playbook's `find` task gathers the same for the image audit."""
    files = []
    for path in paths:
        if not os.path.isdir(path):
            files.append(path)
            continue
        found = []
        for root, dirs, names in os.walk(path):
            dirs[:] = [name for name in dirs if not name.startswith(".")]
            found.extend(
                os.path.join(root, name)
                for name in names
                if name.endswith(MANIFEST_SUFFIXES) and not name.startswith(".")
            )
        files.extend(sorted(found))
    return files


def workloads_from_documents(documents, label):
    """[{kind, namespace, name, pod_spec, source}] from the documents of one file; kinds without pods are skipped."""
    found = []
    for document, kind, _pod_spec_path, pod_spec in pod_specs(documents, label):
        metadata = document.get("metadata") or {}
        found.append(
            {
                "kind": kind,
                "namespace": metadata.get("namespace") or "default",
                "name": metadata.get("name") or "?",
                "pod_spec": pod_spec,
                "source": label,
            }
        )
    return found


def read_workloads(paths):
    """-> (workloads, errors): a file that cannot be read is an error entry {path, message, hint}; the rest are
    still read."""
    workloads, errors = [], []
    for path in manifest_files(paths):
        try:
            with open(path, "rb") as handle:
                data = handle.read()
            workloads.extend(workloads_from_documents(load_yaml_documents(decode_source(data, path), path), path))
        except OSError as error:
            errors.append(
                {"path": path, "message": "cannot read %s: %s" % (path, error.strerror), "hint": "Check the path."}
            )
        except SourceError as error:
            errors.append({"path": path, "message": str(error), "hint": error.hint})
    return workloads, errors


def containers(pod_spec):
    """[(container dict, init?)] of a pod spec, init containers first, as the kubelet starts them."""
    found = []
    for field, init in CONTAINER_LISTS:
        value = pod_spec.get(field) or []
        if isinstance(value, list):
            found.extend((container, init) for container in value if isinstance(container, dict))
    return found
