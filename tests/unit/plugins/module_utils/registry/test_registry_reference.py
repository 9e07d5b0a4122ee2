# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.registry.reference import (
    InvalidReference,
    parse_reference,
)

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    "text, domain, api_host, repository, tag, digest, name",
    [
        (
            "ubuntu",
            "docker.io",
            "registry-1.docker.io",
            "library/ubuntu",
            "latest",
            None,
            "docker.io/library/ubuntu:latest",
        ),
        (
            "ubuntu:24.04",
            "docker.io",
            "registry-1.docker.io",
            "library/ubuntu",
            "24.04",
            None,
            "docker.io/library/ubuntu:24.04",
        ),
        (
            "nvidia/cuda:12.4.1-base-ubuntu22.04",
            "docker.io",
            "registry-1.docker.io",
            "nvidia/cuda",
            "12.4.1-base-ubuntu22.04",
            None,
            "docker.io/nvidia/cuda:12.4.1-base-ubuntu22.04",
        ),
        (
            "docker.io/library/debian:bookworm",
            "docker.io",
            "registry-1.docker.io",
            "library/debian",
            "bookworm",
            None,
            "docker.io/library/debian:bookworm",
        ),
        (
            "index.docker.io/redis",
            "docker.io",
            "registry-1.docker.io",
            "library/redis",
            "latest",
            None,
            "docker.io/library/redis:latest",
        ),
        (
            "nvcr.io/nvidia/k8s-device-plugin:v0.17.0",
            "nvcr.io",
            "nvcr.io",
            "nvidia/k8s-device-plugin",
            "v0.17.0",
            None,
            "nvcr.io/nvidia/k8s-device-plugin:v0.17.0",
        ),
        (
            "127.0.0.1:5000/team/app",
            "127.0.0.1:5000",
            "127.0.0.1:5000",
            "team/app",
            "latest",
            None,
            "127.0.0.1:5000/team/app:latest",
        ),
        ("localhost/app:1", "localhost", "localhost", "app", "1", None, "localhost/app:1"),
        (
            "registry.example.com:8443/a/b/c:v1",
            "registry.example.com:8443",
            "registry.example.com:8443",
            "a/b/c",
            "v1",
            None,
            "registry.example.com:8443/a/b/c:v1",
        ),
        (
            "ubuntu@" + DIGEST,
            "docker.io",
            "registry-1.docker.io",
            "library/ubuntu",
            None,
            DIGEST,
            "docker.io/library/ubuntu@" + DIGEST,
        ),
        (
            "ghcr.io/org/img:1.0@" + DIGEST,
            "ghcr.io",
            "ghcr.io",
            "org/img",
            "1.0",
            DIGEST,
            "ghcr.io/org/img:1.0@" + DIGEST,
        ),
    ],
)
def test_references_mean_what_they_mean_to_docker_pull(text, domain, api_host, repository, tag, digest, name):
    reference = parse_reference(text)
    assert (reference.domain, reference.api_host, reference.repository) == (domain, api_host, repository)
    assert (reference.tag, reference.digest, reference.name) == (tag, digest, name)


def test_digest_pins_what_is_fetched_even_with_a_tag():
    assert parse_reference("ghcr.io/org/img:1.0@" + DIGEST).manifest_reference == DIGEST
    assert parse_reference("ghcr.io/org/img:1.0").manifest_reference == "1.0"


def test_first_component_without_dot_or_port_is_a_docker_hub_namespace():
    reference = parse_reference("myteam/app:2")
    assert reference.domain == "docker.io"
    assert reference.repository == "myteam/app"


@pytest.mark.parametrize(
    "text, complaint",
    [
        ("", "non-empty"),
        ("https://ghcr.io/org/img", "no scheme"),
        ("Ubuntu", "lowercase"),
        ("ghcr.io/Org/img", "lowercase"),
        ("ubuntu@sha256:1234", "not a digest"),
        ("ubuntu:bad tag", "not a valid tag"),
        ("ubuntu:-x", "not a valid tag"),
        # Docker's tag grammar is ASCII; Python's \w alone would take these and the request would then crash.
        ("ubuntu:t\u00e4g", "not a valid tag.*ASCII"),
        ("ubuntu:\u0663", "not a valid tag.*ASCII"),
        ("ghcr.io//img", "not a valid repository name"),
        ("reg_istry.example.com:5000/app", "not a valid registry host"),
    ],
)
def test_invalid_references_say_what_is_wrong(text, complaint):
    with pytest.raises(InvalidReference, match=complaint):
        parse_reference(text)
