# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Images found in compose files and Kubernetes manifests (the files here are written for the tests)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.images.sources import (
    SourceError,
    compose_images,
    interpolate,
    k8s_images,
    load_yaml_documents,
    merge_images,
    read_source,
)

COMPOSE = """
services:
  trainer:
    image: nvcr.io/nvidia/pytorch:24.05-py3
    deploy:
      resources:
        reservations:
          devices: [{driver: nvidia, count: all, capabilities: [gpu]}]
  api:
    image: registry.example.com/team/api:${API_TAG:-2.3.1}
  worker:
    image: registry.example.com/team/worker:${WORKER_TAG}
  web:
    build: ./web
  cache:
    image: redis:7
"""

K8S = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: inference}
spec:
  template:
    spec:
      initContainers:
        - {name: fetch-model, image: busybox:1.36}
      containers:
        - {name: server, image: nvcr.io/nvidia/tritonserver:24.05-py3}
        - {name: metrics, image: nvcr.io/nvidia/k8s/dcgm-exporter:3.3.5-3.4.1-ubuntu22.04}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 2 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - {name: report, image: registry.example.com/team/report:1}
---
apiVersion: v1
kind: Service
metadata: {name: inference}
spec: {ports: [{port: 8000}]}
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: debug}
    spec:
      containers: [{name: shell, image: busybox:1.36}]
      ephemeralContainers: [{name: dbg, image: nicolaka/netshoot:v0.13}]
  - apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: device-plugin}
    spec:
      template:
        spec:
          containers: [{name: plugin, image: nvcr.io/nvidia/k8s-device-plugin:v0.15.0}]
---
"""


def test_compose_services_with_images_and_their_defaults():
    (document,) = load_yaml_documents(COMPOSE, "compose.yaml")
    assert compose_images(document, "compose.yaml") == [
        ("nvcr.io/nvidia/pytorch:24.05-py3", "compose.yaml services.trainer", None),
        ("registry.example.com/team/api:2.3.1", "compose.yaml services.api", None),
        ("registry.example.com/team/worker:${WORKER_TAG}", "compose.yaml services.worker", "WORKER_TAG"),
        ("redis:7", "compose.yaml services.cache", None),
    ]


@pytest.mark.parametrize(
    "value, result",
    [
        ("a:${T:-1}", ("a:1", None)),
        ("a:${T-1}", ("a:1", None)),
        ("a:${T:-}", ("a:", None)),
        ("a:${T}", ("a:${T}", "T")),
        ("a$$b", ("a$b", None)),
        ("plain:1", ("plain:1", None)),
    ],
)
def test_interpolation(value, result):
    assert interpolate(value) == result


def test_not_a_compose_file():
    with pytest.raises(SourceError, match="no `services`"):
        compose_images({"version": "3"}, "other.yaml")


def test_k8s_workloads_all_container_lists_and_lists():
    found = k8s_images(load_yaml_documents(K8S, "app.yaml"), "app.yaml")
    assert found == [
        ("busybox:1.36", "app.yaml Deployment/inference initContainers[fetch-model]", None),
        ("nvcr.io/nvidia/tritonserver:24.05-py3", "app.yaml Deployment/inference containers[server]", None),
        (
            "nvcr.io/nvidia/k8s/dcgm-exporter:3.3.5-3.4.1-ubuntu22.04",
            "app.yaml Deployment/inference containers[metrics]",
            None,
        ),
        ("registry.example.com/team/report:1", "app.yaml CronJob/nightly containers[report]", None),
        ("busybox:1.36", "app.yaml Pod/debug containers[shell]", None),
        ("nicolaka/netshoot:v0.13", "app.yaml Pod/debug ephemeralContainers[dbg]", None),
        ("nvcr.io/nvidia/k8s-device-plugin:v0.15.0", "app.yaml DaemonSet/device-plugin containers[plugin]", None),
    ]


def test_invalid_yaml_names_the_file():
    with pytest.raises(SourceError, match="broken.yaml is not valid YAML"):
        load_yaml_documents("services: [unclosed", "broken.yaml")


def test_merge_keeps_first_seen_order_once_and_records_where():
    found = [
        ("busybox:1.36", "a.yaml Pod/x containers[a]", None),
        ("redis:7", "compose.yaml services.cache", None),
        ("busybox:1.36", "a.yaml Pod/y containers[b]", None),
        ("team/w:${TAG}", "compose.yaml services.w", "TAG"),
    ]
    images, sources, unresolved = merge_images(["redis:7", "nvidia/cuda:12.4.1-base-ubuntu22.04"], found)
    assert images == ["redis:7", "nvidia/cuda:12.4.1-base-ubuntu22.04", "busybox:1.36", "team/w:${TAG}"]
    assert sources["busybox:1.36"] == ["a.yaml Pod/x containers[a]", "a.yaml Pod/y containers[b]"]
    assert "nvidia/cuda:12.4.1-base-ubuntu22.04" not in sources
    assert unresolved == {"team/w:${TAG}": "TAG"}


@pytest.mark.parametrize(
    "document, words",
    [
        ({"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": 5}}, "Pod/p spec.containers is int"),
        (
            {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"initContainers": "x"}}}},
            "Deployment/d spec.template.spec.initContainers is str",
        ),
        ({"kind": "List", "items": 5}, "List items is int"),
        ({"kind": "PodList", "items": {"a": 1}}, "PodList items is dict"),
    ],
)
def test_k8s_lists_that_are_not_lists_name_the_field(document, words):
    with pytest.raises(SourceError) as raised:
        k8s_images([document], "bad.yaml")
    assert str(raised.value).startswith("bad.yaml: " + words)
    assert "list" in str(raised.value)


def test_k8s_kind_that_is_not_a_string_is_no_workload():
    assert k8s_images([{"kind": ["Pod"], "spec": {"containers": [{"image": "a"}]}}], "odd.yaml") == []


@pytest.mark.parametrize("kind", ["compose", "k8s"])
def test_a_source_that_is_not_utf8_says_where_and_how_to_fix(tmp_path, kind):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"services:\n  api: {image: 'caf\xe9:1'}\n")
    with pytest.raises(SourceError) as raised:
        read_source(kind, str(path))
    message = str(raised.value)
    assert str(path) in message and "not UTF-8" in message and "line 2" in message and "0xe9" in message


def test_a_source_with_a_utf8_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfservices:\n  api: {image: 'redis:7'}\n")
    assert read_source("compose", str(path)) == [("redis:7", "%s services.api" % path, None)]


def test_a_missing_source_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="cannot read .*missing.yaml"):
        read_source("k8s", str(tmp_path / "missing.yaml"))
