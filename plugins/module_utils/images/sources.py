# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image references used by docker compose files and Kubernetes manifests, with where each one is used.

Compose: `services.<name>.image`; services that only `build:` have no image to check. Compose interpolates
`${VAR:-default}` from the environment; the audit uses the default written in the file and reports references
whose variables have none. Kubernetes: containers, initContainers and ephemeralContainers of Pods and of the pod
templates of Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs and CronJobs, in multi-document files and
`kind: List`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$\$")
# Where each kind that runs pods keeps its pod spec.
POD_SPEC_PATHS = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


class SourceError(ValueError):
    """A file that is not the compose file or manifest it should be; `hint` says how to fix it."""

    def __init__(self, message, hint):
        super(SourceError, self).__init__(message)
        self.hint = hint


def load_yaml_documents(text, label):
    """Every YAML document in `text` (PyYAML, which Ansible's controller always has), empty ones dropped."""
    import yaml  # only the audit's sources need it, and only where they are read

    try:
        return [document for document in yaml.safe_load_all(text) if document is not None]
    except yaml.YAMLError as error:
        raise SourceError(
            "%s is not valid YAML: %s" % (label, error),
            "Fix the YAML where the message points (yamllint shows it too).",
        ) from None


def decode_source(data, label):
    """The text of a source file's bytes; compose and kubectl read UTF-8 only, so nothing else is guessed at."""
    try:
        return data.decode("utf-8-sig")  # a byte order mark, as some Windows editors write, is not content
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise SourceError(
            "%s is not UTF-8 text: byte 0x%02x at offset %d (line %d) is not valid UTF-8"
            % (label, data[error.start], error.start, line),
            "Save the file as UTF-8 (docker compose and kubectl read only UTF-8), for example with "
            "`iconv -f latin1 -t utf-8`.",
        ) from None


def read_source(kind, path):
    """[(image, where, unresolved variable or None)] from one compose file (kind 'compose') or Kubernetes manifest
    file (kind 'k8s'); SourceError says why a file gives none."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise SourceError(
            "cannot read %s: %s" % (path, error.strerror or error),
            "Check the path; files are read on the host the module runs on (delegate_to: localhost for the "
            "controller's).",
        ) from None
    documents = load_yaml_documents(decode_source(data, path), path)
    if kind == "compose":
        found = []
        for document in documents:
            found.extend(compose_images(document, path))
        return found
    return k8s_images(documents, path)


def interpolate(value):
    """`repo/app:${TAG:-1.2}` -> ('repo/app:1.2', None); a variable without a default -> (value, 'TAG')."""
    unresolved = []

    def replace(match):
        if match.group(0) == "$$":
            return "$"
        if match.group(2) is None:
            unresolved.append(match.group(1))
            return match.group(0)
        return match.group(3)

    result = _INTERPOLATION.sub(replace, value)
    return result, (unresolved[0] if unresolved else None)


def compose_images(document, label):
    """[(image, where, unresolved variable or None)] from one compose document."""
    if not isinstance(document, dict) or not isinstance(document.get("services"), dict):
        raise SourceError(
            "%s has no `services` mapping: not a compose file" % label,
            "Give docker compose files in compose_files and Kubernetes manifests in k8s_manifests.",
        )
    found = []
    for service, definition in document["services"].items():
        image = (definition or {}).get("image") if isinstance(definition, dict) else None
        if not image:
            continue
        resolved, variable = interpolate(str(image))
        found.append((resolved, "%s services.%s" % (label, service), variable))
    return found


def _dig(document, path):
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def _list_field(value, label, where):
    """A field Kubernetes types as a list: [] when absent, else the list; SourceError for anything else, since
    skipping it would pass over images the cluster would be asked to run (kubectl refuses such a file)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise SourceError(
            "%s: %s is %s, not a list" % (label, where, type(value).__name__),
            "Write it as a YAML list of entries (`- name: ...`), as the Kubernetes API expects.",
        )
    return value


def pod_specs(documents, label):
    """[(document, kind, pod spec path, pod spec)] of the objects that run pods in the documents of one manifest file:
    the documents in file order, then the items of its `kind: *List` documents; kinds without pods are skipped.

    The image audit and the scheduling audit (kubernetes/workloads.py) walk manifests through this one function, so
    they see the same pods."""
    found = []
    queue = list(documents)
    while queue:
        document = queue.pop(0)
        if not isinstance(document, dict) or not isinstance(document.get("kind"), str):
            continue
        kind = document["kind"]
        if kind.endswith("List"):
            queue.extend(_list_field(document.get("items"), label, "%s items" % kind))
            continue
        pod_spec_path = POD_SPEC_PATHS.get(kind)
        pod_spec = _dig(document, pod_spec_path or ())
        if pod_spec_path is None or not isinstance(pod_spec, dict):
            continue
        found.append((document, kind, pod_spec_path, pod_spec))
    return found


def k8s_images(documents, label):
    """[(image, where, None)] from the documents of one manifest file; kinds without pods are skipped."""
    found = []
    for document, kind, pod_spec_path, pod_spec in pod_specs(documents, label):
        object_name = _dig(document, ("metadata", "name")) or "?"
        for list_name in _CONTAINER_LISTS:
            field = "%s/%s %s" % (kind, object_name, ".".join(pod_spec_path + (list_name,)))
            for container in _list_field(pod_spec.get(list_name), label, field):
                if isinstance(container, dict) and container.get("image"):
                    where = "%s %s/%s %s[%s]" % (label, kind, object_name, list_name, container.get("name", "?"))
                    found.append((str(container["image"]), where, None))
    return found


def merge_images(explicit, found):
    """The images to check, in first-seen order, once each, and reference -> [where used].

    `explicit` are the images named directly; `found` the (image, where, unresolved) triples from files."""
    images = []
    sources = {}
    unresolved = {}
    for image in explicit:
        if image not in images:
            images.append(image)
    for image, where, variable in found:
        if image not in images:
            images.append(image)
        sources.setdefault(image, []).append(where)
        if variable:
            unresolved[image] = variable
    return images, sources, unresolved
