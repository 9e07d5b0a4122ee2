# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manifest interpretation over real documents; each one's source is named next to it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.host.architecture import UnsupportedArchitecture
from ansible_collections.gpufleet.containers.plugins.module_utils.images.platforms import (
    DOCKER_LIST,
    MANIFEST_ACCEPT,
    OCI_INDEX,
    ManifestError,
    canonical_architectures,
    config_platform,
    image_error,
    image_result,
    index_platforms,
    manifest_kind,
    missing_by_architecture,
    platform_text,
    render_table,
    schema1_platform,
)

# ghcr.io/nvidia/jax-toolbox-internal:5754733400-base, a CUDA base image built by BuildKit, as printed by
# `docker manifest inspect` in NVIDIA/JAX-Toolbox#150. The index's fourth entry (the arm64 attestation) is cut
# off in that comment and left out here.
NVIDIA_JAX_CUDA_INDEX = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "size": 3542,
            "digest": "sha256:9b198e84badcc3ce3045924b0ed874e99ba079aaffb8d02439b41e99ec9e3d08",
            "platform": {"architecture": "amd64", "os": "linux"},
        },
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "size": 3540,
            "digest": "sha256:ba44362246b49f5555174ff2499f0458399269dac8dec34c690b77e4390d083c",
            "platform": {"architecture": "arm64", "os": "linux"},
        },
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "size": 567,
            "digest": "sha256:deecbc240138dc991b4d1a02fb7fb293e1abfce71c6a640a452914bf012830b3",
            "platform": {"architecture": "unknown", "os": "unknown"},
        },
    ],
}

# ghcr.io/qltysh/qlty:main while its arm64 build was being added (qltysh/qlty#1990): attestation entries sit
# between the images. The fourth entry is cut off in the comment and left out here.
QLTY_INDEX = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "size": 862,
            "digest": "sha256:f0cf1f43be3844e865bb3e40062164dccc966378263de27550f6a1d4e3b27c46",
            "platform": {"architecture": "arm64", "os": "linux"},
        },
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "size": 567,
            "digest": "sha256:c088a0edbd1a65b468f6606934ab0a79df18633541281501161ef50960be57cb",
            "platform": {"architecture": "unknown", "os": "unknown"},
        },
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "size": 862,
            "digest": "sha256:e12fe87ae9719f17837f4f8b3ef0d1404f7ef66cd0978b8e902de3ad2f60366d",
            "platform": {"architecture": "amd64", "os": "linux"},
        },
    ],
}

# nginx:latest's Docker manifest list, from `docker hub tag inspect nginx:latest --raw` in docker/hub-tool#6
# (the first two of its entries; the rest are cut off there).
NGINX_MANIFEST_LIST = {
    "manifests": [
        {
            "digest": "sha256:794275d96b4ab96eeb954728a7bf11156570e8372ecd5ed0cbc7280313a27d19",
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "platform": {"architecture": "amd64", "os": "linux"},
            "size": 1362,
        },
        {
            "digest": "sha256:83f063b4f6816b93802211e7d4f1cc543740e46136b2db48bf462e47e755fe10",
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "platform": {"architecture": "arm", "os": "linux", "variant": "v5"},
            "size": 1362,
        },
    ],
}

# One attestation entry of debian:testing's index, from docker/cli#6755: annotated as BuildKit/bashbrew write it.
DEBIAN_ATTESTATION_ENTRY = {
    "annotations": {
        "com.docker.official-images.bashbrew.arch": "amd64",
        "vnd.docker.reference.digest": "sha256:839158022a02ea738be200fcd45637be892ef04f169befd01022388fccca91c9",
        "vnd.docker.reference.type": "attestation-manifest",
    },
    "digest": "sha256:cc0c3abefacef503a707041ce6b9d36e45e2d5b9b39949623666b96582fa773c",
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "platform": {"architecture": "unknown", "os": "unknown"},
    "size": 562,
}

# Config blob of the amd64 test image, captured from the fixture registry (tests/testbed/registry).
FIXTURE_CONFIG = {
    "architecture": "amd64",
    "config": {"Labels": {"org.opencontainers.image.description": "gpufleet registry test image"}},
    "created": "2026-01-01T00:00:00Z",
    "os": "linux",
    "rootfs": {
        "diff_ids": ["sha256:df7a64b7ca3d516a053b364ea7c1eddb19ca94480fa1bde05f80bba711b055d3"],
        "type": "layers",
    },
}


def texts(platforms):
    return [platform_text(platform) for platform in platforms]


def test_nvidia_cuda_index_lists_amd64_and_arm64_and_not_its_attestation():
    assert manifest_kind(NVIDIA_JAX_CUDA_INDEX, OCI_INDEX) == "index"
    assert texts(index_platforms(NVIDIA_JAX_CUDA_INDEX)) == ["linux/amd64", "linux/arm64"]


def test_attestations_between_images_do_not_count():
    assert texts(index_platforms(QLTY_INDEX)) == ["linux/arm64", "linux/amd64"]


def test_annotated_attestation_is_skipped_even_with_a_real_looking_platform():
    entry = dict(DEBIAN_ATTESTATION_ENTRY, platform={"architecture": "amd64", "os": "linux"})
    assert index_platforms({"manifests": [entry]}) == []
    assert index_platforms({"manifests": [DEBIAN_ATTESTATION_ENTRY]}) == []


def test_docker_manifest_list_without_mediatype_is_recognised_by_the_header_or_shape():
    assert manifest_kind(NGINX_MANIFEST_LIST, DOCKER_LIST) == "index"
    assert manifest_kind(NGINX_MANIFEST_LIST) == "index"
    assert texts(index_platforms(NGINX_MANIFEST_LIST)) == ["linux/amd64", "linux/arm/v5"]


