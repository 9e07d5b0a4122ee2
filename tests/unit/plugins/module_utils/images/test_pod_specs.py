# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pod_specs, the one walk over manifests that the image audit and the scheduling audit share: both see the same
objects, from the fixture cluster (tests/fixtures/kubernetes) as from hand-made edge cases."""

import glob
import os

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.images.sources import (
    SourceError,
    decode_source,
    k8s_images,
    load_yaml_documents,
    pod_specs,
)
from ansible_collections.gpufleet.containers.plugins.module_utils.kubernetes.workloads import workloads_from_documents

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "kubernetes")
MANIFESTS = sorted(glob.glob(os.path.join(FIXTURES, "*", "*.yml")))


def documents_of(path):
    with open(path, "rb") as handle:
        return load_yaml_documents(decode_source(handle.read(), path), path)


def test_the_fixture_cluster_has_manifests_to_walk():
    assert len(MANIFESTS) >= 4


@pytest.mark.parametrize("path", MANIFESTS, ids=os.path.basename)
def test_both_audits_see_the_same_objects_in_each_fixture_manifest(path):
    documents = documents_of(path)
    walked = [
        (kind, document.get("metadata", {}).get("name")) for document, kind, _path, _spec in pod_specs(documents, path)
    ]
    assert walked, "%s has no object that runs pods" % path
    scheduled = [(row["kind"], row["name"]) for row in workloads_from_documents(documents, path)]
    assert scheduled == walked
    # Every object whose containers name an image reaches the image audit too.
    imaged = {where.split(" ")[1] for _image, where, _none in k8s_images(documents, path)}
    assert imaged <= {"%s/%s" % pair for pair in walked}


def test_the_pod_spec_is_found_where_each_kind_keeps_it():
    pod = {"containers": [{"name": "c", "image": "busybox"}]}
    documents = [
        {"kind": "Pod", "metadata": {"name": "p"}, "spec": pod},
        {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": pod}}},
        {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": pod}}}}},
    ]
    assert [(kind, path, spec) for _doc, kind, path, spec in pod_specs(documents, "t.yaml")] == [
        ("Pod", ("spec",), pod),
        ("Deployment", ("spec", "template", "spec"), pod),
        ("CronJob", ("spec", "jobTemplate", "spec", "template", "spec"), pod),
    ]


def test_list_items_come_after_the_documents_and_objects_without_pods_are_skipped():
    pod = {"containers": []}
    documents = [
        {"kind": "List", "items": [{"kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {"spec": pod}}}]},
        {"kind": "ConfigMap", "metadata": {"name": "cm"}},
        {"kind": "Deployment", "metadata": {"name": "no-template"}, "spec": {}},
        {"kind": ["Pod"], "spec": pod},
        "not an object",
        {"kind": "Pod", "metadata": {"name": "p"}, "spec": pod},
    ]
    assert [document["metadata"]["name"] for document, _k, _p, _s in pod_specs(documents, "t.yaml")] == ["p", "j"]


@pytest.mark.parametrize("items", [5, {"a": 1}, "x"], ids=["number", "object", "string"])
def test_list_items_that_are_not_a_list_stop_both_audits_alike(items):
    documents = [{"kind": "DeploymentList", "items": items}]
    with pytest.raises(SourceError) as walked:
        pod_specs(documents, "bad.yaml")
    with pytest.raises(SourceError) as scheduled:
        workloads_from_documents(documents, "bad.yaml")
    assert str(scheduled.value) == str(walked.value)
    assert str(walked.value).startswith("bad.yaml: DeploymentList items is ")