def test_arm32_variant_does_not_make_an_image_arm64():
    row = image_result("nginx:latest", ["amd64", "arm64"], platforms=index_platforms(NGINX_MANIFEST_LIST))
    assert row["supports"] == {"amd64": True, "arm64": False}
    assert row["multi_arch"] is True


def test_index_entries_without_platform_and_duplicates_are_dropped():
    index = {
        "manifests": [
            {"digest": "sha256:1", "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
            {"digest": "sha256:2", "artifactType": "application/vnd.example.sbom"},
            {"digest": "sha256:3", "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
            {"digest": "sha256:4", "platform": {"os": "linux"}},
            "not a descriptor",
        ]
    }
    assert texts(index_platforms(index)) == ["linux/arm64/v8"]


def test_single_arch_platform_comes_from_the_config_blob():
    assert config_platform(FIXTURE_CONFIG) == {"os": "linux", "architecture": "amd64"}
    assert config_platform({"architecture": "arm64", "os": "linux", "variant": "v8"})["variant"] == "v8"


def test_helm_chart_config_is_not_an_image():
    chart_config = {"name": "mychart", "version": "0.1.0", "apiVersion": "v2"}  # synthetic Helm chart config
    with pytest.raises(ManifestError, match="not a container image"):
        config_platform(chart_config)


def test_schema1_manifests_carry_their_architecture():
    document = {"schemaVersion": 1, "name": "library/busybox", "tag": "old", "architecture": "amd64", "fsLayers": []}
    assert manifest_kind(document) == "schema1"
    assert schema1_platform(document) == {"os": "linux", "architecture": "amd64"}


@pytest.mark.parametrize(
    "document, media_type, complaint",
    [
        ([], None, "not an object"),
        ({"schemaVersion": 2}, None, "neither an image index nor an image manifest"),
        ({"mediaType": OCI_INDEX}, None, "no `manifests` list"),
        ({"schemaVersion": 2}, "application/vnd.oci.image.manifest.v1+json", "no `config` descriptor"),
        ({"errors": [{"code": "DENIED"}]}, "text/html", "neither"),
    ],
)
def test_documents_that_are_not_manifests(document, media_type, complaint):
    with pytest.raises(ManifestError, match=complaint):
        manifest_kind(document, media_type)


def test_content_type_parameters_are_ignored():
    assert manifest_kind(NVIDIA_JAX_CUDA_INDEX, OCI_INDEX + "; charset=utf-8") == "index"


def test_accept_header_asks_for_indexes_before_single_manifests():
    accepted = [part.strip() for part in MANIFEST_ACCEPT.split(",")]
    assert accepted.index(OCI_INDEX) < accepted.index("application/vnd.oci.image.manifest.v1+json")
    assert accepted.index(DOCKER_LIST) < accepted.index("application/vnd.docker.distribution.manifest.v2+json")


def test_architectures_in_any_spelling_become_debian_names_once():
    assert canonical_architectures(["x86_64", "aarch64", "linux/arm64/v8", "amd64"]) == ["amd64", "arm64"]
    with pytest.raises(UnsupportedArchitecture, match="s390x"):
        canonical_architectures(["s390x"])


def test_failed_images_have_unknown_support_and_are_not_counted_missing():
    rows = [
        image_result("a", ["amd64", "arm64"], platforms=[{"os": "linux", "architecture": "amd64"}]),
        image_result("b", ["amd64", "arm64"], error=image_error("not_found", "manifest unknown")),
        image_result("c", ["amd64", "arm64"], platforms=index_platforms(NVIDIA_JAX_CUDA_INDEX)),
    ]
    assert rows[1]["supports"] == {"amd64": None, "arm64": None}
    assert rows[1]["error"]["hint"]  # every kind has a hint
    assert missing_by_architecture(rows, ["amd64", "arm64"]) == {"amd64": [], "arm64": ["a"]}


def test_table_marks_each_architecture_and_explains_errors():
    rows = [
        image_result("app:1", ["amd64", "arm64"], platforms=[{"os": "linux", "architecture": "amd64"}]),
        image_result("cuda:12", ["amd64", "arm64"], platforms=index_platforms(NVIDIA_JAX_CUDA_INDEX)),
        image_result("gone:1", ["amd64", "arm64"], error=image_error("not_found", "manifest | unknown")),
    ]
    table = render_table(rows, ["amd64", "arm64"], {"app:1": ["compose.yaml services.web"]})
    lines = table.splitlines()
    assert lines[0] == "| image | amd64 | arm64 | platforms | note |"
    assert lines[2] == "| app:1 | yes | NO | linux/amd64 | used in compose.yaml services.web |"
    assert lines[3] == "| cuda:12 | yes | yes | linux/amd64, linux/arm64 |  |"
    assert lines[4] == "| gone:1 | ? | ? | - | not_found: manifest \\| unknown |"
    assert "0 of 3 images have no amd64 variant" in lines
    assert "1 of 3 images have no arm64 variant" in lines
    assert "1 could not be checked: gone:1" in lines


def test_long_errors_are_shortened_in_the_table_only():
    message = "failed to configure transport: " + "x" * 300
    row = image_result("far:1", ["amd64"], error=image_error("unreachable", message))
    line = render_table([row], ["amd64"]).splitlines()[2]
    assert line.endswith("... |")
    assert len(line) < 220
    assert row["error"]["message"] == message
